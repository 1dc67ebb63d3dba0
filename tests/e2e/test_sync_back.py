"""Scheduled bidirectional sync (seed 002 §6), end to end: changes made "in Reddit's UI" (the
simulator's admin edits) come back on the next cycle; both-sides changes become conflicts that
a person resolves through a Temporal update."""

from __future__ import annotations

import asyncio
import uuid
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
    async with asyncio.timeout(30):
        while True:
            job = (await rig.api.get(f"/api/v1/jobs/{job_id}", headers=rig.headers)).json()
            if job["status"] in ("completed", "failed"):
                return dict(job)
            await asyncio.sleep(0.1)


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
    runs = (await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)).json()
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
    runs = (await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)).json()
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
    runs = (await rig.api.get("/api/v1/sync-back/runs", headers=rig.headers)).json()
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
