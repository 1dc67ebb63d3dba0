"""Benchmark: one sync-back cycle over 10,000 synced campaigns (with their ad groups) in the
Reddit simulator, 1% of them changed on the platform.

Prints the API calls the cycle made, its wall time and the rows it changed. The synced state
is seeded directly (the remote objects through the Reddit client, the local rows and their
sync records in bulk), since pushing 20,000 objects through the rate limits is another
benchmark's job (bench/sync_set.py). Usage: .venv/bin/python bench/sync_back.py [--campaigns N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_system  # noqa: E402

CHUNK = 500
CHANGED_SHARE = 0.01


def campaign(i: int) -> dict[str, Any]:
    return {
        "name": f"Back {i:05d}",
        "objective": "traffic",
        "status": "active",
        "adGroups": [
            {
                "name": f"Back {i:05d} group",
                "bidStrategy": "automatic",
                "budget": {"type": "daily", "amount": 20},
                "targeting": {"geolocations": ["US"]},
            }
        ],
    }


async def main(campaigns: int) -> None:
    async with bench_system() as bench:
        api, sim = bench.api, bench.sim
        tenant = await bench.new_tenant()
        account = await bench.connect_reddit()
        # Seeding is not what is measured: lift the write limits for it.
        big = {"quota": 10_000_000, "window": 60}
        limits = {"policies": {"ads-campaign-management-write": big}}
        (await sim.post("/_sim/reddit/rate-limits", json=limits)).raise_for_status()
        seed_start = time.perf_counter()
        set_id = await create_local_set(api, account, campaigns)
        await seed_synced_state(
            bench.sessions, bench.settings, tenant.id, uuid.UUID(account), set_id
        )
        (await sim.post("/_sim/reddit/rate-limits", json={"policies": {}})).raise_for_status()
        seeded = time.perf_counter() - seed_start
        changed = await change_on_platform(sim, campaigns)

        start = time.perf_counter()
        started = (await api.post("/api/v1/sync-back/run")).raise_for_status().json()
        result = await bench.env.client.get_workflow_handle(started["jobId"]).result()
        wall = time.perf_counter() - start
        runs = (await api.get("/api/v1/sync-back/runs")).json()

    run = runs[0]
    print(f"synced: {campaigns} campaigns + {campaigns} ad groups (seeded in {seeded:.1f} s)")
    print(f"changed on the platform: {changed} campaigns paused ({CHANGED_SHARE:.0%})")
    print(f"API calls made by the cycle:   {result['api_calls']}")
    print(f"wall time of one cycle:        {wall:.2f} s")
    print(f"  reading Reddit (list calls): {result['poll_seconds']:.2f} s")
    print(f"  load + compare + write:      {result['compare_seconds']:.2f} s")
    print(f"entities compared:             {run['entitiesChecked']}")
    print(f"rows changed:                  {result['rows_changed']}")
    print(f"conflicts opened:              {result['conflicts_opened']}")


async def create_local_set(api: httpx.AsyncClient, account: str, campaigns: int) -> str:
    everything = [campaign(i) for i in range(campaigns)]
    body = {"name": "sync-back bench", "adAccountId": account, "campaigns": everything[:CHUNK]}
    created = (await api.post("/api/v1/campaign-sets", json=body)).raise_for_status().json()
    set_id: str = created["id"]
    for item in everything[CHUNK:]:
        (await api.post(f"/api/v1/campaign-sets/{set_id}/campaigns", json=item)).raise_for_status()
    return set_id


async def seed_synced_state(
    sessions: Any, settings: Any, tenant_id: uuid.UUID, account_id: uuid.UUID, set_id: str
) -> None:
    """Create every campaign and ad group on Reddit through the client, then record them as
    synced locally (platform ids, sync records with the pushed spec as the snapshot)."""
    from sqlalchemy import select, update
    from sqlalchemy.orm import selectinload

    from flightdeck.accounts.reddit import reddit_account_service
    from flightdeck.db.models import AdGroup, GeneratedCampaign, SyncRecord
    from flightdeck.db.repositories.campaign_sets import to_ad_group_spec, to_campaign_spec
    from flightdeck.db.tenancy import tenant_session
    from flightdeck.platforms.reddit_adapter import RedditCampaignSetAdapter

    async with tenant_session(sessions, tenant_id) as session:
        rows = (
            await session.scalars(
                select(GeneratedCampaign)
                .where(GeneratedCampaign.campaign_set_id == uuid.UUID(set_id))
                .options(selectinload(GeneratedCampaign.ad_groups).selectinload(AdGroup.keywords))
            )
        ).all()
    async with reddit_account_service(sessions, settings) as accounts:
        context = await accounts.account_context(tenant_id, account_id)
        async with accounts.ads_client(tenant_id, account_id) as client:
            adapter = RedditCampaignSetAdapter(client)
            gate = asyncio.Semaphore(16)

            async def push(row: GeneratedCampaign) -> tuple[Any, str, list[tuple[Any, str]]]:
                async with gate:
                    spec = to_campaign_spec(row)
                    made = await adapter.create_campaign(context, spec)
                    groups = []
                    for group in row.ad_groups:
                        group_spec = to_ad_group_spec(group, group.keywords)
                        g = await adapter.create_ad_group(
                            context, made.platform_id, spec, group_spec
                        )
                        groups.append((group, g.platform_id))
                    return row, made.platform_id, groups

            pushed = await asyncio.gather(*(push(r) for r in rows))
    now_records = []
    async with tenant_session(sessions, tenant_id) as session, session.begin():
        for row, platform_id, groups in pushed:
            await session.execute(
                update(GeneratedCampaign)
                .where(GeneratedCampaign.id == row.id)
                .values(platform_campaign_id=platform_id, sync_status="synced")
            )
            now_records.append(
                _record(tenant_id, "campaign", row.id, platform_id, to_campaign_spec(row))
            )
            for group, group_platform_id in groups:
                await session.execute(
                    update(AdGroup)
                    .where(AdGroup.id == group.id)
                    .values(platform_ad_group_id=group_platform_id, sync_status="synced")
                )
                spec = to_ad_group_spec(group, group.keywords)
                now_records.append(
                    _record(tenant_id, "ad_group", group.id, group_platform_id, spec)
                )
        for start in range(0, len(now_records), 1000):
            session.add_all([SyncRecord(**r) for r in now_records[start : start + 1000]])
            await session.flush()


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


async def change_on_platform(sim: httpx.AsyncClient, campaigns: int) -> int:
    """Pause 1% of the campaigns "in Reddit's UI"."""
    state = (await sim.get("/_sim/state")).json()["platforms"]["reddit"]["campaigns"]["items"]
    chosen = state[:: int(1 / CHANGED_SHARE)][: max(1, round(campaigns * CHANGED_SHARE))]
    for item in chosen:
        response = await sim.patch(
            f"/_sim/state/reddit/campaigns/{item['id']}", json={"configured_status": "PAUSED"}
        )
        response.raise_for_status()
    return len(chosen)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.campaigns))
