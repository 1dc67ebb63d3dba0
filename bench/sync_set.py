"""Benchmark: sync a campaign set of 1,000 campaigns × 2 ad groups × 2 ads to the Reddit
simulator with a write limit low enough to bind.

Prints wall time, achieved writes/s ÷ the limit (target ≥ 0.9), the 429s seen, failures
(target 0) and the largest history length of any run (target well under 10,000 events).
"Writes" are the campaign-management writes (campaigns, ad groups, ads) the simulator
accepted; ad posts count against Reddit's creative-management policy, limited the same way.

Runs a Temporal dev server, a fresh Postgres database, the simulators (own process), the
worker and the API on this machine. Usage:
    .venv/bin/python bench/sync_set.py [--campaigns 1000] [--limit 20]

`--scale` (issue 8 item 6) measures how the workflows grow with the set instead: campaigns
without ad groups (one platform write each), written straight into Postgres, the simulator's
and the task queues' rate limits lifted. It prints the number of workflow runs, the largest
history of any run (goal < 5,000 events), the largest event and the largest payload in any
history (goal < 256 KB) and the worker process's resident memory along the way (goal: flat):
    .venv/bin/python bench/sync_set.py --scale --campaigns 50000

`--platforms reddit,google,meta` (issue 14) syncs the same set — campaigns × 2 ad groups × 2
ads, 5 keywords per ad group — to each platform at once: one identical set per platform, their
syncs started together; with `--one-set`, ONE set whose targets are all the platforms (issue
14 item 2: one sync pushes each campaign to every target), in a shape every platform accepts.
Per platform it prints API calls per campaign by endpoint (Google: its `googleAds:mutate`
calls per campaign tree: 1 for a new campaign), the achieved write rate of each of the
platform's queues (writes; Reddit posts / Meta creatives, which have a budget of their own)
against its limit (Reddit: the simulator's per-policy window; Google and Meta publish no write
rate, so their limit is the configured `google_rate_limit` / `meta_sets_rate_limit`; goal >=
0.9, 0 failures), and the total wall time against the slowest queue's limit-bound ideal
(`--max-pushes N`: pushes per queue at once in the worker):
    .venv/bin/python bench/sync_set.py --platforms reddit,google,meta --campaigns 50
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu import CpuMeter, child_pids  # noqa: E402
from bench.harness import bench_system  # noqa: E402

WRITE_POLICY = "ads-campaign-management-write"
CREATIVE_POLICY = "ads-creative-management"
CHUNK = 500  # campaigns per POST (the API's limit for one request)
LOAD_BEFORE: tuple[float, ...] = ()


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


# A queue with no request for this long was starved (at the limit, requests are ~0.1 s apart).
GAP_SECONDS = 0.5


async def main(campaigns: int, limit: float) -> None:
    # The task queues' budgets sit just under the platform's limits: the limiter, not Reddit's
    # 429s, paces the sync.
    async with bench_system(
        single_partition=True,  # as a deployment's rate-limited queues (README)
        reddit_rate_limit=limit * 0.97,
        reddit_creative_rate_limit=limit * 0.97,
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


KEYWORDS = ("running shoes", "trail shoes", "shoe sale", "sneakers", "free")


def platform_campaign(platform: str, i: int, images: str) -> dict[str, Any]:
    """The bench campaign in the shape each platform's rules accept (same tree everywhere)."""
    groups = []
    for g in range(2):
        keywords = [{"text": f"{k} {g}", "negative": k == "free"} for k in KEYWORDS]
        group: dict[str, Any] = {
            "name": f"Bench {i:05d} group {g}",
            "status": "active",
            "keywords": keywords,
            "ads": [],
        }
        for a in range(2):
            ad: dict[str, Any] = {
                "name": f"Bench {i:05d} ad {g}.{a}",
                "status": "active",
                "headline": f"Headline {a}",
                "finalUrl": "https://shop.example.com/",
            }
            if platform == "google":
                ad["headline"] = f"Summer Sale {a}\n30% off shoes\nThis week only"
                ad["description"] = "All sizes in stock.\nFree returns for 60 days."
                ad["displayUrl"] = "shop.example.com/summer"
            if platform == "meta":
                ad["description"] = "All sizes in stock. Free returns for 60 days."
                ad["imageUrl"] = f"{images}/images/bench-{i}-{g}-{a}.png"
            group["ads"].append(ad)
        if platform == "google":
            group.update(bidStrategy="manual_cpc", bidAmount=0.8)
        else:
            group["budget"] = {"type": "daily", "amount": 25, "currency": "USD"}
            group["targeting"] = {"geolocations": ["US"]}
            if platform == "reddit":
                group["bidStrategy"] = "automatic"
        groups.append(group)
    body: dict[str, Any] = {
        "name": f"Bench campaign {i:05d}",
        "objective": "traffic",
        "status": "paused",
        "adGroups": groups,
    }
    if platform == "google":
        body["budget"] = {"type": "daily", "amount": 40, "currency": "USD"}
    return body


