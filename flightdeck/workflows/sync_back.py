"""Scheduled bidirectional sync (seed 002 §6).

    SyncBackWorkflow   (Temporal Schedule `sync-back`, every 15 min, overlap skip; or
                        `POST /api/v1/sync-back/run` for one tenant)
      list the connected accounts with synced entities ─► per account: poll the platform's
      list endpoints and compare three ways (base = the snapshot of the last sync) ─►
      take platform-only changes locally, mark platform deletions, open conflicts ─►
      a ConflictWorkflow per conflicted entity (started by one activity, not as children)

    ConflictWorkflow   (id `conflict-{entityType}-{entityId}`)
      holds the conflict, answers `state`, waits for the `resolve` update (validated: an
      unknown, stale or invalid resolution is rejected before anything is written), applies
      it (use_local pushes the local value; use_platform writes the platform's locally) and
      escalates once (alert + audit) if nobody answers in time — then keeps waiting.

Local stays the source of truth for what Flightdeck pushes: the sync-back never writes to the
platform; only a resolution does.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        APPLY_CONFLICT_RESOLUTION,
        ESCALATE_CONFLICT,
        LIST_SYNC_BACK_ACCOUNTS,
        START_CONFLICT_WORKFLOWS,
        SYNC_BACK_ACCOUNT,
    )
    from flightdeck.domain.sync_back_io import (
        RESOLUTIONS,
        AccountList,
        ApplyResolutionInput,
        ConflictInput,
        ConflictRef,
        ConflictState,
        EscalateInput,
        ResolutionResult,
        ResolveConflict,
        StartConflictsInput,
        SyncBackAccountInput,
        SyncBackAccountResult,
        SyncBackInput,
        SyncBackResult,
    )
    from flightdeck.failures import NON_RETRYABLE, Failure, failure
    from flightdeck.temporal import PLATFORM, TENANT_ID, conflict_workflow_id

READ_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=5,
    non_retryable_error_types=NON_RETRYABLE,
)


def read_retry(initial_seconds: float) -> RetryPolicy:
    """READ_RETRY, its first delay from the run's input (`sync_retry_initial_seconds`)."""
    return dataclasses.replace(READ_RETRY, initial_interval=timedelta(seconds=initial_seconds))


BOOKKEEPING_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=20)
SYNC_BACK_HEARTBEAT = timedelta(seconds=30)
# Conflicts' workflows are started by an activity, no longer as child workflows.
CONFLICTS_STARTED_BY_ACTIVITY = "conflicts-started-by-activity"


@workflow.defn
class SyncBackWorkflow:
    @workflow.run
    async def run(self, inp: SyncBackInput) -> SyncBackResult:
        accounts = await workflow.execute_activity(
            LIST_SYNC_BACK_ACCOUNTS,
            inp,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=BOOKKEEPING_RETRY,
            result_type=AccountList,
            summary="list the connected accounts to read back",
        )
        result = SyncBackResult(accounts=len(accounts.accounts))
        cycle_id = workflow.info().workflow_id
        for account in accounts.accounts:
            try:
                polled = await workflow.execute_activity(
                    SYNC_BACK_ACCOUNT,
                    SyncBackAccountInput(
                        tenant_id=account.tenant_id,
                        ad_account_id=account.ad_account_id,
                        platform=inp.platform,
                        cycle_id=cycle_id,
                        trigger=inp.trigger,
                        max_delete_share=inp.max_delete_share,
                        delete_hold_minimum=inp.delete_hold_minimum,
                    ),
                    task_queue=inp.read_task_queue,
                    start_to_close_timeout=timedelta(minutes=10),
                    # It heartbeats per page read and while comparing: a lost worker shows
                    # within this, not after the 10 minutes, and cancellation reaches it.
                    heartbeat_timeout=SYNC_BACK_HEARTBEAT,
                    retry_policy=read_retry(inp.read_retry_initial_seconds),
                    result_type=SyncBackAccountResult,
                    summary=f"read back Reddit account {account.ad_account_id}",
                )
            except ActivityError:
                # One account's trouble (e.g. it must be reconnected) must not stop the others;
                # its run row says what happened.
                result.failed_accounts.append(account.ad_account_id)
                continue
            result.api_calls += polled.api_calls
            result.rows_changed += polled.rows_changed
            result.deleted_on_platform += polled.deleted_on_platform
            result.deletions_held += polled.deletions_held
            result.entity_problems += polled.entity_problems
            result.statements += polled.statements
            result.poll_seconds += polled.poll_seconds
            result.compare_seconds += polled.compare_seconds
            starting = workflow.time()
            result.conflicts_opened += await self._start_conflicts(
                inp, account.tenant_id, polled.conflicts
            )
            result.conflict_start_seconds += workflow.time() - starting
        return result

    async def _start_conflicts(
        self, inp: SyncBackInput, tenant_id: str, conflicts: list[ConflictRef]
    ) -> int:
        """Each new conflict's ConflictWorkflow, started by one activity (client starts,
        concurrent and bounded): as child workflows, hundreds of starts were hundreds of
        history events and workflow-task round trips, and a cycle of more than 2,000 conflicts
        would have hit the pending-children limit. Runs recorded before keep their children."""
        if not workflow.patched(CONFLICTS_STARTED_BY_ACTIVITY):
            # Started together: hundreds of conflicts must not cost hundreds of round trips.
            started = await asyncio.gather(
                *(self._start_conflict(inp, tenant_id, c) for c in conflicts)
            )
            return sum(started)
        if not conflicts:
            return 0
        return await workflow.execute_activity(
            START_CONFLICT_WORKFLOWS,
            StartConflictsInput(
                tenant_id=tenant_id,
                platform=inp.platform,
                conflicts=conflicts,
                escalate_after_seconds=inp.escalate_after_seconds,
                write_task_queue=inp.write_task_queue,
            ),
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=SYNC_BACK_HEARTBEAT,
            retry_policy=BOOKKEEPING_RETRY,
            result_type=int,
            summary=f"start {len(conflicts)} conflict workflows",
        )

    async def _start_conflict(
        self, inp: SyncBackInput, tenant_id: str, conflict: ConflictRef
    ) -> bool:
        started = ConflictInput.of(
            tenant_id, conflict, inp.escalate_after_seconds, inp.write_task_queue
        )
        try:
            await workflow.start_child_workflow(
                ConflictWorkflow.run,
                started,
                id=conflict_workflow_id(conflict.entity_type, conflict.entity_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=started.summary,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(TENANT_ID, tenant_id),
                        SearchAttributePair(PLATFORM, "reddit"),
                    ]
                ),
            )
        except WorkflowAlreadyStartedError:
            return False  # the entity's conflict is already waiting for a person
        return True


