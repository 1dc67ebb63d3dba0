"""Campaign-set sync (seed 002) as durable workflows.

    SyncCampaignSetWorkflow  (id `sync-set-{setId}`, one per set at a time)
      prepare ─► child SyncCampaignBatchWorkflow per batch of campaigns, at most `window`
                 running at once (sliding window) ─► … ─► continue-as-new every
                 `max_batches_per_run` batches ─► finish (counts, set status, audit)

    SyncCampaignBatchWorkflow  (one batch; campaigns concurrently)
      per campaign: campaign ─► its ad groups (concurrently) ─► per ad group its ads
                    (post, then ad) ─► record the campaign's outcome

Every platform call is one `sync.push_entity` activity on the platform's task queue, whose
rate limit (from settings) paces all workers together. A campaign whose entity fails
non-retryably is marked failed and the others go on; a dead refresh token stops the whole
sync at once (no retry loop). No run's history grows with the set's size: batches are child
workflows, and the parent continues as new.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        FINISH_SET_SYNC,
        PREPARE_SET_SYNC,
        PUSH_ENTITY,
        RECORD_CAMPAIGN_OUTCOME,
    )
    from flightdeck.domain.sync import (
        AdChild,
        BatchResult,
        CampaignBatchInput,
        CampaignOutcome,
        CampaignOutcomeInput,
        PushEntityInput,
        PushEntityResult,
        PushEntityType,
        SyncError,
        SyncFinishInput,
        SyncPlan,
        SyncProgress,
        SyncSetInput,
        SyncStartInput,
        SyncTotals,
    )
    from flightdeck.failures import NON_RETRYABLE, Failure, failure
    from flightdeck.temporal import CAMPAIGN_SET_ID, PLATFORM, TENANT_ID, creative_task_queue


def platform_retry(inp: CampaignBatchInput) -> RetryPolicy:
    """Transient platform trouble (5xx, timeouts, 429 after the server's reset time) is retried
    a few times inside the sync; what still fails marks its campaign failed for the sweep."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=inp.retry_initial_seconds),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=60),
        maximum_attempts=inp.call_max_attempts,
        non_retryable_error_types=NON_RETRYABLE,
    )


BOOKKEEPING_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_attempts=20,
    non_retryable_error_types=NON_RETRYABLE,
)


def task_queue_for(platform_queue: str, entity_type: PushEntityType) -> str:
    """One queue per platform rate-limit policy: Reddit counts posts against its
    creative-management policy, everything else against campaign-management writes."""
    return creative_task_queue(platform_queue) if entity_type == "post" else platform_queue


class _Fatal(Exception):
    """The whole sync must stop (e.g. the account needs reconnecting)."""


class _EntityFailed(Exception):
    """One entity's push failed for good; names it for the campaign's error entry."""

    def __init__(self, entity_type: str, entity_id: str, cause: ActivityError) -> None:
        super().__init__(_message(cause))
        self.entity_type, self.entity_id, self.cause = entity_type, entity_id, cause