async def platforms_bench(
    campaigns: int,
    platforms: list[str],
    limits: dict[str, float],
    max_pushes: int | None = None,
    one_set: bool = False,
    worker_processes: int = 0,
) -> None:
    import os

    extra = {"sync_max_concurrent_pushes": max_pushes} if max_pushes else {}
    async with bench_system(
        worker_processes=worker_processes,
        single_partition=True,  # as a deployment's rate-limited queues (README)
        **extra,
        reddit_rate_limit=limits["reddit"] * 0.97,
        reddit_creative_rate_limit=limits["reddit"] * 0.97,
        google_rate_limit=limits["google"] * 0.97,
        google_creative_rate_limit=limits["google"] * 0.97,
        meta_sets_rate_limit=limits["meta"] * 0.97,
        meta_sets_creative_rate_limit=limits["meta"] * 0.97,
    ) as bench:
        api, sim = bench.api, bench.sim
        window = {"quota": max(1, round(limits["reddit"] * 10)), "window": 10}
        policies = {WRITE_POLICY: window, CREATIVE_POLICY: window}
        (await sim.post("/_sim/reddit/rate-limits", json={"policies": policies})).raise_for_status()
        await bench.new_tenant()
        accounts: dict[str, str] = {}
        if "reddit" in platforms:
            accounts["reddit"] = await bench.connect_reddit()
        if "google" in platforms:
            accounts["google"] = await bench.connect_google()
        if "meta" in platforms:
            connection = await bench.connect_meta("act_300000000000001", "400000000000001")
            made = await api.post(f"/api/v1/meta/connections/{connection}/ad-account")
            accounts["meta"] = made.raise_for_status().json()["id"]
        sets = {}
        if one_set:
            shared = await create_multi_target_set(api, accounts, campaigns, bench.sim_url)
            sets = {p: shared for p in platforms}
        else:
            for platform in platforms:
                sets[platform] = await create_platform_set(
                    api, platform, accounts[platform], campaigns, bench.sim_url
                )
        await analyze(bench)
        seen = {
            p: len((await sim.get("/_sim/requests", params={"platform": p})).json())
            for p in platforms
        }
        db_work = count_statements_by_queue(bench.worker_engine)
        meter = CpuMeter(
            {
                "simulators": lambda: [bench.sim_pid] if bench.sim_pid else [],
                "worker processes": lambda: list(bench.worker_pids),
                "Temporal server": child_pids("temporal"),
                "Postgres": lambda: [],  # this database's backends, sampled below
            }
        )
        meter.start({"Postgres": await postgres_backends(bench.sessions)})
        start = time.perf_counter()
        jobs = {}
        for p, s in sets.items():
            if one_set and jobs:  # one sync for every target
                jobs[p] = next(iter(jobs.values()))
                continue
            jobs[p] = (await api.post(f"/api/v1/campaign-sets/{s}/sync")).raise_for_status().json()

        async def timed(job_id: str) -> tuple[dict[str, Any], float]:
            job = await wait(api, job_id)
            return job, time.perf_counter() - start

        ended = await asyncio.gather(*(timed(j["jobId"]) for j in jobs.values()))
        wall = time.perf_counter() - start
        cpu = meter.stop({"Postgres": await postgres_backends(bench.sessions)})
        # The syncs' requests only (not the account connections').
        logs = {
            p: (await sim.get("/_sim/requests", params={"platform": p})).json()[seen[p] :]
            for p in platforms
        }
    shape = (
        f"ONE set targeting {', '.join(platforms)} (one sync)"
        if one_set
        else "one identical set per platform, synced at once"
    )
    print(f"set: {campaigns} campaigns x 2 ad groups x 2 ads (+5 keywords per ad group), {shape}")
    print("workers: " + (f"{worker_processes} processes of their own" if worker_processes
                         else "in this process, beside the API and the benchmark"))  # fmt: skip
    print(
        f"load average before/after: {LOAD_BEFORE} / {tuple(round(x, 2) for x in os.getloadavg())}"
    )
    ideal = 0.0
    for (platform, (job, took)), requests in zip(
        zip(jobs, ended, strict=True), logs.values(), strict=True
    ):
        limit = limits[platform]
        progress = job["progress"]
        if one_set:  # this target's campaigns by their status there
            [target] = [t for t in progress["targets"] if t["platform"] == platform]
            progress = {"failed": target["campaigns"].get("failed", 0),
                        "total": target["campaigns"]["total"]}  # fmt: skip
        print(f"-- {platform}: job {job['status']} after {took:.1f} s, failures "
              f"{progress['failed']} of {progress['total']} (target 0)")  # fmt: skip
        print(f"   API calls per campaign:     {len(requests) / campaigns:.2f} "
              f"({len(requests)} requests: {_by_endpoint(requests, campaigns)})")  # fmt: skip
        if platform == "google":
            mutates = [r for r in requests if r["path"].endswith("googleAds:mutate")]
            print(f"   googleAds:mutate / campaign: {len(mutates) / campaigns:.2f} "
                  "(goal 1 per campaign tree on create)")  # fmt: skip
        # Each task queue has its own budget (writes / creatives): each is measured against it.
        for queue in ("writes", "creatives"):
            writes = [
                r for r in requests if _is_write(platform, r) and _queue(platform, r) == queue
            ]
            if not writes:
                continue
            span = max(r["at"] for r in writes) - min(r["at"] for r in writes)
            rate = (len(writes) - 1) / span if span > 0 else float("nan")
            ideal = max(ideal, len(writes) / limit)
            print(f"   {queue + ':':<11} {len(writes):>5}, {rate:.2f}/s of limit {limit:g} -> "
                  f"{rate / limit:.3f} (goal >= 0.9; its queue's budget 0.97 x)")  # fmt: skip
            times = sorted(r["at"] for r in writes)
            gaps = [b - a for a, b in itertools.pairwise(times) if b - a > GAP_SECONDS]
            if span > 0:
                idle = sum(gaps)
                print(f"   {'':<11} idle: {len(gaps)} gaps of over {GAP_SECONDS:g} s between "
                      f"requests, {idle:.1f} s in all ({idle / span:.1%} of the span)")  # fmt: skip
        print(f"   429s seen:                  {sum(r['status'] == 429 for r in requests)}")
    ratio = wall / ideal if ideal else float("nan")
    print(f"total wall time (POST to all done): {wall:.1f} s; slowest queue's "
          f"limit-bound ideal {ideal:.1f} s -> ratio {ratio:.2f}")  # fmt: skip
    # Platform calls made (every push makes one; a Google tree one per campaign).
    calls = sum(len(r) for r in logs.values())
    print(f"CPU during the sync ({calls} platform requests): " + cpu.per_call(calls)
          .replace("per remote call", "per platform request"))  # fmt: skip
    if worker_processes:
        return  # the database work is counted in the workers' processes: not seen here
    pushes = sum(n for (queue, kind), n in db_work.items() if kind == "activities")
    print(f"   per platform-queue activity ({pushes}): " + cpu.per_call(pushes)
          .split(" = ")[0].replace(" per remote call", ""))  # fmt: skip
    print(f"workers' new database connections during the sync: "
          f"{db_work[('(pool)', 'connections opened')]}")  # fmt: skip
    print("workers' database work per activity, by task queue:")
    for queue in sorted({q for q, _ in db_work} - {"(pool)"}):
        done = db_work[(queue, "activities")]
        per = f"{db_work[(queue, 'statements')] / done:.1f} statements, " if done else ""
        per += f"{db_work[(queue, 'transactions')] / done:.1f} transactions" if done else ""
        print(f"   {queue:<22} {done:>6} activities  {per or 'n/a'}"
              f"  ({db_work[(queue, 'statements')]} statements in all)")  # fmt: skip


