"""Publish requests: progress that only moves the fields given, and never counts past the total."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import CampaignPlan, Tenant
from flightdeck.db.repositories.campaign_requests import CampaignRequestRepository
from tests.db.conftest import PlanFactory


async def new_request(
    session: AsyncSession, tenant: Tenant, make_plan: PlanFactory
) -> tuple[CampaignRequestRepository, CampaignPlan]:
    plan = await make_plan(tenant.id)
    requests = CampaignRequestRepository(session)
    await requests.create(tenant.id, plan.request_id, plan.id, plan.workflow_id)
    return requests, plan


async def test_lookup_by_workflow_id_and_plan_is_tenant_scoped(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant, make_plan: PlanFactory
) -> None:
    requests, plan = await new_request(session, tenant, make_plan)

    found = await requests.get_by_workflow_id(tenant.id, plan.workflow_id)
    assert found is not None
    assert (found.campaign_plan_id, found.status, found.progress_done) == (plan.id, "pending", 0)
    assert await requests.get_for_plan(tenant.id, plan.id) is found
    assert await requests.get_by_workflow_id(other_tenant.id, plan.workflow_id) is None
    assert await requests.update_progress(other_tenant.id, plan.id, status="failed") is None


async def test_update_progress_changes_only_the_given_fields(
    session: AsyncSession, tenant: Tenant, make_plan: PlanFactory
) -> None:
    requests, plan = await new_request(session, tenant, make_plan)
    await requests.update_progress(tenant.id, plan.id, status="creating", step="ad sets", total=6)
    updated = await requests.update_progress(tenant.id, plan.id, done=2)

    assert updated is not None
    assert (updated.status, updated.step, updated.progress_done, updated.progress_total) == (
        "creating",
        "ad sets",
        2,
        6,
    )
    assert await requests.update_progress(tenant.id, plan.id) is updated


async def test_increment_done_counts_up_to_the_total(
    session: AsyncSession, tenant: Tenant, make_plan: PlanFactory
) -> None:
    requests, plan = await new_request(session, tenant, make_plan)
    await requests.increment_done(tenant.id, plan.id)  # total not known yet: counts freely
    await requests.update_progress(tenant.id, plan.id, total=3)
    for _ in range(5):
        row = await requests.increment_done(tenant.id, plan.id)

    assert row is not None and (row.progress_done, row.progress_total) == (3, 3)
    assert await requests.increment_done(tenant.id, None) is None
