"""Campaign errors: recorded per plan, listed oldest first, tenant-scoped."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Tenant
from flightdeck.db.repositories.campaign_errors import CampaignErrorRepository
from tests.db.conftest import PlanFactory


async def test_errors_are_listed_oldest_first_for_their_tenant_only(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant, make_plan: PlanFactory
) -> None:
    plan = await make_plan(tenant.id)
    errors = CampaignErrorRepository(session)
    later = await errors.add(
        tenant.id,
        campaign_plan_id=plan.id,
        request_id=plan.request_id,
        step="create_ad",
        error_type="ValidationError",
        message="bad creative",
        details={"code": 100},
    )
    earlier = await errors.add(
        tenant.id,
        campaign_plan_id=plan.id,
        request_id=plan.request_id,
        step="create_adset",
        error_type=None,
        message="timeout",
    )
    earlier.created_at = later.created_at - timedelta(seconds=1)
    await session.flush()

    listed = await errors.list_for_plan(tenant.id, plan.id)

    assert [e.step for e in listed] == ["create_adset", "create_ad"]
    assert listed[1].error_details == {"code": 100} and listed[1].error_message == "bad creative"
    assert await errors.list_for_plan(other_tenant.id, plan.id) == []