# The tables a set sync reads and writes.
SYNC_TABLES = ("campaign_sets", "campaign_set_targets", "generated_campaigns", "ad_groups",
               "generated_ads", "keywords", "sync_records", "ad_accounts")  # fmt: skip


async def analyze(bench: Any) -> None:
    """Fresh planner statistics after the bulk load of the sets, as autovacuum keeps them in
    any deployment (it runs by default). This host's shared Postgres runs with autovacuum OFF,
    so a fresh bench database never had any: the planner then guessed one row per table and
    looked up each ad by scanning every ad of the tenant under every ad group of the set
    (17 ms per ad lookup at 400 ads, growing with the square of the set) — most of Postgres's
    CPU in the sync. ANALYZE needs the tables' owner (the login user), not the app role."""
    from sqlalchemy import text

    async with bench.sessions.kw["bind"].connect() as connection:
        await connection.execute(text("SET ROLE NONE"))
        for table in SYNC_TABLES:
            await connection.execute(text(f"ANALYZE {table}"))
        await connection.execute(text("RESET ROLE"))
        await connection.commit()


def count_statements_by_queue(engine: Any) -> collections.Counter[tuple[str, str]]:
    """The workers' statements and explicit transactions by the task queue of the activity
    that ran them (`(queue, "statements")`, …), and the activity attempts that ran any
    (`(queue, "activities")`); work outside activities counts under "workflows/other"."""
    from sqlalchemy import event
    from temporalio import activity

    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    attempts: set[tuple[str, str, int]] = set()

    def queue() -> str:
        if not activity.in_activity():
            return "workflows/other"
        info = activity.info()
        key = (info.workflow_id or "", info.activity_id, info.attempt)
        if key not in attempts:
            attempts.add(key)
            counts[(info.task_queue, "activities")] += 1
        return info.task_queue

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _statement(*_: Any) -> None:
        counts[(queue(), "statements")] += 1

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            counts[(queue(), "transactions")] += 1

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(*_: Any) -> None:  # a new Postgres backend (the pool grew or churned)
        counts[("(pool)", "connections opened")] += 1

    return counts


