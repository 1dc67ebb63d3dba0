"""Campaign-set sync to Reddit, end to end: the API, the worker on a Temporal dev server,
Postgres, and the Reddit simulator over HTTP (seed 002's four use cases and its failure modes)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from flightdeck.db.tenancy import system_session
from flightdeck.domain.adoption import strip_ref
from tests.e2e.conftest import System

WRITE_POLICY = "ads-campaign-management-write"


def campaign(i: int, **overrides: Any) -> dict[str, Any]:
    """The seed's "Summer Sale" campaign: one ad group (daily $50, keywords) and one ad."""
    group: dict[str, Any] = {
        "name": f"Summer Sale {i} group",
        "bidStrategy": "automatic",
        "budget": {"type": "daily", "amount": 50, "currency": "USD"},
        "targeting": {"geolocations": ["US"], "communities": ["deals"]},
        "keywords": [{"text": "summer sale"}, {"text": "cheap", "negative": True}],
        "ads": [
            {
                "name": f"Summer Sale {i} ad",
                "headline": "Summer Sale: 30% off",
                "description": "This week only.",
                "finalUrl": "https://shop.example.com/summer",
                "callToAction": "SHOP_NOW",
            }
        ],
    }
    group.update(overrides.pop("group", {}))
    return {
        "name": f"Summer Sale {i}",
        "objective": "traffic",
        "status": "active",
        "adGroups": [group],
    } | overrides


async def batch_id(rig: System, set_id: str, n: int) -> str:
    """The id of batch `n` of the set's latest sync (its children are named after it)."""
    prefix = f"sync-set-{set_id}-"
    ids = [wf.id async for wf in rig.client.list_workflows(f"WorkflowId STARTS_WITH '{prefix}'")]
    matching = [i for i in ids if i.endswith(f"-batch-{n}")]
    assert matching, ids
    return matching[0]


async def requests(rig: System, method: str, path: str) -> list[dict[str, Any]]:
    response = await rig.sim.get(
        "/_sim/requests", params={"platform": "reddit", "method": method, "path": path}
    )
    entries: list[dict[str, Any]] = response.json()
    return entries


async def test_ten_campaigns_are_synced_in_the_background(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(10)], account)
    set_id = created["id"]

    accepted = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync", headers=rig.headers)
    assert accepted.status_code == 202
    assert accepted.json() == {"jobId": f"sync-set-{set_id}", "status": "queued"}
    # Followed, not asked again: a second request while this run starts would queue a second
    # push, whose start shows the campaigns `syncing` again.
    job = await rig.follow_job(accepted.json()["jobId"])
    assert job["status"] == "completed", job
    assert job["progress"] | {"step": None} == {
        "step": None, "done": 10, "total": 10, "synced": 10, "failed": 0, "held": 0, "skipped": 0
    }  # fmt: skip

    status = (
        await rig.api.get(f"/api/v1/campaign-sets/{set_id}/sync-status", headers=rig.headers)
    ).json()
    assert status["status"] == "synced"
    assert status["progress"] == {"synced": 10, "failed": 0, "held": 0, "skipped": 0, "total": 10}
    assert status["runStatus"] == "completed"
    assert status["errors"] == []

    assert len(await rig.reddit_objects("campaigns")) == 10
    groups = await rig.reddit_objects("ad_groups")
    assert len(groups) == 10 and len(await rig.reddit_objects("ads")) == 10
    assert len(await rig.reddit_objects("posts")) == 10
    targeting = groups[0]["targeting"]
    assert targeting["keywords"] == ["summer sale"] and targeting["excluded_keywords"] == ["cheap"]

    tree = (await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)).json()
    remote_ids = {c["id"] for c in await rig.reddit_objects("campaigns")}
    local_ids = {c["platformCampaignId"] for c in tree["campaigns"]}
    assert local_ids == remote_ids
    assert all(c["syncStatus"] == "synced" for c in tree["campaigns"])
    await rig.record_history(f"sync-set-{set_id}", "sync_set_completed")
    await rig.record_history(await batch_id(rig, set_id, 0), "sync_batch_completed")

    # 10 campaigns in batches of 3, 2 batches per run: the set's workflow continued as new.
    runs = [wf async for wf in rig.client.list_workflows(f"WorkflowId = 'sync-set-{set_id}'")]
    assert len(runs) >= 2
    found = [
        wf.id
        async for wf in rig.client.list_workflows(
            f"CampaignSetId = '{set_id}' AND Platform = 'reddit'"
        )
    ]
    assert f"sync-set-{set_id}" in found
    audit = (
        await rig.api.get(
            "/api/v1/audit-log", params={"entity": "reddit.campaign"}, headers=rig.headers
        )
    ).json()["items"]
    assert sum(1 for e in audit if e["action"] == "campaign.created") == 10


