"""Benchmark: publish a 5 × 4 plan (52 remote calls) with 50 ms simulated latency per call.

Prints wall time vs the critical-path ideal (DAG depth × latency), the speed-up over the seed's
sequential loops (the same calls awaited one by one, no Temporal), and the throughput of 20
plans at once. Runs a Temporal dev server, a fresh Postgres database, the simulators and the
worker on this machine. Usage: .venv/bin/python bench/publish.py
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.conftest import big_plan  # noqa: E402  (reuse the test plan builder)

LATENCY_MS = 50
AD_SETS, ADS = 5, 4
DAG_DEPTH = 5  # template|campaign -> ad set -> tracking campaign -> creative -> ad
CONCURRENT_PLANS = 20


async def main() -> None:
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
    # The simulators run in their own process, as a remote platform would: sharing the worker's
    # event loop would bill their request handling to Flightdeck.
    port = free_port()
    sim_proc = subprocess.Popen(
        [sys.executable, "-m", "flightdeck.cli", "simulators", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await wait_until_serving(f"http://127.0.0.1:{port}/_sim/state")
    sim_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        environment="test",
        database_url=url,
        temporal_address=env.client.service_client.config.target_host,
        strategis_base_url=f"{sim_url}/strategis",
        strategis_relay_base_url=f"{sim_url}/relay",
        strategis_rate_limit=10_000,
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
            await sim.post("/_sim/faults", json={"rules": [{"latencyMs": LATENCY_MS}]})

            async def publish_all(n: int) -> float:
                async with sessions() as session:
                    _, key = await create_tenant_with_key(session, f"bench-{uuid.uuid4().hex[:6]}")
                headers = {"Authorization": f"Bearer {key}"}
                plans = [big_plan(AD_SETS, ADS) for _ in range(n)]
                start = time.perf_counter()
                accepted = await asyncio.gather(
                    *(api.post("/api/v1/campaign-plans", json=p, headers=headers) for p in plans)
                )
                await asyncio.gather(
                    *(
                        env.client.get_workflow_handle(a.json()["workflowId"]).result()
                        for a in accepted
                    )
                )
                elapsed = time.perf_counter() - start
                last_run_ids.append(accepted[0].json()["workflowId"])
                return elapsed

            last_run_ids: list[str] = []

            await publish_all(1)  # warm-up (template cache, worker caches)
            single = min([await publish_all(1) for _ in range(3)])
            breakdown = await history_breakdown(env.client, last_run_ids[-1])
            sequential = await sequential_baseline(sim_url, settings)
            many = await publish_all(CONCURRENT_PLANS)
            counts = (await sim.get("/_sim/state")).json()["platforms"]
    finally:
        sim_proc.terminate()
        sim_proc.wait(timeout=10)
        await engine.dispose()
        await env.shutdown()
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()

    calls = 2 + 2 * AD_SETS + 2 * AD_SETS * ADS
    ideal = DAG_DEPTH * LATENCY_MS / 1000
    print(f"plan: {AD_SETS} ad sets x {ADS} ads = {calls} remote calls, {LATENCY_MS} ms each")
    print(f"one plan, Flightdeck (best of 3):  {single:.3f} s")
    print(f"critical-path ideal ({DAG_DEPTH} x {LATENCY_MS} ms): {ideal:.3f} s")
    print(f"ratio wall / ideal:                 {single / ideal:.2f}x   (target <= 3x)")
    print(f"sequential (seed loops, no Temporal): {sequential:.3f} s")
    print(f"speed-up over sequential:           {sequential / single:.2f}x   (target >= 3x)")
    print(f"{CONCURRENT_PLANS} plans at once:                 {many:.3f} s, "
          f"{CONCURRENT_PLANS * calls / many:.0f} remote calls/s")  # fmt: skip
    print(breakdown)
    fb = counts["facebook"]
    print(f"objects in simulator: {fb['ads']['count']} ads, {fb['adsets']['count']} ad sets")


async def wait_until_serving(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"simulators did not start serving {url}")
            await asyncio.sleep(0.1)


async def history_breakdown(client: object, workflow_id: str) -> str:
    """Where one run's time went, from its event history: the wait between an activity being
    scheduled and a worker starting it, its execution, and the gap from an activity completing
    to the workflow scheduling the next one (workflow-task round trips)."""
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import Client

    assert isinstance(client, Client)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    at = {e.event_id: e.event_time.ToDatetime() for e in history.events}
    scheduled: dict[int, object] = {}
    waits, runs, gaps = [], [], []
    last_completed = None
    for e in history.events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            sid = e.activity_task_started_event_attributes.scheduled_event_id
            waits.append((at[e.event_id] - at[sid]).total_seconds())
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            a = e.activity_task_completed_event_attributes
            runs.append((at[e.event_id] - at[a.started_event_id]).total_seconds())
            last_completed = at[e.event_id]
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and last_completed:
            gaps.append((at[e.event_id] - last_completed).total_seconds())
            scheduled[e.event_id] = at[e.event_id]
    total = (at[history.events[-1].event_id] - at[history.events[0].event_id]).total_seconds()

    def avg(xs: list[float]) -> float:
        return 1000 * sum(xs) / max(len(xs), 1)

    return (
        f"one run's history ({len(history.events)} events, {total:.3f} s first to last): "
        f"schedule->start {avg(waits):.0f} ms avg, activity {avg(runs):.0f} ms avg, "
        f"complete->next schedule {avg(gaps):.0f} ms avg"
    )


async def sequential_baseline(sim_url: str, settings: object) -> float:
    """The seed's loops, each call awaited one by one, straight to the simulators."""
    from flightdeck.domain import transforms as t
    from flightdeck.domain.naming import NamingConvention, generate_names
    from flightdeck.domain.plans import CampaignPlanIn
    from flightdeck.platforms.strategis import StrategisClient, StrategisRelayClient
    from flightdeck.settings import DEV_STRATEGIS_API_KEY, Settings

    assert isinstance(settings, Settings)
    plan = CampaignPlanIn.model_validate(big_plan(AD_SETS, ADS, organization="SeqOrg"))
    names = generate_names(
        plan,
        NamingConvention(
            settings.campaign_name_format, settings.ad_set_name_format, settings.ad_name_format
        ),
    )
    rid = plan.request_id
    async with (
        StrategisClient(f"{sim_url}/strategis", DEV_STRATEGIS_API_KEY) as stg,
        StrategisRelayClient(f"{sim_url}/relay", DEV_STRATEGIS_API_KEY) as relay,
    ):
        start = time.perf_counter()
        template = await stg.create_template(plan.organization, "seq", {"route": "x"})
        fb_campaign = await relay.create(
            "campaigns", organization=plan.organization, client_request_key=t.campaign_key(rid),
            body=t.campaign_payload(plan, names.campaign_name),
        )  # fmt: skip
        fb_ad_sets = []
        for i, ad_set in enumerate(plan.ad_sets):
            body = t.adset_payload(plan, ad_set, names.ad_set_names[i], fb_campaign)
            fb_ad_sets.append(
                await relay.create("adsets", organization=plan.organization,
                                   client_request_key=t.adset_key(rid, i), body=body)
            )  # fmt: skip
        urls = []
        for i, fb_ad_set in enumerate(fb_ad_sets):
            name = t.tracking_campaign_name(names.campaign_name, names.ad_set_names[i])
            body = t.tracking_campaign_payload(
                plan, name=name, template_id=str(template["id"]),
                fb_campaign_id=fb_campaign, fb_ad_set_id=fb_ad_set,
            )  # fmt: skip
            created = await stg.create_campaign(body)
            urls.append(t.tracking_url(settings.strategis_tracking_base_url, str(created["id"])))
        for i, ad_set in enumerate(plan.ad_sets):
            for j, ad in enumerate(ad_set.ads):
                creative = await relay.create(
                    "adcreatives", organization=plan.organization,
                    client_request_key=t.creative_key(rid, i, j),
                    body=t.creative_payload(plan, ad, names.ad_names[i][j], urls[i]),
                )  # fmt: skip
                await relay.create(
                    "ads", organization=plan.organization, client_request_key=t.ad_key(rid, i, j),
                    body=t.ad_payload(names.ad_names[i][j], fb_ad_sets[i], creative),
                )  # fmt: skip
        return time.perf_counter() - start


if __name__ == "__main__":
    asyncio.run(main())
