"""Scheduled bidirectional sync (seed 002 §6), end to end: changes made "in Reddit's UI" (the
simulator's admin edits) come back on the next cycle; both-sides changes become conflicts that
a person resolves through a Temporal update."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError

from flightdeck.domain.sync_back_io import ResolveConflict
from flightdeck.failures import Failure, failure_type
from flightdeck.workflows.sync_back import ConflictWorkflow
from tests.e2e.conftest import System
from tests.e2e.test_set_sync import campaign, requests


async def synced_set(rig: System, count: int = 2) -> dict[str, Any]:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(count)], account)
    job = await rig.sync(created["id"])
    assert job["progress"]["synced"] == count
    tree = await rig.api.get(f"/api/v1/campaign-sets/{created['id']}", headers=rig.headers)
    result: dict[str, Any] = tree.json()
    return result


async def edit_on_reddit(rig: System, kind: str, platform_id: str, **fields: Any) -> None:
    response = await rig.sim.patch(f"/_sim/state/reddit/{kind}/{platform_id}", json=fields)
    assert response.status_code == 200, response.text


async def sync_back(rig: System) -> dict[str, Any]:
    started = await rig.api.post("/api/v1/sync-back/run", headers=rig.headers)
    assert started.status_code == 202, started.text
    job_id = started.json()["jobId"]
    result: dict[str, Any] = await rig.client.get_workflow_handle(job_id).result()
    return result | {"_workflow_id": job_id}


async def resolve(rig: System, conflict: dict[str, Any], resolution: str) -> dict[str, Any]:
    """POST the resolution (202 at once, the push in the background) and follow its job to
    the end; the job's final document."""
    answered = await rig.api.post(
        f"/api/v1/conflicts/{conflict['id']}/resolve",
        json={"resolution": resolution},
        headers=rig.headers,
    )
    assert answered.status_code == 202, answered.text
    job_id = answered.json()["jobId"]
    assert job_id == conflict["workflowId"]
    job: dict[str, Any] = {}
    try:
        async with asyncio.timeout(30):
            while True:
                job = (await rig.api.get(f"/api/v1/jobs/{job_id}", headers=rig.headers)).json()
                if job["status"] in ("completed", "failed"):
                    return dict(job)
                await asyncio.sleep(0.1)
    except TimeoutError:
        # Said with what was seen: a bare TimeoutError (once in CI) told nothing about where
        # the resolution stood (waiting: the workflow not answering; running: the push).
        handle = rig.client.get_workflow_handle(job_id)
        try:
            state: Any = await handle.query(
                ConflictWorkflow.state, rpc_timeout=timedelta(seconds=5)
            )
        except Exception as exc:  # noqa: BLE001 - the workflow not answering is the answer
            state = repr(exc)
        seen = f"last job {job}, workflow state {state}"
        raise AssertionError(f"not resolved in 30 s: {seen}") from None


async def open_conflicts(rig: System) -> list[dict[str, Any]]:
    response = await rig.api.get(
        "/api/v1/conflicts", params={"status": "open"}, headers=rig.headers
    )
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_campaign_paused_on_reddit_is_paused_locally_after_one_cycle(rig: System) -> None:
    tree = await synced_set(rig)
    paused, kept = tree["campaigns"]
    await edit_on_reddit(rig, "campaigns", paused["platformCampaignId"], configured_status="PAUSED")

    result = await sync_back(rig)
    assert result["rows_changed"] == 1 and result["conflicts_opened"] == 0

    got = (await rig.api.get(f"/api/v1/campaigns/{paused['id']}", headers=rig.headers)).json()
    assert got["status"] == "paused" and got["syncStatus"] == "synced"
    other = (await rig.api.get(f"/api/v1/campaigns/{kept['id']}", headers=rig.headers)).json()
    assert other["status"] == "active"
    audit = (
        await rig.api.get(
            "/api/v1/audit-log",
            params={"action": "campaign.changed_on_platform"},
            headers=rig.headers,
        )
    ).json()["items"]
    assert [(e["entityId"], e["details"]["field"]) for e in audit] == [(paused["id"], "status")]
    assert audit[0]["details"] | {"field": None} == {
        "source": "platform", "field": None, "from": "active", "to": "paused"
    }  # fmt: skip
    runs = (await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)).json()["items"]
    assert runs[0]["rowsChanged"] == 1 and runs[0]["changes"][0]["field"] == "status"
    assert runs[0]["apiCalls"] >= 2

    # Nothing the sync-back took is pushed back: the next sync sends no PATCH.
    patches = len(await requests(rig, "PATCH", "."))
    await rig.sync(tree["id"])
    assert len(await requests(rig, "PATCH", ".")) == patches


