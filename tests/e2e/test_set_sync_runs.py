"""One set sync, one consistent story (issue 9 items 1, 3, 7, 8) and every run closed with its
reason whatever happens to it (issue 8 item 4, set side)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from sqlalchemy import text

from flightdeck.db.repositories.sync_back import ConflictRepository
from flightdeck.db.tenancy import system_session, tenant_session
from tests.e2e.conftest import System
from tests.e2e.test_set_sync import campaign, requests

TERMINAL = {"synced", "failed", "conflict", "pending"}


async def _tree(rig: System, set_id: str) -> dict[str, Any]:
    response = await rig.api.get(f"/api/v1/campaign-sets/{set_id}", headers=rig.headers)
    assert response.status_code == 200, response.text
    tree: dict[str, Any] = response.json()
    return tree


async def _status(rig: System, set_id: str) -> dict[str, Any]:
    response = await rig.api.get(f"/api/v1/campaign-sets/{set_id}/sync-status", headers=rig.headers)
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    return status


async def _audit(rig: System, action: str) -> list[dict[str, Any]]:
    """The sync engine's entries for `action` (the API logs its own deletes too)."""
    response = await rig.api.get(
        "/api/v1/audit-log", params={"action": action, "limit": 200}, headers=rig.headers
    )
    items: list[dict[str, Any]] = response.json()["items"]
    return [e for e in items if str(e["entityType"]).startswith("reddit.")]


def _adds_up(progress: dict[str, Any]) -> bool:
    parts = progress["synced"] + progress["failed"] + progress["held"] + progress["skipped"]
    return bool(parts == progress["total"])


async def _wait_for_batch(rig: System, set_id: str) -> str:
    prefix = f"sync-set-{set_id}-"
    async with asyncio.timeout(30):
        while True:
            ids = [
                wf.id
                async for wf in rig.client.list_workflows(f"WorkflowId STARTS_WITH '{prefix}'")
            ]
            if ids:
                return sorted(ids)[0]
            await asyncio.sleep(0.1)


async def test_a_failed_batch_is_recorded_and_the_run_still_finishes(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(6)], account)
    set_id = created["id"]
    await rig.faults({"platform": "reddit", "path": "/api/v3/", "latencyMs": 300})
    accepted = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync", headers=rig.headers)
    assert accepted.status_code == 202
    batch = await _wait_for_batch(rig, set_id)
    await rig.client.get_workflow_handle(batch).terminate("test: a batch dies")
    job = await rig.wait_job(f"sync-set-{set_id}", timeout=90)

    assert job["status"] == "completed_with_errors", job
    status = await _status(rig, set_id)
    assert status["runStatus"] == "completed_with_errors" and _adds_up(status["progress"])
    assert status["progress"]["total"] == 6 and status["progress"]["failed"] >= 1
    assert status["status"] != "syncing"
    tree = await _tree(rig, set_id)
    assert all(c["syncStatus"] in {"synced", "failed"} for c in tree["campaigns"]), tree
    failed = [c for c in tree["campaigns"] if c["syncStatus"] == "failed"]
    assert failed and all(c["syncError"] for c in failed)


async def test_a_cancelled_sync_closes_its_run_with_the_reason(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(6)], account)
    set_id = created["id"]
    await rig.faults({"platform": "reddit", "path": "/api/v3/", "latencyMs": 300})
    accepted = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync", headers=rig.headers)
    assert accepted.status_code == 202
    await _wait_for_batch(rig, set_id)
    await rig.client.get_workflow_handle(f"sync-set-{set_id}").cancel()
    job = await rig.wait_job(f"sync-set-{set_id}", timeout=90)
    assert job["status"] in ("canceled", "cancelled"), job

    status = await _status(rig, set_id)
    assert status["runStatus"] == "failed" and "cancelled" in status["error"]
    assert status["status"] == "failed" and _adds_up(status["progress"])
    tree = await _tree(rig, set_id)
    assert all(c["syncStatus"] != "syncing" for c in tree["campaigns"]), tree


