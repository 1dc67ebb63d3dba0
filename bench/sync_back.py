"""Benchmark: one sync-back cycle over 10,000 synced campaigns × 2 ad groups × 2 ads (70,000
entities, every level polled) in the Reddit simulator; 1% of each level changed on the
platform, 0.5% changed on both sides (conflicts).

Prints the API calls the cycle made against the pages it had to read (goal: ≤ pages + 5%),
its wall time (goal: < 10 s), the SQL statements per changed entity (bulk reads and writes:
bounded, not a few statements per field per entity) and the conflicts opened.

The synced state is seeded directly: the remote objects through the Reddit client (one post
promoted by every ad: posts are not what is measured), the local rows and their sync records
(the pushed spec as the base) in bulk, since pushing 70,000 objects through the rate limits is
another benchmark's job (bench/sync_set.py).

Usage: .venv/bin/python bench/sync_back.py [--campaigns N]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import math
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_system  # noqa: E402

PLATFORM_SHARE = 0.01
BOTH_SHARE = 0.005
GROUPS, ADS = 2, 2
PROFILE = bool(os.environ.get("SYNC_BACK_PROFILE"))


async def main(campaigns: int) -> None:
    seed_start = time.perf_counter()
    with tempfile.TemporaryDirectory() as data_dir:
        remote, post_id = seed_simulator(Path(data_dir), campaigns)
        sim_env = {"FLIGHTDECK_SIMULATORS_KEEP_STATE": "true", "FLIGHTDECK_DATA_DIR": data_dir}
        async with bench_system(sim_env=sim_env) as bench:
            await measure(bench, campaigns, remote, post_id, seed_start)


async def measure(
    bench: Any,
    campaigns: int,
    remote: dict[str, list[dict[str, Any]]],
    post_id: str,
    seed_start: float,
) -> None:
    api = bench.api
    tenant = await bench.new_tenant()
    account = await bench.connect_reddit()
    created = await api.post(
        "/api/v1/campaign-sets", json={"name": "sync-back bench", "adAccountId": account}
    )
    set_id = uuid.UUID(created.raise_for_status().json()["id"])
    tree = await seed(bench, tenant.id, set_id, remote, post_id)
    seeded = time.perf_counter() - seed_start
    platform_only, both = await change(bench, tenant.id, tree)

    load_before = os.getloadavg()
    profiler = cProfile.Profile() if PROFILE else None
    cpu_before = cpu_seconds()
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    started = (await api.post("/api/v1/sync-back/run")).raise_for_status().json()
    result = await bench.env.client.get_workflow_handle(started["jobId"]).result()
    wall = time.perf_counter() - start
    cpu = {name: after - cpu_before[name] for name, after in cpu_seconds().items()}
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
    runs = (await api.get("/api/v1/sync-back/runs")).json()["items"]
    page_seconds = await one_page(bench, tenant.id, uuid.UUID(account))

    run = runs[0]
    groups, ads = campaigns * GROUPS, campaigns * GROUPS * ADS
    pages = sum(math.ceil(n / 1000) for n in (campaigns, groups, ads))
    changed = result["rows_changed"] + result["conflicts_opened"]
    print(
        f"synced: {campaigns} campaigns, {groups} ad groups, {ads} ads (seeded in {seeded:.0f} s)"
    )
    print(f"changed on the platform only:  {platform_only} entities ({PLATFORM_SHARE:.1%})")
    print(f"changed on both sides:         {both} entities ({BOTH_SHARE:.1%})")
    goal = f"pages to read: {pages}, goal ≤ {pages * 1.05:.0f}"
    print(f"API calls made by the cycle:   {result['api_calls']} ({goal})")
    print(f"wall time of one cycle:        {wall:.2f} s (goal < 10 s)")
    print(f"  reading Reddit (list calls): {result['poll_seconds']:.2f} s")
    print(f"    one raw page of 1000 ads from the simulator: {page_seconds:.2f} s")
    print(f"  load + compare + write:      {result['compare_seconds']:.2f} s")
    opened, starting = result["conflicts_opened"], result["conflict_start_seconds"]
    print(f"  starting {opened} ConflictWorkflows:  {starting:.2f} s")
    rest = wall - result["poll_seconds"] - result["compare_seconds"] - starting
    print(f"  the rest (API, scheduling activities): {rest:.2f} s")
    before, after = (" / ".join(f"{x:.1f}" for x in la) for la in (load_before, os.getloadavg()))
    print(f"machine load average (1/5/15 min): {before} before the cycle, {after} after")
    spent = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in cpu.items())
    print(f"CPU time the cycle used (Postgres not counted): {spent}")
    total = sum(cpu.values())
    print(f"  {total:.2f} CPU-s in all (on 2 idle cores: a wall time of {total / 2:.2f} s or more)")
    print(f"entities compared:             {run['entitiesChecked']}")
    print(f"rows changed (taken):          {result['rows_changed']}")
    print(f"conflicts opened:              {result['conflicts_opened']}")
    print(f"SQL statements of the cycle:   {result['statements']}")
    print(f"statements per changed entity: {result['statements'] / max(1, changed):.3f}")


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) used so far by this process (the worker and the API) and by
    its child processes still running (the simulators, the Temporal dev server): less bent by
    other work on the machine than wall time."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {"worker + API": time.process_time(), "simulators + Temporal": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == os.getpid():  # ppid
            found["simulators + Temporal"] += (int(fields[11]) + int(fields[12])) / tick
    return found


async def one_page(bench: Any, tenant_id: uuid.UUID, account_id: uuid.UUID) -> float:
    """How long the simulator (the "platform") takes to answer one page, client included:
    the floor under the cycle's reading time."""
    from flightdeck.accounts.reddit import reddit_account_service

    async with reddit_account_service(bench.sessions, bench.settings) as accounts:
        context = await accounts.account_context(tenant_id, account_id)
        async with accounts.ads_client(tenant_id, account_id) as client:
            path = f"/ad_accounts/{context.account_id}/ads"
            start = time.perf_counter()
            async for n, _ in _numbered(client.paginate(path, {"page.size": "1000"})):
                if n == 999:
                    break
            return time.perf_counter() - start