async def test_a_renamed_campaign_is_patched_with_only_the_name(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0), campaign(1)], account)
    set_id = created["id"]
    assert (await rig.sync(set_id))["status"] == "completed"
    first = created["campaigns"][0]["id"]

    renamed = await rig.api.patch(
        f"/api/v1/campaigns/{first}", json={"name": "Summer Sale Extended"}, headers=rig.headers
    )
    assert renamed.status_code == 200 and renamed.json()["syncStatus"] == "pending"
    job = await rig.sync(set_id)
    assert job["status"] == "completed" and job["progress"]["synced"] == 2

    names = sorted(strip_ref(c["name"]) for c in await rig.reddit_objects("campaigns"))
    assert names == ["Summer Sale 1", "Summer Sale Extended"]
    patches = await requests(rig, "PATCH", r"/campaigns/")
    assert len(patches) == 1  # the unchanged campaign, ad groups and ads made no call at all
    assert len(await requests(rig, "POST", r"/campaigns$")) == 2  # nothing created twice
    assert len(await rig.reddit_objects("ads")) == 2


async def test_pause_and_resume_change_the_status_on_reddit(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(4)], account)
    set_id = created["id"]
    await rig.sync(set_id)

    paused = await rig.sync(set_id, "pause")
    assert paused["status"] == "completed", paused
    statuses = {c["configured_status"] for c in await rig.reddit_objects("campaigns")}
    assert statuses == {"PAUSED"}
    tree = (await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)).json()
    assert tree["status"] == "paused"
    assert {c["status"] for c in tree["campaigns"]} == {"paused"}

    resumed = await rig.sync(set_id, "resume")
    assert resumed["status"] == "completed"
    statuses = {c["configured_status"] for c in await rig.reddit_objects("campaigns")}
    assert statuses == {"ACTIVE"}
    # A later sync does not undo it: the pause/resume is the new base, nothing to PATCH.
    before = len(await requests(rig, "PATCH", r"/campaigns/"))
    await rig.sync(set_id)
    assert len(await requests(rig, "PATCH", r"/campaigns/")) == before


async def test_two_of_ten_failing_is_a_partial_success(rig: System) -> None:
    account = await rig.connect_reddit()
    bad = {"group": {"optimizationGoal": "NOT_A_REDDIT_GOAL"}}
    campaigns = [campaign(i, **(bad if i in (3, 7) else {})) for i in range(10)]
    created = await rig.create_set(campaigns, account)
    set_id = created["id"]

    job = await rig.sync(set_id)
    assert job["status"] == "completed_with_errors", job
    assert (job["progress"]["synced"], job["progress"]["failed"]) == (8, 2)
    status = (
        await rig.api.get(f"/api/v1/campaign-sets/{set_id}/sync-status", headers=rig.headers)
    ).json()
    assert status["progress"] == {"synced": 8, "failed": 2, "held": 0, "skipped": 0, "total": 10}
    assert status["runStatus"] == "completed_with_errors"
    await rig.record_history(await batch_id(rig, set_id, 1), "sync_batch_partial_failure")
    failed_ids = {created["campaigns"][i]["id"] for i in (3, 7)}
    assert {e["campaignId"] for e in status["errors"]} == failed_ids
    assert all("optimization_goal" in e["message"] for e in status["errors"]), status["errors"]
    failed_calls = (
        await rig.api.get(
            "/api/v1/audit-log", params={"action": "platform_call.failed"}, headers=rig.headers
        )
    ).json()["items"]
    assert len(failed_calls) == 2 and {e["details"]["statusCode"] for e in failed_calls} == {400}
    # The failing campaigns exist on Reddit (their ad group was refused), the rest complete.
    assert len(await rig.reddit_objects("campaigns")) == 10
    assert len(await rig.reddit_objects("ad_groups")) == 8
    assert len(await rig.reddit_objects("ads")) == 8


