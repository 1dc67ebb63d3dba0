"""Issue 9 items 9, 10 and 13, end to end (API, worker, Temporal dev server, Postgres, the
Reddit simulator): every platform operation on a set goes through its one entity workflow, so
a sync and a pause never overlap; the example set validates and syncs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import TERMINAL, System
from tests.e2e.test_set_sync import campaign

EXAMPLE = Path(__file__).parents[2] / "examples" / "campaign-set.json"


async def follow(rig: System, job_id: str) -> dict[str, Any]:
    async with asyncio.timeout(90):
        while True:
            job = await rig.api.get(f"/api/v1/jobs/{job_id}", headers=rig.headers)
            assert job.status_code == 200, job.text
            body: dict[str, Any] = job.json()
            if body["status"] in TERMINAL:
                return body
            await asyncio.sleep(0.1)


async def test_a_sync_and_a_pause_issued_together_never_run_concurrently(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(6)], account)
    set_id = created["id"]
    assert (await rig.sync(set_id))["status"] == "completed"
    for i, c in enumerate(created["campaigns"]):  # work for the next push: six renames
        renamed = await rig.api.patch(
            f"/api/v1/campaigns/{c['id']}", json={"name": f"Renamed {i}"}, headers=rig.headers
        )
        assert renamed.status_code == 200

    sync, pause = await asyncio.gather(
        rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync", headers=rig.headers),
        rig.api.post(f"/api/v1/campaign-sets/{set_id}/pause", headers=rig.headers),
    )
    assert sync.status_code == 202 and pause.status_code == 202, (sync.text, pause.text)
    pushed, paused = await asyncio.gather(
        follow(rig, sync.json()["jobId"]), follow(rig, pause.json()["jobId"])
    )
    assert pushed["status"] == "completed" and paused["status"] == "completed"

    runs = [
        await rig.client.get_workflow_handle(job_id).describe()
        for job_id in (f"sync-set-{set_id}", f"status-set-{set_id}")
    ]
    first, second = sorted(runs, key=lambda r: r.start_time)
    assert first.close_time is not None and second.start_time >= first.close_time, (
        "the push and the pause ran at the same time"
    )
    entity = rig.client.get_workflow_handle(f"campaign-set-{set_id}")
    # Both children were the entity's, one after the other.
    assert {r.parent_id for r in runs} == {f"campaign-set-{set_id}"}
    remote = await rig.reddit_objects("campaigns")
    assert sorted(c["name"] for c in remote) == [f"Renamed {i}" for i in range(6)]
    assert {c["configured_status"] for c in remote} == {"PAUSED"}
    await rig.record_history(entity.id, "campaign_set_entity")


async def test_requests_queued_behind_a_sync_are_followed_as_queued_jobs(rig: System) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(4)], account)
    set_id = created["id"]
    started = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync", headers=rig.headers)
    resumed = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/resume", headers=rig.headers)
    assert started.status_code == 202 and resumed.status_code == 202
    job = await rig.api.get(f"/api/v1/jobs/{resumed.json()['jobId']}", headers=rig.headers)
    assert job.status_code == 200 and job.json()["kind"] == "set_status"
    assert job.json()["status"] in ("queued", "running")
    assert (await follow(rig, started.json()["jobId"]))["status"] == "completed"
    assert (await follow(rig, resumed.json()["jobId"]))["status"] == "completed"
    remote = await rig.reddit_objects("campaigns")
    assert len(remote) == 4 and {c["configured_status"] for c in remote} == {"ACTIVE"}


async def test_the_example_set_validates_and_syncs(rig: System) -> None:
    account = await rig.connect_reddit()
    body = json.loads(EXAMPLE.read_text()) | {"adAccountId": account}
    created = await rig.api.post("/api/v1/campaign-sets", json=body, headers=rig.headers)
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]
    validation = await rig.api.post(f"/api/v1/campaign-sets/{set_id}/validate", headers=rig.headers)
    assert validation.json()["problems"] == []
    dry = (
        await rig.api.post(f"/api/v1/campaign-sets/{set_id}/sync?dryRun=true", headers=rig.headers)
    ).json()
    job = await rig.sync(set_id)
    assert job["status"] == "completed", job
    assert job["progress"]["synced"] == 2 and job["progress"]["failed"] == 0
    remote = {c["name"]: c for c in await rig.reddit_objects("campaigns")}
    assert set(remote) == {"Summer Sale - traffic", "Summer Sale - reach"}
    assert remote["Summer Sale - reach"]["goal_value"] == 120_500_000
    # The dry run showed what was sent: the same campaign bodies reached Reddit.
    sent = [r["body"]["data"] for r in dry["requests"] if r["path"].endswith("/campaigns")]
    assert [s["name"] for s in sent] == ["Summer Sale - traffic", "Summer Sale - reach"]
    for data in sent:
        for field, value in data.items():
            if value == "{conversionPixelId}":  # the account's pixel, read when sending
                value = remote[data["name"]]["conversion_pixel_id"]
                assert value
            assert remote[data["name"]][field] == value, field
