"""CampaignSetWorkflow: the one workflow per campaign set (`campaign-set-{setId}`) through which
every platform operation on the set passes — sync, pause, resume — strictly one at a time.

The API starts it with **signal-with-start** (`request`), so a request reaches the running
entity or starts it. Each request runs as a child, unchanged:
`SyncCampaignSetWorkflow` under `sync-set-{setId}` (push) or `status-set-{setId}` (pause and
resume) — the ids clients follow as jobs. Requests arriving meanwhile are queued:

- a push while another push waits in the queue joins it (one push covers every edit so far);
- a pause or resume replaces a pause or resume still waiting (the latest intent wins), but
  never jumps ahead of what was asked before it.

The entity continues as new when Temporal suggests it or its history passes
`max_history_events` (the queue travels in the input), and ends once idle for `idle_seconds`;
the next request starts it again. Signals that arrive while it is ending are not lost: the
workflow task that would end it fails, and the replay sees them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from flightdeck.domain.sync import SyncOperation, SyncSetInput, SyncTotals
    from flightdeck.temporal import (
        CAMPAIGN_SET_ID,
        PLATFORM,
        TENANT_ID,
        status_workflow_id,
        sync_workflow_id,
    )
    from flightdeck.workflows.sync_campaign_set import SyncCampaignSetWorkflow


def entity_workflow_id(set_id: object) -> str:
    """The set's entity workflow: all its platform operations, one at a time."""
    return f"campaign-set-{set_id}"


class SetOperationRequest(BaseModel):
    """One sync, pause or resume of the set, with its child's whole input."""

    operation: SyncOperation
    sync: SyncSetInput


class CampaignSetEntityInput(BaseModel):
    tenant_id: str
    set_id: str
    platform: str
    idle_seconds: float = 60.0
    max_history_events: int = 2_000
    # Carried across continue-as-new:
    pending: list[SetOperationRequest] = Field(default_factory=list)
    completed: int = 0


class SetEntityCall(BaseModel):
    """An operation for a set's entity, asked from another workflow (through an activity)."""

    entity: CampaignSetEntityInput
    request: SetOperationRequest


class OperationOutcome(BaseModel):
    operation: SyncOperation
    job_id: str
    status: Literal["completed", "failed", "joined_running"]
    error: str | None = None
    totals: SyncTotals | None = None


class CampaignSetEntityState(BaseModel):
    running: str | None = None  # the job id of the operation in progress
    pending: list[SyncOperation] = Field(default_factory=list)
    completed: int = 0


def _joined(waiting: SetOperationRequest, new: SetOperationRequest) -> SetOperationRequest:
    """One push doing the work of two waiting ones: every campaign either names (a whole-set
    push covers a narrowed one, e.g. the retry sweep's), as a person's request if either is
    (a person's push resets the campaigns' retry counts)."""
    first, second = waiting.sync, new.sync
    if first.campaign_ids is None or second.campaign_ids is None:
        ids = None
    else:
        ids = list(dict.fromkeys(first.campaign_ids + second.campaign_ids))
    trigger = first.trigger if first.trigger != "retry_sweep" else second.trigger
    return waiting.model_copy(
        update={"sync": first.model_copy(update={"campaign_ids": ids, "trigger": trigger})}
    )


def child_id(request: SetOperationRequest) -> str:
    set_id = request.sync.set_id
    return sync_workflow_id(set_id) if request.operation == "push" else status_workflow_id(set_id)


@workflow.defn
class CampaignSetWorkflow:
    def __init__(self) -> None:
        self._pending: list[SetOperationRequest] = []
        self._running: str | None = None
        self._completed = 0

    @workflow.signal
    def request(self, request: SetOperationRequest) -> None:
        if request.operation == "push":
            for i, waiting in enumerate(self._pending):
                if waiting.operation == "push":
                    self._pending[i] = _joined(waiting, request)
                    return
            self._pending.append(request)
            return
        # Pause / resume: the latest intent replaces one still waiting, in its place.
        for i, waiting in enumerate(self._pending):
            if waiting.operation != "push":
                self._pending[i] = request
                return
        self._pending.append(request)

    @workflow.query
    def state(self) -> CampaignSetEntityState:
        return CampaignSetEntityState(
            running=self._running,
            pending=[p.operation for p in self._pending],
            completed=self._completed,
        )

    @workflow.run
    async def run(self, inp: CampaignSetEntityInput) -> int:
        # Requests carried over come first; any signalled with this run's start follow them.
        self._pending = list(inp.pending) + self._pending
        self._completed = inp.completed
        while True:
            if not self._pending:
                try:
                    await workflow.wait_condition(
                        lambda: bool(self._pending), timeout=timedelta(seconds=inp.idle_seconds)
                    )
                except TimeoutError:
                    pass
                if not self._pending:
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    return self._completed
            request = self._pending.pop(0)
            await self._run_one(inp, request)
            self._completed += 1
            info = workflow.info()
            if (
                info.is_continue_as_new_suggested()
                or info.get_current_history_length() >= inp.max_history_events
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    inp.model_copy(
                        update={"pending": list(self._pending), "completed": self._completed}
                    )
                )

    async def _run_one(
        self, inp: CampaignSetEntityInput, request: SetOperationRequest
    ) -> OperationOutcome:
        job_id = child_id(request)
        self._running = job_id
        try:
            totals = await workflow.execute_child_workflow(
                SyncCampaignSetWorkflow.run,
                request.sync,
                id=job_id,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                # No execution timeout: the sync's deadline is a timer inside it (its
                # `deadline_seconds`), so a run that takes too long still ends recorded.
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(TENANT_ID, inp.tenant_id),
                        SearchAttributePair(CAMPAIGN_SET_ID, inp.set_id),
                        SearchAttributePair(PLATFORM, inp.platform),
                    ]
                ),
                static_summary=(
                    f"{request.operation.capitalize()} campaign set "
                    f"{inp.set_id} on {inp.platform.capitalize()}"
                ),
            )
            return OperationOutcome(
                operation=request.operation, job_id=job_id, status="completed", totals=totals
            )
        except WorkflowAlreadyStartedError:
            # A run under this id started outside the entity (the retry sweep's push): it is
            # this request's work too.
            return OperationOutcome(
                operation=request.operation, job_id=job_id, status="joined_running"
            )
        except ChildWorkflowError as err:
            # The child recorded its outcome (set status, audit) itself; the entity goes on.
            cause = err.cause
            return OperationOutcome(
                operation=request.operation,
                job_id=job_id,
                status="failed",
                error=str(cause.message if cause and hasattr(cause, "message") else err),
            )
        finally:
            self._running = None
