"""Publish requests: one per plan, holding its workflow id, status and progress counters."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import case, func

from flightdeck.db.models import CampaignRequest
from flightdeck.db.repositories.base import TenantScopedRepository


class CampaignRequestRepository(TenantScopedRepository[CampaignRequest]):
    model = CampaignRequest

    async def create(
        self,
        tenant_id: uuid.UUID,
        request_id: str,
        plan_id: uuid.UUID,
        workflow_id: str,
        progress_total: int = 0,
    ) -> CampaignRequest:
        row = CampaignRequest(
            tenant_id=tenant_id,
            request_id=request_id,
            campaign_plan_id=plan_id,
            workflow_id=workflow_id,
            status="pending",
            progress_done=0,
            progress_total=progress_total,
        )
        return await self._add(row)

    async def get_by_workflow_id(
        self, tenant_id: uuid.UUID, workflow_id: str
    ) -> CampaignRequest | None:
        return await self._one_or_none(
            self._select(tenant_id, CampaignRequest.workflow_id == workflow_id)
        )

    async def get_for_plan(
        self, tenant_id: uuid.UUID, plan_id: uuid.UUID
    ) -> CampaignRequest | None:
        return await self._one_or_none(
            self._select(tenant_id, CampaignRequest.campaign_plan_id == plan_id)
        )

    async def update_progress(
        self,
        tenant_id: uuid.UUID,
        plan_id: uuid.UUID,
        *,
        status: str | None = None,
        step: str | None = None,
        done: int | None = None,
        total: int | None = None,
    ) -> CampaignRequest | None:
        """Set the given fields (None leaves a field as it is); returns the updated row."""
        changes = {"status": status, "step": step, "progress_done": done, "progress_total": total}
        values = {key: value for key, value in changes.items() if value is not None}
        if not values:
            return await self.get_for_plan(tenant_id, plan_id)
        return await self._for_plan(tenant_id, plan_id, values)

    async def increment_done(
        self, tenant_id: uuid.UUID, plan_id: uuid.UUID | None, by: int = 1
    ) -> CampaignRequest | None:
        """Count `by` more finished steps, atomically, never past the total once it is known.

        `plan_id` may be None (a ledger row outside any plan): then there is nothing to count.
        """
        if plan_id is None:
            return None
        done = CampaignRequest.progress_done + by
        capped = case(
            (CampaignRequest.progress_total > 0, func.least(done, CampaignRequest.progress_total)),
            else_=done,
        )
        return await self._for_plan(tenant_id, plan_id, {"progress_done": capped})

    async def _for_plan(
        self, tenant_id: uuid.UUID, plan_id: uuid.UUID, values: dict[str, Any]
    ) -> CampaignRequest | None:
        return await self._update_returning(
            tenant_id, [CampaignRequest.campaign_plan_id == plan_id], values
        )
