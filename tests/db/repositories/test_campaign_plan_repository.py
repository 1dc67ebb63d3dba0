"""Campaign plans: stored as validated, tenant-scoped everywhere, listed newest first by keyset."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import CampaignPlan, Tenant
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.remote_objects import RemoteObjectLedger
from flightdeck.domain.plans import CampaignPlanIn
from tests.db.conftest import PlanFactory
from tests.db.support import names_for, plan_in

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def age(session: AsyncSession, plan: CampaignPlan, minutes: int) -> None:
    """Give a plan a created_at of its own (one transaction would give all plans the same)."""
    await session.execute(
        update(CampaignPlan)
        .where(CampaignPlan.id == plan.id)
        .values(created_at=T0 - timedelta(minutes=minutes))
    )


async def test_create_stores_the_plan_as_camel_case_json(
    session: AsyncSession, tenant: Tenant
) -> None:
    plan = plan_in(hookSetId="hs-42")
    names = names_for(plan)
    row = await CampaignPlanRepository(session).create(tenant.id, plan, names, "publish-x")

    assert (row.status, row.workflow_id, row.hook_set_id) == ("pending", "publish-x", "hs-42")
    assert (row.ad_set_names, row.ad_names) == (names.ad_set_names, names.ad_names)
    assert row.plan["requestId"] == plan.request_id and "adSets" in row.plan
    assert CampaignPlanIn.model_validate(row.plan) == plan
    assert row.created_at is not None and row.updated_at is not None


async def test_request_id_is_unique_per_tenant(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    repository = CampaignPlanRepository(session)
    plan = plan_in()
    await repository.create(tenant.id, plan, names_for(plan), "w1")
    await repository.create(other_tenant.id, plan, names_for(plan), "w2")  # another tenant: fine

    with pytest.raises(IntegrityError):
        await repository.create(tenant.id, plan, names_for(plan), "w3")


async def test_another_tenants_plan_is_invisible(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant, make_plan: PlanFactory
) -> None:
    theirs = await make_plan(other_tenant.id)
    repository = CampaignPlanRepository(session)

    assert await repository.get(tenant.id, theirs.id) is None
    assert await repository.get_by_request_id(tenant.id, theirs.request_id) is None
    assert await repository.list(tenant.id) == ([], None)
    assert await repository.set_status(tenant.id, theirs.id, "cancelled") is None
    assert await repository.set_template_id(tenant.id, theirs.id, "tpl") is None
    unchanged = await repository.get(other_tenant.id, theirs.id)
    assert unchanged is not None
    assert (unchanged.status, unchanged.strategis_template_id) == ("pending", None)


async def test_set_status_and_template_id(
    session: AsyncSession, tenant: Tenant, make_plan: PlanFactory
) -> None:
    plan = await make_plan(tenant.id)
    repository = CampaignPlanRepository(session)

    assert (await repository.set_status(tenant.id, plan.id, "creating")) is plan
    await repository.set_template_id(tenant.id, plan.id, "tpl-1")

    assert (plan.status, plan.strategis_template_id) == ("creating", "tpl-1")


async def test_unknown_status_is_refused_by_the_database(
    session: AsyncSession, tenant: Tenant, make_plan: PlanFactory
) -> None:
    plan = await make_plan(tenant.id)
    with pytest.raises(IntegrityError, match="ck_campaign_plans_status"):
        await CampaignPlanRepository(session).set_status(tenant.id, plan.id, "exploded")


async def test_list_pages_newest_first_without_gaps_or_repeats(
    session: AsyncSession, tenant: Tenant, make_plan: PlanFactory
) -> None:
    plans = [await make_plan(tenant.id) for _ in range(5)]
    for minutes, plan in zip([30, 10, 20, 10, 0], plans, strict=True):
        await age(session, plan, minutes)  # two share a created_at: the id breaks the tie
    expected = sorted(plans, key=lambda p: (p.created_at, p.id), reverse=True)
    repository = CampaignPlanRepository(session)

    seen: list[CampaignPlan] = []
    cursor: str | None = None
    for _ in range(3):
        page, cursor = await repository.list(tenant.id, limit=2, cursor=cursor)
        seen += page
    assert cursor is None
    assert [p.id for p in seen] == [p.id for p in expected]

    everything, last = await repository.list(tenant.id, limit=5)
    assert len(everything) == 5 and last is None


async def test_list_filters_by_hook_set_and_status(
    session: AsyncSession, tenant: Tenant, make_plan: PlanFactory
) -> None:
    a1 = await make_plan(tenant.id, hookSetId="A")
    a2 = await make_plan(tenant.id, hookSetId="A")
    b = await make_plan(tenant.id, hookSetId="B")
    repository = CampaignPlanRepository(session)
    await repository.set_status(tenant.id, a2.id, "active")
    await repository.set_status(tenant.id, b.id, "active")

    def ids(page: tuple[list[CampaignPlan], str | None]) -> set[uuid.UUID]:
        return {p.id for p in page[0]}

    assert ids(await repository.list(tenant.id, hook_set_id="A")) == {a1.id, a2.id}
    assert ids(await repository.list(tenant.id, status="active")) == {a2.id, b.id}
    assert ids(await repository.list(tenant.id, hook_set_id="A", status="active")) == {a2.id}
    assert ids(await repository.list(tenant.id, hook_set_id="C")) == set()


def b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        b64("not json"),
        b64(json.dumps(["2026-01-01T00:00:00+00:00"])),
        b64(json.dumps(["yesterday", str(uuid.uuid4())])),
        b64(json.dumps(["2026-01-01T00:00:00", str(uuid.uuid4())])),  # no time zone
        b64(json.dumps(["2026-01-01T00:00:00+00:00", "not-a-uuid"])),
        b64(json.dumps({"created": "2026-01-01T00:00:00+00:00"})),
    ],
    # Fixed ids (the uuids differ per run; pytest-xdist needs the same names everywhere).
    ids=["garbage", "not-json", "one-part", "bad-time", "no-time-zone", "bad-uuid", "object"],
)
async def test_invalid_cursor_is_a_value_error(
    session: AsyncSession, tenant: Tenant, cursor: str
) -> None:
    with pytest.raises(ValueError, match="invalid cursor"):
        await CampaignPlanRepository(session).list(tenant.id, cursor=cursor)


async def test_list_refuses_a_non_positive_limit(session: AsyncSession, tenant: Tenant) -> None:
    with pytest.raises(ValueError, match="limit"):
        await CampaignPlanRepository(session).list(tenant.id, limit=0)


async def test_find_by_facebook_campaign_id_goes_through_the_ledger(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant, make_plan: PlanFactory
) -> None:
    plan = await make_plan(tenant.id)
    ledger = RemoteObjectLedger(session)
    row = await ledger.begin(
        tenant.id,
        system="facebook",
        object_type="campaign",
        client_request_key=f"campaign-{plan.request_id}",
        local_key="campaign",
        campaign_plan_id=plan.id,
    )
    await ledger.mark_created(row.id, "fb-cmp-1")
    repository = CampaignPlanRepository(session)

    found = await repository.find_by_facebook_campaign_id(tenant.id, "fb-cmp-1")
    assert found is not None and found.id == plan.id
    assert await repository.find_by_facebook_campaign_id(other_tenant.id, "fb-cmp-1") is None
    assert await repository.find_by_facebook_campaign_id(tenant.id, "fb-other") is None
