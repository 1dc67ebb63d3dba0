"""Database fixtures: one fresh, migrated database per test session on the local server, and a
session per test inside a transaction that is rolled back (commits become savepoints)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from flightdeck.db.engine import create_engine
from flightdeck.db.models import CampaignPlan, Tenant
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.tenants import TenantRepository
from flightdeck.db.tenancy import scope_to_system
from tests.db.support import (
    migrated_database,
    names_for,
    plan_in,
)

PlanFactory = Callable[..., Awaitable[CampaignPlan]]


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A database of these tests' own: they count rows that other suites would add."""
    async with migrated_database() as url:
        yield url


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session whose work is rolled back after the test, even what the code commits."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        # Repository tests span tenants (they check the filters themselves): system scope.
        await scope_to_system(session, "cli")
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
async def tenant(session: AsyncSession) -> Tenant:
    return await TenantRepository(session).create(f"tenant-{uuid.uuid4().hex[:8]}")


@pytest.fixture
async def other_tenant(session: AsyncSession) -> Tenant:
    return await TenantRepository(session).create(f"other-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def make_plan(session: AsyncSession) -> PlanFactory:
    """`await make_plan(tenant_id, hookSetId=…)`: a stored plan built from the example."""

    async def make(tenant_id: uuid.UUID, **overrides: Any) -> CampaignPlan:
        plan = plan_in(**overrides)
        workflow_id = f"publish-{tenant_id}-{plan.request_id}"
        return await CampaignPlanRepository(session).create(
            tenant_id, plan, names_for(plan), workflow_id
        )

    return make