@workflow.defn
class SyncCampaignSetWorkflow:
    def __init__(self) -> None:
        self._progress = SyncProgress()

    @workflow.query
    def progress(self) -> SyncProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: SyncSetInput) -> SyncTotals:
        self._progress = SyncProgress(status="running", operation=inp.operation)
        ids, totals = inp.planned_ids, inp.totals
        platform = "reddit"
        if ids is None:
            try:
                plan = await workflow.execute_activity(
                    PREPARE_SET_SYNC,
                    SyncStartInput(
                        tenant_id=inp.tenant_id,
                        set_id=inp.set_id,
                        operation=inp.operation,
                        campaign_ids=inp.campaign_ids,
                        trigger=inp.trigger,
                    ),
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=BOOKKEEPING_RETRY,
                    result_type=SyncPlan,
                    summary=f"plan the set's {inp.operation}",
                )
            except ActivityError as err:
                # Nothing was marked syncing (e.g. the account must be reconnected).
                raise ApplicationError(
                    _message(err),
                    type=_error_type(err) or Failure.PLATFORM_REJECTED,
                    non_retryable=True,
                ) from None
            ids, platform = plan.campaign_ids, plan.platform
            totals = SyncTotals(total=len(ids))
        self._show(totals)

        batches = [ids[i : i + inp.batch_size] for i in range(inp.offset, len(ids), inp.batch_size)]
        this_run, later = batches[: inp.max_batches_per_run], batches[inp.max_batches_per_run :]
        first_batch = inp.offset // inp.batch_size
        fatal: str | None = None
        try:
            await self._run_window(inp, platform, this_run, first_batch, totals)
        except _Fatal as stop:
            fatal = str(stop)
        if later and fatal is None:
            workflow.continue_as_new(
                inp.model_copy(
                    update={
                        "planned_ids": ids,
                        "offset": inp.offset + len(this_run) * inp.batch_size,
                        "totals": totals,
                    }
                )
            )
        await workflow.execute_activity(
            FINISH_SET_SYNC,
            SyncFinishInput(
                tenant_id=inp.tenant_id,
                set_id=inp.set_id,
                operation=inp.operation,
                totals=totals,
                fatal_error=fatal,
            ),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=BOOKKEEPING_RETRY,
            summary=(
                f"finish the set's {inp.operation}: {totals.synced} synced, {totals.failed} failed"
            ),
        )
        self._progress.status = "failed" if fatal else "completed"
        if fatal:
            raise failure(Failure.REAUTH_REQUIRED, fatal)
        return totals

    async def _run_window(
        self,
        inp: SyncSetInput,
        platform: str,
        batches: list[list[str]],
        first_batch: int,
        totals: SyncTotals,
    ) -> None:
        """Start a child per batch, never more than `window` at once; fold in their results."""
        info = workflow.info()
        running: set[asyncio.Task[BatchResult]] = set()
        fatal: str | None = None

        def collect(done: list[asyncio.Task[BatchResult]]) -> None:
            nonlocal fatal
            for task in done:
                result = task.result()
                for outcome in result.outcomes:
                    totals.add(outcome)
                fatal = fatal or result.fatal_error
            self._show(totals, batches_running=len(running))

        for n, campaign_ids in enumerate(batches, start=first_batch):
            if fatal:
                break
            if len(running) >= inp.window:
                done, _ = await workflow.wait(running, return_when=asyncio.FIRST_COMPLETED)
                running -= set(done)
                collect(done)
                if fatal:
                    break
            child = workflow.execute_child_workflow(
                SyncCampaignBatchWorkflow.run,
                CampaignBatchInput(
                    tenant_id=inp.tenant_id,
                    set_id=inp.set_id,
                    platform=platform,
                    operation=inp.operation,
                    campaign_ids=campaign_ids,
                    platform_task_queue=inp.platform_task_queue,
                    activity_timeout_seconds=inp.activity_timeout_seconds,
                    call_max_attempts=inp.call_max_attempts,
                    retry_initial_seconds=inp.retry_initial_seconds,
                ),
                # Unique per sync job (the first run id survives continue-as-new).
                id=f"{info.workflow_id}-{info.first_execution_run_id[:8]}-batch-{n}",
                static_summary=(
                    f"{inp.operation.capitalize()} batch {n + 1}: {len(campaign_ids)} campaigns"
                ),
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(TENANT_ID, inp.tenant_id),
                        SearchAttributePair(CAMPAIGN_SET_ID, inp.set_id),
                        SearchAttributePair(PLATFORM, platform),
                    ]
                ),
            )
            running.add(asyncio.ensure_future(child))
            self._show(totals, batches_running=len(running))
        if running:
            done, _ = await workflow.wait(running)
            collect(done)
        if fatal:
            raise _Fatal(fatal)

    def _show(self, totals: SyncTotals, batches_running: int = 0) -> None:
        self._progress.synced = totals.synced
        self._progress.failed = totals.failed
        self._progress.total = totals.total
        self._progress.batches_running = batches_running


