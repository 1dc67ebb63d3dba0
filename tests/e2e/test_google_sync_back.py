"""Sync-back for Google Ads (issue 14 item 5), end to end: the API, the worker on a Temporal dev
server, Postgres and the Google Ads simulator over HTTP. Edits made "in the Google Ads UI" (the
simulator's `/_sim/google/ui-edit`: applied with the API's rules, recorded as change events of
the web client) come back on the next cycle when only the platform changed; a change on both
sides opens a conflict, resolved either way (use_local pushes with an updateMask, use_platform
takes the platform's value) — the same three-way rules and conflict workflow as Reddit."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import System
from tests.e2e.test_google_set_sync import campaign, google_objects
from tests.e2e.test_sync_back import open_conflicts, resolve


async def synced_google_set(rig: System) -> dict[str, Any]:
    account = await rig.connect_google()
    body = {
        "name": "Google sync-back set",
        "platform": "google",
        "adAccountId": account,
        "campaigns": [campaign(0)],
    }
    created = await rig.api.post("/api/v1/campaign-sets", json=body, headers=rig.headers)
    assert created.status_code == 201, created.text
    job = await rig.sync(created.json()["id"])
    assert job["status"] == "completed", job
    tree = await rig.api.get(f"/api/v1/campaign-sets/{created.json()['id']}", headers=rig.headers)
    result: dict[str, Any] = tree.json()
    return result


async def ui_edit(rig: System, resource_name: str, **fields: Any) -> None:
    edit = {"resourceName": resource_name, "fields": fields}
    response = await rig.sim.post("/_sim/google/ui-edit", json=edit)
    assert response.status_code == 200, response.text


async def google_sync_back(rig: System) -> dict[str, Any]:
    started = await rig.api.post(
        "/api/v1/sync-back/run", params={"platform": "google"}, headers=rig.headers
    )
    assert started.status_code == 202, started.text
    result: dict[str, Any] = await rig.client.get_workflow_handle(started.json()["jobId"]).result()
    return result


async def mutates(rig: System) -> list[dict[str, Any]]:
    log = (await rig.sim.get("/_sim/requests", params={"platform": "google"})).json()
    return [e for e in log if e["path"].endswith(":mutate")]


async def get(rig: System, path: str) -> dict[str, Any]:
    response = await rig.api.get(f"/api/v1/{path}", headers=rig.headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_edits_in_the_google_ads_ui_are_taken_locally(rig: System) -> None:
    tree = await synced_google_set(rig)
    ours = tree["campaigns"][0]
    group = ours["adGroups"][0]
    ad = group["ads"][0]
    unchanged = await google_sync_back(rig)
    assert (unchanged["rows_changed"], unchanged["conflicts_opened"]) == (0, 0)
    assert unchanged["failed_accounts"] == []

    await ui_edit(rig, ours["platformCampaignId"], status="PAUSED")
    await ui_edit(rig, group["platformAdGroupId"], name="Shoes (UI)", cpcBidMicros="950000")
    customer, _, key = ad["platformAdId"].partition("/adGroupAds/")
    new_copy = ["Winter Sale", "40% off boots", "Ends Sunday"]
    await ui_edit(
        rig,
        f"{customer}/ads/{key.rsplit('~', 1)[1]}",
        responsiveSearchAd={"headlines": [{"text": line} for line in new_copy]},
    )

    result = await google_sync_back(rig)
    assert (result["rows_changed"], result["conflicts_opened"]) == (3, 0), result
    got = await get(rig, f"campaigns/{ours['id']}")
    assert got["status"] == "paused" and got["syncStatus"] == "synced"
    assert got["name"] == "Google Summer 0", "the marker never reaches the local name"
    got_group = await get(rig, f"ad-groups/{group['id']}")
    assert got_group["name"] == "Shoes (UI)" and float(got_group["bidAmount"]) == 0.95
    got_ad = await get(rig, f"ads/{ad['id']}")
    assert got_ad["headline"] == "\n".join(new_copy)
    other = await get(rig, f"ads/{group['ads'][1]['id']}")
    assert other["headline"].startswith("Summer Sale"), "the other ad is untouched"
    runs = (await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)).json()["items"]
    changed = sorted((c["entityType"], c["field"]) for c in runs[0]["changes"])
    assert changed == [
        ("ad", "headline"),
        ("ad_group", "bid_amount"),
        ("ad_group", "name"),
        ("campaign", "status"),
    ]

    # Nothing the sync-back took is pushed back; a second cycle finds nothing new.
    sent = len(await mutates(rig))
    assert (await rig.sync(tree["id"]))["status"] == "completed"
    assert len(await mutates(rig)) == sent
    again = await google_sync_back(rig)
    assert (again["rows_changed"], again["conflicts_opened"]) == (0, 0)


async def both_sides_change(rig: System) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The campaign's budget: 55 locally, 70 in the Google Ads UI."""
    tree = await synced_google_set(rig)
    ours = tree["campaigns"][0]
    changed = await rig.api.patch(
        f"/api/v1/campaigns/{ours['id']}",
        json={"budget": {"type": "daily", "amount": 55, "currency": "USD"}},
        headers=rig.headers,
    )
    assert changed.status_code == 200, changed.text
    [remote] = [
        c
        for c in (await google_objects(rig))["campaigns"]
        if c["resourceName"] == ours["platformCampaignId"]
    ]
    budget = remote["campaignBudget"]
    await ui_edit(rig, budget, amountMicros="70000000")
    result = await google_sync_back(rig)
    assert (result["rows_changed"], result["conflicts_opened"]) == (0, 1), result
    [conflict] = await open_conflicts(rig)
    assert conflict["entityType"] == "campaign" and conflict["entityId"] == ours["id"]
    [field] = conflict["fields"]
    assert field["field"] == "budget"
    assert float(field["local"]["amount"]) == 55 and float(field["platform"]["amount"]) == 70
    assert (await get(rig, f"campaigns/{ours['id']}"))["syncStatus"] == "conflict"
    return ours, conflict, budget


