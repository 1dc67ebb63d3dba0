"""The failed-sync retry sweep (seed 002 §7.2) and the Temporal Schedule that runs it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from temporalio.client import ScheduleOverlapPolicy

from flightdeck.db.tenancy import system_session
from flightdeck.domain.sync import RetrySweepInput, RetrySweepResult
from flightdeck.schedules import RETRY_SWEEP_SCHEDULE_ID, SYNC_BACK_SCHEDULE_ID, ensure_schedules
from flightdeck.workflows.retry_failed_syncs import RetryFailedSyncsWorkflow
from tests.e2e.conftest import System
from tests.e2e.test_set_sync import campaign, requests


async def sweep(rig: System) -> RetrySweepResult:
    settings = rig.settings
    return await rig.client.execute_workflow(
        RetryFailedSyncsWorkflow.run,
        RetrySweepInput(
            max_attempts=3,
            interval_seconds=300,
            batch_size=settings.sync_batch_size,
            window=settings.sync_window,
            platform_task_queue=settings.reddit_task_queue,
            call_max_attempts=settings.sync_call_max_attempts,
            retry_initial_seconds=settings.sync_retry_initial_seconds,
        ),
        id=f"sweep-{uuid.uuid4().hex[:8]}",
        task_queue=settings.task_queue,
        result_type=RetrySweepResult,
    )


async def new_run_done(rig: System, workflow_id: str, after: datetime) -> None:
    """Until a run of `workflow_id` started after `after` has ended."""
    handle = rig.client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(60):
        while True:
            found = await handle.describe()
            if found.start_time > after and found.close_time is not None:
                return
            await asyncio.sleep(0.1)


async def campaign_record(rig: System, campaign_id: str) -> Any:
    async with system_session(rig.sessions, "cli") as session:
        result = await session.execute(
            text(
                "SELECT attempts, permanently_failed, sync_status FROM sync_records "
                "WHERE entity_type = 'campaign' AND entity_id = :id"
            ),
            {"id": campaign_id},
        )
        return result.one()


async def backdate_failure(rig: System, campaign_id: str) -> None:
    """As if the backoff's wait had passed (interval × 2^(attempts-1) is at most 20 min here)."""
    async with system_session(rig.sessions, "cli") as session, session.begin():
        await session.execute(
            text(
                "UPDATE sync_records SET updated_at = now() - interval '1 day' "
                "WHERE entity_id = :id"
            ),
            {"id": campaign_id},
        )


async def test_failed_campaigns_are_retried_with_backoff_then_given_up(rig: System) -> None:
    account = await rig.connect_reddit()
    bad = {"group": {"optimizationGoal": "NOT_A_REDDIT_GOAL"}}
    created = await rig.create_set([campaign(0), campaign(1, **bad)], account)
    set_id, failing = created["id"], created["campaigns"][1]["id"]
    job = await rig.sync(set_id)
    assert (job["progress"]["synced"], job["progress"]["failed"]) == (1, 1)
    assert tuple(await campaign_record(rig, failing)) == (1, False, "failed")

    # Not due yet: the first retry waits one interval after the failure. (The sweep works
    # across tenants: other tests' failures are not due either, being just as recent.)
    assert f"sync-set-{set_id}" not in (await sweep(rig)).started

    for attempt in (2, 3):
        await backdate_failure(rig, failing)
        asked = datetime.now(UTC)
        result = await sweep(rig)
        assert f"sync-set-{set_id}" in result.started, result
        # The sweep asks the set's entity workflow, which starts the push as its child.
        await new_run_done(rig, f"sync-set-{set_id}", asked)
        retried = await rig.wait_job(f"sync-set-{set_id}")
        assert retried["progress"]["total"] == 1  # only the failed campaign is retried
        assert tuple(await campaign_record(rig, failing)) == (attempt, False, "failed")

    await backdate_failure(rig, failing)
    result = await sweep(rig)
    assert f"sync-set-{set_id}" not in result.started and result.given_up == 1
    assert tuple(await campaign_record(rig, failing)) == (3, True, "failed")
    audit = (
        await rig.api.get(
            "/api/v1/audit-log",
            params={"action": "campaign.sync_permanently_failed"},
            headers=rig.headers,
        )
    ).json()["items"]
    assert [e["entityId"] for e in audit] == [failing]
    # Its failed ad group is retired with it: out of every later sweep's selection.
    async with system_session(rig.sessions, "cli") as session:
        child = await session.execute(
            text(
                "SELECT sync_status, permanently_failed FROM sync_records "
                "WHERE entity_type = 'ad_group' AND entity_id = :id"
            ),
            {"id": created["campaigns"][1]["adGroups"][0]["id"]},
        )
    assert tuple(child.one()) == ("failed", True)
    # The campaign that synced was never pushed again.
    assert len(await requests(rig, "POST", r"/campaigns$")) == 2
    assert await requests(rig, "PATCH", r"/campaigns/") == []