async def test_an_ad_group_budget_changed_on_reddit_is_taken_locally(rig: System) -> None:
    tree = await synced_set(rig, count=1)
    group = tree["campaigns"][0]["adGroups"][0]
    await edit_on_reddit(rig, "ad_groups", group["platformAdGroupId"], goal_value=35_000_000)
    result = await sync_back(rig)
    assert (result["rows_changed"], result["conflicts_opened"]) == (1, 0)
    got = (await rig.api.get(f"/api/v1/ad-groups/{group['id']}", headers=rig.headers)).json()
    assert float(got["budget"]["amount"]) == 35 and got["budget"]["type"] == "daily"
    assert got["syncStatus"] == "synced"
    runs = (await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)).json()["items"]
    (change,) = runs[0]["changes"]
    assert change["field"] == "budget" and change["source"] == "platform"
    assert float(change["from"]["amount"]) == 50 and float(change["to"]["amount"]) == 35


async def both_sides_change_the_budget(rig: System) -> tuple[dict[str, Any], dict[str, Any]]:
    tree = await synced_set(rig, count=1)
    group = tree["campaigns"][0]["adGroups"][0]
    changed = await rig.api.patch(
        f"/api/v1/ad-groups/{group['id']}",
        json={"budget": {"type": "daily", "amount": 60, "currency": "USD"}},
        headers=rig.headers,
    )
    assert changed.status_code == 200, changed.text
    await edit_on_reddit(rig, "ad_groups", group["platformAdGroupId"], goal_value=70_000_000)
    result = await sync_back(rig)
    assert result["conflicts_opened"] == 1
    (conflict,) = await open_conflicts(rig)
    await rig.record_history(result["_workflow_id"], "sync_back_conflict")
    return group, conflict


async def test_a_budget_changed_on_both_sides_becomes_a_conflict(rig: System) -> None:
    group, conflict = await both_sides_change_the_budget(rig)
    assert conflict["entityType"] == "ad_group" and conflict["entityId"] == group["id"]
    (field,) = conflict["fields"]
    assert field["field"] == "budget"
    assert field["base"]["amount"] in ("50", "50.000000", 50)
    assert float(field["local"]["amount"]) == 60 and float(field["platform"]["amount"]) == 70
    got = (await rig.api.get(f"/api/v1/ad-groups/{group['id']}", headers=rig.headers)).json()
    assert got["syncStatus"] == "conflict"
    # Further syncs of that entity wait for the resolution.
    patches = len(await requests(rig, "PATCH", r"/ad_groups/"))
    await rig.sync(
        (await rig.api.get("/api/v1/campaign-sets", headers=rig.headers)).json()["items"][0]["id"]
    )
    assert len(await requests(rig, "PATCH", r"/ad_groups/")) == patches
    # A second cycle does not open a second conflict.
    assert (await sync_back(rig))["conflicts_opened"] == 0
    assert len(await open_conflicts(rig)) == 1


