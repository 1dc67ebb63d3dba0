"""Temporal Schedules Flightdeck owns, created idempotently at bootstrap (`flightdeck worker`,
`flightdeck dev`) and visible on the Web UI's Schedules page.

- `sync-retry-sweep` (Reddit), `sync-retry-sweep-google`, `sync-retry-sweep-meta`:
  RetryFailedSyncsWorkflow for each registered platform every `sync_retry_interval_seconds`
  (5 min), overlap SKIP (a slow sweep is never doubled). A platform's sweep retries the
  campaigns that failed there, whichever of a set's targets that platform is.
- `sync-back` (Reddit), `sync-back-google`, `sync-back-meta`: SyncBackWorkflow for each
  registered platform every `sync_back_interval_seconds` (15 min), overlap SKIP.
- `meta-maintenance`: MetaMaintenanceWorkflow every `maintenance_interval_seconds` (daily):
  failed Meta publish attempts cleaned up after `failed_publish_retention_days` (30), audit
  entries past `audit_retention_days` moved to `audit_log_archive`; overlap SKIP.
- `metrics-sync`: MetricsSyncWorkflow every `metrics_sync_interval_seconds` (15 min): metric
  partitions ahead, every connected account's metrics, alerts, recommendations; overlap SKIP.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from flightdeck.domain.meta_io import MaintenanceInput
from flightdeck.domain.metrics_io import MetricsSyncInput, PlatformQueues
from flightdeck.domain.publish import PendingSweepInput
from flightdeck.domain.sync import RetrySweepInput
from flightdeck.domain.sync_back_io import SyncBackInput
from flightdeck.platforms.registry import platform, platforms
from flightdeck.platforms.reporting import registered
from flightdeck.settings import Settings
from flightdeck.workflows.meta_ops import MetaMaintenanceWorkflow
from flightdeck.workflows.metrics_sync import MetricsSyncWorkflow
from flightdeck.workflows.pending_plans import PendingPlansSweepWorkflow
from flightdeck.workflows.retry_failed_syncs import RetryFailedSyncsWorkflow
from flightdeck.workflows.sync_back import SyncBackWorkflow

RETRY_SWEEP_SCHEDULE_ID = "sync-retry-sweep"
SYNC_BACK_SCHEDULE_ID = "sync-back"
META_MAINTENANCE_SCHEDULE_ID = "meta-maintenance"
METRICS_SYNC_SCHEDULE_ID = "metrics-sync"
PENDING_PLANS_SCHEDULE_ID = "pending-plans-sweep"


def retry_sweep_schedule_id(platform_name: str) -> str:
    """Reddit's keeps the id it always had; every other platform has its own schedule."""
    if platform_name == "reddit":
        return RETRY_SWEEP_SCHEDULE_ID
    return f"{RETRY_SWEEP_SCHEDULE_ID}-{platform_name}"


def sync_back_schedule_id(platform_name: str) -> str:
    """Reddit's keeps the id it always had; every other platform has its own schedule."""
    return SYNC_BACK_SCHEDULE_ID if platform_name == "reddit" else f"sync-back-{platform_name}"


def sync_back_input(
    settings: Settings,
    trigger: str,
    tenant_id: str | None = None,
    platform_name: str = "reddit",
) -> SyncBackInput:
    return SyncBackInput(
        platform=platform_name,
        trigger=trigger,
        tenant_id=tenant_id,
        escalate_after_seconds=settings.conflict_escalation_seconds,
        max_delete_share=settings.sync_back_max_delete_share,
        delete_hold_minimum=settings.sync_back_delete_hold_minimum,
        read_task_queue=platform(platform_name).read_task_queue(settings),
        write_task_queue=platform(platform_name).task_queue(settings),
        read_retry_initial_seconds=settings.sync_retry_initial_seconds,
    )