async def postgres_backends(sessions: Any) -> list[int]:
    """The server processes of this benchmark's database (its pools' connections)."""
    from sqlalchemy import text

    async with sessions() as session:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return list((await session.scalars(query)).all())


def _by_endpoint(requests: list[dict[str, Any]], campaigns: int) -> str:
    counted: dict[str, int] = {}
    for request in requests:
        tail = str(request["path"]).rstrip("/").rsplit("/", 1)[-1]
        key = (
            f"{request['method']} {tail if not tail.isdigit() and '_' not in tail[:3] else '{id}'}"
        )
        counted[key] = counted.get(key, 0) + 1
    top = sorted(counted.items(), key=lambda kv: -kv[1])[:6]
    return ", ".join(f"{k} {v / campaigns:.2f}" for k, v in top)


def _queue(platform: str, request: dict[str, Any]) -> str:
    """Which of the platform's set-sync queues made the write: Reddit's posts and Meta's
    creatives run on `<queue>-creative` (their own rate budget), the rest on the main one."""
    path = str(request["path"]).rstrip("/")
    if platform == "reddit" and path.endswith("/posts"):
        return "creatives"
    if platform == "meta" and path.endswith("/adcreatives"):
        return "creatives"
    return "writes"


def _is_write(platform: str, request: dict[str, Any]) -> bool:
    if not 200 <= request["status"] < 300:
        return False
    if platform == "reddit":
        return request["method"] in ("POST", "PATCH") and request["path"].rstrip("/").split("/")[
            -1
        ] in ("campaigns", "ad_groups", "ads", "posts")
    if platform == "google":
        return str(request["path"]).endswith(":mutate")
    return request["method"] in ("POST", "DELETE")


def multi_target_campaign(i: int, images: str) -> dict[str, Any]:
    """The bench campaign in one shape Reddit, Google and Meta all accept: a campaign budget
    under Reddit's budget optimization (so with a start), automatic bidding, responsive-search
    copy (a headline / description a line) and an image."""
    body = platform_campaign("google", i, images)
    body.update(
        budgetOptimization=True,
        startTime=time.strftime("%Y-%m-%dT00:00:00+00:00", time.gmtime(time.time() + 86400)),
    )
    for g, group in enumerate(body["adGroups"]):
        group.pop("bidAmount")
        group.update(bidStrategy="automatic", targeting={"geolocations": ["US"]})
        for a, ad in enumerate(group["ads"]):
            ad["imageUrl"] = f"{images}/images/bench-{i}-{g}-{a}.png"
    return body


