"""The ledger's one-statement writes: the same rows as the session writes, in the tenant the
statement names, and no scope left on the pooled connection afterwards. These statements
commit, so each test works in tenants of its own and removes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from flightdeck.db.engine import create_sessionmaker
from flightdeck.db.models import AuditLogEntry, CampaignPlan, RemoteObject, Tenant
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.ledger_writes import RECORD_CREATED, LedgerWrites
from flightdeck.db.repositories.tenants import TenantRepository
from flightdeck.db.tenancy import autocommit_engine, statement_scope_params, system_session
from tests.db.support import names_for, plan_in


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def plans(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[list[CampaignPlan]]:
    """A stored plan in each of two fresh tenants (committed; removed afterwards)."""
    stored = []
    async with system_session(sessions, "cli") as session, session.begin():
        for label in ("mine", "theirs"):
            tenant = await TenantRepository(session).create(f"{label}-{uuid.uuid4().hex[:8]}")
            plan = plan_in()
            stored.append(
                await CampaignPlanRepository(session).create(
                    tenant.id, plan, names_for(plan), f"publish-{plan.request_id}"
                )
            )
    yield stored
    tenants = [p.tenant_id for p in stored]
    async with system_session(sessions, "cli") as session, session.begin():
        for model in (AuditLogEntry, RemoteObject, CampaignPlan, Tenant):
            column = model.id if model is Tenant else model.tenant_id
            await session.execute(delete(model).where(column.in_(tenants)))


def created(plan: CampaignPlan, external_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "campaign_plan_id": plan.id,
        "system": "facebook",
        "object_type": "ad",
        "local_key": "ad:0:0",
        "client_request_key": "ad-req-0-0",
        "external_id": external_id,
        "name": "Ad 1",
        "parent_external_id": "adset-1",
        "ad_set_index": 0,
        "ad_index": 0,
        "actor": "worker",
        "action": "remote_object.created",
        "details": {"clientRequestKey": "ad-req-0-0"},
        **extra,
    }


async def rows_of(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
) -> tuple[list[RemoteObject], list[AuditLogEntry]]:
    async with system_session(sessions, "cli") as session:
        rows = await session.scalars(
            select(RemoteObject).where(RemoteObject.tenant_id == tenant_id)
        )
        entries = await session.scalars(
            select(AuditLogEntry).where(AuditLogEntry.tenant_id == tenant_id)
        )
        return list(rows), list(entries)


async def test_record_created_writes_the_row_and_its_audit_entry_in_the_named_tenant(
    sessions: async_sessionmaker[AsyncSession], plans: list[CampaignPlan]
) -> None:
    mine, theirs = plans
    ledger = LedgerWrites(sessions)
    await ledger.record_created(theirs.tenant_id, **created(theirs, "fb-theirs"))

    await ledger.record_created(mine.tenant_id, **created(mine, "fb-1"))

    rows, entries = await rows_of(sessions, mine.tenant_id)
    assert [(r.state, r.external_id, r.campaign_plan_id) for r in rows] == [
        ("created", "fb-1", mine.id)
    ]
    assert [(e.action, e.entity_type, e.entity_id) for e in entries] == [
        ("remote_object.created", "facebook.ad", "fb-1")
    ]
    # The other tenant's row under the same key is another object, untouched.
    theirs_rows, _ = await rows_of(sessions, theirs.tenant_id)
    assert [r.external_id for r in theirs_rows] == ["fb-theirs"]


async def test_a_replayed_record_created_changes_nothing_and_audits_nothing(
    sessions: async_sessionmaker[AsyncSession], plans: list[CampaignPlan]
) -> None:
    mine = plans[0]
    ledger = LedgerWrites(sessions)
    await ledger.record_created(mine.tenant_id, **created(mine, "fb-1"))

    await ledger.record_created(mine.tenant_id, **created(mine, "fb-2"))

    rows, entries = await rows_of(sessions, mine.tenant_id)
    assert [r.external_id for r in rows] == ["fb-1"]
    assert len(entries) == 1


async def test_begin_then_record_created_completes_the_requested_row(
    sessions: async_sessionmaker[AsyncSession], plans: list[CampaignPlan]
) -> None:
    mine = plans[0]
    ledger = LedgerWrites(sessions)
    coordinates = {
        "campaign_plan_id": mine.id, "system": "strategis", "object_type": "tracking_campaign",
        "local_key": "tracking_campaign:0", "client_request_key": "tracking-req-0",
        "name": "Tracking 1", "parent_external_id": "adset-1", "ad_set_index": 0,
    }  # fmt: skip
    first = await ledger.begin(mine.tenant_id, **coordinates)
    again = await ledger.begin(mine.tenant_id, **{**coordinates, "name": "renamed"})
    assert (first.state, first.tenant_id, first.external_id) == ("requested", mine.tenant_id, None)
    assert (again.id, again.name) == (first.id, "Tracking 1")

    await ledger.record_created(
        mine.tenant_id,
        **{k: v for k, v in coordinates.items() if k != "name"},
        name="Tracking 1",
        external_id="s-7",
        ad_index=None,
        attributes={"tracking_url": "https://t/7"},
        actor="worker",
        action="remote_object.created",
        details={},
    )

    rows, entries = await rows_of(sessions, mine.tenant_id)
    assert [(r.id, r.state, r.external_id, r.attributes) for r in rows] == [
        (first.id, "created", "s-7", {"tracking_url": "https://t/7"})
    ]
    assert [e.entity_type for e in entries] == ["strategis.tracking_campaign"]
    # A begin after the create returns the created row as it is (a retried activity).
    after = await ledger.begin(mine.tenant_id, **coordinates)
    assert (after.id, after.state, after.external_id) == (first.id, "created", "s-7")


async def test_the_scope_ends_with_the_statement(
    sessions: async_sessionmaker[AsyncSession], plans: list[CampaignPlan]
) -> None:
    """The next statement on the same pooled connection names no scope, and sees nothing."""
    mine = plans[0]
    params = {
        **created(mine, "fb-1"),
        "id": uuid.uuid4(),
        "entity_type": "facebook.ad",
        "attributes": {},
        "user_id": None,
        **statement_scope_params(mine.tenant_id),
    }
    async with autocommit_engine(sessions).connect() as connection:
        await connection.execute(RECORD_CREATED, params)
        visible = await connection.scalar(select(func.count()).select_from(RemoteObject))

    assert visible == 0
    rows, _ = await rows_of(sessions, mine.tenant_id)
    assert len(rows) == 1


def test_the_statement_scope_is_a_tenant_never_the_system_scope() -> None:
    with pytest.raises(ValueError):
        statement_scope_params("*")