# Outside the sandbox: a cycle starts hundreds at once, and the sandbox's per-instance set-up
# cost the worker ~18 ms of CPU each (350 conflicts: 6.4 s, profiled in bench/sync_back.py)
# beside the cycle's own work. Its code is workflow APIs only (timers, activities, a lock):
# nothing the sandbox would catch; replay tests still check it (tests/workflows/test_replay.py).
@workflow.defn(sandboxed=False)
class ConflictWorkflow:
    @workflow.init
    def __init__(self, inp: ConflictInput) -> None:
        # Set before any handler runs: a resolution can arrive with the first workflow task
        # (a person answering while a busy worker has not run it yet), and its validator
        # must know the conflict then, not answer "still being set up".
        self._input: ConflictInput | None = inp
        self._state: ConflictState | None = ConflictState(
            conflict_id=inp.conflict_id, entity_type=inp.entity_type, entity_id=inp.entity_id
        )
        self._result: ResolutionResult | None = None
        self._lock = asyncio.Lock()

    @workflow.query
    def state(self) -> ConflictState | None:
        return self._state

    @workflow.update
    async def resolve(self, request: ResolveConflict) -> ResolutionResult:
        """Accepted once the validator passed (the API answers 202 then); the push runs here,
        in the background of the request. A failed push leaves the conflict open, with the
        reason in `state.error`, for another resolution."""
        async with self._lock:
            if self._result is not None:  # a concurrent duplicate got here first
                return self._result
            assert self._input is not None and self._state is not None
            self._state.status = "resolving"
            self._state.resolution = request.resolution  # type: ignore[assignment]
            self._state.error = None
            try:
                result = await workflow.execute_activity(
                    APPLY_CONFLICT_RESOLUTION,
                    ApplyResolutionInput(
                        tenant_id=self._input.tenant_id,
                        conflict_id=request.conflict_id,
                        resolution=request.resolution,  # type: ignore[arg-type]  # validated
                    ),
                    task_queue=self._input.write_task_queue,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=READ_RETRY,
                    result_type=ResolutionResult,
                    summary=(
                        f"apply {request.resolution} to {self._input.entity_type} "
                        f"{self._input.entity_id}"
                    ),
                )
            except ActivityError as exc:
                self._state.status = "open"
                self._state.resolution = None
                self._state.error = str(exc.cause or exc)
                raise failure(Failure.INVALID_STATE, self._state.error) from None
            self._result = result
            self._state.status = "resolved"
            self._state.resolution = result.resolution
            self._state.result = result
            return result

    @resolve.validator
    def _validate(self, request: ResolveConflict) -> None:
        """Rejected before anything is written to history: the API answers with a 4xx."""
        if request.resolution not in RESOLUTIONS:
            raise failure(
                Failure.INVALID_REQUEST, f"resolution must be one of {', '.join(RESOLUTIONS)}"
            )
        state = self._state
        if state is None:
            raise failure(Failure.STALE, "the conflict is still being set up; try again")
        if request.conflict_id != state.conflict_id:
            raise failure(
                Failure.STALE, f"conflict {request.conflict_id} is not this entity's open one"
            )
        if state.status != "open" or self._lock.locked():
            raise failure(Failure.STALE, f"conflict {state.conflict_id} is already being resolved")

    @workflow.run
    async def run(self, inp: ConflictInput) -> ConflictState:
        assert self._state is not None  # set by __init__, maybe already resolving
        try:
            await workflow.wait_condition(
                lambda: self._result is not None,
                timeout=timedelta(seconds=inp.escalate_after_seconds),
            )
        except TimeoutError:
            await workflow.execute_activity(
                ESCALATE_CONFLICT,
                EscalateInput(
                    tenant_id=inp.tenant_id,
                    conflict_id=inp.conflict_id,
                    waited_seconds=inp.escalate_after_seconds,
                ),
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=BOOKKEEPING_RETRY,
                summary="escalate the unresolved conflict",
            )
            self._state.escalated = True
            await workflow.wait_condition(lambda: self._result is not None)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._state