async def test_an_ad_whose_push_never_ends_fails_with_its_campaign_not_syncing(
    rig: System,
) -> None:
    """Every row a run touched ends terminal: the ad's post was stored (the ad then reads
    `syncing`), then Reddit answered its create with 429s to the last attempt (each asking
    for 5 s, more than the 10 s attempt can wait and still call: so Temporal's retries wait).
    The ad fails with its campaign's reason, and its ledger row too; the next sync creates
    it once."""
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0)], account)
    set_id = created["id"]
    ad_create = r"/ad_accounts/[^/]+/ads$"
    await rig.faults(
        {"platform": "reddit", "method": "POST", "path": ad_create, "errorRate": 1.0,
         "status": 429, "retryAfterSeconds": 5, "remaining": 5},
    )  # fmt: skip
    job = await rig.sync(set_id)
    assert job["status"] == "failed", job
    tree = (await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)).json()
    [group] = tree["campaigns"][0]["adGroups"]
    [ad] = group["ads"]
    assert group["syncStatus"] == "synced", group
    assert ad["platformPostId"] and ad["platformAdId"] is None, ad
    assert ad["syncStatus"] == "failed", ad
    assert ad["syncError"].startswith("its campaign failed: ") and "429" in ad["syncError"], ad
    async with system_session(rig.sessions, "cli") as session:
        ledger = (
            await session.execute(
                text(
                    "SELECT entity_type, state, sync_status FROM sync_records WHERE entity_id = :id"
                ),
                {"id": ad["id"]},
            )
        ).all()
    assert {kind: (state, status) for kind, state, status in ledger} == {
        "post": ("synced", "synced"),
        "ad": ("failed", "failed"),  # (a 429 made nothing: the next sync creates at once)
    }, ledger

    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    [ad] = (await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)).json()[
        "campaigns"
    ][0]["adGroups"][0]["ads"]
    assert ad["syncStatus"] == "synced" and ad["syncError"] is None, ad
    assert len(await rig.reddit_objects("ads")) == 1


async def test_a_deleted_campaign_is_deleted_on_reddit_not_recreated(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0), campaign(1)], account)
    set_id = created["id"]
    await rig.sync(set_id)
    gone = created["campaigns"][1]["id"]
    assert (
        await rig.api.delete(f"/api/v1/campaigns/{gone}", headers=rig.headers)
    ).status_code == 202

    job = await rig.sync(set_id)
    assert job["status"] == "completed"
    by_name = {strip_ref(c["name"]): c for c in await rig.reddit_objects("campaigns")}
    assert by_name["Summer Sale 1"]["configured_status"] == "DELETED"
    assert by_name["Summer Sale 0"]["configured_status"] == "ACTIVE"
    assert len(by_name) == 2
    await rig.sync(set_id)
    assert len(await rig.reddit_objects("campaigns")) == 2


async def test_expired_tokens_are_refreshed_mid_sync_and_the_rotated_one_kept(
    rig: System,
) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(3)], account)
    stored_before = await _refresh_token_blob(rig, account)
    assert (await rig.sim.post("/_sim/reddit/oauth/expire", json={})).json()["expired"] >= 1

    job = await rig.sync(created["id"])
    assert job["status"] == "completed" and job["progress"]["synced"] == 3
    assert await _refresh_token_blob(rig, account) != stored_before  # rotated, and kept
    # The kept (rotated) refresh token works for the next expiry too.
    await rig.sim.post("/_sim/reddit/oauth/expire", json={})
    second = await rig.create_set([campaign(9)], account)
    assert (await rig.sync(second["id"]))["progress"]["synced"] == 1


