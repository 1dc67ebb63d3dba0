"""Benchmark: publish a 5 × 4 plan (52 remote calls) with 50 ms simulated latency per call,
against its anchor — the same DAG as a bare Temporal workflow whose activities only sleep the
latency (bench/anchor.py), on the same dev server, in the same run.

Prints, for one plan and for 20 plans at once, Flightdeck's time and the anchor's and their
ratio (goals: one plan ≤ 1.3× the anchor; 20 plans ≥ 0.8× its throughput), the critical-path
ideal, the speed-up over the seed's sequential loops, and where the time went: CPU per remote
call by process (this one — API and workers —, the simulators, Temporal, Postgres; bench/cpu.py),
the workers' database statements and transactions per remote call, and one run's history.
Usage: .venv/bin/python bench/publish.py [--rounds N] [--profile]
(`--profile`: the hottest functions of this process during one 20-plan round, by cProfile.)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.anchor import (  # noqa: E402
    CREATE_IO_TABLE,
    BareDagInput,
    BareDagWorkflow,
    IoActivities,
    sleep_step,
)
from bench.cpu import CpuMeter, CpuUse, child_pids  # noqa: E402
from bench.harness import bench_system  # noqa: E402
from tests.e2e.conftest import big_plan  # noqa: E402  (reuse the test plan builder)

LATENCY_MS = 50
AD_SETS, ADS = 5, 4
DAG_DEPTH = 5  # template|campaign -> ad set -> tracking campaign -> creative -> ad
CONCURRENT_PLANS = 20


async def main(rounds: int, profile: bool) -> None:
    from temporalio.worker import Worker

    async with bench_system(strategis_rate_limit=10_000) as bench:
        env, api, sim = bench.env, bench.api, bench.sim
        await sim.post("/_sim/faults", json={"rules": [{"latencyMs": LATENCY_MS}]})
        last_run_ids: list[str] = []
        round_ids: dict[str, list[str]] = {}  # each kind's last round's workflow ids
        statements = count_statements(bench.worker_engine)
        meter = CpuMeter(
            {
                "simulators": lambda: [bench.sim_pid] if bench.sim_pid else [],
                "Temporal server": child_pids("temporal"),
                "Postgres": lambda: [],  # the backends of this database, sampled below
            }
        )

        # One tenant for the whole run: its first plan (the warm-up) creates its Strategis
        # template, every later one finds it cached, as a tenant's publishes do.
        await bench.new_tenant()

        async def publish_all(n: int) -> float:
            plans = [big_plan(AD_SETS, ADS) for _ in range(n)]
            start = time.perf_counter()
            accepted = await asyncio.gather(
                *(api.post("/api/v1/campaign-plans", json=p) for p in plans)
            )
            for answer in accepted:  # e.g. a 503 when Postgres refuses connections
                answer.raise_for_status()
            await asyncio.gather(
                *(env.client.get_workflow_handle(a.json()["workflowId"]).result() for a in accepted)
            )
            elapsed = time.perf_counter() - start
            last_run_ids.append(accepted[0].json()["workflowId"])
            round_ids["flightdeck"] = [a.json()["workflowId"] for a in accepted]
            return elapsed

        queue = f"anchor-{uuid.uuid4().hex[:6]}"
        sample = big_plan(1, 1)
        io_pool = await asyncpg.create_pool(
            bench.settings.database_url.replace("+asyncpg", ""), min_size=2, max_size=10
        )
        await io_pool.execute(CREATE_IO_TABLE)
        relay = httpx.AsyncClient(
            base_url=bench.settings.strategis_relay_base_url,
            headers={
                "Authorization": f"Bearer {bench.settings.strategis_api_key.get_secret_value()}"
            },
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
        )
        io = IoActivities(relay, io_pool, sample["organization"], sample["adAccountId"])
        async with (
            Worker(env.client, task_queue=queue, workflows=[BareDagWorkflow]),
            Worker(
                env.client,
                task_queue=f"{queue}-acts",
                activities=[sleep_step],
                max_concurrent_activities=100,
                max_concurrent_activity_task_polls=20,
            ),
            Worker(
                env.client,
                task_queue=f"{queue}-io",
                activities=[io.io_step],
                max_concurrent_activities=100,
                max_concurrent_activity_task_polls=20,
            ),
            relay,
        ):

            async def dag_all(kind: str, n: int) -> float:
                arg = BareDagInput(
                    ad_sets=AD_SETS, ads=ADS, latency_seconds=LATENCY_MS / 1000,
                    activity_task_queue=f"{queue}-{'io' if kind == 'io' else 'acts'}",
                    io=kind == "io", per_ad_set=kind == "shape",
                )  # fmt: skip
                round_ids[kind] = [f"anchor-{kind}-{uuid.uuid4()}" for _ in range(n)]
                start = time.perf_counter()
                await asyncio.gather(*(
                    env.client.execute_workflow(
                        BareDagWorkflow.run, arg, id=workflow_id, task_queue=queue
                    )
                    for workflow_id in round_ids[kind]
                ))  # fmt: skip
                return time.perf_counter() - start

            async def anchor_all(n: int) -> float:
                return await dag_all("bare", n)

            async def io_all(n: int) -> float:
                return await dag_all("io", n)

            async def shape_all(n: int) -> float:
                return await dag_all("shape", n)

            async def measured(run: Any, n: int) -> tuple[float, CpuUse, collections.Counter[str]]:
                backends = {"Postgres": await postgres_backends(bench.sessions)}
                meter.start(backends)
                before = collections.Counter(statements)
                elapsed = await run(n)
                backends = {"Postgres": await postgres_backends(bench.sessions)}
                return elapsed, meter.stop(backends), collections.Counter(statements) - before

            first = await publish_all(1)  # warm-up: the template, worker caches, pools
            await anchor_all(1)
            await io_all(1)
            await shape_all(1)
            singles, anchors, ios, manys, anchor_manys, io_manys = [], [], [], [], [], []
            shapes, shape_manys = [], []
            for _ in range(rounds):  # interleaved, so all four see the same machine
                singles.append(await publish_all(1))
                anchors.append(await anchor_all(1))
                ios.append(await io_all(1))
                shapes.append(await shape_all(1))
            single_run_id = last_run_ids[-1]
            for _ in range(max(1, rounds // 2)):
                elapsed, cpu, db = await measured(publish_all, CONCURRENT_PLANS)
                manys.append(elapsed)
                elapsed, anchor_cpu, _ = await measured(anchor_all, CONCURRENT_PLANS)
                anchor_manys.append(elapsed)
                elapsed, io_cpu, _ = await measured(io_all, CONCURRENT_PLANS)
                io_manys.append(elapsed)
                elapsed, shape_cpu, _ = await measured(shape_all, CONCURRENT_PLANS)
                shape_manys.append(elapsed)
                tasks = {k: await workflow_tasks(env.client, ids) for k, ids in round_ids.items()}
            hottest = await profiled(publish_all) if profile else None
        await io_pool.close()
        breakdown = await history_breakdown(env.client, single_run_id)
        sequential = await sequential_baseline(bench.sim_url, bench.settings)
        counts = (await sim.get("/_sim/state")).json()["platforms"]

    calls = 2 + 2 * AD_SETS + 2 * AD_SETS * ADS
    ideal = DAG_DEPTH * LATENCY_MS / 1000
    single, anchor = statistics.median(singles), statistics.median(anchors)
    many, anchor_many = statistics.median(manys), statistics.median(anchor_manys)
    load = os.getloadavg()
    print(f"plan: {AD_SETS} ad sets x {ADS} ads = {calls} remote calls, {LATENCY_MS} ms each")
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} (1/5 min)")
    print(
        f"one plan, median of {rounds}:   Flightdeck {single:.3f} s, bare Temporal {anchor:.3f} s"
    )
    print(f"  ratio Flightdeck / bare:     {single / anchor:.2f}x   (goal <= 1.3x)")
    print(f"  ratio Flightdeck / ideal:    {single / ideal:.2f}x   (ideal {ideal:.3f} s: "
          f"{DAG_DEPTH} x {LATENCY_MS} ms; goal <= 3x)")  # fmt: skip
    print(f"{CONCURRENT_PLANS} plans at once, median of {len(manys)}: Flightdeck {many:.3f} s "
          f"({CONCURRENT_PLANS * calls / many:.0f} calls/s), bare {anchor_many:.3f} s "
          f"({CONCURRENT_PLANS * calls / anchor_many:.0f} calls/s)")  # fmt: skip
    print(f"  throughput Flightdeck / bare: {anchor_many / many:.2f}x   (goal >= 0.8x)")
    io_single, io_many = statistics.median(ios), statistics.median(io_manys)
    print("bare Temporal + each step's I/O (an httpx create on the relay simulator and one asyncpg "
          "INSERT, no Flightdeck code):")  # fmt: skip
    print(f"  one plan {io_single:.3f} s (Flightdeck / this {single / io_single:.2f}x); "
          f"{CONCURRENT_PLANS} plans {io_many:.3f} s ({CONCURRENT_PLANS * calls / io_many:.0f} "
          f"calls/s; throughput Flightdeck / this {io_many / many:.2f}x)")  # fmt: skip
    shape_single, shape_many = statistics.median(shapes), statistics.median(shape_manys)
    shape_rate = CONCURRENT_PLANS * calls / shape_many
    print("bare Temporal in Flightdeck's activity shape (one activity per ad set, sleeping its "
          "4 latencies;\n  not the issue's anchor: printed so that what the shape gains "
          "shows):")  # fmt: skip
    print(f"  one plan {shape_single:.3f} s (Flightdeck / this {single / shape_single:.2f}x); "
          f"{CONCURRENT_PLANS} plans {shape_many:.3f} s ({shape_rate:.0f} calls/s; "
          f"throughput Flightdeck / this {shape_many / many:.2f}x)")  # fmt: skip
    print(f"sequential (seed loops, no Temporal): {sequential:.3f} s; "
          f"speed-up {sequential / single:.2f}x")  # fmt: skip
    print(f"all single runs: Flightdeck {_rounded(singles)}, bare {_rounded(anchors)}; the "
          f"tenant's first plan (creates its template: 2 more calls) {first:.3f} s")  # fmt: skip
    print(f"where the time went, last {CONCURRENT_PLANS}-plan round ({CONCURRENT_PLANS * calls} "
          "remote calls):")  # fmt: skip
    print(f"  Flightdeck: {cpu.per_call(CONCURRENT_PLANS * calls)}")
    print(f"  bare:       {anchor_cpu.per_call(CONCURRENT_PLANS * calls)}")
    print(f"  bare + I/O: {io_cpu.per_call(CONCURRENT_PLANS * calls)}")
    print(f"  bare, Flightdeck's shape: {shape_cpu.per_call(CONCURRENT_PLANS * calls)}")
    statements_per_call = db["statements"] / (CONCURRENT_PLANS * calls)
    transactions_per_call = db["transactions"] / (CONCURRENT_PLANS * calls)
    print(f"  workers' database work per remote call: {statements_per_call:.2f} statements, "
          f"{transactions_per_call:.2f} explicit transactions (BEGIN + COMMIT each) = "
          f"{statements_per_call + 2 * transactions_per_call:.2f} round trips")  # fmt: skip
    print(f"  workflow tasks per run (Temporal round trips of the workflow): Flightdeck "
          f"{tasks['flightdeck']:.1f}, bare {tasks['bare']:.1f}, bare + I/O "
          f"{tasks['io']:.1f}, bare in Flightdeck's shape {tasks['shape']:.1f}")  # fmt: skip
    print(breakdown)
    if hottest:
        print(hottest)
    fb = counts["facebook"]
    print(f"objects in simulator: {fb['ads']['count']} ads, {fb['adsets']['count']} ad sets")


def count_statements(engine: Any) -> collections.Counter[str]:
    """Counts the workers' statements and explicit transactions (an autocommit statement is
    its own transaction: no BEGIN or COMMIT round trip)."""
    from sqlalchemy import event

    counts: collections.Counter[str] = collections.Counter()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _statement(*_: Any) -> None:
        counts["statements"] += 1

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            counts["transactions"] += 1

    return counts


async def workflow_tasks(client: Any, workflow_ids: list[str]) -> float:
    """Workflow tasks per run, on average: each is a round trip through Temporal (schedule,
    poll, complete) that activity completions arriving together share."""
    from temporalio.api.enums.v1 import EventType

    counts = []
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        completed = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        counts.append(sum(1 for e in history.events if e.event_type == completed))
    return statistics.mean(counts)


async def postgres_backends(sessions: Any) -> list[int]:
    """The server processes of this benchmark's database (its pools' connections)."""
    from sqlalchemy import text

    async with sessions() as session:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return list((await session.scalars(query)).all())


async def profiled(publish_all: Any) -> str:
    """The hottest functions of this process (API, workers, Temporal's Python side) during one
    20-plan round: cProfile on the event loop's thread, where the profile shows the time goes
    (workflow code runs on other threads, and costs little)."""
    profiler = cProfile.Profile()
    profiler.enable()
    elapsed = await publish_all(CONCURRENT_PLANS)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    stats.print_stats(25)
    return f"profile of one {CONCURRENT_PLANS}-plan round ({elapsed:.2f} s under cProfile):\n" + (
        out.getvalue()
    )


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 3) for v in values]


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
    from flightdeck import event_loop

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    event_loop.run(main(args.rounds, args.profile))
