"""A set sync's Postgres bookkeeping never holds its batch back: while one campaign's outcome
is being recorded (on a busy worker it waits for a pooled connection), the batch's other
campaigns go on to their next pushes.

As local activities, the bookkeeping held the workflow task open until it finished (or until
Temporal's workflow-task heartbeat, 80 % of the 10 s task timeout): every other campaign of
the batch waited with it, and at 1,000 campaigns x 3 platforms with two worker processes a
sync stalled (README, `bench/sync_set.py`)."""

from __future__ import annotations

import asyncio
import time
import uuid

from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from flightdeck.activities import names
from flightdeck.domain.sync import (
    AdGroupChildren,
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

# Well under the workflow-task heartbeat (8 s) that would let a held task go on anyway.
PATIENCE_SECONDS = 4.0


class SlowBookkeeping:
    """Two campaigns: c1 has no ad groups and is recorded first; its record waits (as for a
    pooled connection) until c2's ad group is pushed, which only happens if the workflow is
    free to schedule it meanwhile."""

    def __init__(self) -> None:
        self.ad_group_pushed = asyncio.Event()
        self.waited: dict[str, float] = {}
        self.pushed: list[str] = []

    @activity.defn(name=names.PREPARE_SET_SYNC)
    async def prepare(self, inp: SyncStartInput) -> SyncPlan:
        return SyncPlan(platform=inp.platform, total=2)

    @activity.defn(name=names.NEXT_CAMPAIGN_PAGE)
    async def page(self, inp: CampaignPageInput) -> CampaignPage:
        return CampaignPage(campaign_ids=[] if inp.after else ["c1", "c2"])

    @activity.defn(name=names.PUSH_ENTITY)
    async def push(self, inp: PushEntityInput) -> PushEntityResult:
        self.pushed.append(inp.entity_id)
        if inp.entity_id == "c2":  # answers after c1's record has begun
            await asyncio.sleep(0.5)
            groups = [AdGroupChildren(ad_group_id="g2")]
            return PushEntityResult(entity_id="c2", action="created", ad_groups=groups)
        if inp.entity_id == "g2":
            self.ad_group_pushed.set()
        return PushEntityResult(entity_id=inp.entity_id, action="created")

    @activity.defn(name=names.RECORD_CAMPAIGN_OUTCOME)
    async def record(self, inp: CampaignOutcomeInput) -> None:
        started = time.monotonic()
        if inp.campaign_id == "c1":
            try:
                await asyncio.wait_for(self.ad_group_pushed.wait(), PATIENCE_SECONDS)
            except TimeoutError:
                pass
        self.waited[inp.campaign_id] = time.monotonic() - started

    @activity.defn(name=names.SETTLE_LOST_CREATES)
    async def settle(self, inp: LostCreatesInput) -> LostCreatesResult:
        return LostCreatesResult()

    @activity.defn(name=names.FINISH_SET_SYNC)
    async def finish(self, inp: SyncFinishInput) -> SyncTotals:
        return SyncTotals(status="completed", synced=2, total=2)


async def test_a_slow_outcome_record_does_not_hold_the_batchs_other_campaigns(
    dev_env: WorkflowEnvironment,
) -> None:
    env, fakes = dev_env, SlowBookkeeping()
    queue = f"sync-bookkeeping-{uuid.uuid4().hex[:8]}"
    async with sync_worker(env, queue, fakes):
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
    assert sorted(fakes.pushed) == ["c1", "c2", "g2"]
    assert set(fakes.waited) == {"c1", "c2"}  # both outcomes recorded
    # c2's ad group was pushed while c1's record was still waiting: the record did not hold
    # the workflow task (it would have waited out PATIENCE_SECONDS).
    assert fakes.waited["c1"] < PATIENCE_SECONDS - 1.0
