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
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_system  # noqa: E402

WRITE_POLICY = "ads-campaign-management-write"
CREATIVE_POLICY = "ads-creative-management"
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
    # The task queues' budgets sit just under the platform's limits: the limiter, not Reddit's
    # 429s, paces the sync.
    async with bench_system(
        reddit_rate_limit=limit * 0.97, reddit_creative_rate_limit=limit * 0.97
    ) as bench:
        api, sim = bench.api, bench.sim
        window = {"quota": max(1, round(limit * 10)), "window": 10}
        policies = {WRITE_POLICY: window, CREATIVE_POLICY: window}
        (await sim.post("/_sim/reddit/rate-limits", json={"policies": policies})).raise_for_status()
        await bench.new_tenant()
        account = await bench.connect_reddit()
        set_id = await create_set(api, account, campaigns)

        start = time.perf_counter()
        accepted = (await api.post(f"/api/v1/campaign-sets/{set_id}/sync")).json()
        job = await wait(api, accepted["jobId"])
        wall = time.perf_counter() - start
        log = (await sim.get("/_sim/requests", params={"platform": "reddit"})).json()
        longest = await longest_history(bench.env.client, accepted["jobId"])

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
