"""A campaign set synced to Google Ads end to end (issue 14): the API, the worker on a Temporal
dev server, Postgres, and the Google Ads simulator over HTTP — through the same workflows as
Reddit's (only a registry entry added). Exact object counts on the simulator, pause, and a
second sync that creates nothing. A new campaign's whole tree goes in ONE atomic
`googleAds:mutate` (created PAUSED, then one `campaigns:mutate` enables it); a refused
operation creates nothing and fails the campaign naming its entity; a lost answer is adopted."""

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


async def google_log(rig: System) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = (
        await rig.sim.get("/_sim/requests", params={"platform": "google"})
    ).json()
    return log


def calls(log: list[dict[str, Any]]) -> dict[str, int]:
    """Requests per endpoint (the customer id left out)."""
    counted: dict[str, int] = {}
    for entry in log:
        endpoint = str(entry["path"]).rsplit("/", 1)[-1]
        counted[endpoint] = counted.get(endpoint, 0) + 1
    return counted


async def set_tree(rig: System, set_id: str) -> dict[str, Any]:
    tree = await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)
    assert tree.status_code == 200, tree.text
    body: dict[str, Any] = tree.json()
    return body


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

    before = len(await google_log(rig))
    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    during = (await google_log(rig))[before:]
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
    # Per campaign: its whole tree (budget, campaign PAUSED, 2 ad groups, 6 keywords, 4 ads
    # with their labels) in one atomic googleAds:mutate, then one campaigns:mutate enabling
    # it; nothing looked up first (no marker of these entities was ever sent).
    assert calls(during) == {"googleAds:mutate": 2, "campaigns:mutate": 2}, during
    trees = [e for e in during if e["path"].endswith("googleAds:mutate")]
    assert all(e["status"] == 200 for e in during)
    tree = await set_tree(rig, set_id)
    for synced in tree["campaigns"]:
        assert synced["syncStatus"] == "synced" and synced["platformCampaignId"]
        for group in synced["adGroups"]:
            assert group["syncStatus"] == "synced" and group["platformAdGroupId"]
            assert all(ad["syncStatus"] == "synced" and ad["platformAdId"] for ad in group["ads"])
            criteria = {k["platformKeywordId"] for k in group["keywords"]}
            assert {k["syncStatus"] for k in group["keywords"]} == {"synced"}
            assert criteria <= {c["resourceName"] for c in objects["adGroupCriteria"]}
            assert len(criteria) == 3, "each keyword keeps its own criterion's resource name"
    assert len(trees) == 2
    audited = await rig.api.get(
        "/api/v1/audit-log", params={"action": "ad.created", "limit": 50}, headers=rig.headers
    )
    assert audited.status_code == 200, audited.text
    ours = {str(ad["id"]) for c in tree["campaigns"] for g in c["adGroups"] for ad in g["ads"]}
    logged = [e for e in audited.json()["items"] if e["entityId"] in ours]
    assert len(logged) == 8 and {e["entityType"] for e in logged} == {"google.ad"}

    again = await rig.sync(set_id)
    assert again["status"] == "completed", again
    assert {k: len(v) for k, v in (await google_objects(rig)).items() if k != "changeEvents"} == (
        counts
    ), "a second sync creates nothing"

    paused = await rig.sync(set_id, "pause")
    assert paused["status"] == "completed", paused
    assert {c["status"] for c in (await google_objects(rig))["campaigns"]} == {"PAUSED"}


async def test_lost_tree_answers_are_adopted_whole(rig: System) -> None:
    """Every campaign's tree mutate commits but its answer is lost: the retry finds the tree
    by its markers (campaign name suffix, ad-group names, ad labels) and adopts all of it —
    exactly one tree per campaign, every id recorded, then the campaign enabled."""
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
        {"platform": "google", "path": "googleAds:mutate", "lostResponseRate": 1.0,
         "remaining": 3},
    )  # fmt: skip
    before = len(await google_log(rig))
    job = await rig.sync(created.json()["id"])
    assert job["status"] == "completed", job
    during = (await google_log(rig))[before:]
    assert sum(entry["fault"] == "lost_response" for entry in during) == 3
    assert calls(during)["googleAds:mutate"] == 3, "no tree was sent twice"
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
    tree = await set_tree(rig, created.json()["id"])
    mapped = {c["platformCampaignId"] for c in tree["campaigns"]}
    assert mapped == {c["resourceName"] for c in objects["campaigns"]}
    ad_ids = {a["platformAdId"] for c in tree["campaigns"] for g in c["adGroups"] for a in g["ads"]}
    assert ad_ids == {a["resourceName"] for a in objects["adGroupAds"]}
    keyword_ids = {
        k["platformKeywordId"] for c in tree["campaigns"] for g in c["adGroups"]
        for k in g["keywords"]
    }  # fmt: skip
    assert keyword_ids == {k["resourceName"] for k in objects["adGroupCriteria"]}


