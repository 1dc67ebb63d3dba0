"""Benchmark: publish a 5 × 4 plan (52 remote calls) with 50 ms simulated latency per call.

Prints wall time vs the critical-path ideal (DAG depth × latency), the speed-up over the seed's
sequential loops (the same calls awaited one by one, no Temporal), and the throughput of 20
plans at once. Runs a Temporal dev server, a fresh Postgres database, the simulators and the
worker on this machine. Usage: .venv/bin/python bench/publish.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_system  # noqa: E402
from tests.e2e.conftest import big_plan  # noqa: E402  (reuse the test plan builder)

LATENCY_MS = 50
AD_SETS, ADS = 5, 4
DAG_DEPTH = 5  # template|campaign -> ad set -> tracking campaign -> creative -> ad
CONCURRENT_PLANS = 20


async def main() -> None:
    async with bench_system(strategis_rate_limit=10_000) as bench:
        env, api, sim = bench.env, bench.api, bench.sim
        await sim.post("/_sim/faults", json={"rules": [{"latencyMs": LATENCY_MS}]})
        last_run_ids: list[str] = []

        async def publish_all(n: int) -> float:
            await bench.new_tenant()
            plans = [big_plan(AD_SETS, ADS) for _ in range(n)]
            start = time.perf_counter()
            accepted = await asyncio.gather(
                *(api.post("/api/v1/campaign-plans", json=p) for p in plans)
            )
            await asyncio.gather(
                *(env.client.get_workflow_handle(a.json()["workflowId"]).result() for a in accepted)
            )
            elapsed = time.perf_counter() - start
            last_run_ids.append(accepted[0].json()["workflowId"])
            return elapsed

        await publish_all(1)  # warm-up (template cache, worker caches)
        single = min([await publish_all(1) for _ in range(3)])
        breakdown = await history_breakdown(env.client, last_run_ids[-1])
        sequential = await sequential_baseline(bench.sim_url, bench.settings)
        many = await publish_all(CONCURRENT_PLANS)
        counts = (await sim.get("/_sim/state")).json()["platforms"]

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
