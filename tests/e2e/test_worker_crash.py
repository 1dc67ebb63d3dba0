"""The worker process is killed (SIGKILL) mid-run and restarted: the run completes, and every
remote object exists exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid

import httpx
from pydantic import SecretStr

from flightdeck.api.app import create_app
from flightdeck.settings import Settings
from tests.e2e.conftest import System, big_plan
from tests.e2e.test_set_sync import campaign


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flightdeck.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def crash_settings(rig: System) -> tuple[Settings, dict[str, str]]:
    """The rig's settings on task queues of their own, and the same as a worker's environment."""
    suffix = uuid.uuid4().hex[:8]
    settings = rig.settings.model_copy(
        update={
            "task_queue": f"crash-{suffix}",
            "strategis_task_queue": f"crash-strategis-{suffix}",
            "reddit_task_queue": f"crash-reddit-{suffix}",
            "publish_activity_timeout_seconds": 3.0,
            # The killed worker's cached runs go to the new worker after 2 s, not 10.
            "worker_sticky_timeout_seconds": 2.0,
        }
    )
    names = [
        "environment", "database_url", "temporal_address", "strategis_base_url",
        "strategis_relay_base_url", "task_queue", "strategis_task_queue", "strategis_rate_limit",
        "reddit_ads_base_url", "reddit_oauth_base_url", "reddit_client_id",
        "reddit_client_secret", "reddit_redirect_uri", "reddit_task_queue", "reddit_rate_limit",
        "reddit_creative_rate_limit",
        "sync_batch_size", "sync_window", "sync_batches_per_run", "sync_call_max_attempts",
        "sync_retry_initial_seconds", "publish_activity_timeout_seconds",
        "worker_sticky_timeout_seconds", "db_pool_size", "db_max_overflow",
    ]  # fmt: skip
    env = dict(os.environ)
    for name in names:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"FLIGHTDECK_{name.upper()}"] = str(value)
    return settings, env


async def test_killed_worker_resumes_without_duplicates(rig: System) -> None:
    settings, env = crash_settings(rig)
    app = create_app(settings, sessions=rig.sessions, temporal=rig.client)
    await rig.faults({"platform": "relay", "latencyMs": 120})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as api:
        accepted = (
            await api.post("/api/v1/campaign-plans", json=big_plan(3, 3), headers=rig.headers)
        ).json()
        worker = start_worker(env)
        try:
            async with asyncio.timeout(60):
                while (await rig.sim_counts())["facebook"]["adcreatives"] < 2:
                    assert worker.poll() is None, worker.stderr.read().decode()  # type: ignore[union-attr]
                    await asyncio.sleep(0.05)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            mid_run = await rig.sim_counts()
            assert mid_run["facebook"]["ads"] < 9, "the kill must happen mid-run"
            worker = start_worker(env)
            job = await rig.wait_job(accepted["workflowId"], timeout=120)
        finally:
            worker.kill()
            worker.wait()
    assert job["status"] == "completed", job
    counts = await rig.sim_counts()
    assert counts["facebook"] == {"campaigns": 1, "adsets": 3, "adcreatives": 9, "ads": 9}
    assert counts["strategis"] == {"templates": 1, "campaigns": 3}


async def test_killed_worker_mid_sync_resumes_without_duplicates(rig: System) -> None:
    settings, env = crash_settings(rig)
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(6)], account)
    app = create_app(settings, sessions=rig.sessions, temporal=rig.client)
    # Post creates are slow: when the first post exists, others are in flight; the kill
    # loses their answers (the simulator still makes them).
    await rig.faults(
        {"platform": "reddit", "path": "/api/v3/", "latencyMs": 150},
        {"platform": "reddit", "method": "POST", "path": "/posts$", "latencyMs": 600},
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as api:
        accepted = await api.post(
            f"/api/v1/campaign-sets/{created['id']}/sync", headers=rig.headers
        )
        assert accepted.status_code == 202, accepted.text
        worker = start_worker(env)
        try:
            async with asyncio.timeout(60):
                while len(await rig.reddit_objects("posts")) < 1:
                    assert worker.poll() is None, worker.stderr.read().decode()  # type: ignore[union-attr]
                    await asyncio.sleep(0.05)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            assert len(await rig.reddit_objects("ads")) < 6, "the kill must happen mid-sync"
            worker = start_worker(env)
            job = await rig.wait_job(accepted.json()["jobId"], timeout=120)
        finally:
            worker.kill()
            worker.wait()
    assert job["status"] == "completed", job
    assert (job["progress"]["synced"], job["progress"]["failed"]) == (6, 0)
    assert len(await rig.reddit_objects("campaigns")) == 6
    assert len(await rig.reddit_objects("ad_groups")) == 6
    assert len(await rig.reddit_objects("ads")) == 6
    # Posts too: each ad promotes its own, and no post is left that no ad promotes.
    posts = await rig.reddit_objects("posts")
    assert len(posts) == 6
    assert {a["post_id"] for a in await rig.reddit_objects("ads")} == {p["id"] for p in posts}
