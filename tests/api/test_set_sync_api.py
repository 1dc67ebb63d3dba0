"""Starting a set sync writes nothing before Temporal accepted it: with Temporal unreachable
the API answers 503 JSON and the set, its campaigns and its runs are as they were."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from flightdeck.api.app import create_app
from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.tenancy import system_session
from flightdeck.settings import Settings
from tests.api.conftest import new_tenant
from tests.conftest import free_port


@pytest.fixture
async def temporal_down_api(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        environment="test", database_url=database_url, temporal_rpc_timeout_seconds=2
    )
    temporal = await Client.connect(
        f"127.0.0.1:{free_port()}", data_converter=pydantic_data_converter, lazy=True
    )
    app = create_app(settings, sessions=sessions, temporal=temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as client:
        yield client


@pytest.mark.parametrize("operation", ["sync", "pause", "resume"])
async def test_temporal_unreachable_answers_503_and_changes_nothing(
    temporal_down_api: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    operation: str,
) -> None:
    tenant_id, headers = await new_tenant(sessions)
    async with system_session(sessions, "cli") as session:
        account = await AdAccountRepository(session).create(tenant_id, platform_account_id="a2_x")
        await session.commit()
    body = {
        "name": f"set-{uuid.uuid4().hex[:6]}",
        "adAccountId": str(account.id),
        "campaigns": [{"name": "Summer Sale", "objective": "traffic"}],
    }
    created = await temporal_down_api.post("/api/v1/campaign-sets", json=body, headers=headers)
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]
    before = created.json()["syncStatus"]

    started = time.monotonic()
    refused = await temporal_down_api.post(
        f"/api/v1/campaign-sets/{set_id}/{operation}", headers=headers
    )
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"].startswith("application/json")
    assert refused.json()["error"] == "temporal_unavailable"
    assert refused.headers["Retry-After"]
    assert time.monotonic() - started < 8, "fails fast instead of blocking"

    after = await temporal_down_api.get(f"/api/v1/campaign-sets/{set_id}", headers=headers)
    assert after.json()["syncStatus"] == before
    assert {c["syncStatus"] for c in after.json()["campaigns"]} == {"pending"}
    status = await temporal_down_api.get(
        f"/api/v1/campaign-sets/{set_id}/sync-status", headers=headers
    )
    assert status.json()["runStatus"] == "none"
    async with system_session(sessions, "cli") as session:
        runs = await session.scalar(
            text("SELECT count(*) FROM set_sync_runs WHERE campaign_set_id = :id"), {"id": set_id}
        )
    assert runs == 0
