"""Campaign-set sync (seed 002) as durable workflows.

    SyncCampaignSetWorkflow  (input `SyncSetInput`; the API runs it as `sync-set-{setId}` /
                              `status-set-{setId}`, any parent may run it as a child)
      prepare (a `set_sync_runs` row; the run's campaigns marked with its id in Postgres)
        ─► page campaign ids from Postgres by cursor ─► child SyncCampaignBatchWorkflow per
           page, at most `window` at once ─► … ─► continue-as-new every `max_batches_per_run`
           batches (carrying only the cursor and counts) ─► finish

    SyncCampaignBatchWorkflow  (one page of campaigns, pushed concurrently)
      per campaign: campaign ─► its ad groups (concurrently) ─► per ad group its ads
                    (post, then ad) ─► record the campaign's one outcome for this run

A set with several targets (one ad account per platform, `SyncSetInput.targets`) pushes each
campaign's tree to every target at once, each call on its platform's own queue; a target's
failure is its own outcome (the others go on), a campaign's one outcome for the run is failed
if it failed on any target, and the progress query has each target's counts.

Every platform call is one `sync.push_entity` activity on the platform's task queue, whose
rate limit (from settings) paces all workers together. No history or payload grows with the
set: ids are paged from Postgres, a batch's input is one page, and continue-as-new carries a
cursor. Whatever happens — a campaign's failure, a failed child, a bug, a dead refresh token,
cancellation — `finish` runs: every campaign of the run without an outcome is marked failed
with the reason, and the run ends `completed`, `completed_with_errors` or `failed` with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        FINISH_SET_SYNC,
        NEXT_CAMPAIGN_PAGE,
        PREPARE_SET_SYNC,
        PUSH_ENTITY,
        RECORD_CAMPAIGN_OUTCOME,
        SETTLE_LOST_CREATES,
    )
    from flightdeck.domain.sync import (
        MAX_ERROR_CHARS,
        AdChild,
        BatchResult,
        CampaignBatchInput,
        CampaignOutcome,
        CampaignOutcomeInput,
        CampaignOutcomeStatus,
        CampaignPage,
        CampaignPageInput,
        LostCreatesInput,
        LostCreatesResult,
        PushEntityInput,
        PushEntityResult,
        PushEntityType,
        SyncError,
        SyncFinishInput,
        SyncPlan,
        SyncProgress,
        SyncSetInput,
        SyncStartInput,
        SyncTarget,
        SyncTotals,
        TargetOutcome,
        TargetTotals,
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
# The run's final state is written whatever it takes (Postgres down for a while included).
FINISH_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)


# Patch id: failed campaigns and stopped runs settle their lost creates (issue 8 item 10), and a
# cancelled run lets its batches' in-flight calls end before it does.
SETTLE_LOST = "settle-lost-creates"
DEADLINE_TIMER = "sync-deadline-timer"
# Patch id: a set with several targets (issue 14 item 2) pushes each campaign to every target.
MULTI_TARGET = "multi-target-sync"
# Patch id: the sync's Postgres bookkeeping (paging campaign ids, recording a campaign's
# outcome) runs as ordinary activities on the workflow's queue. As local activities they held
# their workflow task open while they waited for a pooled connection behind the pushes: tasks
# of 8-15 s, timeouts, and at 1,000 campaigns x 3 platforms with two worker processes a sync
# that stalled (README, `bench/sync_set.py`). An ordinary activity waits in its own slot; the
# workflow task that scheduled it ends at once, so the batch's other campaigns go on.
BOOKKEEPING_ACTIVITIES = "sync-bookkeeping-activities"
STOPPED = workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED


R = TypeVar("R")


def bookkeeping(
    activity: str, arg: Any, result_type: type[R], summary: str | None = None
) -> Awaitable[R]:
    """One of the sync's Postgres bookkeeping steps: an ordinary activity (BOOKKEEPING_ACTIVITIES),
    a local activity in runs that began before it."""
    options: dict[str, Any] = {
        "start_to_close_timeout": timedelta(seconds=30),
        "retry_policy": BOOKKEEPING_RETRY,
        "result_type": result_type,
        "summary": summary,
    }
    if workflow.patched(BOOKKEEPING_ACTIVITIES):
        return workflow.execute_activity(activity, arg, **options)
    return workflow.execute_local_activity(activity, arg, **options)


def settle_lost_creates(
    inp: CampaignBatchInput | SyncSetInput,
    run_id: str,
    reason: str,
    campaign_ids: list[str] | None = None,
) -> Awaitable[LostCreatesResult]:
    """Look for the objects of creates whose answer was lost (ledger rows left `requested`)
    of `campaign_ids`, or of the run's campaigns without an outcome: map them (paused), or
    record that they were not created. On the platform's queue, heartbeating; bounded."""
    return workflow.execute_activity(
        SETTLE_LOST_CREATES,
        LostCreatesInput(
            tenant_id=inp.tenant_id,
            platform=inp.platform,
            set_id=inp.set_id,
            run_id=run_id,
            campaign_ids=campaign_ids,
            reason=reason[:MAX_ERROR_CHARS],
        ),
        task_queue=inp.platform_task_queue,
        start_to_close_timeout=timedelta(minutes=10),
        schedule_to_close_timeout=timedelta(minutes=30),
        # One platform call at most between two heartbeats: a push's own time limit.
        heartbeat_timeout=timedelta(seconds=inp.activity_timeout_seconds),
        retry_policy=RetryPolicy(
            initial_interval=timedelta(seconds=inp.retry_initial_seconds),
            maximum_interval=timedelta(seconds=60),
            maximum_attempts=inp.call_max_attempts,
            non_retryable_error_types=NON_RETRYABLE,
        ),
        cancellation_type=STOPPED,
        result_type=LostCreatesResult,
        summary="find lost creates" + (f" of campaign {campaign_ids[0]}" if campaign_ids else ""),
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


# Both sync workflows run outside the sandbox, as the publish workflows do (README "How a
# publish runs"): in temporalio 1.35 a sandboxed workflow re-executes its module for every new
# run and `exec`s a compiled string for every payload of every activation — ~6 % of the
# worker's samples in the 3-platform set-sync bench (py-spy), beside the pushes it schedules.
# The code is workflow APIs and pure functions of its input; the replay tests still check it
# (tests/workflows/test_replay.py, `tests/histories/sync_*.json`).
@workflow.defn(sandboxed=False)
class SyncCampaignSetWorkflow:
    def __init__(self) -> None:
        self._progress = SyncProgress()
        self._batches_failed = 0

    @workflow.query
    def progress(self) -> SyncProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: SyncSetInput) -> SyncTotals:
        info = workflow.info()
        run_id = inp.run_id or info.first_execution_run_id
        self._progress = SyncProgress(status="running", operation=inp.operation, run_id=run_id)
        self._batches_failed = inp.batches_failed
        totals, platform, cursor = inp.totals, inp.platform, inp.cursor
        fatal: str | None = None
        fatal_type = Failure.SYNC_FAILED
        cancelled = False
        more = False
        deadline_at = inp.deadline_at
        try:
            if inp.run_id is None:
                plan = await workflow.execute_activity(
                    PREPARE_SET_SYNC,
                    SyncStartInput(
                        tenant_id=inp.tenant_id,
                        set_id=inp.set_id,
                        run_id=run_id,
                        workflow_id=info.workflow_id,
                        platform=inp.platform,
                        operation=inp.operation,
                        campaign_ids=inp.campaign_ids,
                        trigger=inp.trigger,
                        platforms=[t.platform for t in inp.targets] if self._multi(inp) else None,
                    ),
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=BOOKKEEPING_RETRY,
                    result_type=SyncPlan,
                    summary=f"plan the set's {inp.operation}",
                )
                platform = plan.platform
                totals = SyncTotals(total=plan.total)
                if self._multi(inp):
                    # Each target's counts; a refused one stays out of the run, with its reason.
                    totals.targets = {
                        t.platform: TargetTotals(error=plan.refused.get(t.platform))
                        for t in inp.targets
                    }
            self._show(totals)
            window = self._run_window(inp, run_id, platform, cursor, totals)
            if workflow.patched(DEADLINE_TIMER):
                deadline_at = inp.deadline_at or (
                    workflow.now() + timedelta(seconds=inp.deadline_seconds)
                )
                left = max((deadline_at - workflow.now()).total_seconds(), 0.0)
                try:
                    cursor, more = await asyncio.wait_for(window, timeout=left)
                except TimeoutError:
                    fatal = (
                        f"the sync passed its deadline ({inp.deadline_seconds:g} s after it "
                        "started) and was stopped"
                    )
            else:
                cursor, more = await window
        except _Fatal as stop:
            fatal, fatal_type = str(stop), Failure.REAUTH_REQUIRED
        except ActivityError as err:  # prepare refused (e.g. the account must be reconnected)
            fatal, fatal_type = _message(err), _as_failure(_error_type(err))
        except asyncio.CancelledError:
            fatal, cancelled = "the sync was cancelled", True
        except Exception as err:  # a bug must not leave the run or its campaigns open
            fatal = f"the sync stopped unexpectedly: {type(err).__name__}: {err}"
        if more and fatal is None:
            workflow.continue_as_new(
                inp.model_copy(
                    update={
                        "run_id": run_id,
                        "platform": platform,
                        "cursor": cursor,
                        "batches_started": inp.batches_started + inp.max_batches_per_run,
                        "totals": totals,
                        "campaign_ids": None,
                        "batches_failed": self._batches_failed,
                        "deadline_at": deadline_at,
                    }
                )
            )
        stopped = fatal is not None or self._batches_failed > 0
        if stopped and inp.operation == "push" and workflow.patched(SETTLE_LOST):
            # Creates whose answer was lost in campaigns the run never finished must not stay
            # live and unmapped; if looking for them fails, the run says so.
            reason = fatal or "a batch of the sync failed"
            try:
                problem = None
                for target in self._targets(inp, platform):
                    on_target = inp.model_copy(
                        update={
                            "platform": target.platform,
                            "platform_task_queue": target.task_queue,
                        }
                    )
                    problem = problem or await _settled(
                        settle_lost_creates(on_target, run_id, reason)
                    )
            except asyncio.CancelledError:  # cancelled meanwhile: still finish, then stop
                problem, cancelled = "cancelled while looking for lost creates", True
            if problem is not None:
                fatal = f"{fatal}; {problem}" if fatal else problem
        final = await workflow.execute_activity(
            FINISH_SET_SYNC,
            SyncFinishInput(
                tenant_id=inp.tenant_id,
                set_id=inp.set_id,
                run_id=run_id,
                workflow_id=info.workflow_id,
                operation=inp.operation,
                trigger=inp.trigger,
                fatal_error=fatal,
                targets=totals.targets,
            ),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=FINISH_RETRY,
            result_type=SyncTotals,
            summary=f"finish the set's {inp.operation}",
        )
        final.targets = totals.targets
        self._show(final)
        self._progress.status = final.status
        if cancelled:
            raise asyncio.CancelledError()
        if fatal:
            raise failure(fatal_type, fatal, non_retryable=True)
        return final

    @staticmethod
    def _multi(inp: SyncSetInput) -> bool:
        """Several targets: every campaign goes to each of them (a new run's command sequence,
        behind its patch)."""
        return len(inp.targets) > 1 and workflow.patched(MULTI_TARGET)

    def _targets(self, inp: SyncSetInput, platform: str) -> list[SyncTarget]:
        """The targets this run pushes to (one: the set's platform)."""
        if inp.targets and len(inp.targets) > 1:
            return list(inp.targets)
        return [SyncTarget(platform=platform, task_queue=inp.platform_task_queue)]

    async def _run_window(
        self,
        inp: SyncSetInput,
        run_id: str,
        platform: str,
        cursor: str | None,
        totals: SyncTotals,
    ) -> tuple[str | None, bool]:
        """Page the run's campaigns from Postgres and start a child per page, never more than
        `window` at once; fold in their results. Returns the cursor, and whether campaigns are
        left for the next run (continue-as-new)."""
        running: set[asyncio.Task[BatchResult]] = set()
        try:
            return await self._fill_window(inp, run_id, platform, cursor, totals, running)
        except asyncio.CancelledError:
            if running and workflow.patched(SETTLE_LOST):
                # Stop means stop: each batch ends its in-flight calls (recording what they
                # made) before the run looks for lost creates and closes.
                for task in running:
                    task.cancel()
                await workflow.wait(running)
            raise

    async def _fill_window(
        self,
        inp: SyncSetInput,
        run_id: str,
        platform: str,
        cursor: str | None,
        totals: SyncTotals,
        running: set[asyncio.Task[BatchResult]],
    ) -> tuple[str | None, bool]:
        info = workflow.info()
        fatal: str | None = None
        started = 0

        def collect(done: set[asyncio.Task[BatchResult]]) -> None:
            nonlocal fatal
            for task in done:
                try:
                    result = task.result()
                except ChildWorkflowError as err:
                    # Its campaigns have no outcome: `finish` marks them failed with this.
                    workflow.logger.warning("a batch of the sync failed: %s", _message(err))
                    self._batches_failed += 1
                    continue
                for outcome in result.outcomes:
                    totals.add(outcome)
                for target, error in result.target_errors.items():
                    totals.targets.setdefault(target, TargetTotals()).error = error
                fatal = fatal or result.fatal_error
            self._show(totals, batches_running=len(running))

        exhausted = False
        while fatal is None and started < inp.max_batches_per_run:
            if len(inp.targets) > 1 and all(
                totals.targets.get(t.platform, TargetTotals()).error for t in inp.targets
            ):
                fatal = "; ".join(
                    f"{t.platform}: {totals.targets[t.platform].error}" for t in inp.targets
                )
                break
            if len(running) >= inp.window:
                done, _ = await workflow.wait(running, return_when=asyncio.FIRST_COMPLETED)
                running -= set(done)
                collect(set(done))
                continue
            page = await bookkeeping(
                NEXT_CAMPAIGN_PAGE,
                CampaignPageInput(
                    tenant_id=inp.tenant_id, run_id=run_id, after=cursor, limit=inp.batch_size
                ),
                CampaignPage,
            )
            if not page.campaign_ids:
                exhausted = True
                break
            cursor = page.campaign_ids[-1]
            child = workflow.execute_child_workflow(
                SyncCampaignBatchWorkflow.run,
                CampaignBatchInput(
                    tenant_id=inp.tenant_id,
                    set_id=inp.set_id,
                    platform=platform,
                    operation=inp.operation,
                    run_id=run_id,
                    campaign_ids=page.campaign_ids,
                    platform_task_queue=inp.platform_task_queue,
                    activity_timeout_seconds=inp.activity_timeout_seconds,
                    call_max_attempts=inp.call_max_attempts,
                    retry_initial_seconds=inp.retry_initial_seconds,
                    # Several targets: those still going (a stopped one sits out the rest).
                    targets=[
                        t
                        for t in inp.targets
                        if not (t.platform in totals.targets and totals.targets[t.platform].error)
                    ]
                    if len(inp.targets) > 1
                    else [],
                ),
                # Unique per run and page (the first run id survives continue-as-new).
                id=f"{info.workflow_id}-{run_id[:8]}-batch-{inp.batches_started + started}",
                static_summary=(
                    f"{inp.operation.capitalize()} batch {inp.batches_started + started + 1}: "
                    f"{len(page.campaign_ids)} campaigns"
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
            started += 1
            self._show(totals, batches_running=len(running))
        if running:
            done, _ = await workflow.wait(running)
            collect(set(done))
        if fatal:
            raise _Fatal(fatal)
        return cursor, not exhausted

    def _show(self, totals: SyncTotals, batches_running: int = 0) -> None:
        self._progress.synced = totals.synced
        self._progress.failed = totals.failed
        self._progress.held = totals.held
        self._progress.skipped = totals.skipped
        self._progress.total = totals.total
        self._progress.batches_running = batches_running
        self._progress.targets = {k: v.model_copy() for k, v in totals.targets.items()}


@workflow.defn(sandboxed=False)
class SyncCampaignBatchWorkflow:
    """One page of a set's campaigns, pushed concurrently; one outcome each, always recorded
    (whatever fails, short of the whole sync being stopped)."""

    def __init__(self) -> None:
        self._stopping = False  # cancelled: calls in flight end, no new one starts
        self._target_errors: dict[str, str] = {}  # several targets: one that must stop

    @workflow.run
    async def run(self, inp: CampaignBatchInput) -> BatchResult:
        self._inp = inp
        tasks = [asyncio.ensure_future(self._campaign(cid)) for cid in inp.campaign_ids]
        result = BatchResult()
        try:
            await workflow.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        except asyncio.CancelledError:
            if workflow.patched(SETTLE_LOST):
                # Stop means stop: every in-flight call ends (and records what it made) before
                # the run looks for lost creates, and no campaign goes on to its children.
                self._stopping = True
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            failed = [
                t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None
            ]
            if failed:  # only `_Fatal` escapes `_campaign`: stop the others
                self._stopping = workflow.patched(SETTLE_LOST)
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
        result.target_errors = dict(self._target_errors)
        return result

    async def _campaign(self, campaign_id: str) -> CampaignOutcome:
        inp = self._inp
        if inp.targets:
            return await self._campaign_on_targets(campaign_id)
        platform_id: str | None = None
        try:
            pushed = await self._push("campaign", campaign_id)
            platform_id = pushed.platform_id
            held = pushed.action == "held"
            if inp.operation == "push" and pushed.action != "deleted":
                groups = await _gather(
                    [self._ad_group(g.ad_group_id, g.ads) for g in pushed.ad_groups]
                )
                held = held or any(groups)
            status: CampaignOutcomeStatus = (
                "held" if held else "skipped" if pushed.action == "skipped" else "synced"
            )
            outcome = CampaignOutcome(
                campaign_id=campaign_id, status=status, platform_id=platform_id
            )
        except _EntityFailed as failed:
            if _error_type(failed.cause) == Failure.REAUTH_REQUIRED:
                raise _Fatal(str(failed)) from None
            outcome = _failed(campaign_id, platform_id, str(failed), failed.entity_type,
                              failed.entity_id)  # fmt: skip
        except (_Fatal, asyncio.CancelledError):
            raise
        except Exception as err:  # a bug: this campaign fails with the reason, others go on
            message = f"unexpected error: {type(err).__name__}: {err}"
            outcome = _failed(campaign_id, platform_id, message, "campaign", campaign_id)
        if self._stopping:  # the run settles what this campaign left
            raise asyncio.CancelledError()
        if outcome.error and inp.operation == "push" and workflow.patched(SETTLE_LOST):
            # A create of this campaign whose answer was lost must not stay live and unmapped.
            reason = f"campaign {campaign_id} failed: {outcome.error.message}"
            problem = await _settled(
                settle_lost_creates(inp, inp.run_id or "", reason, [campaign_id])
            )
            if problem is not None:
                joined = f"{outcome.error.message}; {problem}"[:MAX_ERROR_CHARS]
                outcome.error.message = joined
        await bookkeeping(
            RECORD_CAMPAIGN_OUTCOME,
            CampaignOutcomeInput(
                tenant_id=inp.tenant_id,
                platform=inp.platform,
                campaign_id=campaign_id,
                status=outcome.status,
                error=outcome.error.message if outcome.error else None,
                run_id=inp.run_id,
            ),
            type(None),
            summary=f"record campaign {campaign_id}: {outcome.status}",
        )
        return outcome

    async def _campaign_on_targets(self, campaign_id: str) -> CampaignOutcome:
        """Several targets: the campaign's tree goes to each at once, each on its platform's
        queue; one target's failure (its platform down, its account to reconnect) is that
        target's outcome, never the others'. The campaign's one outcome: failed if it failed
        on any target (the error names each), else held if held on any, else synced."""
        inp = self._inp
        results = await asyncio.gather(
            *[self._on_target(campaign_id, target) for target in inp.targets],
            return_exceptions=True,
        )
        outcomes: list[TargetOutcome] = []
        for target, result in zip(inp.targets, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, BaseException):  # a bug: this target fails with the reason
                message = f"unexpected error: {type(result).__name__}: {result}"
                result = TargetOutcome(platform=target.platform, status="failed", error=message)
            outcomes.append(result)
        if self._stopping:  # the run settles what this campaign left
            raise asyncio.CancelledError()
        failed = [o for o in outcomes if o.status == "failed"]
        for bad in failed if inp.operation == "push" else []:
            # A create of this campaign whose answer was lost must not stay live and unmapped.
            target = next(t for t in inp.targets if t.platform == bad.platform)
            reason = f"campaign {campaign_id} failed on {bad.platform}: {bad.error}"
            on_target = inp.model_copy(
                update={"platform": target.platform, "platform_task_queue": target.task_queue}
            )
            problem = await _settled(
                settle_lost_creates(on_target, inp.run_id or "", reason, [campaign_id])
            )
            if problem is not None:
                bad.error = f"{bad.error}; {problem}"[:MAX_ERROR_CHARS]
        statuses = {o.status for o in outcomes}
        status: CampaignOutcomeStatus = next(
            (s for s in ("failed", "held", "synced") if s in statuses), "skipped"
        )
        error = "; ".join(f"{o.platform}: {o.error}" for o in failed)[:MAX_ERROR_CHARS] or None
        await bookkeeping(
            RECORD_CAMPAIGN_OUTCOME,
            CampaignOutcomeInput(
                tenant_id=inp.tenant_id,
                platform=inp.platform,
                campaign_id=campaign_id,
                status=status,
                error=error,
                run_id=inp.run_id,
                targets=outcomes,
            ),
            type(None),
            summary=f"record campaign {campaign_id}: {status} on {len(outcomes)} targets",
        )
        first_error = failed[0] if failed else None
        return CampaignOutcome(
            campaign_id=campaign_id,
            status=status,
            error=SyncError(campaign_id=campaign_id, message=error or "failed")
            if first_error
            else None,
            targets=outcomes,
        )

    async def _on_target(self, campaign_id: str, target: SyncTarget) -> TargetOutcome:
        """One campaign's tree on one target."""
        inp = self._inp
        try:
            pushed = await self._push("campaign", campaign_id, target)
            held = pushed.action == "held"
            if inp.operation == "push" and pushed.action != "deleted":
                groups = await _gather(
                    [self._ad_group(g.ad_group_id, g.ads, target) for g in pushed.ad_groups]
                )
                held = held or any(groups)
        except _EntityFailed as failed:
            message = f"{failed.entity_type.replace('_', ' ')} {failed.entity_id}: {failed}"
            if _error_type(failed.cause) == Failure.REAUTH_REQUIRED:
                self._target_errors[target.platform] = str(failed)
            return TargetOutcome(platform=target.platform, status="failed", error=message)
        status: CampaignOutcomeStatus = (
            "held" if held else "skipped" if pushed.action == "skipped" else "synced"
        )
        return TargetOutcome(platform=target.platform, status=status)

    async def _ad_group(
        self, ad_group_id: str, ads: list[AdChild], target: SyncTarget | None = None
    ) -> bool:
        """Whether the ad group is held back by a conflict (its ads still go)."""
        pushed = await self._push("ad_group", ad_group_id, target)
        if pushed.action != "deleted":
            await _gather([self._ad(ad, target) for ad in ads])
        return pushed.action == "held"

    async def _ad(self, ad: AdChild, target: SyncTarget | None = None) -> None:
        if ad.needs_post:
            await self._push("post", ad.ad_id, target)
        await self._push("ad", ad.ad_id, target)

    async def _push(
        self, entity_type: PushEntityType, entity_id: str, target: SyncTarget | None = None
    ) -> PushEntityResult:
        """One platform call: on `target`, else on the run's one platform."""
        inp = self._inp
        platform = target.platform if target else inp.platform
        queue = target.task_queue if target else inp.platform_task_queue
        if self._stopping:
            raise asyncio.CancelledError()
        try:
            pushed = await workflow.execute_activity(
                PUSH_ENTITY,
                PushEntityInput(
                    tenant_id=inp.tenant_id,
                    platform=platform,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    operation=inp.operation,
                    set_id=inp.set_id,
                ),
                task_queue=task_queue_for(queue, entity_type),
                start_to_close_timeout=timedelta(seconds=inp.activity_timeout_seconds),
                retry_policy=platform_retry(inp),
                # Cancelled, a call still in flight ends (and records what it made) first.
                cancellation_type=STOPPED
                if workflow.patched(SETTLE_LOST)
                else workflow.ActivityCancellationType.TRY_CANCEL,
                result_type=PushEntityResult,
                summary=(
                    f"{inp.operation} {entity_type.replace('_', ' ')} {entity_id} "
                    f"on {platform.capitalize()}"
                ),
            )
        except ActivityError as err:
            if self._stopping:
                raise asyncio.CancelledError() from err
            raise _EntityFailed(entity_type, entity_id, err) from err
        if self._stopping:  # it ended after the cancel (and recorded what it made): stop here
            raise asyncio.CancelledError()
        return pushed


async def _settled(settling: Awaitable[LostCreatesResult]) -> str | None:
    """None when the lost creates were settled, else why not (the run records it)."""
    try:
        result = await settling
    except ActivityError as err:
        return f"looking for objects whose create answer was lost failed: {_message(err)}"
    if result.found or result.not_created:
        workflow.logger.info(
            "lost creates: %d found and mapped, %d not created", result.found, result.not_created
        )
    return None


async def _gather(awaitables: list) -> list[Any]:  # type: ignore[type-arg]
    """Run siblings concurrently; the first failure wins after all have settled (an ad group's
    failure must not leave its siblings' creates unrecorded)."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _failed(
    campaign_id: str, platform_id: str | None, message: str, entity_type: str, entity_id: str
) -> CampaignOutcome:
    return CampaignOutcome(
        campaign_id=campaign_id,
        status="failed",
        platform_id=platform_id,
        error=SyncError(
            campaign_id=campaign_id,
            message=message[:MAX_ERROR_CHARS],
            entity_type=entity_type,
            entity_id=entity_id,
        ),
    )


def _as_failure(kind: str | None) -> Failure:
    known = {str(f) for f in Failure}
    return Failure(kind) if kind is not None and kind in known else Failure.SYNC_FAILED


def _error_type(err: BaseException) -> str | None:
    while isinstance(err, (ActivityError, ChildWorkflowError)) and err.cause is not None:
        err = err.cause
    return err.type if isinstance(err, ApplicationError) else None


def _message(err: BaseException) -> str:
    while isinstance(err, (ActivityError, ChildWorkflowError)) and err.cause is not None:
        err = err.cause
    return str(err)