async def test_a_dead_refresh_token_fails_the_sync_clearly_without_retrying(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(3)], account)
    await rig.sim.post("/_sim/reddit/oauth/expire", json={})
    await rig.sim.post("/_sim/reddit/oauth/revoke", json={})
    tokens_before = len(await requests(rig, "POST", r"access_token"))

    job = await rig.sync(created["id"])
    assert job["status"] == "failed", job
    assert "must be reconnected" in job["error"]
    await rig.record_history(f"sync-set-{created['id']}", "sync_set_reauth_required")
    assert len(await requests(rig, "POST", r"access_token")) - tokens_before == 1
    got = await rig.api.get(f"/api/v1/ad-accounts/{account}", headers=rig.headers)
    assert got.json()["status"] == "reauth_required"
    assert await rig.reddit_objects("campaigns") == []
    status = (
        await rig.api.get(f"/api/v1/campaign-sets/{created['id']}/sync-status", headers=rig.headers)
    ).json()
    assert status["status"] == "failed"
    # Until it is reconnected, a new sync is refused before it starts (the set's validation
    # names the account), still without calling Reddit.
    again = await rig.api.post(f"/api/v1/campaign-sets/{created['id']}/sync", headers=rig.headers)
    assert again.status_code == 422, again.text
    assert [p["field"] for p in again.json()["detail"]] == ["adAccountId"]
    assert "reconnect" in again.json()["detail"][0]["message"]
    assert len(await requests(rig, "POST", r"access_token")) - tokens_before == 1


async def test_reddit_429s_are_waited_out_not_failed(rig: System) -> None:
    account = await rig.connect_reddit()
    limits = {"policies": {WRITE_POLICY: {"quota": 3, "window": 1}}}
    assert (await rig.sim.post("/_sim/reddit/rate-limits", json=limits)).status_code == 200
    created = await rig.create_set([campaign(i) for i in range(8)], account)

    job = await rig.sync(created["id"])
    assert job["status"] == "completed"
    assert (job["progress"]["synced"], job["progress"]["failed"]) == (8, 0)
    limited = [r for r in await requests(rig, "POST", r".") if r["status"] == 429]
    assert limited, "the write limit should have bound"
    assert len(await rig.reddit_objects("campaigns")) == 8
    assert len(await rig.reddit_objects("ads")) == 8


async def test_more_429s_in_a_row_than_a_push_has_attempts_are_waited_out(rig: System) -> None:
    """10 429s in a row on the ad's create (Retry-After 1 s), against 5 attempts: each wait
    that fits in the attempt is made there and the create sent again, so the run completes
    with one ad (a chaos run failed 16 of 300 campaigns this way before)."""
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0)], account)
    ad_create = r"/ad_accounts/[^/]+/ads$"
    await rig.faults(
        {"platform": "reddit", "method": "POST", "path": ad_create, "errorRate": 1.0,
         "status": 429, "retryAfterSeconds": 1, "remaining": 10},
    )  # fmt: skip
    job = await rig.sync(created["id"])
    assert job["status"] == "completed", job
    statuses = [r["status"] for r in await requests(rig, "POST", ad_create)]
    assert statuses == [429] * 10 + [201], statuses
    assert len(await rig.reddit_objects("ads")) == 1


async def test_lost_responses_never_duplicate_an_object(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(6)], account)
    await rig.faults(
        {
            "platform": "reddit",
            "method": "POST",
            "path": r"/ad_accounts/[^/]+/(campaigns|ad_groups|ads)$",
            "lostResponseRate": 0.4,
        },
        seed=7,
    )
    job = await rig.sync(created["id"])
    assert job["status"] == "completed"
    assert (job["progress"]["synced"], job["progress"]["failed"]) == (6, 0), job
    lost = [r for r in await requests(rig, "POST", r".") if r["fault"] == "lost_response"]
    assert lost, "some creates should have lost their answer"
    assert len(await rig.reddit_objects("campaigns")) == 6
    assert len(await rig.reddit_objects("ad_groups")) == 6
    assert len(await rig.reddit_objects("ads")) == 6


