"""A set sync's deadline is a timer inside the workflow (issue 8 item 4): a run that outlives it
stops through the normal finish path — lost creates settled, the run recorded with the reason —
instead of an execution timeout that would end it with nothing recorded."""

from __future__ import annotations

import uuid

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from flightdeck.activities import names
from flightdeck.domain.sync import (
    CampaignOutcomeInput,
    CampaignPage,
    CampaignPageInput,
    LostCreatesInput,
    LostCreatesResult,
    PushEntityInput,
    PushEntityResult,
    SyncFinishInput,
    SyncPlan,
    SyncSetInput,
    SyncStartInput,
    SyncTotals,
)
from flightdeck.workflows.sync_campaign_set import SyncCampaignSetWorkflow
from tests.workflows.sync_support import sync_worker


class StuckPlatform:
    """One campaign whose every push fails with a retryable error: the platform is down."""

    def __init__(self) -> None:
        self.pushes = 0
        self.settled: list[LostCreatesInput] = []
        self.finished: list[SyncFinishInput] = []
        self.outcomes: list[CampaignOutcomeInput] = []

    @activity.defn(name=names.PREPARE_SET_SYNC)
    async def prepare(self, inp: SyncStartInput) -> SyncPlan:
        return SyncPlan(platform=inp.platform, total=1)

    @activity.defn(name=names.NEXT_CAMPAIGN_PAGE)
    async def page(self, inp: CampaignPageInput) -> CampaignPage:
        return CampaignPage(campaign_ids=[] if inp.after else ["c1"])

    @activity.defn(name=names.PUSH_ENTITY)
    async def push(self, inp: PushEntityInput) -> PushEntityResult:
        self.pushes += 1
        raise ApplicationError("503 from the platform", type="platform_unavailable")

    @activity.defn(name=names.RECORD_CAMPAIGN_OUTCOME)
    async def record(self, inp: CampaignOutcomeInput) -> None:
        self.outcomes.append(inp)

    @activity.defn(name=names.SETTLE_LOST_CREATES)
    async def settle(self, inp: LostCreatesInput) -> LostCreatesResult:
        self.settled.append(inp)
        return LostCreatesResult(not_created=1)

    @activity.defn(name=names.FINISH_SET_SYNC)
    async def finish(self, inp: SyncFinishInput) -> SyncTotals:
        self.finished.append(inp)
        return SyncTotals(status="failed", failed=1, total=1)


async def test_a_sync_past_its_deadline_ends_recorded_with_the_reason(
    dev_env: WorkflowEnvironment,
) -> None:
    env, fakes = dev_env, StuckPlatform()
    queue = f"sync-deadline-{uuid.uuid4().hex[:8]}"
    async with sync_worker(env, queue, fakes):
        with pytest.raises(WorkflowFailureError) as failed:
            await env.client.execute_workflow(
                SyncCampaignSetWorkflow.run,
                SyncSetInput(
                    tenant_id=str(uuid.uuid4()),
                    set_id=str(uuid.uuid4()),
                    platform_task_queue=queue,
                    # Retries for far longer than the deadline (the platform stays down).
                    call_max_attempts=10_000,
                    retry_initial_seconds=0.5,
                    deadline_seconds=4.0,
                ),
                id=f"sync-set-{uuid.uuid4()}",
                task_queue=queue,
            )
    assert "deadline" in str(failed.value.cause)
    assert fakes.pushes >= 3  # it was retrying when the deadline came
    [finish] = fakes.finished  # the normal finish path ran, once, with the reason
    assert finish.fatal_error is not None and "deadline" in finish.fatal_error
    assert fakes.settled and "deadline" in fakes.settled[0].reason  # lost creates looked for