async def test_use_local_pushes_the_local_value_to_reddit(rig: System) -> None:
    group, conflict = await both_sides_change_the_budget(rig)
    job = await resolve(rig, conflict, "use_local")
    assert job["status"] == "completed", job
    assert job["result"]["platform_fields_sent"] == ["goal_value"]
    await rig.record_history(conflict["workflowId"], "conflict_resolved_use_local")
    remote = [
        g for g in await rig.reddit_objects("ad_groups") if g["id"] == group["platformAdGroupId"]
    ]
    assert remote[0]["goal_value"] == 60_000_000
    got = (await rig.api.get(f"/api/v1/ad-groups/{group['id']}", headers=rig.headers)).json()
    assert float(got["budget"]["amount"]) == 60 and got["syncStatus"] == "synced"
    assert await open_conflicts(rig) == []
    # Settled: the next cycle finds nothing to change or dispute.
    again = await sync_back(rig)
    assert (again["rows_changed"], again["conflicts_opened"]) == (0, 0)


async def test_use_platform_writes_the_platform_value_locally(rig: System) -> None:
    group, conflict = await both_sides_change_the_budget(rig)
    patches = len(await requests(rig, "PATCH", "."))
    job = await resolve(rig, conflict, "use_platform")
    assert job["status"] == "completed", job
    assert job["result"]["platform_fields_sent"] == []
    assert len(await requests(rig, "PATCH", ".")) == patches  # nothing sent to Reddit
    got = (await rig.api.get(f"/api/v1/ad-groups/{group['id']}", headers=rig.headers)).json()
    assert float(got["budget"]["amount"]) == 70 and got["syncStatus"] == "synced"
    remote = [
        g for g in await rig.reddit_objects("ad_groups") if g["id"] == group["platformAdGroupId"]
    ]
    assert remote[0]["goal_value"] == 70_000_000
    again = await sync_back(rig)
    assert (again["rows_changed"], again["conflicts_opened"]) == (0, 0)


async def test_invalid_and_stale_resolutions_are_rejected(rig: System) -> None:
    _, conflict = await both_sides_change_the_budget(rig)
    handle = rig.client.get_workflow_handle(conflict["workflowId"])
    with pytest.raises(WorkflowUpdateFailedError) as invalid:
        await handle.execute_update(
            ConflictWorkflow.resolve,
            ResolveConflict(conflict_id=conflict["id"], resolution="use_both"),
        )
    assert "resolution must be one of" in str(invalid.value.cause)
    assert failure_type(invalid.value) == Failure.INVALID_REQUEST
    with pytest.raises(WorkflowUpdateFailedError) as stale:
        await handle.execute_update(
            ConflictWorkflow.resolve,
            ResolveConflict(conflict_id=str(uuid.uuid4()), resolution="use_local"),
        )
    assert failure_type(stale.value) == Failure.STALE
    # Rejected by the validator: nothing was written to the conflict's history.
    history = await handle.fetch_history()
    assert not any("update" in (e.WhichOneof("attributes") or "") for e in history.events)
    bad = await rig.api.post(
        f"/api/v1/conflicts/{conflict['id']}/resolve",
        json={"resolution": "merge"},
        headers=rig.headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "resolution"
    url = f"/api/v1/conflicts/{conflict['id']}/resolve"
    first = await resolve(rig, conflict, "use_platform")
    assert first["status"] == "completed"
    again = await rig.api.post(url, json={"resolution": "use_local"}, headers=rig.headers)
    assert again.status_code == 409 and again.json()["error"] == "stale_request"
    other = await rig.new_tenant_headers()
    assert (
        await rig.api.post(url, json={"resolution": "use_local"}, headers=other)
    ).status_code == 404


async def test_a_campaign_deleted_on_reddit_is_marked_deleted_not_recreated(rig: System) -> None:
    tree = await synced_set(rig)
    gone = tree["campaigns"][0]
    await edit_on_reddit(rig, "campaigns", gone["platformCampaignId"], configured_status="DELETED")
    result = await sync_back(rig)
    assert result["deleted_on_platform"] >= 1
    assert (
        await rig.api.get(f"/api/v1/campaigns/{gone['id']}", headers=rig.headers)
    ).status_code == 404
    creates = len(await requests(rig, "POST", r"/campaigns$"))
    job = await rig.sync(tree["id"])
    assert job["status"] == "completed"
    assert len(await requests(rig, "POST", r"/campaigns$")) == creates


async def test_a_cycle_reads_many_pages_with_calls_per_page(rig: System) -> None:
    await synced_set(rig, count=25)  # 25 campaigns, 25 ad groups, 25 ads; pages of 10
    result = await sync_back(rig)
    assert result["api_calls"] == 9  # 3 pages each of campaigns, ad groups, ads: not 75 reads
    runs = (await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)).json()["items"]
    assert runs[0]["entitiesChecked"] == 75 and runs[0]["rowsChanged"] == 0