async def test_the_circuit_breaker_refuses_new_syncs_then_half_opens(rig: System) -> None:
    account = await rig.connect_reddit()
    broken = await rig.create_set([campaign(i) for i in range(2)], account)
    await rig.faults({"platform": "reddit", "path": r"/api/v3/(?!me)", "errorRate": 1.0})
    job = await rig.sync(broken["id"])
    assert job["progress"]["failed"] == 2

    refused = await rig.api.post(f"/api/v1/campaign-sets/{broken['id']}/sync", headers=rig.headers)
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "circuit_open"
    assert int(refused.headers["Retry-After"]) >= 1

    # The platform recovers; once the cool-down is over a sync may go (half-open), and its
    # successful calls close the breaker again.
    await rig.faults()
    async with system_session(rig.sessions, "cli") as session, session.begin():
        await session.execute(
            text("UPDATE circuit_breakers SET opened_at = now() - interval '1 hour'")
        )
    job = await rig.sync(broken["id"])
    assert job["status"] == "completed" and job["progress"]["synced"] == 2
    again = await rig.api.post(f"/api/v1/campaign-sets/{broken['id']}/sync", headers=rig.headers)
    assert again.status_code == 202
    async with system_session(rig.sessions, "cli") as session:
        state = await session.scalar(text("SELECT state FROM circuit_breakers"))
    assert state == "closed"


async def test_another_tenants_set_is_invisible_and_bad_input_is_named(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0)], account)
    set_id = created["id"]
    other = await rig.new_tenant_headers()
    for method, path in [
        ("POST", f"/api/v1/campaign-sets/{set_id}/sync"),
        ("POST", f"/api/v1/campaign-sets/{set_id}/pause"),
        ("GET", f"/api/v1/campaign-sets/{set_id}/sync-status"),
        ("GET", f"/api/v1/campaign-sets/{set_id}/sync-stream"),
        ("GET", f"/api/v1/jobs/sync-set-{set_id}"),
        ("GET", f"/api/v1/ad-accounts/{account}"),
    ]:
        response = await rig.api.request(method, path, headers=other)
        assert response.status_code == 404, (path, response.text)

    unconnected = await rig.create_set([campaign(1)], None)
    response = await rig.api.post(
        f"/api/v1/campaign-sets/{unconnected['id']}/sync", headers=rig.headers
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "adAccountId"
    missing = await rig.api.post("/api/v1/campaign-sets/not-a-uuid/sync", headers=rig.headers)
    assert missing.status_code == 404
    assert await rig.reddit_objects("campaigns") == []


async def test_the_sync_stream_reports_each_campaign_then_completion(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(4)], account)
    set_id = created["id"]
    await rig.faults({"platform": "reddit", "latencyMs": 20})
    accepted = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync", headers=rig.headers)
    assert accepted.status_code == 202
    events: list[tuple[str, dict[str, Any]]] = []
    async with rig.api.stream(
        "GET", f"/api/v1/campaign-sets/{set_id}/sync-stream", headers=rig.headers
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name:
                events.append((name, json.loads(line.removeprefix("data: "))))
    progress = [data for kind, data in events if kind == "sync-progress"]
    finished = {p["campaignId"] for p in progress if p["status"] == "synced"}
    assert finished == {c["id"] for c in created["campaigns"]}
    assert all(p["platformId"] for p in progress if p["status"] == "synced")
    assert events[-1][0] == "sync-complete"
    assert events[-1][1] == {
        "status": "completed", "synced": 4, "failed": 0, "held": 0, "skipped": 0, "total": 4,
        "errors": [], "error": None,
    }  # fmt: skip
    # One story: each campaign reported once, with its final status.
    assert sorted(p["campaignId"] for p in progress) == sorted(finished)


async def _refresh_token_blob(rig: System, account_id: str) -> bytes:
    async with system_session(rig.sessions, "cli") as session:
        blob = await session.scalar(
            text("SELECT refresh_token_encrypted FROM ad_accounts WHERE id = :id"),
            {"id": account_id},
        )
    assert isinstance(blob, bytes)
    return blob
