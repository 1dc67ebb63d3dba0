"""The set sync's one-statement writes around a platform call: the same rows as the session
writes (`SyncRecordRepository.begin`, the breaker's call log), in the tenant the statement
names — never over another tenant's record. These statements commit, so each test works in
tenants of its own and removes them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from flightdeck.db.engine import create_sessionmaker
from flightdeck.db.models import PlatformCall, SyncRecord, Tenant
from flightdeck.db.repositories.push_writes import PushWrites
from flightdeck.db.repositories.sync_records import SyncRecordRepository
from flightdeck.db.repositories.tenants import TenantRepository
from flightdeck.db.tenancy import system_session, tenant_session

SNAPSHOT = {"name": "Summer Sale", "objective": "traffic"}


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def tenants(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[list[Tenant]]:
    """Two fresh tenants (committed; removed afterwards with their rows)."""
    async with system_session(sessions, "cli") as session, session.begin():
        made = [
            await TenantRepository(session).create(f"{label}-{uuid.uuid4().hex[:8]}")
            for label in ("mine", "theirs")
        ]
    yield made
    ids = [t.id for t in made]
    async with system_session(sessions, "cli") as session, session.begin():
        for model in (SyncRecord, PlatformCall, Tenant):
            column = model.id if model is Tenant else model.tenant_id
            await session.execute(delete(model).where(column.in_(ids)))


async def record_of(
    sessions: async_sessionmaker[AsyncSession], entity_id: uuid.UUID
) -> SyncRecord | None:
    async with system_session(sessions, "cli") as session:
        found: SyncRecord | None = await session.scalar(
            select(SyncRecord).where(SyncRecord.entity_id == entity_id)
        )
        return found


async def test_begin_records_the_intent_then_keeps_what_the_record_learnt(
    sessions: async_sessionmaker[AsyncSession], tenants: list[Tenant]
) -> None:
    mine = tenants[0].id
    entity_id = uuid.uuid4()
    writes = PushWrites(sessions)

    await writes.begin(mine, "ad_group", entity_id, "reddit")
    first = await record_of(sessions, entity_id)
    assert first is not None and first.tenant_id == mine
    assert (first.state, first.sync_status, first.attempts, first.platform_id) == (
        "requested", "syncing", 0, None,
    )  # fmt: skip
    assert first.requested_at is not None and first.error_log == []

    async with tenant_session(sessions, mine) as session, session.begin():
        await SyncRecordRepository(session).mark_synced(
            mine, "ad_group", entity_id, "reddit", platform_id="t2_g", snapshot=SNAPSHOT,
            fetch=False,
        )  # fmt: skip
    await writes.begin(mine, "ad_group", entity_id, "reddit")

    again = await record_of(sessions, entity_id)
    assert again is not None and again.id == first.id
    assert (again.state, again.sync_status) == ("requested", "syncing")
    assert (again.platform_id, again.synced_snapshot) == ("t2_g", SNAPSHOT)
    assert again.requested_at is not None and again.requested_at > first.requested_at


async def test_begin_never_takes_over_another_tenants_record(
    sessions: async_sessionmaker[AsyncSession], tenants: list[Tenant]
) -> None:
    mine, theirs = (t.id for t in tenants)
    entity_id = uuid.uuid4()
    writes = PushWrites(sessions)
    await writes.begin(theirs, "ad", entity_id, "reddit")
    async with tenant_session(sessions, theirs) as session, session.begin():
        await SyncRecordRepository(session).mark_synced(
            theirs, "ad", entity_id, "reddit", platform_id="t6_theirs", snapshot=SNAPSHOT
        )

    # Row-level security refuses the conflicting row (USING), before the conflict branch's own
    # tenant check would have (which raises LookupError).
    with pytest.raises(ProgrammingError, match="row-level security"):
        await writes.begin(mine, "ad", entity_id, "reddit")

    kept = await record_of(sessions, entity_id)
    assert kept is not None and kept.tenant_id == theirs
    assert (kept.state, kept.platform_id) == ("synced", "t6_theirs")


async def test_each_call_is_logged_for_the_breaker_in_its_tenant(
    sessions: async_sessionmaker[AsyncSession], tenants: list[Tenant]
) -> None:
    mine = tenants[0].id
    writes = PushWrites(sessions)

    await writes.record_call("reddit", mine, True, None)
    await writes.record_call("reddit", mine, False, 503)

    async with system_session(sessions, "cli") as session:
        calls = (
            await session.execute(
                select(PlatformCall.platform, PlatformCall.ok, PlatformCall.status_code)
                .where(PlatformCall.tenant_id == mine)
                .order_by(PlatformCall.id)
            )
        ).all()
    assert [tuple(c) for c in calls] == [("reddit", True, None), ("reddit", False, 503)]