async def test_an_unanswered_conflict_escalates_and_keeps_waiting(rig: System) -> None:
    """The rig escalates after 3 s (production: FLIGHTDECK_CONFLICT_ESCALATION_SECONDS)."""
    _, conflict = await both_sides_change_the_budget(rig)
    alerts: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while not alerts:
            alerts = (await rig.api.get("/api/v1/alerts", headers=rig.headers)).json()["items"]
            await asyncio.sleep(0.2)
    (alert,) = alerts
    assert alert["alertType"] == "conflict_escalated"
    assert alert["details"]["conflictId"] == conflict["id"]
    assert "budget" in alert["message"]
    got = (await rig.api.get(f"/api/v1/conflicts/{conflict['id']}", headers=rig.headers)).json()
    assert got["status"] == "open" and got["escalatedAt"] is not None
    audit = (
        await rig.api.get(
            "/api/v1/audit-log", params={"action": "conflict.escalated"}, headers=rig.headers
        )
    ).json()["items"]
    assert [e["details"]["conflictId"] for e in audit] == [conflict["id"]]
    # Still waiting: a person can resolve it after the escalation.
    assert (await resolve(rig, conflict, "use_platform"))["status"] == "completed"
    state = await rig.client.get_workflow_handle(conflict["workflowId"]).result()
    assert state["escalated"] is True and state["status"] == "resolved"


# -- every field, at every level (issue 9 item 6) ------------------------------------------------


async def test_an_ad_paused_and_redirected_in_reddits_ui_is_taken_locally(rig: System) -> None:
    tree = await synced_set(rig, count=1)
    ad = tree["campaigns"][0]["adGroups"][0]["ads"][0]
    live = await rig.api.patch(
        f"/api/v1/ads/{ad['id']}", json={"status": "active"}, headers=rig.headers
    )
    assert live.status_code == 200, live.text
    await rig.sync(tree["id"])
    await edit_on_reddit(
        rig, "ads", ad["platformAdId"], configured_status="PAUSED",
        click_url="https://shop.example.com/winter", name="Renamed in Ads Manager",
    )  # fmt: skip
    result = await sync_back(rig)
    assert (result["rows_changed"], result["conflicts_opened"]) == (1, 0)
    got = (await rig.api.get(f"/api/v1/ads/{ad['id']}", headers=rig.headers)).json()
    assert got["status"] == "paused"
    assert got["finalUrl"] == "https://shop.example.com/winter"
    assert got["name"] == "Renamed in Ads Manager"
    # Taken into the base too: the next sync sends nothing back.
    patches = len(await requests(rig, "PATCH", "."))
    await rig.sync(tree["id"])
    assert len(await requests(rig, "PATCH", ".")) == patches


async def test_dates_and_bid_strategy_changed_on_reddit_are_taken(rig: System) -> None:
    tree = await synced_set(rig, count=1)
    group = tree["campaigns"][0]["adGroups"][0]
    await edit_on_reddit(
        rig, "ad_groups", group["platformAdGroupId"], start_time="2027-01-01T00:00:00Z",
        end_time="2027-02-01T00:00:00Z", bid_strategy="MANUAL_BIDDING", bid_type="CPC",
        bid_value=1_250_000,
    )  # fmt: skip
    result = await sync_back(rig)
    assert result["conflicts_opened"] == 0
    got = (await rig.api.get(f"/api/v1/ad-groups/{group['id']}", headers=rig.headers)).json()
    assert got["bidStrategy"] == "manual_cpc" and float(got["bidAmount"]) == 1.25
    assert got["startTime"].startswith("2027-01-01") and got["endTime"].startswith("2027-02-01")
    changed = {c["field"] for c in (await last_run(rig))["changes"]}
    assert changed == {"bid_strategy", "bid_amount", "start_time", "end_time"}


