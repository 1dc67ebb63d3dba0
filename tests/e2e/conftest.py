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
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from flightdeck.api.app import create_app
from flightdeck.db.engine import PoolSize, create_engine, create_sessionmaker
from flightdeck.db.models import CircuitBreaker, PlatformCall
from flightdeck.db.tenancy import system_session
from flightdeck.db.tenants import create_tenant_with_key, register_publish_targets
from flightdeck.settings import Settings
from flightdeck.worker import running_workers

REDDIT_CLIENT_ID = "flightdeck-e2e"
REDDIT_CLIENT_SECRET = "e2e-reddit-secret-do-not-leak"
GOOGLE_CLIENT_ID = "flightdeck-e2e.apps.googleusercontent.com"
GOOGLE_CLIENT_SECRET = "e2e-google-secret-do-not-leak"
META_APP_ID = "555000111222333"
META_APP_SECRET = "e2e-meta-app-secret-do-not-leak"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.json"
EXAMPLE_ORGANIZATION = json.loads(EXAMPLE.read_text())["organization"]
EXAMPLE_AD_ACCOUNT = json.loads(EXAMPLE.read_text())["adAccountId"]
TERMINAL = (
    "completed",
    "completed_with_errors",
    "failed",
    "canceled",
    "cancelled",
    "terminated",
    "timed_out",
)


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

    async def new_tenant_headers(
        self, name: str | None = None, *, role: str = "admin", user: str = "admin"
    ) -> dict[str, str]:
        """A fresh tenant (its key is `user`'s, with `role`) that may publish the example plan's
        organization and ad account."""
        name = name or f"t-{uuid.uuid4().hex[:8]}"
        async with system_session(self.sessions, "cli") as session:
            _, key = await create_tenant_with_key(session, name, user=user, role=role)  # type: ignore[arg-type]
        async with system_session(self.sessions, "cli") as session:
            await register_publish_targets(
                session,
                name,
                organizations=[EXAMPLE_ORGANIZATION],
                ad_accounts=[EXAMPLE_AD_ACCOUNT],
            )
        return {"Authorization": f"Bearer {key}"}

    async def publish(self, plan: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        response = await self.api.post(
            "/api/v1/campaign-plans", json=plan, headers=headers or self.headers
        )
        assert response.status_code in (200, 202), response.text
        return response.json()

    async def wait_job(
        self, workflow_id: str, timeout: float = 60.0, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        handle = self.client.get_workflow_handle(workflow_id)
        async with asyncio.timeout(timeout):
            while True:
                status = (await handle.describe()).status
                if status is not None and status.name.lower() in TERMINAL:
                    break
                await asyncio.sleep(0.1)
        response = await self.api.get(
            f"/api/v1/jobs/{workflow_id}", headers=headers or self.headers
        )
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

    async def connect_reddit(self, headers: dict[str, str] | None = None) -> str:
        """Play the user's browser through Reddit's consent (the simulator approves at once);
        returns the connected ad account's Flightdeck id."""
        headers = headers or self.headers
        start = await self.api.get("/api/v1/ad-accounts/reddit/connect", headers=headers)
        assert start.status_code == 200, start.text
        consent = await self.sim.get(start.json()["authorizeUrl"], follow_redirects=False)
        assert consent.status_code == 302, consent.text
        query = parse_qs(urlsplit(consent.headers["location"]).query)
        callback = await self.api.get(
            "/api/v1/ad-accounts/reddit/callback",
            params={"code": query["code"][0], "state": query["state"][0]},
        )
        assert callback.status_code == 200, callback.text
        account_id: str = callback.json()["id"]
        return account_id

    async def connect_google(self, headers: dict[str, str] | None = None) -> str:
        """Google's consent as the agency user (through the seeded manager account)."""
        headers = headers or self.headers
        start = await self.api.get("/api/v1/ad-accounts/google/connect", headers=headers)
        assert start.status_code == 200, start.text
        consent = await self.sim.get(start.json()["authorizeUrl"], follow_redirects=False)
        assert consent.status_code == 302, consent.text
        query = parse_qs(urlsplit(consent.headers["location"]).query)
        callback = await self.api.get(
            "/api/v1/ad-accounts/google/callback",
            params={"code": query["code"][0], "state": query["state"][0]},
        )
        assert callback.status_code == 200, callback.text
        account_id: str = callback.json()["id"]
        return account_id

    async def create_set(
        self,
        campaigns: list[dict[str, Any]],
        account_id: str | None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        body = {"name": f"set-{uuid.uuid4().hex[:6]}", "adAccountId": account_id}
        response = await self.api.post(
            "/api/v1/campaign-sets",
            json=body | {"campaigns": campaigns},
            headers=headers or self.headers,
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    async def sync(
        self, set_id: str, operation: str = "sync", headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Start (or join) the set's sync, pause or resume and wait for the job to end."""
        headers = headers or self.headers
        response = await self.api.post(
            f"/api/v1/campaign-sets/{set_id}/{operation}", headers=headers
        )
        assert response.status_code == 202, response.text
        return await self.follow_job(response.json()["jobId"], headers)

    async def follow_job(
        self, job_id: str, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Follow a set's job as a client does until it ends: it may wait behind another
        operation of the set (`queued`) before its run exists."""
        headers = headers or self.headers
        result: dict[str, Any] = {}
        try:
            async with asyncio.timeout(90):
                while True:
                    job = await self.api.get(f"/api/v1/jobs/{job_id}", headers=headers)
                    assert job.status_code == 200, job.text
                    result = job.json()
                    if result["status"] in TERMINAL:
                        return result
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise AssertionError(
                f"job {job_id} did not end in 90 s: {result}\n{await self.open_runs()}"
            ) from None

    async def open_runs(self) -> str:
        """What Temporal still runs (each open workflow's pending activities and children), so
        a job that never ends says where it waits."""
        lines = []
        async for run in self.client.list_workflows("ExecutionStatus = 'Running'"):
            described = await self.client.get_workflow_handle(run.id, run_id=run.run_id).describe()
            raw = described.raw_description
            pending = [
                f"{a.activity_type.name}(attempt {a.attempt}, {a.last_failure.message!r})"
                for a in raw.pending_activities
            ]
            children = [c.workflow_id for c in raw.pending_children]
            lines.append(f"{run.workflow_type} {run.id}: activities {pending} children {children}")
        return "\n".join(lines) or "no open runs"

    async def reddit_objects(self, kind: str) -> list[dict[str, Any]]:
        state = (await self.sim.get("/_sim/state")).json()["platforms"]["reddit"]
        items: list[dict[str, Any]] = state.get(kind, {}).get("items", [])
        return items

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
        publish_retry_initial_seconds=0.1,  # faults are retried quickly (production: 0.5 s)
        reddit_ads_base_url=f"{simulator_url}/reddit/api/v3",
        reddit_oauth_base_url=f"{simulator_url}/reddit",
        reddit_client_id=REDDIT_CLIENT_ID,
        reddit_client_secret=SecretStr(REDDIT_CLIENT_SECRET),
        reddit_redirect_uri="http://api/api/v1/ad-accounts/reddit/callback",
        reddit_task_queue=f"reddit-{suffix}",
        reddit_rate_limit=1000,
        reddit_creative_rate_limit=1000,
        # Google Ads (issue 14): the simulator's Google, a queue of its own.
        google_ads_base_url=f"{simulator_url}/google",
        google_oauth_authorize_url=f"{simulator_url}/google/o/oauth2/v2/auth",
        google_oauth_token_url=f"{simulator_url}/google/oauth2/v3/token",
        google_client_id=GOOGLE_CLIENT_ID,
        google_client_secret=SecretStr(GOOGLE_CLIENT_SECRET),
        google_redirect_uri="http://api/api/v1/ad-accounts/google/callback",
        google_task_queue=f"google-{suffix}",
        google_rate_limit=1000,
        google_creative_rate_limit=1000,
        # Small batches and runs, so a 10-campaign set uses several children and continues
        # as new; quick retries and a quick circuit breaker, so failure tests finish fast.
        sync_batch_size=3,
        sync_window=2,
        sync_batches_per_run=2,
        sync_call_max_attempts=5,
        sync_retry_initial_seconds=0.1,
        circuit_min_calls=5,
        sync_back_page_size=10,  # so a cycle over a few dozen entities spans several pages
        conflict_escalation_seconds=3,  # an unanswered conflict escalates within a test
        circuit_cooldown_seconds=2,
        # Meta (seed 001): the Graph simulator, a queue of its own, the simulators' image host
        # allowed for image fetches, quick review polls.
        meta_graph_base_url=f"{simulator_url}/graph",
        meta_dialog_base_url=f"{simulator_url}/facebook",
        meta_app_id=META_APP_ID,
        meta_app_secret=SecretStr(META_APP_SECRET),
        meta_redirect_uri="http://api/api/v1/meta/callback",
        meta_task_queue=f"meta-{suffix}",
        meta_rate_limit=1000,
        asset_download_allowed_hosts=[urlsplit(simulator_url).netloc],
        meta_review_poll_initial_seconds=0.5,
        meta_review_poll_max_seconds=2,
        # Metrics (seed 004): a queue of their own, quick Insights polls and throttle pauses,
        # no reporting rate limit to wait on.
        metrics_task_queue=f"metrics-{suffix}",
        meta_reports_rate_limit=1000,
        reddit_reports_rate_limit=1000,
        reddit_reports_per_minute=60_000,
        meta_insights_poll_seconds=0.05,
        meta_insights_max_pause_seconds=0.3,
        meta_insights_page_size=10,  # a month of one campaign spans several pages
        metrics_initial_backfill_days=30,
        # Few kept connections (bursts still get 50): with two pytest-xdist processes, and the
        # killed-worker tests' worker processes, idle pools must not fill Postgres's 100.
        db_pool_size=5,
        db_max_overflow=45,
    )
    engine = create_engine(database_url, pool=PoolSize.from_settings(settings))
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
    app = {
        "clientId": REDDIT_CLIENT_ID,
        "clientSecret": REDDIT_CLIENT_SECRET,
        "redirectUri": system.settings.reddit_redirect_uri,
    }
    assert (await system.sim.post("/_sim/reddit/oauth/apps", json=app)).status_code == 201
    meta_app = {
        "appId": META_APP_ID,
        "appSecret": META_APP_SECRET,
        "redirectUri": system.settings.meta_redirect_uri,
    }
    assert (await system.sim.post("/_sim/meta/apps", json=meta_app)).status_code == 201
    google_app = {
        "clientId": GOOGLE_CLIENT_ID,
        "clientSecret": GOOGLE_CLIENT_SECRET,
        "redirectUri": system.settings.google_redirect_uri,
    }
    assert (await system.sim.post("/_sim/google/oauth/apps", json=google_app)).status_code == 201
    async with system_session(system.sessions, "cli") as session, session.begin():
        # The circuit breaker is shared by design; one test's failures must not refuse another's.
        await session.execute(delete(PlatformCall))
        await session.execute(delete(CircuitBreaker))
    system.headers = await system.new_tenant_headers()
    yield system
    await system.sim.post("/_sim/faults", json={"rules": []})
