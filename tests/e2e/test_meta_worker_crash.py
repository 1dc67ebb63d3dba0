"""A Meta publish whose worker process is killed (SIGKILL) mid-run, with creates in flight, and
restarted: the run completes and every Meta object exists exactly once (an interrupted create is
found again by its marker and adopted, never created twice)."""

from __future__ import annotations

import asyncio
import json
import signal

import httpx
from pydantic import SecretStr

from flightdeck.api.app import create_app
from tests.e2e.conftest import System
from tests.e2e.meta_support import connect_meta, create_campaign, facebook_counts
from tests.e2e.test_worker_crash import crash_settings, start_worker

META_SETTINGS = (
    "meta_graph_base_url", "meta_dialog_base_url", "meta_app_id", "meta_app_secret",
    "meta_redirect_uri", "meta_task_queue", "meta_rate_limit", "asset_download_allowed_hosts",
    "meta_review_poll_initial_seconds", "meta_review_poll_max_seconds",
)  # fmt: skip


async def test_killed_worker_resumes_a_meta_publish_without_duplicates(rig: System) -> None:
    settings, env = crash_settings(rig)
    settings = settings.model_copy(update={"meta_task_queue": f"{settings.task_queue}-meta"})
    for name in META_SETTINGS:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"FLIGHTDECK_{name.upper()}"] = (
            json.dumps(value) if isinstance(value, list) else str(value)
        )
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=6)
    await rig.faults({"platform": "meta", "method": "POST", "latencyMs": 250})
    app = create_app(settings, sessions=rig.sessions, temporal=rig.client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as api:
        accepted = await api.post(
            f"/api/v1/meta/campaigns/{campaign_id}/publish", headers=rig.headers
        )
        assert accepted.status_code == 202, accepted.text
        worker = start_worker(env)
        try:
            async with asyncio.timeout(60):
                while (await facebook_counts(rig))["adcreatives"] < 2:
                    assert worker.poll() is None, worker.stderr.read().decode()  # type: ignore[union-attr]
                    await asyncio.sleep(0.02)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            assert (await facebook_counts(rig))["ads"] < 6, "the kill must happen mid-run"
            worker = start_worker(env)
            job = await rig.wait_job(accepted.json()["jobId"], timeout=120)
        finally:
            worker.kill()
            worker.wait()
    assert job["status"] == "completed", job
    assert await facebook_counts(rig) == {
        "campaigns": 1, "adsets": 1, "adcreatives": 6, "ads": 6, "adimages": 6,
    }  # fmt: skip
    body = (await rig.api.get(f"/api/v1/meta/campaigns/{campaign_id}", headers=rig.headers)).json()
    assert len(body["published"]["metaAdIds"]) == 6 and all(a["metaAdId"] for a in body["ads"])
    objects = (
        await rig.api.get(f"/api/v1/meta/campaigns/{campaign_id}/publication", headers=rig.headers)
    ).json()["objects"]
    # Creates in flight when the worker died were found by their marker, not made again.
    assert any(o["adopted"] for o in objects), objects