async def budget_micros(rig: System, budget: str) -> str:
    [found] = [
        b for b in (await google_objects(rig))["campaignBudgets"] if b["resourceName"] == budget
    ]
    return str(found["amountMicros"])


async def test_use_local_pushes_to_google_with_an_update_mask(rig: System) -> None:
    ours, conflict, budget = await both_sides_change(rig)
    before = len(await mutates(rig))
    job = await resolve(rig, conflict, "use_local")
    assert job["status"] == "completed", job
    assert job["result"]["platform_fields_sent"] == ["budget"]
    assert len((await mutates(rig))[before:]) == 1, "one atomic request"
    # Google's own history of that request: the budget's amount alone, through the API.
    events = [
        e for e in (await google_objects(rig))["changeEvents"] if e["changeResourceName"] == budget
    ]
    assert (events[-1]["clientType"], events[-1]["changedFields"]) == (
        "GOOGLE_ADS_API",
        "amountMicros",
    )
    assert await budget_micros(rig, budget) == "55000000"
    got = await get(rig, f"campaigns/{ours['id']}")
    assert float(got["budget"]["amount"]) == 55 and got["syncStatus"] == "synced"
    assert await open_conflicts(rig) == []
    again = await google_sync_back(rig)
    assert (again["rows_changed"], again["conflicts_opened"]) == (0, 0)


async def test_use_platform_takes_googles_value(rig: System) -> None:
    ours, conflict, budget = await both_sides_change(rig)
    before = len(await mutates(rig))
    job = await resolve(rig, conflict, "use_platform")
    assert job["status"] == "completed", job
    assert job["result"]["platform_fields_sent"] == []
    assert len(await mutates(rig)) == before, "nothing sent to Google"
    got = await get(rig, f"campaigns/{ours['id']}")
    assert float(got["budget"]["amount"]) == 70 and got["syncStatus"] == "synced"
    assert await budget_micros(rig, budget) == "70000000"
    again = await google_sync_back(rig)
    assert (again["rows_changed"], again["conflicts_opened"]) == (0, 0)


async def test_an_unknown_platform_is_a_422_naming_the_field(rig: System) -> None:
    response = await rig.api.post(
        "/api/v1/sync-back/run", params={"platform": "myspace"}, headers=rig.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] and "platform" in json.dumps(response.json()["detail"])


async def test_keywords_compare_as_sets_of_criteria(rig: System) -> None:
    """An ad group's keywords are Google criteria, compared as a set: a keyword paused in the
    Google Ads UI leaves the live set and is taken locally (the others and the negative stay);
    a local keyword added meanwhile is not lost (sets merge three ways)."""
    tree = await synced_google_set(rig)
    group = tree["campaigns"][0]["adGroups"][0]
    added = await rig.api.post(
        f"/api/v1/ad-groups/{group['id']}/keywords",
        json={"text": "flip flops"},
        headers=rig.headers,
    )
    assert added.status_code in (200, 201), added.text
    criteria = (await google_objects(rig))["adGroupCriteria"]
    [paused] = [
        c
        for c in criteria
        if c["adGroup"] == group["platformAdGroupId"] and c["keyword"]["text"] == "summer shoes 0"
    ]
    await ui_edit(rig, paused["resourceName"], status="PAUSED")

    result = await google_sync_back(rig)
    assert (result["rows_changed"], result["conflicts_opened"]) == (1, 0), result
    found = await get(rig, f"ad-groups/{group['id']}/keywords")
    items = found["items"] if "items" in found else found
    live = sorted((k["text"], k["negative"]) for k in items)
    assert live == [("beach sandals 0", False), ("flip flops", False), ("free", True)]
    runs = (await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)).json()["items"]
    [change] = runs[0]["changes"]
    assert (change["entityType"], change["field"]) == ("ad_group", "keywords")
    assert sorted(change["to"]) == ["beach sandals 0", "flip flops"]