async def create_multi_target_set(
    api: httpx.AsyncClient, accounts: dict[str, str], campaigns: int, images: str
) -> str:
    everything = [multi_target_campaign(i, images) for i in range(campaigns)]
    body = {
        "name": "bench multi-target",
        "targets": [{"platform": p, "adAccountId": a} for p, a in accounts.items()],
        "campaigns": everything[:CHUNK],
    }
    created = await api.post("/api/v1/campaign-sets", json=body)
    if created.status_code != 201:
        raise SystemExit(f"multi-target set refused: {created.text[:2000]}")
    set_id: str = created.json()["id"]
    for item in everything[CHUNK:]:
        (await api.post(f"/api/v1/campaign-sets/{set_id}/campaigns", json=item)).raise_for_status()
    checked = (await api.post(f"/api/v1/campaign-sets/{set_id}/validate")).json()
    if not checked["valid"]:
        raise SystemExit(f"multi-target set invalid: {checked['problems'][:5]}")
    return set_id


async def create_platform_set(
    api: httpx.AsyncClient, platform: str, account: str, campaigns: int, images: str
) -> str:
    everything = [platform_campaign(platform, i, images) for i in range(campaigns)]
    body = {
        "name": f"bench {platform}",
        "platform": platform,
        "adAccountId": account,
        "campaigns": everything[:CHUNK],
    }
    created = await api.post("/api/v1/campaign-sets", json=body)
    if created.status_code != 201:
        raise SystemExit(f"{platform} set refused: {created.text[:2000]}")
    set_id: str = created.json()["id"]
    for item in everything[CHUNK:]:
        (await api.post(f"/api/v1/campaign-sets/{set_id}/campaigns", json=item)).raise_for_status()
    return set_id


async def scale(campaigns: int) -> None:
    lifted = {"quota": 10_000_000, "window": 1}
    async with bench_system(
        reddit_rate_limit=100_000,
        reddit_creative_rate_limit=100_000,
        sync_batch_size=50,
        sync_window=8,
        sync_batches_per_run=20,
    ) as bench:
        api, sim = bench.api, bench.sim
        policies = {WRITE_POLICY: lifted, CREATIVE_POLICY: lifted}
        (await sim.post("/_sim/reddit/rate-limits", json={"policies": policies})).raise_for_status()
        tenant = await bench.new_tenant()
        account = await bench.connect_reddit()
        set_id = await create_flat_set(bench, api, account, campaigns)
        rss = [("before", rss_mb())]

        start = time.perf_counter()
        accepted = (await api.post(f"/api/v1/campaign-sets/{set_id}/sync")).json()
        marks = [0.1, 0.25, 0.5, 0.75, 0.9]
        while True:
            job: dict[str, Any] = (await api.get(f"/api/v1/jobs/{accepted['jobId']}")).json()
            if job["status"] not in ("queued", "running"):
                break
            done = job["progress"]["done"] / max(job["progress"]["total"], 1)
            while marks and done >= marks[0]:
                rss.append((f"{marks.pop(0):.0%} done", rss_mb()))
            await asyncio.sleep(2)
        wall = time.perf_counter() - start
        rss.append(("finished", rss_mb()))
        runs, longest, biggest_event, biggest_payload = await history_figures(
            bench.env.client, accepted["jobId"]
        )
        on_reddit = len(
            (await sim.get("/_sim/state")).json()["platforms"]["reddit"]["campaigns"]["items"]
        )
    del tenant
    progress = job["progress"]
    print(f"set: {campaigns} campaigns (no ad groups), rate limits lifted")
    print(f"job status:                        {job['status']}")
    print(f"wall time (POST to done):          {wall:.1f} s ({campaigns / wall:.0f} campaigns/s)")
    print(f"synced / failed / total:           {progress['synced']} / {progress['failed']} / "
          f"{progress['total']}   (campaigns on the simulator: {on_reddit})")  # fmt: skip
    print(f"workflow runs (parent + batches):  {runs}")
    print(f"largest history of any run:        {longest} events   (goal < 5,000)")
    print(f"largest event in any history:     {biggest_event / 1024:.1f} KB")
    print(f"largest payload in any history:    {biggest_payload / 1024:.1f} KB   (goal < 256 KB)")
    print("worker process resident memory:    "
          + ", ".join(f"{label} {mb:.0f} MB" for label, mb in rss))  # fmt: skip