async def test_bootstrap_creates_each_schedule_once(rig: System) -> None:
    await ensure_schedules(rig.client, rig.settings)
    await ensure_schedules(rig.client, rig.settings)
    ids = [s.id async for s in await rig.client.list_schedules()]
    expected = {
        RETRY_SWEEP_SCHEDULE_ID: ("RetryFailedSyncsWorkflow", timedelta(minutes=5)),
        # Each registered platform has its own sweep (a set's other targets fail there too).
        f"{RETRY_SWEEP_SCHEDULE_ID}-google": ("RetryFailedSyncsWorkflow", timedelta(minutes=5)),
        f"{RETRY_SWEEP_SCHEDULE_ID}-meta": ("RetryFailedSyncsWorkflow", timedelta(minutes=5)),
        SYNC_BACK_SCHEDULE_ID: ("SyncBackWorkflow", timedelta(minutes=15)),
    }
    for schedule_id, (workflow, every) in expected.items():
        assert ids.count(schedule_id) == 1
        schedule = (await rig.client.get_schedule_handle(schedule_id).describe()).schedule
        assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert [i.every for i in schedule.spec.intervals] == [every]
        assert schedule.action.workflow == workflow  # type: ignore[attr-defined]


async def test_hundreds_of_failed_child_rows_never_hide_a_failed_campaign(rig: System) -> None:
    account = await rig.connect_reddit()
    bad = {"group": {"optimizationGoal": "NOT_A_REDDIT_GOAL"}}
    created = await rig.create_set([campaign(0, **bad)], account)
    set_id, failing = created["id"], created["campaigns"][0]["id"]
    job = await rig.sync(set_id)
    assert job["progress"]["failed"] == 1
    tenant_id = (await rig.api.get("/api/v1/me", headers=rig.headers)).json()["tenantId"]
    # 600 failed ad-group and ad rows, older than the campaign's failure (they sort first).
    async with system_session(rig.sessions, "cli") as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO sync_records (id, tenant_id, entity_type, entity_id, platform, "
                "state, sync_status, attempts, error_log, updated_at) "
                "SELECT gen_random_uuid(), :tenant, CASE WHEN n % 2 = 0 THEN 'ad_group' "
                "ELSE 'ad' END, gen_random_uuid(), 'reddit', 'failed', 'failed', 1, '[]', "
                "now() - interval '2 days' FROM generate_series(1, 600) AS n"
            ),
            {"tenant": tenant_id},
        )
    await backdate_failure(rig, failing)
    asked = datetime.now(UTC)
    result = await sweep(rig)
    assert f"sync-set-{set_id}" in result.started, result
    await new_run_done(rig, f"sync-set-{set_id}", asked)
    retried = await rig.wait_job(f"sync-set-{set_id}")
    assert retried["progress"]["total"] == 1
    assert tuple(await campaign_record(rig, failing)) == (2, False, "failed")
