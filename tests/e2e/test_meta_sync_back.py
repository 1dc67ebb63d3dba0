"""Sync-back for campaign sets on Meta (issue 14 item 5), end to end: the API, the worker on a
Temporal dev server, Postgres and the Graph simulator over HTTP. Edits made "in Ads Manager"
(the simulator's platform-side edit, which moves `updated_time` as Graph does) come back on the
next cycle when only Meta changed; after the account's first completed run the poller lists
only what changed since (`filtering` on `updated_time`); a change on both sides opens a
conflict, resolved either way — the same rules and conflict workflow as Reddit's. Keywords,
which Meta has not, are never compared or touched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.conftest import System
from tests.e2e.test_meta_set_sync import facebook, make_set, meta_account
from tests.e2e.test_sync_back import open_conflicts, resolve


async def synced_meta_set(rig: System) -> dict[str, Any]:
    account = await meta_account(rig)
    set_id = await make_set(rig, account, 1)
    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    tree = await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)
    result: dict[str, Any] = tree.json()
    return result


async def edit_in_ads_manager(rig: System, kind: str, object_id: str, **fields: Any) -> None:
    response = await rig.sim.patch(f"/_sim/state/facebook/{kind}/{object_id}", json=fields)
    assert response.status_code == 200, response.text


async def meta_sync_back(rig: System) -> dict[str, Any]:
    started = await rig.api.post(
        "/api/v1/sync-back/run", params={"platform": "meta"}, headers=rig.headers
    )
    assert started.status_code == 202, started.text
    result: dict[str, Any] = await rig.client.get_workflow_handle(started.json()["jobId"]).result()
    assert result["failed_accounts"] == [], result
    return result


async def get(rig: System, path: str) -> dict[str, Any]:
    response = await rig.api.get(f"/api/v1/{path}", headers=rig.headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def keyword_texts(rig: System, group_id: str) -> set[str]:
    found = await get(rig, f"ad-groups/{group_id}/keywords")
    items = found["items"] if isinstance(found, dict) and "items" in found else found
    return {k["text"] for k in items}


async def test_edits_in_ads_manager_are_taken_and_later_reads_are_incremental(
    rig: System,
) -> None:
    tree = await synced_meta_set(rig)
    ours = tree["campaigns"][0]
    group, other_group = ours["adGroups"]
    ad = group["ads"][0]
    keywords = await keyword_texts(rig, group["id"])
    first = await meta_sync_back(rig)  # the account's first run: a full listing
    assert (first["rows_changed"], first["conflicts_opened"]) == (0, 0)

    await edit_in_ads_manager(rig, "campaigns", ours["platformCampaignId"], status="PAUSED")
    await edit_in_ads_manager(
        rig, "adsets", group["platformAdGroupId"], daily_budget=3500, name="Shoes (Ads Manager)"
    )
    await edit_in_ads_manager(rig, "ads", ad["platformAdId"], status="PAUSED")
    # An edit Graph dates before the last run began is not in an incremental listing.
    long_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    await edit_in_ads_manager(
        rig, "adsets", other_group["platformAdGroupId"], name="Unseen", updated_time=long_ago
    )

    result = await meta_sync_back(rig)
    assert (result["rows_changed"], result["conflicts_opened"]) == (3, 0), result
    got = await get(rig, f"campaigns/{ours['id']}")
    assert got["status"] == "paused" and got["syncStatus"] == "synced"
    got_group = await get(rig, f"ad-groups/{group['id']}")
    assert got_group["name"] == "Shoes (Ads Manager)"
    assert float(got_group["budget"]["amount"]) == 35 and got_group["budget"]["currency"] == "USD"
    assert (await get(rig, f"ads/{ad['id']}"))["status"] == "paused"
    assert (await get(rig, f"ad-groups/{other_group['id']}"))["name"] == other_group["name"]
    assert await keyword_texts(rig, group["id"]) == keywords, "keywords are not Meta's"
    runs = (await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)).json()["items"]
    changed = sorted((c["entityType"], c["field"]) for c in runs[0]["changes"])
    assert changed == [
        ("ad", "status"),
        ("ad_group", "budget"),
        ("ad_group", "name"),
        ("campaign", "status"),
    ]

    # Nothing the sync-back took is sent back; the next cycle finds nothing new.
    posts = await rig.sim.get("/_sim/requests", params={"platform": "facebook", "method": "POST"})
    assert (await rig.sync(tree["id"]))["status"] == "completed"
    after = await rig.sim.get("/_sim/requests", params={"platform": "facebook", "method": "POST"})
    assert len(after.json()) == len(posts.json())
    again = await meta_sync_back(rig)
    assert (again["rows_changed"], again["conflicts_opened"]) == (0, 0)


async def both_sides_change(rig: System) -> tuple[dict[str, Any], dict[str, Any]]:
    """An ad set's daily budget: 25 locally, 30 in Ads Manager."""
    tree = await synced_meta_set(rig)
    group = tree["campaigns"][0]["adGroups"][0]
    assert (await meta_sync_back(rig))["rows_changed"] == 0
    changed = await rig.api.patch(
        f"/api/v1/ad-groups/{group['id']}",
        json={"budget": {"type": "daily", "amount": 25, "currency": "USD"}},
        headers=rig.headers,
    )
    assert changed.status_code == 200, changed.text
    await edit_in_ads_manager(rig, "adsets", group["platformAdGroupId"], daily_budget=3000)
    result = await meta_sync_back(rig)
    assert (result["rows_changed"], result["conflicts_opened"]) == (0, 1), result
    [conflict] = await open_conflicts(rig)
    assert conflict["entityType"] == "ad_group" and conflict["entityId"] == group["id"]
    [field] = conflict["fields"]
    assert field["field"] == "budget"
    assert float(field["local"]["amount"]) == 25 and float(field["platform"]["amount"]) == 30
    return group, conflict


async def remote_budget(rig: System, adset_id: str) -> int:
    [found] = [s for s in (await facebook(rig))["adsets"] if s["id"] == adset_id]
    return int(found["daily_budget"])


async def test_use_local_pushes_the_budget_to_meta(rig: System) -> None:
    group, conflict = await both_sides_change(rig)
    job = await resolve(rig, conflict, "use_local")
    assert job["status"] == "completed", job
    assert job["result"]["platform_fields_sent"] == ["daily_budget"]  # Graph's field
    assert await remote_budget(rig, group["platformAdGroupId"]) == 2500
    got = await get(rig, f"ad-groups/{group['id']}")
    assert float(got["budget"]["amount"]) == 25 and got["syncStatus"] == "synced"
    assert await open_conflicts(rig) == []
    again = await meta_sync_back(rig)
    assert (again["rows_changed"], again["conflicts_opened"]) == (0, 0)


async def test_use_platform_takes_metas_budget(rig: System) -> None:
    group, conflict = await both_sides_change(rig)
    posts = await rig.sim.get("/_sim/requests", params={"platform": "facebook", "method": "POST"})
    job = await resolve(rig, conflict, "use_platform")
    assert job["status"] == "completed", job
    assert job["result"]["platform_fields_sent"] == []
    after = await rig.sim.get("/_sim/requests", params={"platform": "facebook", "method": "POST"})
    assert len(after.json()) == len(posts.json()), "nothing sent to Meta"
    got = await get(rig, f"ad-groups/{group['id']}")
    assert float(got["budget"]["amount"]) == 30 and got["syncStatus"] == "synced"
    assert await remote_budget(rig, group["platformAdGroupId"]) == 3000
    again = await meta_sync_back(rig)
    assert (again["rows_changed"], again["conflicts_opened"]) == (0, 0)
