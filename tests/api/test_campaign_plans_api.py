"""Plans are checked before anything is stored: what the tenant may publish to, what Facebook
would refuse, and whether Temporal can take the run (503 and nothing stored when it cannot)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from flightdeck.api.app import create_app
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.tenants import TenantRepository
from flightdeck.db.tenancy import system_session
from flightdeck.db.tenants import create_tenant_with_key, register_publish_targets
from flightdeck.settings import Settings
from tests.conftest import free_port
from tests.db.support import names_for, plan_in

PLANS = "/api/v1/campaign-plans"
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "examples" / "plan.json").read_text())


@pytest.fixture
async def temporal_down_api(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with a Temporal client whose server is not there (nothing listens on the port)."""
    settings = Settings(
        environment="test", database_url=database_url, temporal_rpc_timeout_seconds=2
    )
    temporal = await Client.connect(
        f"127.0.0.1:{free_port()}", data_converter=pydantic_data_converter, lazy=True
    )
    app = create_app(settings, sessions=sessions, temporal=temporal)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as c:
        yield c


async def registered_headers(
    sessions: async_sessionmaker[AsyncSession], name: str
) -> dict[str, str]:
    async with system_session(sessions, "cli") as session:
        _, key = await create_tenant_with_key(session, name)
    async with system_session(sessions, "cli") as session:
        await register_publish_targets(
            session,
            name,
            organizations=[EXAMPLE["organization"]],
            ad_accounts=[EXAMPLE["adAccountId"]],
        )
    return {"Authorization": f"Bearer {key}"}


def plan(**changes: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(EXAMPLE))
    body["requestId"] = f"req-{time.monotonic_ns()}"
    body.update(changes)
    return body


async def test_unregistered_targets_and_facebook_rules_are_refused_all_at_once(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    bad = plan(organization="SomeoneElse", adAccountId="act_999")
    bad["adSets"][0]["dailyBudget"] = "500000"  # $0.50: under Facebook's minimum
    bad["adSets"][1]["dailyBudget"] = "50000001"  # a hundredth of a cent
    bad["adSets"][1]["bidStrategy"] = "LOWEST_COST_WITH_BID_CAP"  # needs a bid amount
    refused = await api.post(PLANS, json=bad, headers=headers)
    assert refused.status_code == 422, refused.text
    fields = sorted(p["field"] for p in refused.json()["detail"])
    assert fields == [
        "adAccountId", "adSets.0.dailyBudget", "adSets.1.bidAmount", "adSets.1.dailyBudget",
        "organization",
    ]  # fmt: skip
    assert (await api.get(PLANS, headers=headers)).json()["items"] == [], "nothing was stored"


async def test_a_plan_too_big_to_run_is_refused_before_storing(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = await registered_headers(sessions, f"big-{time.monotonic_ns()}")
    huge = plan()
    template = huge["adSets"][0]
    ads = [{**template["ads"][0], "hookId": f"h{j}"} for j in range(50)]
    huge["adSets"] = [{**template, "audienceKey": f"a{i}", "ads": ads} for i in range(20)]
    refused = await api.post(PLANS, json=huge, headers=headers)
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "adSets"
    fat = plan()
    fat["adSets"][0]["targeting"]["custom"] = "x" * 20_000
    refused = await api.post(PLANS, json=fat, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "adSets.0.targeting"
    assert (await api.get(PLANS, headers=headers)).json()["items"] == []


async def test_temporal_unreachable_answers_503_and_stores_nothing(
    temporal_down_api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    headers = await registered_headers(sessions, f"down-{time.monotonic_ns()}")
    started = time.monotonic()
    refused = await temporal_down_api.post(PLANS, json=plan(), headers=headers)
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "temporal_unavailable"
    assert refused.headers["Retry-After"]
    assert time.monotonic() - started < 8, "fails fast instead of blocking"
    assert (await temporal_down_api.get(PLANS, headers=headers)).json()["items"] == []


async def test_cancelling_while_temporal_is_unreachable_answers_503_json_and_changes_nothing(
    temporal_down_api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    name = f"down-cancel-{time.monotonic_ns()}"
    headers = await registered_headers(sessions, name)
    async with system_session(sessions, "cli") as session:
        tenant = await TenantRepository(session).get_by_name(name)
        assert tenant is not None
        stored = plan_in()
        row = await CampaignPlanRepository(session).create(
            tenant.id, stored, names_for(stored), f"publish-{tenant.id}-{stored.request_id}"
        )
        await session.commit()
    refused = await temporal_down_api.post(f"{PLANS}/{row.id}/cancel", headers=headers)
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"].startswith("application/json")
    assert refused.json()["error"] == "temporal_unavailable"
    assert refused.headers["Retry-After"]
    still = await temporal_down_api.get(f"{PLANS}/{row.id}", headers=headers)
    assert still.json()["status"] == "pending"
    audit = await temporal_down_api.get("/api/v1/audit-log", headers=headers)
    assert all(e["action"] != "campaign_plan.cancel_requested" for e in audit.json()["items"])