@workflow.defn
class SyncCampaignBatchWorkflow:
    """One batch of a set's campaigns, pushed concurrently; returns one outcome each."""

    @workflow.run
    async def run(self, inp: CampaignBatchInput) -> BatchResult:
        self._inp = inp
        tasks = [asyncio.ensure_future(self._campaign(cid)) for cid in inp.campaign_ids]
        result = BatchResult()
        try:
            await workflow.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            failed = [
                t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None
            ]
            if failed:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            if task.cancelled():
                continue
            error = task.exception()
            if isinstance(error, _Fatal):
                result.fatal_error = result.fatal_error or str(error)
            elif error is None:
                result.outcomes.append(task.result())
        return result

    async def _campaign(self, campaign_id: str) -> CampaignOutcome:
        inp = self._inp
        platform_id: str | None = None
        try:
            pushed = await self._push("campaign", campaign_id)
            platform_id = pushed.platform_id
            if inp.operation == "push" and pushed.action != "deleted":
                await _gather([self._ad_group(g.ad_group_id, g.ads) for g in pushed.ad_groups])
            outcome = CampaignOutcome(
                campaign_id=campaign_id, status="synced", platform_id=platform_id
            )
        except _EntityFailed as failed:
            if _error_type(failed.cause) == Failure.REAUTH_REQUIRED:
                raise _Fatal(str(failed)) from None
            outcome = CampaignOutcome(
                campaign_id=campaign_id,
                status="failed",
                platform_id=platform_id,
                error=SyncError(
                    campaign_id=campaign_id,
                    message=str(failed),
                    entity_type=failed.entity_type,
                    entity_id=failed.entity_id,
                ),
            )
        await workflow.execute_local_activity(
            RECORD_CAMPAIGN_OUTCOME,
            CampaignOutcomeInput(
                tenant_id=inp.tenant_id,
                platform=inp.platform,
                campaign_id=campaign_id,
                status=outcome.status,
                error=outcome.error.message if outcome.error else None,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=BOOKKEEPING_RETRY,
            summary=f"record campaign {campaign_id}: {outcome.status}",
        )
        return outcome

    async def _ad_group(self, ad_group_id: str, ads: list[AdChild]) -> None:
        pushed = await self._push("ad_group", ad_group_id)
        if pushed.action != "deleted":
            await _gather([self._ad(ad) for ad in ads])

    async def _ad(self, ad: AdChild) -> None:
        if ad.needs_post:
            await self._push("post", ad.ad_id)
        await self._push("ad", ad.ad_id)

    async def _push(self, entity_type: PushEntityType, entity_id: str) -> PushEntityResult:
        inp = self._inp
        try:
            return await workflow.execute_activity(
                PUSH_ENTITY,
                PushEntityInput(
                    tenant_id=inp.tenant_id,
                    platform=inp.platform,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    operation=inp.operation,
                    set_id=inp.set_id,
                ),
                task_queue=task_queue_for(inp.platform_task_queue, entity_type),
                start_to_close_timeout=timedelta(seconds=inp.activity_timeout_seconds),
                retry_policy=platform_retry(inp),
                result_type=PushEntityResult,
                summary=(
                    f"{inp.operation} {entity_type.replace('_', ' ')} {entity_id} "
                    f"on {inp.platform.capitalize()}"
                ),
            )
        except ActivityError as err:
            raise _EntityFailed(entity_type, entity_id, err) from err


async def _gather(awaitables: list) -> None:  # type: ignore[type-arg]
    """Run siblings concurrently; the first failure wins after all have settled (an ad group's
    failure must not leave its siblings' creates unrecorded)."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _error_type(err: BaseException) -> str | None:
    while isinstance(err, (ActivityError, ChildWorkflowError)) and err.cause is not None:
        err = err.cause
    return err.type if isinstance(err, ApplicationError) else None


def _message(err: BaseException) -> str:
    while isinstance(err, (ActivityError, ChildWorkflowError)) and err.cause is not None:
        err = err.cause
    return str(err)
