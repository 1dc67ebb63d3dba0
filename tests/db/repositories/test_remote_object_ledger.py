"""The remote-object ledger: idempotent `begin`, state changes that never lose a created object."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from flightdeck.db.engine import create_sessionmaker
from flightdeck.db.models import AuditLogEntry, RemoteObject, Tenant
from flightdeck.db.repositories.remote_objects import RemoteObjectLedger
from flightdeck.db.repositories.tenants import TenantRepository
from flightdeck.db.tenancy import system_session
from tests.db.conftest import PlanFactory


def adset(plan_id: uuid.UUID | None = None, index: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "system": "facebook",
        "object_type": "adset",
        "client_request_key": f"adset-req1-{index}",
        "local_key": f"adset:{index}",
        "campaign_plan_id": plan_id,
        "ad_set_index": index,
        **extra,
    }


async def test_begin_twice_returns_the_same_requested_row(
    session: AsyncSession, tenant: Tenant
) -> None:
    ledger = RemoteObjectLedger(session)
    first = await ledger.begin(tenant.id, **adset(name="AdSet A"))
    session.expunge_all()  # a retry runs in a fresh session
    second = await ledger.begin(tenant.id, **adset(name="AdSet A"))

    assert second.id == first.id
    assert second.state == "requested"
    assert second.attributes == {}
    count = await session.scalar(select(func.count()).select_from(RemoteObject))
    assert count == 1


async def test_begin_never_resets_a_created_row(session: AsyncSession, tenant: Tenant) -> None:
    ledger = RemoteObjectLedger(session)
    row = await ledger.begin(tenant.id, **adset(name="original"))
    await ledger.mark_created(row.id, "fb-123", {"tracking_url": "https://t/1"})
    session.expunge_all()

    again = await ledger.begin(tenant.id, **adset(name="different name"))

    assert again.id == row.id
    assert (again.state, again.external_id, again.name) == ("created", "fb-123", "original")
    assert again.attributes == {"tracking_url": "https://t/1"}


async def test_begin_is_safe_under_concurrent_retries(engine: AsyncEngine) -> None:
    """Several workers racing on one key get one row (this test commits, in its own tenant)."""
    sessions = create_sessionmaker(engine)
    async with system_session(sessions, "cli") as session, session.begin():
        tenant = await TenantRepository(session).create(f"race-{uuid.uuid4().hex[:8]}")

    async def begin() -> uuid.UUID:
        async with system_session(sessions, "cli") as session, session.begin():
            return (await RemoteObjectLedger(session).begin(tenant.id, **adset())).id

    try:
        ids = await asyncio.gather(*(begin() for _ in range(8)))
        assert len(set(ids)) == 1
    finally:
        async with system_session(sessions, "cli") as session, session.begin():
            await session.execute(delete(RemoteObject).where(RemoteObject.tenant_id == tenant.id))
            await session.execute(delete(Tenant).where(Tenant.id == tenant.id))


async def test_the_same_key_in_another_tenant_or_system_is_another_object(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    ledger = RemoteObjectLedger(session)
    mine = await ledger.begin(tenant.id, **adset())
    theirs = await ledger.begin(other_tenant.id, **adset())
    strategis = await ledger.begin(tenant.id, **adset(system="strategis"))

    assert len({mine.id, theirs.id, strategis.id}) == 3
    assert await ledger.get(other_tenant.id, "facebook", "adset-req1-0") == theirs


async def test_mark_created_merges_attributes_and_clears_the_error(
    session: AsyncSession, tenant: Tenant
) -> None:
    ledger = RemoteObjectLedger(session)
    row = await ledger.begin(tenant.id, **adset())
    await ledger.mark_failed(row.id, "HTTP 500")
    await ledger.mark_created(row.id, "fb-1", {"a": 1})
    created = await ledger.mark_created(row.id, "fb-1", {"b": 2})

    assert created is not None
    assert created.attributes == {"a": 1, "b": 2}
    assert (created.state, created.last_error) == ("created", None)
    assert created.updated_at >= created.created_at


async def test_mark_created_audited_records_both_in_one_statement(
    session: AsyncSession, tenant: Tenant
) -> None:
    ledger = RemoteObjectLedger(session)
    row = await ledger.begin(tenant.id, **adset())
    await ledger.mark_created_audited(
        row.id,
        "fb-9",
        {"tracking_url": "https://t/9"},
        actor="worker",
        action="remote_object.created",
        entity_type="facebook.adset",
        details={"clientRequestKey": "adset-req1-0"},
    )
    session.expunge_all()
    stored = await ledger.get(tenant.id, "facebook", "adset-req1-0")
    assert stored is not None
    assert (stored.state, stored.external_id) == ("created", "fb-9")
    assert stored.attributes == {"tracking_url": "https://t/9"}
    entry = await session.scalar(select(AuditLogEntry).where(AuditLogEntry.entity_id == "fb-9"))
    assert entry is not None and entry.tenant_id == tenant.id
    assert (entry.action, entry.entity_type) == ("remote_object.created", "facebook.adset")
    assert entry.details == {"clientRequestKey": "adset-req1-0"}


async def test_mark_failed_never_overwrites_a_created_object(
    session: AsyncSession, tenant: Tenant
) -> None:
    ledger = RemoteObjectLedger(session)
    row = await ledger.begin(tenant.id, **adset())
    failed = await ledger.mark_failed(row.id, "validation error")
    assert failed is not None
    assert (failed.state, failed.last_error) == ("failed", "validation error")

    await ledger.mark_created(row.id, "fb-9")
    assert await ledger.mark_failed(row.id, "late failure") is None
    current = await ledger.get(tenant.id, "facebook", "adset-req1-0")
    assert current is not None
    assert (current.state, current.external_id) == ("created", "fb-9")


async def test_mark_state_moves_to_known_states_only(session: AsyncSession, tenant: Tenant) -> None:
    ledger = RemoteObjectLedger(session)
    row = await ledger.begin(tenant.id, **adset())
    await ledger.mark_created(row.id, "fb-1")

    paused = await ledger.mark_state(row.id, "paused")
    assert paused is not None and paused.state == "paused"
    with pytest.raises(ValueError, match="unknown ledger state"):
        await ledger.mark_state(row.id, "archived")


async def test_list_for_plan_reads_like_the_object_tree(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant, make_plan: PlanFactory
) -> None:
    plan = await make_plan(tenant.id)
    ledger = RemoteObjectLedger(session)
    specs = [
        ("facebook", "ad", "ad-1-0", 1, 0),
        ("facebook", "ad", "ad-0-1", 0, 1),
        ("strategis", "tracking_campaign", "tc-1", 1, None),
        ("facebook", "adset", "adset-1", 1, None),
        ("facebook", "creative", "cr-0-0", 0, 0),
        ("facebook", "adset", "adset-0", 0, None),
        ("facebook", "ad", "ad-0-0", 0, 0),
        ("facebook", "campaign", "campaign", None, None),
    ]
    for system, object_type, key, ad_set_index, ad_index in specs:
        await ledger.begin(
            tenant.id,
            system=system,
            object_type=object_type,
            client_request_key=key,
            local_key=key,
            campaign_plan_id=plan.id,
            ad_set_index=ad_set_index,
            ad_index=ad_index,
        )
    await ledger.begin(other_tenant.id, **adset(plan.id))  # same plan id, other tenant: hidden

    rows = await ledger.list_for_plan(tenant.id, plan.id)

    assert [r.client_request_key for r in rows] == [
        "campaign",
        "adset-0",
        "adset-1",
        "tc-1",
        "cr-0-0",
        "ad-0-0",
        "ad-0-1",
        "ad-1-0",
    ]


async def test_find_by_external_id_is_tenant_scoped(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    ledger = RemoteObjectLedger(session)
    row = await ledger.begin(tenant.id, **adset())
    await ledger.mark_created(row.id, "fb-77")

    found = await ledger.find_by_external_id(tenant.id, "facebook", "adset", "fb-77")
    assert found is not None and found.id == row.id
    assert await ledger.find_by_external_id(other_tenant.id, "facebook", "adset", "fb-77") is None
