"""PendingPlansSweepWorkflow: run by the `pending-plans-sweep` Temporal Schedule; starts plans
whose run never started, or fails them with the reason once they expire (one activity that
heartbeats per plan: activities/housekeeping.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import SWEEP_PENDING_PLANS
    from flightdeck.domain.publish import PendingSweepInput, PendingSweepResult


@workflow.defn
class PendingPlansSweepWorkflow:
    @workflow.run
    async def run(self, inp: PendingSweepInput) -> PendingSweepResult:
        return await workflow.execute_activity(
            SWEEP_PENDING_PLANS,
            inp,
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3),
            result_type=PendingSweepResult,
            summary="find plans whose publish never started",
        )
