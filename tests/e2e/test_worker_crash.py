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

from flightdeck.api.app import create_app
from tests.e2e.conftest import System, big_plan


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flightdeck.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def test_killed_worker_resumes_without_duplicates(rig: System) -> None:
    suffix = uuid.uuid4().hex[:8]
    settings = rig.settings.model_copy(
        update={
            "task_queue": f"crash-{suffix}",
            "strategis_task_queue": f"crash-strategis-{suffix}",
            "publish_activity_timeout_seconds": 3.0,
        }
    )
    env = {
        **os.environ,
        "FLIGHTDECK_ENVIRONMENT": "test",
        "FLIGHTDECK_DATABASE_URL": settings.database_url or "",
        "FLIGHTDECK_TEMPORAL_ADDRESS": settings.temporal_address,
        "FLIGHTDECK_STRATEGIS_BASE_URL": settings.strategis_base_url,
        "FLIGHTDECK_STRATEGIS_RELAY_BASE_URL": settings.strategis_relay_base_url,
        "FLIGHTDECK_TASK_QUEUE": settings.task_queue,
        "FLIGHTDECK_STRATEGIS_TASK_QUEUE": settings.strategis_task_queue,
        "FLIGHTDECK_STRATEGIS_RATE_LIMIT": "1000",
    }
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