async def test_a_keyword_added_in_reddits_ui_survives_a_local_keyword_edit(rig: System) -> None:
    tree = await synced_set(rig, count=1)
    group = tree["campaigns"][0]["adGroups"][0]
    remote = [
        g for g in await rig.reddit_objects("ad_groups") if g["id"] == group["platformAdGroupId"]
    ][0]
    targeting = dict(remote["targeting"])
    targeting["keywords"] = [*targeting["keywords"], "flip flops"]
    await edit_on_reddit(rig, "ad_groups", group["platformAdGroupId"], targeting=targeting)
    result = await sync_back(rig)
    assert (result["rows_changed"], result["conflicts_opened"]) == (1, 0)
    keywords = (
        await rig.api.get(f"/api/v1/ad-groups/{group['id']}/keywords", headers=rig.headers)
    ).json()
    items = keywords["items"] if isinstance(keywords, dict) else keywords
    assert "flip flops" in {k["text"] for k in items}
    # A local keyword edit afterwards sends both: the platform's addition is not erased.
    added = await rig.api.post(
        f"/api/v1/ad-groups/{group['id']}/keywords", json={"text": "beach"}, headers=rig.headers
    )
    assert added.status_code in (200, 201), added.text
    await rig.sync(tree["id"])
    remote = [
        g for g in await rig.reddit_objects("ad_groups") if g["id"] == group["platformAdGroupId"]
    ][0]
    assert {"summer sale", "flip flops", "beach"} <= set(remote["targeting"]["keywords"])


# -- what sync-back takes becomes the base (issue 9 item 2) --------------------------------------


async def test_a_campaign_archived_on_reddit_is_never_unarchived(rig: System) -> None:
    tree = await synced_set(rig, count=1)
    archived = tree["campaigns"][0]
    await edit_on_reddit(
        rig, "campaigns", archived["platformCampaignId"], configured_status="ARCHIVED"
    )
    await sync_back(rig)
    got = (await rig.api.get(f"/api/v1/campaigns/{archived['id']}", headers=rig.headers)).json()
    assert got["status"] == "archived"
    patches = len(await requests(rig, "PATCH", r"/campaigns/"))
    await rig.sync(tree["id"])
    assert len(await requests(rig, "PATCH", r"/campaigns/")) == patches
    remote = [
        c
        for c in await rig.reddit_objects("campaigns")
        if c["id"] == archived["platformCampaignId"]
    ]
    assert remote[0]["configured_status"] == "ARCHIVED"
    again = await sync_back(rig)
    assert (again["rows_changed"], again["conflicts_opened"]) == (0, 0)


# -- open conflicts follow the platform (issue 9 item 4) -----------------------------------------


async def test_an_open_conflict_shows_the_platforms_latest_value(rig: System) -> None:
    group, conflict = await both_sides_change_the_budget(rig)
    await edit_on_reddit(rig, "ad_groups", group["platformAdGroupId"], goal_value=80_000_000)
    again = await sync_back(rig)
    assert again["conflicts_opened"] == 0
    got = (await rig.api.get(f"/api/v1/conflicts/{conflict['id']}", headers=rig.headers)).json()
    (field,) = got["fields"]
    assert float(field["platform"]["amount"]) == 80 and float(field["local"]["amount"]) == 60
    assert float(field["base"]["amount"]) == 50
    audit = (
        await rig.api.get(
            "/api/v1/audit-log", params={"action": "conflict.refreshed"}, headers=rig.headers
        )
    ).json()["items"]
    assert [e["details"]["conflictId"] for e in audit] == [conflict["id"]]
    job = await resolve(rig, conflict, "use_platform")
    assert job["status"] == "completed"
    got = (await rig.api.get(f"/api/v1/ad-groups/{group['id']}", headers=rig.headers)).json()
    assert float(got["budget"]["amount"]) == 80  # the current platform value, not the 70 seen first


