"""Errors of publish runs, naming the step that failed (seed's `campaign_errors`)."""

from __future__ import annotations

import uuid
from typing import Any

from flightdeck.db.models import CampaignError
from flightdeck.db.repositories.base import TenantScopedRepository


class CampaignErrorRepository(TenantScopedRepository[CampaignError]):
    model = CampaignError

    async def add(
        self,
        tenant_id: uuid.UUID,
        *,
        campaign_plan_id: uuid.UUID,
        request_id: str,
        step: str,
        error_type: str | None,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> CampaignError:
        row = CampaignError(
            tenant_id=tenant_id,
            campaign_plan_id=campaign_plan_id,
            request_id=request_id,
            step=step,
            error_type=error_type,
            error_message=message,
            error_details=details,
        )
        return await self._add(row)

    async def list_for_plan(self, tenant_id: uuid.UUID, plan_id: uuid.UUID) -> list[CampaignError]:
        """The plan's errors, oldest first."""
        statement = self._select(tenant_id, CampaignError.campaign_plan_id == plan_id).order_by(
            CampaignError.created_at, CampaignError.id
        )
        return await self._all(statement)
