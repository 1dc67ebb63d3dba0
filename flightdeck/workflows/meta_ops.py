"""Operating a published Meta campaign (pause, resume, delete, push a name or budget change) and
the maintenance Schedule's run (failed publish attempts cleaned up after 30 days, old audit
entries archived)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import META_ARCHIVE_AUDIT, META_CLEAN_FAILED, META_OPERATE
    from flightdeck.domain.meta_io import (
        MaintenanceInput,
        MaintenanceResult,
        OperateInput,
        OperateResult,
    )

OPERATE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=0,
    non_retryable_error_types=[
        "NonRetryablePlatformError",
        "MetaReconnectRequired",
        "MetaPublishNotReady",
    ],  # fmt: skip
)


@workflow.defn
class OperateMetaCampaignWorkflow:
    @workflow.run
    async def run(self, inp: OperateInput) -> OperateResult:
        return await workflow.execute_activity(
            META_OPERATE,
            inp,
            task_queue=inp.meta_task_queue,
            start_to_close_timeout=timedelta(seconds=inp.activity_timeout_seconds),
            schedule_to_close_timeout=timedelta(minutes=30),
            retry_policy=OPERATE_RETRY,
            result_type=OperateResult,
            summary=f"{inp.operation} the campaign on Meta",
        )


@workflow.defn
class MetaMaintenanceWorkflow:
    @workflow.run
    async def run(self, inp: MaintenanceInput) -> MaintenanceResult:
        cleaned = await workflow.execute_activity(
            META_CLEAN_FAILED,
            inp,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=5),
            result_type=int,
            summary="clean up failed Meta publishes",
        )
        archived = await workflow.execute_activity(
            META_ARCHIVE_AUDIT,
            inp,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_attempts=5),
            result_type=int,
            summary="archive old audit entries",
        )
        return MaintenanceResult(failed_publishes_cleaned=cleaned, audit_entries_archived=archived)
