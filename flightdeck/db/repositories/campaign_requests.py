"""Publish requests: workflow id, status and progress counters of a plan's run."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from flightdeck.db.models import CampaignRequest
from flightdeck.db.repositories.base import Repository


class CampaignRequestRepository(Repository):
    async def create(
        self, tenant_id: uuid.UUID, request_id: str, plan_id: uuid.UUID, workflow_id: str
    ) -> CampaignRequest:
        row = CampaignRequest(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            request_id=request_id,
            campaign_plan_id=plan_id,
            workflow_id=workflow_id,
            status="pending",
            progress_done=0,
            progress_total=0,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def get_by_workflow_id(
        self, tenant_id: uuid.UUID, workflow_id: str
    ) -> CampaignRequest | None:
        return await self.session.scalar(
            select(CampaignRequest).where(
                CampaignRequest.tenant_id == tenant_id, CampaignRequest.workflow_id == workflow_id
            )
        )

    async def get_for_plan(
        self, tenant_id: uuid.UUID, plan_id: uuid.UUID
    ) -> CampaignRequest | None:
        return await self.session.scalar(
            select(CampaignRequest).where(
                CampaignRequest.tenant_id == tenant_id,
                CampaignRequest.campaign_plan_id == plan_id,
            )
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
    ) -> None:
        values = {
            key: value
            for key, value in (
                ("status", status),
                ("step", step),
                ("progress_done", done),
                ("progress_total", total),
            )
            if value is not None
        }
        if values:
            await self.session.execute(self._for_plan(tenant_id, plan_id).values(**values))

    async def increment_done(self, tenant_id: uuid.UUID, plan_id: uuid.UUID | None) -> None:
        """One more remote object created (atomic, in the caller's transaction)."""
        if plan_id is None:
            return
        await self.session.execute(
            self._for_plan(tenant_id, plan_id).values(
                progress_done=CampaignRequest.progress_done + 1
            )
        )

    @staticmethod
    def _for_plan(tenant_id: uuid.UUID, plan_id: uuid.UUID):  # type: ignore[no-untyped-def]
        return update(CampaignRequest).where(
            CampaignRequest.tenant_id == tenant_id, CampaignRequest.campaign_plan_id == plan_id
        )