async def test_many_conflicts_open_in_one_session(rig: System) -> None:
    """The open-conflict upsert names its partial index with a literal predicate: with a bound
    parameter the generic plan (asyncpg, from the sixth execution) cannot infer the index."""
    from flightdeck.db.repositories.sync_back import ConflictRepository
    from flightdeck.db.tenancy import tenant_session

    me = (await rig.api.get("/api/v1/me", headers=rig.headers)).json()
    tenant = uuid.UUID(me["tenantId"])
    async with tenant_session(rig.sessions, tenant) as session, session.begin():
        repo = ConflictRepository(session)
        for _ in range(8):
            entity = uuid.uuid4()
            for expect_new in (True, False):
                _, created = await repo.open(
                    tenant, entity_type="ad", entity_id=entity, platform="reddit",
                    platform_id="1", fields=[], workflow_id=f"conflict-ad-{entity}",
                )  # fmt: skip
                assert created is expect_new


# -- one entity's problem stays with it (issue 9 item 5) -----------------------------------------


async def test_a_rename_colliding_with_a_local_name_is_a_conflict_and_the_rest_applies(
    rig: System,
) -> None:
    tree = await synced_set(rig, count=2)
    first, second = tree["campaigns"]
    await edit_on_reddit(rig, "campaigns", first["platformCampaignId"], name=second["name"])
    await edit_on_reddit(rig, "campaigns", second["platformCampaignId"], configured_status="PAUSED")
    result = await sync_back(rig)
    assert result["conflicts_opened"] == 1 and result["entity_problems"] == 1
    got = (await rig.api.get(f"/api/v1/campaigns/{second['id']}", headers=rig.headers)).json()
    assert got["status"] == "paused"  # the other change of the account was applied
    (conflict,) = await open_conflicts(rig)
    assert conflict["entityId"] == first["id"]
    (field,) = conflict["fields"]
    assert field["field"] == "name" and field["platform"] == second["name"]
    assert "already has" in field["reason"]
    mine = (await rig.api.get(f"/api/v1/campaigns/{first['id']}", headers=rig.headers)).json()
    assert mine["syncStatus"] == "conflict" and mine["name"] == first["name"]
    run = await last_run(rig)
    assert run["status"] == "completed" and first["id"] in run["error"]


# -- a vanished platform deletes nothing by itself (issue 8 item 12) -----------------------------


async def test_an_emptied_platform_holds_the_deletions_for_a_person(
    rig: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rig.settings, "sync_back_delete_hold_minimum", 3)
    tree = await synced_set(rig, count=4)  # 12 entities: more than 3 (and 20%) may not go
    for c in tree["campaigns"]:
        await edit_on_reddit(rig, "campaigns", c["platformCampaignId"], configured_status="DELETED")
    result = await sync_back(rig)
    assert result["deleted_on_platform"] == 0 and result["deletions_held"] == 4
    for c in tree["campaigns"]:
        assert (
            await rig.api.get(f"/api/v1/campaigns/{c['id']}", headers=rig.headers)
        ).status_code == 200
    alerts = (await rig.api.get("/api/v1/alerts", headers=rig.headers)).json()["items"]
    assert [a["alertType"] for a in alerts] == ["sync_back_deletions_held"]
    first = await last_run(rig)
    # The next cycle holds them again: one alert still, and only the newest hold is answered.
    again = await sync_back(rig)
    assert again["deleted_on_platform"] == 0 and again["deletions_held"] == 4
    alerts = (await rig.api.get("/api/v1/alerts", headers=rig.headers)).json()["items"]
    assert [a["alertType"] for a in alerts] == ["sync_back_deletions_held"]
    run = await last_run(rig)
    assert run["id"] != first["id"]
    assert run["holdStatus"] == "held" and len(run["heldDeletions"]) == 4
    superseded = await rig.api.post(
        f"/api/v1/sync-back/runs/{first['id']}/held-deletions/release", headers=rig.headers
    )
    assert superseded.status_code == 409
    released = await rig.api.post(
        f"/api/v1/sync-back/runs/{run['id']}/held-deletions/release", headers=rig.headers
    )
    assert released.status_code == 200, released.text
    assert released.json()["deleted"] == 4
    alerts = (await rig.api.get("/api/v1/alerts", headers=rig.headers)).json()["items"]
    assert alerts == []  # answered: the alert is resolved
    for c in tree["campaigns"]:
        assert (
            await rig.api.get(f"/api/v1/campaigns/{c['id']}", headers=rig.headers)
        ).status_code == 404
    twice = await rig.api.post(
        f"/api/v1/sync-back/runs/{run['id']}/held-deletions/discard", headers=rig.headers
    )
    assert twice.status_code == 409