async def test_a_deletion_is_pushed_once_then_costs_nothing(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0), campaign(1, group={"ads": []})], account)
    set_id = created["id"]
    assert (await rig.sync(set_id))["status"] == "completed"
    gone = created["campaigns"][1]["id"]
    group = created["campaigns"][0]["adGroups"][0]["id"]
    other_group = {
        "name": "Second group", "bidStrategy": "automatic",
        "budget": {"type": "daily", "amount": 50, "currency": "USD"},
    }  # fmt: skip
    added = await rig.api.post(
        f"/api/v1/campaigns/{created['campaigns'][0]['id']}/ad-groups",
        json=other_group,
        headers=rig.headers,
    )
    assert added.status_code == 201, added.text
    assert (await rig.sync(set_id))["status"] == "completed"

    assert (
        await rig.api.delete(f"/api/v1/campaigns/{gone}", headers=rig.headers)
    ).status_code == 202
    deleted_group = await rig.api.delete(f"/api/v1/ad-groups/{group}", headers=rig.headers)
    assert deleted_group.status_code == 202
    assert (await rig.sync(set_id))["status"] == "completed"
    statuses = {c["configured_status"] for c in await rig.reddit_objects("campaigns")}
    assert statuses == {"ACTIVE", "DELETED"}
    calls_after_delete = len(await requests(rig, "PATCH", r"."))
    gets_after_delete = len(await requests(rig, "GET", r"/(campaigns|ad_groups)/"))
    deletions = len(await _audit(rig, "campaign.deleted")) + len(
        await _audit(rig, "ad_group.deleted")
    )
    assert deletions == 2

    for _ in range(2):
        job = await rig.sync(set_id)
        assert job["status"] == "completed", job
    assert len(await requests(rig, "PATCH", r".")) == calls_after_delete
    assert len(await requests(rig, "GET", r"/(campaigns|ad_groups)/")) == gets_after_delete
    again = len(await _audit(rig, "campaign.deleted")) + len(await _audit(rig, "ad_group.deleted"))
    assert again == 2


async def test_keywords_show_synced_with_a_reference_once_on_reddit(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0)], account)
    group = created["campaigns"][0]["adGroups"][0]["id"]
    assert (await rig.sync(created["id"]))["status"] == "completed"
    keywords = (
        await rig.api.get(f"/api/v1/ad-groups/{group}/keywords", headers=rig.headers)
    ).json()["items"]
    platform_group = (await _tree(rig, created["id"]))["campaigns"][0]["adGroups"][0][
        "platformAdGroupId"
    ]
    assert {k["syncStatus"] for k in keywords} == {"synced"}
    assert {k["text"]: k["platformKeywordId"] for k in keywords} == {
        "summer sale": f"{platform_group}:keywords",
        "cheap": f"{platform_group}:excluded_keywords",
    }