async def _numbered(items: Any) -> Any:
    n = 0
    async for item in items:
        yield n, item
        n += 1


def seed_simulator(data_dir: Path, campaigns: int) -> tuple[dict[str, list[dict[str, Any]]], str]:
    """Every object in the Reddit simulator's saved state, made with the very payloads a push
    sends and the simulator's own create (its checks included), written where the simulators'
    process restores it from: 70,000 creates over HTTP would take most of an hour."""
    from flightdeck.domain import reddit_payloads as payloads
    from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, CampaignSpec
    from flightdeck.simulators import performance_sources, persistence
    from flightdeck.simulators.reddit_objects import RedditObjects
    from flightdeck.simulators.reddit_state import (
        AD_ACCOUNT_ID,
        FUNDING_INSTRUMENT_ID,
        PIXEL_ID,
        PROFILE_ID,
    )
    from flightdeck.simulators.state import SimulatorState

    # The simulated delivery (seed 004) re-reads a campaign's ad groups on every change, which
    # made seeding 20,000 ad groups quadratic; nothing here reads performance.
    performance_sources.reddit_changed = lambda *_: None  # type: ignore[assignment]
    state = SimulatorState()
    objects = RedditObjects(state, AD_ACCOUNT_ID)
    profile = state.store("reddit", "profiles")[PROFILE_ID]
    probe = AdSpec(name="probe", headline="Back", final_url="https://shop.example.com/")
    post_id = objects.create_post(profile, payloads.post_create(probe))["id"]
    tree: dict[str, list[dict[str, Any]]] = {"campaign": [], "ad_group": [], "ad": []}
    for i in range(campaigns):
        spec = CampaignSpec(name=f"Back {i:05d}", objective="traffic", status="active")
        made = objects.create("campaigns", payloads.campaign_create(spec, FUNDING_INSTRUMENT_ID))
        tree["campaign"].append({"i": i, "spec": spec, "pid": made["id"]})
        for g in range(GROUPS):
            gspec = AdGroupSpec.model_validate(
                {"name": f"Back {i:05d} group {g}", "status": "active",
                 "bidStrategy": "automatic", "budget": {"type": "daily", "amount": 20},
                 "targeting": {"geolocations": ["US"]}, "keywords": [{"text": "back"}]}
            )  # fmt: skip
            data = payloads.ad_group_create(made["id"], spec, gspec, conversion_pixel_id=PIXEL_ID)
            group = objects.create("ad_groups", data)
            tree["ad_group"].append({"i": i, "g": g, "spec": gspec, "pid": group["id"]})
            for a in range(ADS):
                aspec = AdSpec(
                    name=f"Back {i:05d} ad {g}.{a}", status="active", headline="Back",
                    final_url="https://shop.example.com/back",
                )  # fmt: skip
                ad = objects.create("ads", payloads.ad_create(group["id"], post_id, aspec))
                tree["ad"].append({"i": i, "g": g, "a": a, "spec": aspec, "pid": ad["id"]})
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "simulators.state").write_bytes(persistence.snapshot(state))
    return tree, post_id