async def test_a_simulator_reset_deletes_nothing(
    rig: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rig.settings, "sync_back_delete_hold_minimum", 3)
    tree = await synced_set(rig, count=2)
    assert (await rig.sim.post("/_sim/reset")).status_code == 200
    await sync_back(rig)
    for c in tree["campaigns"]:
        assert (
            await rig.api.get(f"/api/v1/campaigns/{c['id']}", headers=rig.headers)
        ).status_code == 200
    run = await last_run(rig)
    assert run["status"] in ("completed", "failed")
    if run["status"] == "completed":
        assert run["deletedOnPlatform"] == 0 and run["holdStatus"] == "held"


# -- run rows always end (issue 8 item 4) ---------------------------------------------------------


async def test_a_comparison_that_fails_ends_the_run_row_failed(rig: System) -> None:
    tree = await synced_set(rig, count=1)
    group = tree["campaigns"][0]["adGroups"][0]
    # A goal type we have no word for: reading it fails the whole comparison of the account.
    await edit_on_reddit(rig, "ad_groups", group["platformAdGroupId"], goal_type="WEEKLY_SPEND")
    started = await rig.api.post("/api/v1/sync-back/run", headers=rig.headers)
    result = await rig.client.get_workflow_handle(started.json()["jobId"]).result()
    assert result["failed_accounts"]
    run = await last_run(rig)
    assert run["status"] == "failed" and run["error"]


async def last_run(rig: System) -> dict[str, Any]:
    runs: list[dict[str, Any]] = (
        await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)
    ).json()["items"]
    return runs[0]


async def test_the_polling_activity_heartbeats_within_a_timeout(rig: System) -> None:
    """Issue 8 item 9: a lost worker shows within the heartbeat timeout, not after the
    activity's 10 minutes."""
    from flightdeck.activities.names import SYNC_BACK_ACCOUNT

    await synced_set(rig, count=1)
    result = await sync_back(rig)
    history = await rig.client.get_workflow_handle(result["_workflow_id"]).fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == SYNC_BACK_ACCOUNT
    ]
    assert scheduled and all(0 < s.heartbeat_timeout.seconds <= 60 for s in scheduled)


async def test_a_sync_back_job_can_be_followed(rig: System) -> None:
    """Issue 9 item 11: the jobId `POST /sync-back/run` hands out resolves at /jobs."""
    await synced_set(rig, count=1)
    result = await sync_back(rig)
    job_id = result["_workflow_id"]
    job = (await rig.api.get(f"/api/v1/jobs/{job_id}", headers=rig.headers)).json()
    assert job["status"] == "completed" and job["result"]["accounts"] == 1, job
    other = await rig.new_tenant_headers()
    assert (await rig.api.get(f"/api/v1/jobs/{job_id}", headers=other)).status_code == 404