async def test_an_entity_in_conflict_stays_so_and_its_conflicted_field_is_never_pushed(
    rig: System,
) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0)], account)
    set_id = created["id"]
    assert (await rig.sync(set_id))["status"] == "completed"
    group = created["campaigns"][0]["adGroups"][0]
    # The budget changed on both sides (50 → 60 here, 50 → 70 on Reddit): sync-back opened a
    # conflict on it, as its cycle does.
    budget = {"budget": {"type": "daily", "amount": 60, "currency": "USD"}}
    changed = await rig.api.patch(
        f"/api/v1/ad-groups/{group['id']}", json=budget, headers=rig.headers
    )
    assert changed.status_code == 200, changed.text
    platform_id = (await _tree(rig, set_id))["campaigns"][0]["adGroups"][0]["platformAdGroupId"]
    tenant_id = uuid.UUID((await rig.api.get("/api/v1/me", headers=rig.headers)).json()["tenantId"])
    async with tenant_session(rig.sessions, tenant_id) as session, session.begin():
        await ConflictRepository(session).open(
            tenant_id,
            entity_type="ad_group",
            entity_id=uuid.UUID(group["id"]),
            platform="reddit",
            platform_id=platform_id,
            fields=[{"field": "budget", "base": 50, "local": 60, "platform": 70}],
            workflow_id=f"conflict-ad_group-{group['id']}",
        )
        await session.execute(
            text("UPDATE ad_groups SET sync_status = 'conflict' WHERE id = :id"),
            {"id": group["id"]},
        )

    renamed = await rig.api.patch(
        f"/api/v1/ad-groups/{group['id']}", json={"name": "Renamed group"}, headers=rig.headers
    )
    assert renamed.status_code == 200 and renamed.json()["syncStatus"] == "conflict"
    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    assert job["progress"]["held"] == 1 and job["progress"]["synced"] == 0

    assert len(await requests(rig, "PATCH", r"/ad_groups/")) == 1
    [update] = await _audit(rig, "ad_group.updated")
    assert update["details"]["fields"] == ["name"], update  # never the conflicted budget
    [on_reddit] = await rig.reddit_objects("ad_groups")
    assert on_reddit["name"] == "Renamed group"
    assert on_reddit["goal_value"] == 50_000_000  # the platform's side is untouched
    after = (await _tree(rig, set_id))["campaigns"][0]["adGroups"][0]
    assert after["syncStatus"] == "conflict"
    async with system_session(rig.sessions, "cli") as session:
        still_open = await session.scalar(
            text("SELECT count(*) FROM sync_conflicts WHERE entity_id = :id AND status = 'open'"),
            {"id": group["id"]},
        )
    assert still_open == 1


async def test_the_stream_tells_one_story_of_the_current_run(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(0), campaign(1)], account)
    set_id = created["id"]
    assert (await rig.sync(set_id))["status"] == "completed"
    first, second = (c["id"] for c in created["campaigns"])
    for cid in (first, second):
        renamed = await rig.api.patch(
            f"/api/v1/campaigns/{cid}", json={"name": f"Renamed {cid[:6]}"}, headers=rig.headers
        )
        assert renamed.status_code == 200
    broken = (await _tree(rig, set_id))["campaigns"][1]["platformCampaignId"]
    await rig.faults(
        {"platform": "reddit", "method": "PATCH", "path": f"/campaigns/{broken}$",
         "errorRate": 1.0, "status": 400},
        {"platform": "reddit", "path": "/api/v3/", "latencyMs": 100},
    )  # fmt: skip
    accepted = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync", headers=rig.headers)
    assert accepted.status_code == 202
    events: list[tuple[str, dict[str, Any]]] = []
    async with rig.api.stream(
        "GET", f"/api/v1/campaign-sets/{set_id}/sync-stream", headers=rig.headers
    ) as response:
        name = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name:
                events.append((name, json.loads(line.removeprefix("data: "))))
    progress = [data for kind, data in events if kind == "sync-progress"]
    # Each campaign once, with this run's outcome (no "synced" left from the previous run).
    assert sorted((p["campaignId"], p["status"]) for p in progress) == sorted(
        [(first, "synced"), (second, "failed")]
    ), progress
    kind, complete = events[-1]
    assert kind == "sync-complete"
    assert complete["status"] == "completed_with_errors"
    assert (complete["synced"], complete["failed"], complete["total"]) == (1, 1, 2)
    assert _adds_up(complete)

    # The failed campaign's error goes once it is edited.
    failed = [c for c in (await _tree(rig, set_id))["campaigns"] if c["id"] == second][0]
    assert failed["syncError"]
    edited = await rig.api.patch(
        f"/api/v1/campaigns/{second}", json={"name": "Fixed"}, headers=rig.headers
    )
    assert edited.status_code == 200
    assert edited.json()["syncError"] is None and edited.json()["syncStatus"] == "pending"

    # With no run going, the stream replays nothing: only the latest run's end.
    await rig.faults()
    events.clear()
    async with rig.api.stream(
        "GET", f"/api/v1/campaign-sets/{set_id}/sync-stream", headers=rig.headers
    ) as response:
        name = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: ") and name:
                events.append((name, json.loads(line.removeprefix("data: "))))
    assert [kind for kind, _ in events] == ["sync-complete"]