async def create_flat_set(bench: Any, api: httpx.AsyncClient, account: str, campaigns: int) -> str:
    """One campaign through the API, the rest copied from it in Postgres (fast)."""
    from sqlalchemy import text

    from flightdeck.db.models import GeneratedCampaign
    from flightdeck.db.tenancy import system_session

    first = {"name": "Scale 0", "objective": "traffic", "status": "paused"}
    body = {"name": f"scale set {uuid.uuid4().hex[:6]}", "adAccountId": account,
            "campaigns": [first]}  # fmt: skip
    set_id: str = (
        (await api.post("/api/v1/campaign-sets", json=body)).raise_for_status().json()["id"]
    )
    columns = [c.name for c in GeneratedCampaign.__table__.columns]
    made = {"id": "gen_random_uuid()", "name": "'Scale ' || n", "position": "n"}
    select = ", ".join(made.get(c, c) for c in columns)
    async with system_session(bench.sessions, "cli") as session, session.begin():
        await session.execute(
            text(
                f"INSERT INTO generated_campaigns ({', '.join(columns)}) "
                f"SELECT {select} FROM generated_campaigns, generate_series(1, :more) AS n "
                "WHERE campaign_set_id = :set_id"
            ),
            {"more": campaigns - 1, "set_id": set_id},
        )
    return set_id


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def history_figures(client: Any, workflow_id: str) -> tuple[int, int, int, int]:
    """(runs, most events in one history, largest event, largest payload) over every run of
    the sync: the parent's continue-as-new chain and every batch child."""
    executions = [
        (e.id, e.run_id)
        async for e in client.list_workflows(f"WorkflowId STARTS_WITH '{workflow_id}'")
    ]
    figures = [0, 0, 0]
    gate = asyncio.Semaphore(16)

    async def one(workflow: str, run: str) -> None:
        async with gate:
            history = await client.get_workflow_handle(workflow, run_id=run).fetch_history()
        figures[0] = max(figures[0], len(history.events))
        for event in history.events:
            figures[1] = max(figures[1], event.ByteSize())
            for payload in _payloads(event):
                figures[2] = max(figures[2], payload.ByteSize())

    await asyncio.gather(*(one(w, r) for w, r in executions))
    return len(executions), figures[0], figures[1], figures[2]


def _payloads(message: Any) -> list[Any]:
    """Every `Payload` inside a history event (inputs, results, markers, failures' details)."""
    found: list[Any] = []
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        values = value.values() if field.message_type.GetOptions().map_entry else value
        repeated = getattr(field, "is_repeated", None)
        if repeated is None:
            repeated = field.label == field.LABEL_REPEATED
        items = values if repeated else [value]
        for item in items:
            if type(item).__name__ == "Payload":
                found.append(item)
            elif hasattr(item, "ListFields"):
                found.extend(_payloads(item))
    return found


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
    from flightdeck import event_loop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--limit", type=float, default=20.0, help="writes/s per Reddit policy")
    parser.add_argument("--scale", action="store_true", help="history/payload/memory at scale")
    parser.add_argument("--platforms", help="e.g. reddit,google,meta: one set per platform")
    parser.add_argument("--google-limit", type=float, default=10.0, help="Google writes/s")
    parser.add_argument("--meta-limit", type=float, default=10.0, help="Meta writes/s")
    parser.add_argument(
        "--max-pushes", type=int, help="sync_max_concurrent_pushes (pushes per queue at once)"
    )
    parser.add_argument(
        "--one-set", action="store_true", help="with --platforms: one set targeting them all"
    )
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=0,
        help="with --platforms: run the workers in N processes of their own (0: in this one)",
    )
    args = parser.parse_args()
    if args.platforms:
        import os

        LOAD_BEFORE = tuple(round(x, 2) for x in os.getloadavg())
        chosen = [p.strip() for p in args.platforms.split(",") if p.strip()]
        unknown = set(chosen) - {"reddit", "google", "meta"}
        if unknown:
            parser.error(f"--platforms: unknown {sorted(unknown)}; use reddit, google, meta")
        limits = {"reddit": args.limit, "google": args.google_limit, "meta": args.meta_limit}
        event_loop.run(
            platforms_bench(
                args.campaigns,
                chosen,
                limits,
                args.max_pushes,
                args.one_set,
                args.worker_processes,
            )
        )
    else:
        event_loop.run(scale(args.campaigns) if args.scale else main(args.campaigns, args.limit))