async def seed(
    bench: Any,
    tenant_id: uuid.UUID,
    set_id: uuid.UUID,
    seeded_tree: dict[str, list[dict[str, Any]]],
    post_id: str,
) -> dict[str, list[dict[str, Any]]]:
    """The local rows of what the simulator holds, as synced (sync records: the base)."""
    from sqlalchemy import insert

    from flightdeck.db.models import AdGroup, GeneratedCampaign, SyncRecord
    from flightdeck.db.models.campaign_sets import GeneratedAd
    from flightdeck.db.tenancy import tenant_session

    tree = seeded_tree
    # Local rows and sync records, in bulk.
    campaign_ids = {c["i"]: uuid.uuid4() for c in tree["campaign"]}
    group_ids = {(g["i"], g["g"]): uuid.uuid4() for g in tree["ad_group"]}
    common = {"tenant_id": tenant_id, "sync_status": "synced"}
    rows: dict[Any, list[dict[str, Any]]] = {GeneratedCampaign: [], AdGroup: [], GeneratedAd: []}
    records: list[dict[str, Any]] = []
    for c in tree["campaign"]:
        c["id"] = campaign_ids[c["i"]]
        rows[GeneratedCampaign].append(
            {**common, "id": c["id"], "campaign_set_id": set_id, "position": c["i"],
             "name": c["spec"].name, "objective": "traffic", "status": "active",
             "platform_campaign_id": c["pid"]}
        )  # fmt: skip
        records.append(_record(tenant_id, "campaign", c["id"], c["pid"], c["spec"]))
    for g in tree["ad_group"]:
        g["id"] = group_ids[(g["i"], g["g"])]
        spec = g["spec"]
        rows[AdGroup].append(
            {**common, "id": g["id"], "campaign_id": campaign_ids[g["i"]], "position": g["g"],
             "name": spec.name, "status": "active", "bid_strategy": "automatic",
             "budget_type": "daily", "budget_amount": 20, "currency": "USD",
             "targeting": spec.targeting.model_dump(mode="json"),
             "platform_ad_group_id": g["pid"]}
        )  # fmt: skip
        records.append(_record(tenant_id, "ad_group", g["id"], g["pid"], spec))
    for a in tree["ad"]:
        a["id"] = uuid.uuid4()
        spec = a["spec"]
        rows[GeneratedAd].append(
            {**common, "id": a["id"], "ad_group_id": group_ids[(a["i"], a["g"])],
             "position": a["a"], "name": spec.name, "status": "active", "headline": "Back",
             "final_url": spec.final_url, "call_to_action": "LEARN_MORE",
             "platform_ad_id": a["pid"], "platform_post_id": post_id}
        )  # fmt: skip
        records.append(_record(tenant_id, "ad", a["id"], a["pid"], spec))
    from flightdeck.db.models.campaign_sets import Keyword

    keywords = [
        {"id": uuid.uuid4(), "tenant_id": tenant_id, "ad_group_id": g["id"], "text": "back",
         "negative": False, "status": "active", "sync_status": "synced"}
        for g in tree["ad_group"]
    ]  # fmt: skip
    async with tenant_session(bench.sessions, tenant_id) as session, session.begin():
        for model, values in (*rows.items(), (Keyword, keywords), (SyncRecord, records)):
            for start in range(0, len(values), 2000):
                await session.execute(insert(model.__table__), values[start : start + 2000])
    return tree


