"""End-to-end rig: the real worker on a Temporal dev server, a real Postgres database, the
simulators over HTTP, and the API app (in-process ASGI) — one per test session."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from flightdeck.api.app import create_app
from flightdeck.db.engine import create_engine, create_sessionmaker
from flightdeck.db.tenants import create_tenant_with_key
from flightdeck.settings import Settings
from flightdeck.worker import running_workers

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.json"
TERMINAL = ("completed", "failed", "canceled", "cancelled", "terminated", "timed_out")


def make_plan(**overrides: Any) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads(EXAMPLE.read_text())
    plan["requestId"] = f"req-{uuid.uuid4().hex[:10]}"
    plan.update(copy.deepcopy(overrides))
    return plan


def big_plan(ad_sets: int, ads: int, **overrides: Any) -> dict[str, Any]:
    plan = make_plan(**overrides)
    template = plan["adSets"][0]
    plan["adSets"] = [
        {**copy.deepcopy(template), "audienceKey": f"aud{i}", "ads": [
            {**template["ads"][0], "hookId": f"hook{j}"} for j in range(ads)
        ]}
        for i in range(ad_sets)
    ]  # fmt: skip
    return plan


def _without_stack_traces(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "" if k == "stackTrace" else _without_stack_traces(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_stack_traces(v) for v in value]
    return value


@dataclass
class System:
    api: httpx.AsyncClient
    sim: httpx.AsyncClient
    settings: Settings
    client: Client
    sessions: async_sessionmaker[AsyncSession]
    headers: dict[str, str]

    async def new_tenant_headers(self, name: str | None = None) -> dict[str, str]:
        async with self.sessions() as session:
            _, key = await create_tenant_with_key(session, name or f"t-{uuid.uuid4().hex[:8]}")
        return {"Authorization": f"Bearer {key}"}

    async def publish(self, plan: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        response = await self.api.post(
            "/api/v1/campaign-plans", json=plan, headers=headers or self.headers
        )
        assert response.status_code in (200, 202), response.text
        return response.json()

    async def wait_job(self, workflow_id: str, timeout: float = 60.0) -> dict[str, Any]:
        handle = self.client.get_workflow_handle(workflow_id)
        async with asyncio.timeout(timeout):
            while True:
                status = (await handle.describe()).status
                if status is not None and status.name.lower() in TERMINAL:
                    break
                await asyncio.sleep(0.1)
        response = await self.api.get(f"/api/v1/jobs/{workflow_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    async def record_history(self, workflow_id: str, name: str) -> None:
        """With FLIGHTDECK_RECORD_HISTORIES=dir, keep this run's history for the replay test
        (stack traces dropped: they hold this machine's paths and replay never reads them)."""
        target = os.environ.get("FLIGHTDECK_RECORD_HISTORIES")
        if target:
            history = await self.client.get_workflow_handle(workflow_id).fetch_history()
            path = Path(target) / f"{name}.json"
            events = _without_stack_traces(json.loads(history.to_json()))
            path.write_text(json.dumps({"workflowId": workflow_id, "history": events}))

    async def sim_counts(self) -> dict[str, dict[str, int]]:
        state = (await self.sim.get("/_sim/state")).json()["platforms"]
        return {
            platform: {kind: body["count"] for kind, body in kinds.items()}
            for platform, kinds in state.items()
        }

    async def faults(self, *rules: dict[str, Any], seed: int = 0) -> None:
        response = await self.sim.post("/_sim/faults", json={"seed": seed, "rules": list(rules)})
        assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
async def system(
    dev_env: WorkflowEnvironment, database_url: str, simulator_url: str
) -> AsyncIterator[System]:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(
        environment="test",
        database_url=database_url,
        temporal_address=dev_env.client.service_client.config.target_host,
        strategis_base_url=f"{simulator_url}/strategis",
        strategis_relay_base_url=f"{simulator_url}/relay",
        task_queue=f"flightdeck-{suffix}",
        strategis_task_queue=f"strategis-{suffix}",
        strategis_rate_limit=1000,
        publish_activity_timeout_seconds=10,
    )
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    app = create_app(settings, sessions=sessions, temporal=dev_env.client)
    async with (
        running_workers(dev_env.client, sessions, settings),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api,
        httpx.AsyncClient(base_url=simulator_url, timeout=30) as sim,
    ):
        rig = System(api, sim, settings, dev_env.client, sessions, {})
        rig.headers = await rig.new_tenant_headers("e2e")
        yield rig
    await engine.dispose()


@pytest.fixture
async def rig(system: System) -> AsyncIterator[System]:
    """The shared system with the simulators emptied, no faults and a fresh tenant (so nothing
    cached from an earlier test, e.g. a Strategis template id, points into the emptied state)."""
    await system.sim.post("/_sim/reset")
    system.headers = await system.new_tenant_headers()
    yield system
    await system.sim.post("/_sim/faults", json={"rules": []})
