"""A campaign set synced to Google Ads end to end (issue 14): the API, the worker on a Temporal
dev server, Postgres, and the Google Ads simulator over HTTP — through the same workflows as
Reddit's (only a registry entry added). Exact object counts on the simulator, pause, and a
second sync that creates nothing."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import System


def campaign(i: int) -> dict[str, Any]:
    return {
        "name": f"Google Summer {i}",
        "objective": "traffic",
        "status": "active",
        "budget": {"type": "daily", "amount": 40, "currency": "USD"},
        "adGroups": [
            {
                "name": f"Google Summer {i} group {g}",
                "status": "active",
                "bidStrategy": "manual_cpc",
                "bidAmount": 0.8,
                "keywords": [
                    {"text": f"summer shoes {g}"},
                    {"text": f"beach sandals {g}"},
                    {"text": "free", "negative": True},
                ],
                "ads": [
                    {
                        "name": f"Google Summer {i}-{g}-{a}",
                        "status": "active",
                        "headline": "Summer Sale\n30% off shoes\nThis week only",
                        "description": "All sizes in stock.\nFree returns for 60 days.",
                        "finalUrl": "https://shop.example.com/summer",
                        "displayUrl": "shop.example.com/summer",
                    }
                    for a in range(2)
                ],
            }
            for g in range(2)
        ],
    }


async def google_objects(rig: System) -> dict[str, list[dict[str, Any]]]:
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["google"]
    return {kind: body["items"] for kind, body in state.items()}


async def test_a_set_synced_to_google_ads(rig: System) -> None:
    account = await rig.connect_google()
    body = {
        "name": "Google set",
        "platform": "google",
        "adAccountId": account,
        "campaigns": [campaign(i) for i in range(2)],
    }
    created = await rig.api.post("/api/v1/campaign-sets", json=body, headers=rig.headers)
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]

    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    objects = await google_objects(rig)
    counts = {kind: len(items) for kind, items in objects.items() if kind != "changeEvents"}
    assert counts == {
        "customers": 2,
        "campaignBudgets": 2,
        "campaigns": 2,
        "adGroups": 4,
        "adGroupAds": 8,
        "adGroupCriteria": 12,
        "labels": 8,
        "adGroupAdLabels": 8,
    }
    assert {c["status"] for c in objects["campaigns"]} == {"ENABLED"}
    assert all(b["explicitlyShared"] is False for b in objects["campaignBudgets"])
    assert sum(c["negative"] for c in objects["adGroupCriteria"]) == 4
    log = (await rig.sim.get("/_sim/requests", params={"platform": "google"})).json()
    mutates = [e for e in log if e["path"].endswith("googleAds:mutate")]
    # Entity by entity: one atomic mutate per campaign (with its budget), per ad group (with
    # its keywords) and per ad (with its label): 2 x (1 + 2 + 4).
    assert len(mutates) == 14, [e["path"] for e in log]

    again = await rig.sync(set_id)
    assert again["status"] == "completed", again
    assert {k: len(v) for k, v in (await google_objects(rig)).items() if k != "changeEvents"} == (
        counts
    ), "a second sync creates nothing"

    paused = await rig.sync(set_id, "pause")
    assert paused["status"] == "completed", paused
    assert {c["status"] for c in (await google_objects(rig))["campaigns"]} == {"PAUSED"}


async def test_lost_answers_from_google_leave_no_duplicates(rig: System) -> None:
    """A third of Google's mutate answers are lost after the change committed: the sync looks
    each object up (campaign and ad group by name, ad by its label) before creating again."""
    account = await rig.connect_google()
    body = {
        "name": "Google lossy set",
        "platform": "google",
        "adAccountId": account,
        "campaigns": [campaign(i) for i in range(3)],
    }
    created = await rig.api.post("/api/v1/campaign-sets", json=body, headers=rig.headers)
    assert created.status_code == 201, created.text
    await rig.faults(
        {"platform": "google", "path": "googleAds:mutate", "lostResponseRate": 0.35}, seed=7
    )
    job = await rig.sync(created.json()["id"])
    assert job["status"] == "completed", job
    lost = (await rig.sim.get("/_sim/requests", params={"platform": "google"})).json()
    assert sum(entry["fault"] == "lost_response" for entry in lost) >= 3
    objects = await google_objects(rig)
    assert {k: len(v) for k, v in objects.items() if k not in ("changeEvents", "customers")} == {
        "campaignBudgets": 3,
        "campaigns": 3,
        "adGroups": 6,
        "adGroupAds": 12,
        "adGroupCriteria": 18,
        "labels": 12,
        "adGroupAdLabels": 12,
    }
    assert {c["status"] for c in objects["campaigns"]} == {"ENABLED"}


async def test_a_lost_tree_create_never_adopts_another_sets_namesake(rig: System) -> None:
    """Issue 8 item 2 on Google: a second set in the same account with the very same campaign,
    ad group and ad names; every create's answer is lost once after it committed. Each retry
    adopts by the entity's marker (name suffix, ad label) — exactly one tree per set, and
    never the first set's objects (pausing the second set leaves the first running)."""
    account = await rig.connect_google()
    body = {"platform": "google", "adAccountId": account, "campaigns": [campaign(0)]}
    first = await rig.api.post(
        "/api/v1/campaign-sets", json={**body, "name": "Google first"}, headers=rig.headers
    )
    assert first.status_code == 201, first.text
    assert (await rig.sync(first.json()["id"]))["status"] == "completed"
    theirs = {c["resourceName"] for c in (await google_objects(rig))["campaigns"]}

    second = await rig.api.post(
        "/api/v1/campaign-sets", json={**body, "name": "Google second"}, headers=rig.headers
    )
    assert second.status_code == 201, second.text
    await rig.faults(
        {"platform": "google", "path": "googleAds:mutate", "lostResponseRate": 1.0,
         "remaining": 7},
    )  # fmt: skip
    job = await rig.sync(second.json()["id"])
    assert job["status"] == "completed", job
    log = (await rig.sim.get("/_sim/requests", params={"platform": "google"})).json()
    assert sum(e["fault"] == "lost_response" for e in log) == 7, "campaign, 2 groups, 4 ads"

    objects = await google_objects(rig)
    counts = {k: len(v) for k, v in objects.items() if k not in ("changeEvents", "customers")}
    assert counts == {
        "campaignBudgets": 2,
        "campaigns": 2,
        "adGroups": 4,
        "adGroupAds": 8,
        "adGroupCriteria": 12,
        "labels": 8,
        "adGroupAdLabels": 8,
    }, "one tree per set: every lost create adopted, nothing made twice"
    names = [c["name"] for c in objects["campaigns"]]
    assert len(set(names)) == 2 and all(n.startswith("Google Summer 0 [fd:") for n in names)
    tree = await rig.api.get(f"/api/v1/campaign-sets/{second.json()['id']}", headers=rig.headers)
    ours = tree.json()["campaigns"][0]["platformCampaignId"]
    assert ours not in theirs

    assert (await rig.sync(second.json()["id"], "pause"))["status"] == "completed"
    statuses = {c["resourceName"]: c["status"] for c in (await google_objects(rig))["campaigns"]}
    assert statuses[ours] == "PAUSED"
    assert {statuses[name] for name in theirs} == {"ENABLED"}, "the first set's is untouched"
