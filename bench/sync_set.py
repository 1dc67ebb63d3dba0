"""Benchmark: sync a campaign set of 1,000 campaigns × 2 ad groups × 2 ads to the Reddit
simulator with a write limit low enough to bind.

Prints wall time, achieved writes/s ÷ the limit (target ≥ 0.9), the 429s seen, failures
(target 0) and the largest history length of any run (target well under 10,000 events).
"Writes" are the campaign-management writes (campaigns, ad groups, ads) the simulator
accepted; ad posts count against Reddit's creative-management policy, limited the same way.

Runs a Temporal dev server, a fresh Postgres database, the simulators (own process), the
worker and the API on this machine. Usage:
    .venv/bin/python bench/sync_set.py [--campaigns 1000] [--limit 20]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.publish import wait_until_serving  # noqa: E402

WRITE_POLICY = "ads-campaign-management-write"
CREATIVE_POLICY = "ads-creative-management"
CLIENT_ID, CLIENT_SECRET = "flightdeck-bench", "bench-secret"
CHUNK = 500  # campaigns per POST (the API's limit for one request)


def campaign(i: int) -> dict[str, Any]:
    return {
        "name": f"Bench campaign {i:05d}",
        "objective": "traffic",
        "status": "paused",
        "adGroups": [
            {
                "name": f"Bench {i:05d} group {g}",
                "bidStrategy": "automatic",
                "budget": {"type": "daily", "amount": 25},
                "targeting": {"geolocations": ["US"]},
                "ads": [
                    {
                        "name": f"Bench {i:05d} ad {g}.{a}",
                        "headline": f"Headline {a}",
                        "finalUrl": "https://shop.example.com/",
                    }
                    for a in range(2)
                ],
            }
            for g in range(2)
        ],
    }


async def main(campaigns: int, limit: float) -> None:
    import asyncpg
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from flightdeck.api.app import create_app
    from flightdeck.db.engine import create_engine, create_sessionmaker
    from flightdeck.db.migrate import upgrade_to_head
    from flightdeck.db.tenants import create_tenant_with_key
    from flightdeck.dev import temporal_binary
    from flightdeck.settings import Settings
    from flightdeck.temporal import SEARCH_ATTRIBUTES
    from flightdeck.worker import running_workers
    from tests.conftest import ADMIN_DSN, free_port

    db = f"flightdeck_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{db}"
    await upgrade_to_head(url)
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_binary(),
        search_attributes=list(SEARCH_ATTRIBUTES),
    )
    port = free_port()
    sim_proc = subprocess.Popen(
        [sys.executable, "-m", "flightdeck.cli", "simulators", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sim_url = f"http://127.0.0.1:{port}"
    await wait_until_serving(f"{sim_url}/_sim/state")
    settings = Settings(
        environment="test",
        database_url=url,
        temporal_address=env.client.service_client.config.target_host,
        reddit_ads_base_url=f"{sim_url}/reddit/api/v3",
        reddit_oauth_base_url=f"{sim_url}/reddit",
        reddit_client_id=CLIENT_ID,
        reddit_client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        reddit_redirect_uri="http://api/api/v1/ad-accounts/reddit/callback",
        # The task queues' budgets sit just under the platform's limits: the limiter, not
        # Reddit's 429s, paces the sync.
        reddit_rate_limit=limit * 0.97,
        reddit_creative_rate_limit=limit * 0.97,
    )
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    app = create_app(settings, sessions=sessions, temporal=env.client)
    try:
        async with (
            running_workers(env.client, sessions, settings),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api,
            httpx.AsyncClient(base_url=sim_url, timeout=60) as sim,
        ):
            oauth_app = {
                "clientId": CLIENT_ID,
                "clientSecret": CLIENT_SECRET,
                "redirectUri": settings.reddit_redirect_uri,
            }
            (await sim.post("/_sim/reddit/oauth/apps", json=oauth_app)).raise_for_status()
            window = {"quota": max(1, round(limit * 10)), "window": 10}
            policies = {WRITE_POLICY: window, CREATIVE_POLICY: window}
            (
                await sim.post("/_sim/reddit/rate-limits", json={"policies": policies})
            ).raise_for_status()
            async with sessions() as session:
                _, key = await create_tenant_with_key(session, f"bench-{uuid.uuid4().hex[:6]}")
            api.headers["Authorization"] = f"Bearer {key}"
            account = await connect(api, sim)
            set_id = await create_set(api, account, campaigns)

            start = time.perf_counter()
            accepted = (await api.post(f"/api/v1/campaign-sets/{set_id}/sync")).json()
            job = await wait(api, accepted["jobId"])
            wall = time.perf_counter() - start
            log = (await sim.get("/_sim/requests", params={"platform": "reddit"})).json()
            longest = await longest_history(env.client, accepted["jobId"])
    finally:
        sim_proc.terminate()
        sim_proc.wait(timeout=10)
        await engine.dispose()
        await env.shutdown()
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()

    writes = [
        r for r in log
        if r["method"] in ("POST", "PATCH") and 200 <= r["status"] < 300
        and r["path"].rstrip("/").split("/")[-1] in ("campaigns", "ad_groups", "ads")
    ]  # fmt: skip
    posts = [r for r in log if r["method"] == "POST" and r["path"].endswith("/posts")]
    limited = [r for r in log if r["status"] == 429]
    span = max(r["at"] for r in writes) - min(r["at"] for r in writes)
    rate = len(writes) / span if span > 0 else float("nan")
    progress = job["progress"]
    print(f"set: {campaigns} campaigns x 2 ad groups x 2 ads; write limit {limit:g}/s per policy")
    print(f"job status:                    {job['status']}")
    print(f"wall time (POST to done):      {wall:.1f} s")
    print(f"campaign-management writes:    {len(writes)} (+ {len(posts)} ad posts)")
    print(f"achieved writes/s:             {rate:.2f}")
    print(f"achieved / limit:              {rate / limit:.3f}   (target >= 0.9)")
    print(f"429s seen:                     {len(limited)}")
    print(
        f"failures:                      {progress['failed']} of {progress['total']}   (target 0)"
    )
    print(f"largest history of any run:    {longest} events   (target well under 10,000)")


async def connect(api: httpx.AsyncClient, sim: httpx.AsyncClient) -> str:
    start = (await api.get("/api/v1/ad-accounts/reddit/connect")).raise_for_status().json()
    consent = await sim.get(start["authorizeUrl"], follow_redirects=False)
    query = parse_qs(urlsplit(consent.headers["location"]).query)
    callback = await api.get(
        "/api/v1/ad-accounts/reddit/callback",
        params={"code": query["code"][0], "state": query["state"][0]},
    )
    account: str = callback.raise_for_status().json()["id"]
    return account


async def create_set(api: httpx.AsyncClient, account: str, campaigns: int) -> str:
    everything = [campaign(i) for i in range(campaigns)]
    body = {"name": "bench set", "adAccountId": account, "campaigns": everything[:CHUNK]}
    set_id: str = (
        (await api.post("/api/v1/campaign-sets", json=body)).raise_for_status().json()["id"]
    )
    for item in everything[CHUNK:]:
        (await api.post(f"/api/v1/campaign-sets/{set_id}/campaigns", json=item)).raise_for_status()
    return set_id


async def wait(api: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    while True:
        job: dict[str, Any] = (await api.get(f"/api/v1/jobs/{job_id}")).json()
        if job["status"] not in ("queued", "running"):
            return job
        await asyncio.sleep(1)


async def longest_history(client: Any, workflow_id: str) -> int:
    longest = 0
    query = f"WorkflowId STARTS_WITH '{workflow_id}'"
    async for execution in client.list_workflows(query):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        longest = max(longest, len(history.events))
    return longest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--limit", type=float, default=20.0, help="writes/s per Reddit policy")
    args = parser.parse_args()
    asyncio.run(main(args.campaigns, args.limit))
