"""A set sync's Postgres bookkeeping never holds its batch back, and costs less than one
activity per campaign when campaigns finish together.

- While one campaign's outcome is being recorded (on a busy worker it waits for a pooled
  connection), the batch's other campaigns go on to their next pushes. As local activities,
  the bookkeeping held the workflow task open until it finished (or until Temporal's
  workflow-task heartbeat, 80 % of the 10 s task timeout): every other campaign of the batch
  waited with it, and at 1,000 campaigns x 3 platforms with two worker processes a sync stalled
  (README, `bench/sync_set.py`).
- Outcomes that arrive while a record is in flight go together in the next one."""

from __future__ import annotations

import asyncio
import time
import uuid

from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from flightdeck.activities import names
from flightdeck.domain.sync import (
    AdGroupChildren,
    CampaignOutcomesInput,
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
from flightdeck.workflows.sync_campaign_set import (
    SyncCampaignBatchWorkflow,
    SyncCampaignSetWorkflow,
)

# Well under the workflow-task heartbeat (8 s) that would let a held task go on anyway.
PATIENCE_SECONDS = 4.0
ANSWERED = "activity_task_completed_event_attributes"
TAKEN_IN = "workflow_task_completed_event_attributes"


class FakeSync:
    """The sync's activities over a page of `campaigns`; `record_first` runs (in its own
    activity) while the rest of the batch goes on, and returns once `ready()` says so."""

    def __init__(self, campaigns: list[str]) -> None:
        self.campaigns = campaigns
        self.pushed: list[str] = []
        self.records: list[list[str]] = []
        self.first_record_waited: float | None = None

    async def ready(self) -> bool:
        raise NotImplementedError

    @activity.defn(name=names.PREPARE_SET_SYNC)
    async def prepare(self, inp: SyncStartInput) -> SyncPlan:
        return SyncPlan(platform=inp.platform, total=len(self.campaigns))

    @activity.defn(name=names.NEXT_CAMPAIGN_PAGE)
    async def page(self, inp: CampaignPageInput) -> CampaignPage:
        return CampaignPage(campaign_ids=[] if inp.after else self.campaigns)

    @activity.defn(name=names.PUSH_ENTITY)
    async def push(self, inp: PushEntityInput) -> PushEntityResult:
        self.pushed.append(inp.entity_id)
        return await self.answer(inp)

    async def answer(self, inp: PushEntityInput) -> PushEntityResult:
        return PushEntityResult(entity_id=inp.entity_id, action="created")

    @activity.defn(name=names.RECORD_CAMPAIGN_OUTCOMES)
    async def record(self, inp: CampaignOutcomesInput) -> None:
        first = not self.records
        self.records.append([o.campaign_id for o in inp.outcomes])
        if first:
            started = time.monotonic()
            async with asyncio.timeout(PATIENCE_SECONDS):
                while not await self.ready():
                    await asyncio.sleep(0.05)
            self.first_record_waited = time.monotonic() - started

    @activity.defn(name=names.SETTLE_LOST_CREATES)
    async def settle(self, inp: LostCreatesInput) -> LostCreatesResult:
        return LostCreatesResult()

    @activity.defn(name=names.FINISH_SET_SYNC)
    async def finish(self, inp: SyncFinishInput) -> SyncTotals:
        n = len(self.campaigns)
        return SyncTotals(status="completed", synced=n, total=n)

    async def run(self, env: WorkflowEnvironment) -> None:
        queue = f"sync-bookkeeping-{uuid.uuid4().hex[:8]}"
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[SyncCampaignSetWorkflow, SyncCampaignBatchWorkflow],
            activities=[
                self.prepare,
                self.page,
                self.push,
                self.record,
                self.settle,
                self.finish,
            ],
        ):
            await env.client.execute_workflow(
                SyncCampaignSetWorkflow.run,
                SyncSetInput(
                    tenant_id=str(uuid.uuid4()),
                    set_id=str(uuid.uuid4()),
                    platform_task_queue=queue,
                ),
                id=f"sync-set-{uuid.uuid4()}",
                task_queue=queue,
            )


class AdGroupDuringRecord(FakeSync):
    """c1 has no ad groups and is recorded first; its record waits (as for a pooled connection)
    until c2's ad group is pushed, which only happens if the workflow is free to schedule it
    meanwhile."""

    def __init__(self) -> None:
        super().__init__(["c1", "c2"])

    async def answer(self, inp: PushEntityInput) -> PushEntityResult:
        if inp.entity_id == "c2":  # answers after c1's record has begun
            await asyncio.sleep(0.5)
            groups = [AdGroupChildren(ad_group_id="g2")]
            return PushEntityResult(entity_id="c2", action="created", ad_groups=groups)
        return PushEntityResult(entity_id=inp.entity_id, action="created")

    async def ready(self) -> bool:
        return "g2" in self.pushed


async def test_a_slow_outcome_record_does_not_hold_the_batchs_other_campaigns(
    dev_env: WorkflowEnvironment,
) -> None:
    fakes = AdGroupDuringRecord()
    await fakes.run(dev_env)
    assert sorted(fakes.pushed) == ["c1", "c2", "g2"]
    assert sorted(c for group in fakes.records for c in group) == ["c1", "c2"]
    # c2's ad group was pushed while c1's record was still in flight: the record did not hold
    # the workflow task (it would have timed out after PATIENCE_SECONDS, failing the batch).
    assert fakes.first_record_waited is not None
    assert fakes.first_record_waited < PATIENCE_SECONDS - 1.0


class FinishTogether(FakeSync):
    """c1 answers at once; c2-c4 answer a little later, while c1's record is in flight, which
    returns only once the batch's workflow has taken in their answers (its history says so)."""

    def __init__(self) -> None:
        super().__init__(["c1", "c2", "c3", "c4"])
        self.batch_id: str | None = None
        self.env: WorkflowEnvironment | None = None

    async def answer(self, inp: PushEntityInput) -> PushEntityResult:
        self.batch_id = activity.info().workflow_id
        if inp.entity_id != "c1":
            await asyncio.sleep(0.5)
        return PushEntityResult(entity_id=inp.entity_id, action="created")

    async def ready(self) -> bool:
        assert self.env is not None and self.batch_id is not None
        history = await self.env.client.get_workflow_handle(self.batch_id).fetch_history()
        kinds = [e.WhichOneof("attributes") for e in history.events]
        answers = [i for i, k in enumerate(kinds) if k == ANSWERED]
        taken_in = [i for i, k in enumerate(kinds) if k == TAKEN_IN]
        # All four pushes answered, and a workflow task completed after the last answer.
        return len(answers) >= 4 and bool(taken_in) and taken_in[-1] > answers[3]

    async def run(self, env: WorkflowEnvironment) -> None:
        self.env = env
        await super().run(env)


async def test_outcomes_finishing_during_a_record_are_recorded_together(
    dev_env: WorkflowEnvironment,
) -> None:
    fakes = FinishTogether()
    await fakes.run(dev_env)
    # One record for c1, one for the three that finished while it was in flight.
    assert [sorted(group) for group in fakes.records] == [["c1"], ["c2", "c3", "c4"]]