async def test_one_refused_operation_creates_nothing_and_names_its_entity(rig: System) -> None:
    """Google refuses one keyword of the second campaign's tree: that campaign's atomic mutate
    creates nothing at all, and it fails with a reason naming the ad group and keyword (not
    retried: the same request would be refused again); the other campaign is created whole."""
    account = await rig.connect_google()
    refused = campaign(1)
    refused["adGroups"][1]["keywords"].append({"text": "brandname shoes"})
    body = {
        "name": "Google refused set",
        "platform": "google",
        "adAccountId": account,
        "campaigns": [campaign(0), refused],
    }
    created = await rig.api.post("/api/v1/campaign-sets", json=body, headers=rig.headers)
    assert created.status_code == 201, created.text
    rejection = {
        "contains": "brandname shoes",
        "errorCode": {"policyViolationError": "POLICY_ERROR"},
        "message": "A policy was violated (trademark).",
    }
    added = await rig.sim.post("/_sim/google/rejections", json=rejection)
    assert added.status_code == 201, added.text
    try:
        before = len(await google_log(rig))
        job = await rig.sync(created.json()["id"])
    finally:
        await rig.sim.post("/_sim/google/rejections/clear")
    assert job["status"] == "completed_with_errors", job
    during = (await google_log(rig))[before:]
    trees = [e for e in during if e["path"].endswith("googleAds:mutate")]
    assert sorted(e["status"] for e in trees) == [200, 400], "one try each: a refusal is final"
    objects = await google_objects(rig)
    counts = {k: len(v) for k, v in objects.items() if k not in ("changeEvents", "customers")}
    assert counts == {
        "campaignBudgets": 1,
        "campaigns": 1,
        "adGroups": 2,
        "adGroupAds": 4,
        "adGroupCriteria": 6,
        "labels": 4,
        "adGroupAdLabels": 4,
    }, "the refused tree left nothing behind: no budget, campaign, ad group, ad or keyword"
    assert objects["campaigns"][0]["name"].startswith("Google Summer 0 [fd:")

    tree = await set_tree(rig, created.json()["id"])
    failed = tree["campaigns"][1]
    assert failed["syncStatus"] == "failed" and failed["platformCampaignId"] is None
    reason = failed["syncError"]
    assert "ad group 'Google Summer 1 group 1'" in reason, reason
    assert "keyword 'brandname shoes'" in reason and "policyViolationError.POLICY_ERROR" in reason
    assert "nothing was created" in reason
    keyword = next(k for k in failed["adGroups"][1]["keywords"] if k["text"] == "brandname shoes")
    assert keyword["syncStatus"] == "failed" and "POLICY_ERROR" in keyword["syncReason"]
    assert keyword["platformKeywordId"] is None
    for group in failed["adGroups"]:
        assert group["platformAdGroupId"] is None
        assert all(ad["platformAdId"] is None for ad in group["ads"])


async def test_a_lost_tree_create_never_adopts_another_sets_namesake(rig: System) -> None:
    """Issue 8 item 2 on Google: a second set in the same account with the very same campaign,
    ad group and ad names; the tree create's answer is lost after it committed, and so is the
    enabling's. The retry adopts by the entities' markers (name suffix, ad-group name, ad
    label), then enables through an update — exactly one tree per set, and
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
        {"platform": "google", "path": ":mutate", "lostResponseRate": 1.0, "remaining": 2},
    )
    job = await rig.sync(second.json()["id"])
    assert job["status"] == "completed", job
    log = (await rig.sim.get("/_sim/requests", params={"platform": "google"})).json()
    assert sum(e["fault"] == "lost_response" for e in log) == 2, "the tree, then its enabling"

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
