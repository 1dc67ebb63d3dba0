"""Postgres row-level security: the second line of tenant isolation under the repositories."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from flightdeck.db.bootstrap import to_asyncpg_dsn
from flightdeck.db.engine import create_sessionmaker
from flightdeck.db.models import AuditLogEntry, Base, CampaignPlan, Tenant
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.tenants import ApiKeyRepository, TenantRepository
from flightdeck.db.tenancy import (
    APP_ROLE,
    NO_SCOPE,
    SYSTEM_SCOPE,
    TENANT_SETTING,
    scope_of,
    scope_to_system,
    scope_to_tenant,
    system_session,
)
from flightdeck.db.tenants import create_tenant_with_key
from tests.db.conftest import PlanFactory
from tests.db.support import names_for, plan_in


def tenant_owned_tables() -> list[str]:
    return sorted(
        name for name, table in Base.metadata.tables.items() if "tenant_id" in table.columns
    )


async def test_every_tenant_owned_table_has_a_forced_policy(database_url: str) -> None:
    tables = [*tenant_owned_tables(), "tenants"]
    assert len(tables) > 8  # the seed-000 and seed-002 tables at least
    connection = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
            "FROM pg_class c WHERE c.relname = ANY($1::text[]) AND c.relkind IN ('r', 'p')",
            tables,
        )
    finally:
        await connection.close()
    found = {row["relname"]: row for row in rows}
    assert sorted(found) == sorted(tables)
    unprotected = [
        name
        for name, row in found.items()
        if not (row["relrowsecurity"] and row["relforcerowsecurity"] and row["policies"] == 1)
    ]
    assert unprotected == []


async def test_every_tenant_policy_compares_uuids(database_url: str) -> None:
    """A `tenant_id::text = scope` policy hides the tenant filter from the planner's statistics
    (migration 0031): every policy must compare the uuid column itself."""
    connection = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        rows = await connection.fetch(
            "SELECT tablename, qual FROM pg_policies WHERE policyname = 'tenant_isolation'"
        )
    finally:
        await connection.close()
    assert {row["tablename"] for row in rows} >= {*tenant_owned_tables(), "tenants"}
    text_compared = sorted(row["tablename"] for row in rows if "::text =" in row["qual"])
    assert text_compared == []


async def test_the_application_connects_as_the_app_role(session: AsyncSession) -> None:
    assert await session.scalar(text("SELECT current_user")) == APP_ROLE
    is_superuser = await session.scalar(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    )
    assert is_superuser is False  # superusers would bypass every policy


async def test_a_tenant_scope_hides_other_tenants_rows_from_unfiltered_queries(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant, make_plan: PlanFactory
) -> None:
    await make_plan(tenant.id)
    await make_plan(other_tenant.id)
    assert scope_of(session) == SYSTEM_SCOPE
    everyone = await session.scalar(
        select(func.count())
        .select_from(CampaignPlan)
        .where(CampaignPlan.tenant_id.in_([tenant.id, other_tenant.id]))
    )
    assert everyone == 2

    await scope_to_tenant(session, tenant.id)
    # No tenant filter at all: the policy alone decides what is visible.
    owners = (await session.scalars(select(CampaignPlan.tenant_id))).all()
    assert set(owners) == {tenant.id}
    assert (await session.scalars(select(Tenant.id))).all() == [tenant.id]
    other_plans = await session.scalar(
        select(func.count())
        .select_from(CampaignPlan)
        .where(CampaignPlan.tenant_id == other_tenant.id)
    )
    assert other_plans == 0


async def test_a_tenant_scope_cannot_write_another_tenants_rows(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    await scope_to_tenant(session, tenant.id)
    session.add(
        AuditLogEntry(
            tenant_id=other_tenant.id,
            actor="test",
            action="forged",
            entity_type="x",
            entity_id=str(uuid.uuid4()),
        )
    )
    with pytest.raises(DBAPIError, match="row-level security"):
        await session.flush()


async def test_resolving_an_api_key_narrows_the_transaction_to_its_tenant(
    engine: AsyncEngine,
) -> None:
    """How the API authenticates (one statement): the key's lookup runs in the system scope and
    leaves the transaction — and the session's later ones — in the key's tenant's scope, so
    unfiltered queries see only that tenant's rows; an unknown key narrows nothing."""
    sessions = create_sessionmaker(engine)
    async with system_session(sessions, "cli") as seeded:
        tenant, key = await create_tenant_with_key(seeded, f"narrow-{uuid.uuid4().hex[:8]}")
        other, _ = await create_tenant_with_key(seeded, f"narrow-{uuid.uuid4().hex[:8]}")
    async with system_session(sessions, "cli") as seeded:
        for owner_id in (tenant.id, other.id):
            plan = plan_in()
            await CampaignPlanRepository(seeded).create(
                owner_id, plan, names_for(plan), f"publish-{owner_id}-{plan.request_id}"
            )
        await seeded.commit()
    async with sessions() as session:
        await scope_to_system(session, "api.authenticate")
        owner = await ApiKeyRepository(session).resolve(key, narrow_scope=True)
        assert owner is not None and owner.tenant.id == tenant.id
        assert scope_of(session) == str(tenant.id)
        assert await session.scalar(text(f"SELECT current_setting('{TENANT_SETTING}')")) == str(
            tenant.id
        )
        assert set((await session.scalars(select(CampaignPlan.tenant_id))).all()) == {tenant.id}
        assert (await session.scalars(select(Tenant.id))).all() == [tenant.id]
        await session.commit()  # a later transaction of the session keeps the tenant's scope
        assert set((await session.scalars(select(CampaignPlan.tenant_id))).all()) == {tenant.id}
    async with sessions() as session:
        await scope_to_system(session, "api.authenticate")
        assert await ApiKeyRepository(session).resolve("fd_nobody", narrow_scope=True) is None
        assert scope_of(session) == SYSTEM_SCOPE  # the caller closes it (the API does)
        await scope_to_tenant(session, NO_SCOPE)
        assert await session.scalar(select(func.count()).select_from(Tenant)) == 0