def sync_back_schedule(settings: Settings, platform_name: str = "reddit") -> Schedule:
    suffix = "" if platform_name == "reddit" else f"-{platform_name}"
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SyncBackWorkflow.run,
            sync_back_input(settings, "schedule", platform_name=platform_name),
            id=f"sync-back-cycle{suffix}",
            task_queue=settings.task_queue,
            static_summary=f"Sync-back cycle{suffix.replace('-', ' (', 1) + ')' if suffix else ''}"
            ": every tenant's connected accounts",
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(seconds=settings.sync_back_interval_seconds))
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def retry_sweep_schedule(settings: Settings, platform_name: str = "reddit") -> Schedule:
    arg = RetrySweepInput(
        platform=platform_name,
        max_attempts=settings.sync_max_attempts,
        interval_seconds=settings.sync_retry_interval_seconds,
        batch_size=settings.sync_batch_size,
        window=settings.sync_window,
        platform_task_queue=platform(platform_name).task_queue(settings),
        activity_timeout_seconds=settings.publish_activity_timeout_seconds,
        max_batches_per_run=settings.sync_batches_per_run,
        call_max_attempts=settings.sync_call_max_attempts,
        retry_initial_seconds=settings.sync_retry_initial_seconds,
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetryFailedSyncsWorkflow.run,
            arg,
            id=f"{retry_sweep_schedule_id(platform_name)}-run",
            task_queue=settings.task_queue,
            static_summary=f"Retry failed campaign syncs ({platform_name})",
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(seconds=settings.sync_retry_interval_seconds))
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def maintenance_input(settings: Settings) -> MaintenanceInput:
    return MaintenanceInput(
        failed_publish_retention_days=settings.failed_publish_retention_days,
        audit_retention_days=settings.audit_retention_days,
    )


def meta_maintenance_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MetaMaintenanceWorkflow.run,
            maintenance_input(settings),
            id="meta-maintenance-run",
            task_queue=settings.task_queue,
            static_summary="Meta maintenance: failed publishes, old audit entries",
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(seconds=settings.maintenance_interval_seconds))
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def metrics_sync_input(
    settings: Settings, trigger: str, tenant_id: str | None = None
) -> MetricsSyncInput:
    return MetricsSyncInput(
        trigger=trigger,
        tenant_id=tenant_id,
        platforms=[
            PlatformQueues(
                platform=reg.name,
                report_queue=reg.report_queue(settings),
                write_queue=reg.write_queue(settings),
            )
            for reg in registered()
        ],
        account_concurrency=settings.metrics_account_concurrency,
        partitions_ahead_months=settings.metrics_partitions_ahead_months,
        webhook_max_attempts=settings.alert_webhook_max_attempts,
    )


def metrics_sync_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            MetricsSyncWorkflow.run,
            metrics_sync_input(settings, "schedule"),
            id="metrics-sync-cycle",
            task_queue=settings.metrics_task_queue,
            static_summary="Metrics cycle: every connected account",
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(
                    every=timedelta(seconds=settings.metrics_sync_interval_seconds)
                )
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def pending_plans_schedule(settings: Settings) -> Schedule:
    arg = PendingSweepInput(
        grace_seconds=settings.pending_plan_grace_seconds,
        expiry_seconds=settings.pending_plan_expiry_seconds,
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PendingPlansSweepWorkflow.run,
            arg,
            id="pending-plans-sweep-run",
            task_queue=settings.task_queue,
            static_summary="Expire plans whose publish never started",
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(seconds=settings.pending_plan_grace_seconds))
            ]
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_schedules(client: Client, settings: Settings) -> list[str]:
    """Create every schedule, or bring an existing one up to date with the settings."""
    wanted = {
        **{
            retry_sweep_schedule_id(entry.name): retry_sweep_schedule(settings, entry.name)
            for entry in platforms()
        },
        **{
            sync_back_schedule_id(entry.name): sync_back_schedule(settings, entry.name)
            for entry in platforms()
        },
        META_MAINTENANCE_SCHEDULE_ID: meta_maintenance_schedule(settings),
        METRICS_SYNC_SCHEDULE_ID: metrics_sync_schedule(settings),
        PENDING_PLANS_SCHEDULE_ID: pending_plans_schedule(settings),
    }
    for schedule_id, schedule in wanted.items():
        await _create_or_update(client, schedule_id, schedule)
    return list(wanted)


async def _create_or_update(client: Client, schedule_id: str, schedule: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
