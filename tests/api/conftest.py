"""API fixtures: the app in-process (ASGI) on a fresh, migrated database of its own, with no
Temporal (these routes do not need it), and a new tenant with an API key per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from flightdeck.api.app import create_app
from flightdeck.db.engine import create_engine, create_sessionmaker
from flightdeck.db.tenancy import system_session
from flightdeck.db.tenants import create_tenant_with_key
from flightdeck.settings import Settings
from tests.db.support import migrated_database


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


@pytest.fixture(scope="session")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture(scope="session")
async def api(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(environment="test", database_url=database_url)
    app = create_app(settings, sessions=sessions, temporal=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


async def new_tenant(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[uuid.UUID, dict[str, str]]:
    async with system_session(sessions, "cli") as session:
        tenant, key = await create_tenant_with_key(session, f"api-{uuid.uuid4().hex[:10]}")
    return tenant.id, {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def tenant(sessions: async_sessionmaker[AsyncSession]) -> tuple[uuid.UUID, dict[str, str]]:
    """A fresh tenant: its id and the headers that authenticate as it."""
    return await new_tenant(sessions)


@pytest.fixture
async def headers(tenant: tuple[uuid.UUID, dict[str, str]]) -> dict[str, str]:
    return tenant[1]


@pytest.fixture
async def other_headers(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return (await new_tenant(sessions))[1]