def _record(
    tenant_id: uuid.UUID, kind: str, entity_id: Any, platform_id: str, spec: Any
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "tenant_id": tenant_id,
        "entity_type": kind,
        "entity_id": entity_id,
        "platform": "reddit",
        "platform_id": platform_id,
        "state": "synced",
        "sync_status": "synced",
        "attempts": 0,
        "error_log": [],
        "synced_snapshot": spec.model_dump(mode="json"),
        "permanently_failed": False,
    }


async def change(
    bench: Any, tenant_id: uuid.UUID, tree: dict[str, list[dict[str, Any]]]
) -> tuple[int, int]:
    """1% of each level changed "in Reddit's UI" (campaigns and ads paused, ad-group budgets);
    0.5% changed on both sides, differently (names, budgets, click URLs): conflicts."""
    from sqlalchemy import update

    from flightdeck.db.models import AdGroup, GeneratedCampaign
    from flightdeck.db.models.campaign_sets import GeneratedAd
    from flightdeck.db.tenancy import tenant_session

    sim: httpx.AsyncClient = bench.sim
    platform_only = both = 0
    edits: list[tuple[str, str, dict[str, Any]]] = []
    local: list[tuple[Any, uuid.UUID, dict[str, Any]]] = []
    for kind, items in tree.items():
        n_platform = max(1, round(len(items) * PLATFORM_SHARE))
        n_both = max(1, round(len(items) * BOTH_SHARE))
        step = max(1, len(items) // (n_platform + n_both))
        chosen = items[::step][: n_platform + n_both]
        path = {"campaign": "campaigns", "ad_group": "ad_groups", "ad": "ads"}[kind]
        for k, item in enumerate(chosen):
            if k < n_platform:
                platform_only += 1
                fields: dict[str, Any] = (
                    {"goal_value": 35_000_000}
                    if kind == "ad_group"
                    else {"configured_status": "PAUSED"}
                )
                edits.append((path, item["pid"], fields))
                continue
            both += 1
            if kind == "campaign":
                edits.append((path, item["pid"], {"name": f"{item['spec'].name} (UI)"}))
                here = {"name": f"{item['spec'].name} (here)", "sync_status": "pending"}
                local.append((GeneratedCampaign, item["id"], here))
            elif kind == "ad_group":
                edits.append((path, item["pid"], {"goal_value": 70_000_000}))
                local.append((AdGroup, item["id"], {"budget_amount": 60, "sync_status": "pending"}))
            else:
                edits.append((path, item["pid"], {"click_url": "https://ui.example.com/"}))
                here = {"final_url": "https://here.example.com/", "sync_status": "pending"}
                local.append((GeneratedAd, item["id"], here))
    gate = asyncio.Semaphore(16)

    async def edit(path: str, platform_id: str, fields: dict[str, Any]) -> None:
        async with gate:
            (
                await sim.patch(f"/_sim/state/reddit/{path}/{platform_id}", json=fields)
            ).raise_for_status()

    await asyncio.gather(*(edit(*e) for e in edits))
    async with tenant_session(bench.sessions, tenant_id) as session, session.begin():
        for model, entity_id, values in local:
            await session.execute(update(model).where(model.id == entity_id).values(**values))
    return platform_only, both


if __name__ == "__main__":
    from flightdeck import event_loop

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10_000)
    args = parser.parse_args()
    event_loop.run(main(args.campaigns))
