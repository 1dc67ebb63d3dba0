"""Benchmark: publish wizard-built campaigns to the Meta Graph simulator.

1. One campaign, one ad set, 50 ads over 10 distinct images, 200 ms simulated latency on every
   Graph call: wall time against the critical path (campaign -> ad set in parallel with image ->
   creative, then ad: 3 calls; then activate and the read-back), and the Graph calls made.
2. 10 such publishes at once on one ad account under a Graph quota that binds (ads_management
   calls per sliding window): every run completes, and the achieved call rate stays within 10 %
   of the quota (the `meta` task-queue rate limit is set to the quota; the usage headers and
   code-80004 throttling handle the rest).

Runs a Temporal dev server, a fresh Postgres database, the simulators (own process), the worker
and the API on this machine. Usage: .venv/bin/python bench/meta_publish.py
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, bench_system  # noqa: E402
from tests.platforms.meta_support import MAIN_ACCOUNT, PAGE_ID, SECTIONS  # noqa: E402

LATENCY_MS = 200
ADS, IMAGES = 50, 10
CONCURRENT = 10
QUOTA_CALLS, QUOTA_WINDOW = 200, 10.0  # 20 calls/s for the ad account
DAG_DEPTH = 3  # max(image -> creative, campaign -> ad set) -> ad
LATENCY = {"rules": [{"platform": "meta", "latencyMs": LATENCY_MS}]}
VERIFY_READS = 3  # the campaign, the ad set, its ads (one list call per 100 ads)


async def main() -> None:
    async with bench_system(
        meta_rate_limit=10_000,
        meta_review_poll_initial_seconds=3600,
        publish_activity_timeout_seconds=60,
    ) as bench:
        await bench.sim.post("/_sim/faults", json=LATENCY)
        await bench.new_tenant()
        connection = await bench.connect_meta(MAIN_ACCOUNT, PAGE_ID)
        single, calls, breakdown = await one_publish(bench, connection)
    async with bench_system(
        meta_rate_limit=QUOTA_CALLS / QUOTA_WINDOW,
        meta_review_poll_initial_seconds=3600,
        publish_activity_timeout_seconds=60,
    ) as bench:
        await bench.sim.post("/_sim/faults", json=LATENCY)
        await bench.new_tenant()
        connection = await bench.connect_meta(MAIN_ACCOUNT, PAGE_ID)
        quota = {"callsPerWindow": QUOTA_CALLS, "windowSeconds": QUOTA_WINDOW}
        (await bench.sim.post("/_sim/meta/quota", json=quota)).raise_for_status()
        many = await concurrent_publishes(bench, connection)

    reads = VERIFY_READS + math.ceil(ADS / 100) - 1
    dag_ideal = DAG_DEPTH * LATENCY_MS / 1000
    full_ideal = (DAG_DEPTH + 1 + reads) * LATENCY_MS / 1000
    print(f"one campaign: 1 ad set, {ADS} ads, {IMAGES} distinct images, "
          f"{LATENCY_MS} ms per Graph call")  # fmt: skip
    print(f"  publish wall time (job accepted -> completed):   {single:.3f} s")
    print(f"  critical path image->creative->ad (3 calls):      {dag_ideal:.3f} s "
          f"-> ratio {single / dag_ideal:.2f}x")  # fmt: skip
    print(f"  + activate + {reads} read-back calls ({DAG_DEPTH + 1 + reads} calls):"
          f"      {full_ideal:.3f} s -> ratio {single / full_ideal:.2f}x")  # fmt: skip
    print(f"  Graph calls: {calls}")
    print(f"  {breakdown}")
    print(f"{CONCURRENT} publishes at once, one ad account, quota {QUOTA_CALLS} calls / "
          f"{QUOTA_WINDOW:g} s = {QUOTA_CALLS / QUOTA_WINDOW:g} calls/s")  # fmt: skip
    for line in many:
        print(f"  {line}")


async def one_publish(bench: Bench, connection: str) -> tuple[float, str, str]:
    campaign = await build_campaign(bench, connection, "solo")
    before = await graph_calls(bench)
    started = time.perf_counter()
    job = await publish(bench, campaign)
    await bench.env.client.get_workflow_handle(job).result()
    elapsed = time.perf_counter() - started
    after = await graph_calls(bench)
    made = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    total = sum(made.values())
    summary = ", ".join(f"{k} {v}" for k, v in sorted(made.items()) if v)
    from bench.publish import history_breakdown

    return elapsed, f"{total} ({summary})", await history_breakdown(bench.env.client, job)


async def concurrent_publishes(bench: Bench, connection: str) -> list[str]:
    campaigns = [await build_campaign(bench, connection, f"c{i}") for i in range(CONCURRENT)]
    started, since = time.perf_counter(), time.time()
    jobs = await asyncio.gather(*(publish(bench, c) for c in campaigns))
    results = await asyncio.gather(
        *(bench.env.client.get_workflow_handle(j).result() for j in jobs),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - started
    failures = [r for r in results if isinstance(r, BaseException)]
    log = (await bench.sim.get("/_sim/requests", params={"platform": "meta"})).json()
    calls = [r for r in log if r["at"] >= since]
    answered = [r for r in calls if r["status"] == 200]
    throttled = [r for r in calls if r["status"] == 400]
    span = max(r["at"] for r in answered) - min(r["at"] for r in answered)
    rate = len(answered) / span
    quota = QUOTA_CALLS / QUOTA_WINDOW
    return [
        f"runs: {len(results) - len(failures)} completed, {len(failures)} failed "
        f"({elapsed:.1f} s wall)",
        f"Graph calls answered: {len(answered)} in {span:.1f} s = {rate:.2f} calls/s "
        f"({100 * rate / quota:.1f} % of the quota)",
        f"calls throttled by Graph (HTTP 400, code 80004): {len(throttled)}",
    ]


async def build_campaign(bench: Bench, connection: str, tag: str) -> str:
    created = await bench.api.post(
        "/api/v1/meta/campaigns", json={"name": f"Bench {tag}", "initialGoal": "website-visits"}
    )
    campaign: str = created.raise_for_status().json()["id"]
    sections: dict[str, Any] = {k: v for k, v in SECTIONS.items() if k != "metaConnection"}
    sections["adPreview"] = {
        "ads": [
            {
                "name": f"{tag} ad {i}",
                "copyVariation": i % 2,
                "imageUrl": f"{bench.sim_url}/images/{tag}-{i % IMAGES}.png?w=120&h=120",
                "destination": {"type": "website", "url": f"https://shop.example.com/{i}"},
            }
            for i in range(ADS)
        ]
    }
    sections["metaConnection"] = {"connectionId": connection}
    for section, body in sections.items():
        response = await bench.api.put(
            f"/api/v1/meta/campaigns/{campaign}/sections/{section}", json=body
        )
        response.raise_for_status()
    return campaign


async def publish(bench: Bench, campaign: str) -> str:
    response = await bench.api.post(f"/api/v1/meta/campaigns/{campaign}/publish")
    job: str = response.raise_for_status().json()["jobId"]
    return job


async def graph_calls(bench: Bench) -> dict[str, int]:
    """Graph calls so far by kind (uploads, creates, updates, reads)."""
    log = (await bench.sim.get("/_sim/requests", params={"platform": "meta"})).json()
    counts: dict[str, int] = {}
    for r in log:
        path = r["path"]
        if r["method"] == "POST" and "/act_" in path:
            kind = path.rsplit("/", 1)[-1]
        elif r["method"] == "POST":
            kind = "updates"
        elif "/oauth/" in path or "debug_token" in path or "/me" in path:
            kind = "connect"
        else:
            kind = "reads"
        counts[kind] = counts.get(kind, 0) + 1
    counts.pop("connect", None)
    return counts


if __name__ == "__main__":
    from flightdeck import event_loop

    event_loop.run(main())