async def test_a_connection_without_any_scope_sees_nothing(
    engine: AsyncEngine, database_url: str
) -> None:
    """Fail closed: a connection that never names a scope (not through our sessions) reads no
    tenant rows at all."""
    connection = await asyncpg.connect(
        to_asyncpg_dsn(database_url), server_settings={"role": APP_ROLE}
    )
    try:
        assert await connection.fetchval("SELECT count(*) FROM tenants") == 0
        assert await connection.fetchval("SELECT count(*) FROM api_keys") == 0
    finally:
        await connection.close()


async def test_a_session_that_names_no_scope_sees_nothing(
    engine: AsyncEngine,
) -> None:
    """Fail closed in the ORM too: a session from the app's sessionmaker that was never scoped
    (neither a tenant nor a named system purpose) reads no tenant rows and cannot write any."""
    sessions = create_sessionmaker(engine)
    async with system_session(sessions, "cli") as seeded, seeded.begin():
        await TenantRepository(seeded).create(f"visible-{uuid.uuid4().hex[:8]}")
    async with sessions() as session:
        assert scope_of(session) == NO_SCOPE
        assert await session.scalar(select(func.count()).select_from(Tenant)) == 0
        assert await session.scalar(select(func.count()).select_from(CampaignPlan)) == 0
    async with system_session(sessions, "cli") as everyone:
        assert await everyone.scalar(select(func.count()).select_from(Tenant)) >= 1
    async with sessions() as session:
        session.add(Tenant(name=f"forged-{uuid.uuid4().hex[:8]}"))
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.flush()


def test_only_named_purposes_open_a_system_session(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="not a system purpose"):
        system_session(create_sessionmaker(engine), "anything")  # type: ignore[arg-type]


async def test_metric_partitions_carry_the_tenant_policy_too(session: AsyncSession) -> None:
    """Postgres applies a partitioned table's policies only to queries through the parent: a
    partition read directly needs its own. Every partition the metrics schedule creates gets
    one, and the application role may create partitions only through the migration's
    SECURITY DEFINER function."""
    await session.execute(
        text("SELECT flightdeck_ensure_metric_partitions(DATE '2024-01-15', DATE '2024-03-01')")
    )
    rows = (
        (
            await session.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                    "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
                    "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'campaign_metrics'::regclass"
                )
            )
        )
        .mappings()
        .all()
    )
    names = {row["relname"] for row in rows}
    assert {"campaign_metrics_p202401", "campaign_metrics_p202402", "campaign_metrics_p202403"} <= (
        names
    )
    assert all(r["relrowsecurity"] and r["relforcerowsecurity"] for r in rows)
    assert all(r["policies"] == 1 for r in rows)
    with pytest.raises(DBAPIError, match="permission denied|must be owner"):
        async with session.begin_nested():
            await session.execute(
                text(
                    "CREATE TABLE campaign_metrics_p209901 PARTITION OF campaign_metrics "
                    "FOR VALUES FROM ('2099-01-01') TO ('2099-02-01')"
                )
            )


async def test_a_partition_read_directly_shows_only_the_tenants_rows(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    from datetime import UTC, datetime

    from flightdeck.db.models import CampaignMetric, PlatformCampaign

    await session.execute(
        text("SELECT flightdeck_ensure_metric_partitions(DATE '2024-05-01', DATE '2024-05-31')")
    )
    for owner in (tenant, other_tenant):
        campaign = PlatformCampaign(
            tenant_id=owner.id, platform="meta", account_id="act_1",
            platform_campaign_id=f"c-{uuid.uuid4().hex[:8]}",
        )  # fmt: skip
        session.add(campaign)
        await session.flush()
        session.add(
            CampaignMetric(
                time=datetime(2024, 5, 3, tzinfo=UTC), campaign_id=campaign.id,
                tenant_id=owner.id, currency="USD",
            )
        )  # fmt: skip
    await session.flush()
    await scope_to_tenant(session, tenant.id)
    direct = (await session.execute(text("SELECT tenant_id FROM campaign_metrics_p202405"))).all()
    assert {row[0] for row in direct} == {tenant.id}
    parent = (await session.execute(text("SELECT tenant_id FROM campaign_metrics"))).all()
    assert {row[0] for row in parent} == {tenant.id}
