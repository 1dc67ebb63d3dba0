"""A campaign set synced to Meta end to end (issue 14 item 4): the API, the worker on a
Temporal dev server, Postgres, and the Graph simulator over HTTP — through the same workflows
as Reddit's and Google's (only a registry entry added). Exact object counts on the simulator,
keywords reported not applicable, a second sync that creates nothing, pause, and lost answers
that leave no duplicates (adoption by our name marker)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flightdeck.accounts.meta import meta_connection_service
from flightdeck.accounts.meta_sets import MetaSetAccounts
from flightdeck.platforms.meta_set_poller import MetaPlatformPoller
from tests.e2e.conftest import System
from tests.e2e.meta_support import connect_meta, image_url


def campaign(rig: System, i: int) -> dict[str, Any]:
    return {
        "name": f"Meta Summer {i}",
        "objective": "traffic",
        "status": "active",
        "adGroups": [
            {
                "name": f"Meta Summer {i} group {g}",
                "status": "active",
                "budget": {"type": "daily", "amount": 20, "currency": "USD"},
                "targeting": {"geolocations": ["US", "CA"], "devices": ["MOBILE"]},
                "keywords": [{"text": f"summer shoes {g}"}, {"text": "free", "negative": True}],
                "ads": [
                    {
                        "name": f"Meta Summer {i}-{g}-{a}",
                        "status": "active",
                        "headline": "Summer Sale: 30% off shoes",
                        "description": "All sizes in stock. Free returns for 60 days.",
                        "finalUrl": "https://shop.example.com/summer",
                        "imageUrl": image_url(rig, f"summer-{i}-{g}-{a}"),
                    }
                    for a in range(2)
                ],
            }
            for g in range(2)
        ],
    }


async def meta_account(rig: System) -> str:
    connection = await connect_meta(rig)
    made = await rig.api.post(
        f"/api/v1/meta/connections/{connection['id']}/ad-account", headers=rig.headers
    )
    assert made.status_code == 200, made.text
    assert made.json()["platform"] == "meta"
    again = await rig.api.post(
        f"/api/v1/meta/connections/{connection['id']}/ad-account", headers=rig.headers
    )
    assert again.json()["id"] == made.json()["id"], "one ad account per Meta ad account"
    account_id: str = made.json()["id"]
    return account_id


async def facebook(rig: System) -> dict[str, list[dict[str, Any]]]:
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["facebook"]
    return {kind: state.get(kind, {}).get("items", []) for kind in
            ("campaigns", "adsets", "adcreatives", "ads")}  # fmt: skip


def counts(objects: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    return {kind: len(items) for kind, items in objects.items()}


async def make_set(rig: System, account: str, n: int) -> str:
    body = {
        "name": "Meta set",
        "platform": "meta",
        "adAccountId": account,
        "campaigns": [campaign(rig, i) for i in range(n)],
    }
    created = await rig.api.post("/api/v1/campaign-sets", json=body, headers=rig.headers)
    assert created.status_code == 201, created.text
    set_id: str = created.json()["id"]
    return set_id


async def test_a_set_synced_to_meta(rig: System) -> None:
    account = await meta_account(rig)
    set_id = await make_set(rig, account, 2)
    valid = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/validate", headers=rig.headers)
    assert valid.status_code == 200, valid.text

    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    objects = await facebook(rig)
    assert counts(objects) == {"campaigns": 2, "adsets": 4, "adcreatives": 8, "ads": 8}
    assert {c["status"] for c in objects["campaigns"]} == {"ACTIVE"}
    assert {c["objective"] for c in objects["campaigns"]} == {"OUTCOME_TRAFFIC"}
    assert all(s["daily_budget"] in (2000, "2000") for s in objects["adsets"])
    assert all(s["targeting"]["geo_locations"]["countries"] == ["US", "CA"]
               for s in objects["adsets"])  # fmt: skip
    assert all(" [fd:" in o["name"] for k in ("campaigns", "adsets", "ads") for o in objects[k])
    assert (await rig.sim.get("/_sim/meta/sdk-problems")).json() == []

    tree = (await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)).json()
    groups = [g for c in tree["campaigns"] for g in c["adGroups"]]
    assert all(g["syncStatus"] == "synced" and g["platformAdGroupId"] for g in groups)
    keywords = [k for g in groups for k in g["keywords"]]
    assert len(keywords) == 8
    assert {k["syncStatus"] for k in keywords} == {"not_applicable"}
    assert all("Meta has no keywords" in k["syncReason"] for k in keywords)

    again = await rig.sync(set_id)
    assert again["status"] == "completed", again
    assert counts(await facebook(rig)) == counts(objects), "a second sync creates nothing"

    paused = await rig.sync(set_id, "pause")
    assert paused["status"] == "completed", paused
    assert {c["status"] for c in (await facebook(rig))["campaigns"]} == {"PAUSED"}
    resumed = await rig.sync(set_id, "resume")
    assert resumed["status"] == "completed", resumed
    assert {c["status"] for c in (await facebook(rig))["campaigns"]} == {"ACTIVE"}

    # A campaign deleted locally is deleted on Meta (DELETE /{id}), once; nothing recreated.
    gone = tree["campaigns"][0]
    deleted = await rig.api.delete(f"/api/v1/campaigns/{gone['id']}", headers=rig.headers)
    assert deleted.status_code == 202, deleted.text  # pending: removed on the next sync
    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    statuses = {c["id"]: c["status"] for c in (await facebook(rig))["campaigns"]}
    assert statuses[gone["platformCampaignId"]] == "DELETED"
    assert len(statuses) == 2
    deletes = (await rig.sim.get("/_sim/requests", params={"platform": "meta",
                                                           "method": "DELETE"})).json()  # fmt: skip
    assert len(deletes) == 1


async def test_lost_answers_from_meta_leave_no_duplicates(rig: System) -> None:
    """Graph create answers are lost after the object was made: the sync finds each
    object by the marker it put in the name (never by a bare name) before creating again."""
    account = await meta_account(rig)
    set_id = await make_set(rig, account, 3)
    # Every create's answer is lost after Graph made the object (deterministic: a random share
    # could miss a kind); each retry then finds the object by its marker and adopts it.
    await rig.faults(
        {"platform": "meta", "method": "POST",
         "path": r"/act_\d+/(campaigns|adsets|adcreatives|ads)$", "lostResponseRate": 1.0},
    )  # fmt: skip
    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    log = (await rig.sim.get("/_sim/requests", params={"platform": "meta"})).json()
    assert sum(entry["fault"] == "lost_response" for entry in log) == 3 + 6 + 12 + 12
    objects = await facebook(rig)
    assert counts(objects) == {"campaigns": 3, "adsets": 6, "adcreatives": 12, "ads": 12}
    # A creative whose answer was lost is adopted (same name and copy, unused by any ad).
    used = {str(a["creative"]["creative_id"]) for a in objects["ads"]}
    assert used == {str(c["id"]) for c in objects["adcreatives"]}
    lost = {entry["path"].rsplit("/", 1)[-1] for entry in log if entry["fault"] == "lost_response"}
    assert {"campaigns", "adsets", "adcreatives", "ads"} <= lost, lost
    assert {c["status"] for c in objects["campaigns"]} == {"ACTIVE"}


async def test_validation_speaks_meta(rig: System) -> None:
    account = await meta_account(rig)
    bad = campaign(rig, 0)
    bad["objective"] = "conversions"
    group = bad["adGroups"][0]
    group["targeting"] = {"geolocations": ["DE"], "interests": ["sneakers"]}
    group["budget"] = {"type": "daily", "amount": 1, "currency": "USD"}
    bad["adGroups"][1]["ads"][0].pop("imageUrl")
    body = {"name": "bad", "platform": "meta", "adAccountId": account, "campaigns": [bad]}
    created = await rig.api.post("/api/v1/campaign-sets", json=body, headers=rig.headers)
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]
    answer = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/validate", headers=rig.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["valid"] is False
    problems = {p["field"]: p["message"] for p in answer.json()["problems"]}
    assert set(problems) == {
        "campaigns.0.objective",
        "campaigns.0.adGroups.0.targeting.interests",
        "campaigns.0.adGroups.1.ads.0.imageUrl",
    }, problems
    assert "pixel" in problems["campaigns.0.objective"]
    refused = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync", headers=rig.headers)
    assert refused.status_code == 422, refused.text
    assert counts(await facebook(rig)) == {"campaigns": 0, "adsets": 0, "adcreatives": 0,
                                           "ads": 0}  # fmt: skip


async def test_dry_run_shows_graph_requests(rig: System) -> None:
    account = await meta_account(rig)
    set_id = await make_set(rig, account, 1)
    dry = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync?dryRun=true",
                             headers=rig.headers)  # fmt: skip
    assert dry.status_code == 200, dry.text
    requests = dry.json()["requests"]
    paths = [r["path"].rsplit("/", 1)[-1] for r in requests]
    assert paths.count("campaigns") == 1 and paths.count("adsets") == 2
    assert paths.count("adcreatives") == 4 and paths.count("ads") == 4
    adset = next(r for r in requests if r["path"].endswith("/adsets"))
    assert adset["body"]["optimization_goal"] == "LINK_CLICKS"
    assert adset["body"]["daily_budget"] == 2000
    assert counts(await facebook(rig)) == {"campaigns": 0, "adsets": 0, "adcreatives": 0,
                                           "ads": 0}  # fmt: skip


async def test_a_disconnected_meta_connection_fails_the_sync_with_its_reason(rig: System) -> None:
    connection = await connect_meta(rig)
    made = await rig.api.post(
        f"/api/v1/meta/connections/{connection['id']}/ad-account", headers=rig.headers
    )
    set_id = await make_set(rig, made.json()["id"], 1)
    gone = await rig.api.delete(f"/api/v1/meta/connections/{connection['id']}", headers=rig.headers)
    assert gone.status_code == 200, gone.text
    job = await rig.sync(set_id)
    assert job["status"] == "failed", job
    tree = (await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)).json()
    failed = tree["campaigns"][0]
    assert failed["syncStatus"] == "failed", failed
    assert "connect Meta again" in failed["syncError"], failed["syncError"]
    assert counts(await facebook(rig)) == {"campaigns": 0, "adsets": 0, "adcreatives": 0,
                                           "ads": 0}  # fmt: skip


async def test_the_poller_reads_what_changed_since_with_updated_time_filtering(
    rig: System,
) -> None:
    """`MetaPlatformPoller` over HTTP against the Graph simulator, acting through the set's
    Meta account: `filtering` on `updated_time` (unix seconds) returns only what changed."""
    account = await meta_account(rig)
    set_id = await make_set(rig, account, 2)
    assert (await rig.sync(set_id))["status"] == "completed"
    me = await rig.api.get("/api/v1/me", headers=rig.headers)
    tenant = uuid.UUID(me.json()["tenantId"])
    async with meta_connection_service(rig.sessions, rig.settings) as connections:
        accounts = MetaSetAccounts(rig.sessions, connections)
        context = await accounts.account_context(tenant, uuid.UUID(account))
        poller = MetaPlatformPoller(accounts.ads_client(tenant, uuid.UUID(account)), page_size=3)
        everything = await poller.fetch_all(context, since=datetime.now(UTC) - timedelta(hours=1))
        nothing = await poller.fetch_all(context, since=datetime.now(UTC) + timedelta(hours=1))
    assert len(everything.campaigns) == 2 and len(everything.ad_groups) == 4
    assert everything.ads is not None and len(everything.ads) == 8
    assert {c.name for c in everything.campaigns.values()} == {"Meta Summer 0", "Meta Summer 1"}
    assert {c.status for c in everything.campaigns.values()} == {"active"}
    assert everything.calls >= 6  # pages of 3: campaigns 1, ad sets 2, ads 3
    assert nothing.campaigns == {} and nothing.ad_groups == {} and nothing.ads == {}


async def test_the_ad_account_needs_a_selection_and_stays_in_its_tenant(rig: System) -> None:
    unselected = await connect_meta(rig, account=None)
    refused = await rig.api.post(
        f"/api/v1/meta/connections/{unselected['id']}/ad-account", headers=rig.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["field"] == "adAccountId"
    other = await rig.new_tenant_headers("other")
    stranger = await rig.api.post(
        f"/api/v1/meta/connections/{unselected['id']}/ad-account", headers=other
    )
    assert stranger.status_code == 404, stranger.text
    account = await meta_account(rig)
    body = {"name": "theirs", "platform": "meta", "adAccountId": account, "campaigns": []}
    theirs = await rig.api.post("/api/v1/campaign-sets", json=body, headers=other)
    assert theirs.status_code == 422, theirs.text
    assert theirs.json()["detail"][0]["field"] == "adAccountId"
