"""An action on a platform that runs only after approval (seed 004; ARCHITECTURE decision 7).

    ApplyActionWorkflow   (id `action-{tenantId}-{actionId}`)
      prepare ─► autonomous and inside the guardrails? approved by ai_autonomous at once
              ─► else wait for the `approve` or `reject` update, at most until `expires_at`
                 (a durable timer: expired → nothing touches the platform)
      approved ─► per campaign, on the platform's write queue: read, refuse if stale, change,
                  read back ─► finish (ai_actions_log, recommendation, audit)

The `approve` update's validator refuses — before anything is written to history — a caller
below the `approver` role, an action already decided or expired, and an action whose campaign
is no longer in the state it assumed (`observed`, read from the platform by the API just now,
differs from `previous_state`). The step checks the platform once more right before writing.
A REALLOCATE changes several campaigns; if one fails, the ones already changed are put back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        ACTIONS_EXECUTE_STEP,
        ACTIONS_FINISH,
        ACTIONS_PREPARE,
    )
    from flightdeck.domain.actions import AI_AUTONOMOUS, differences
    from flightdeck.domain.metrics_io import (
        ActionOutcome,
        ActionWorkflowState,
        ApplyActionInput,
        ApprovalRequest,
        FinishActionInput,
        PrepareActionInput,
        PreparedAction,
        RejectRequest,
        StepInput,
        StepResult,
    )
    from flightdeck.domain.users import role_at_least
    from flightdeck.failures import NON_RETRYABLE, Failure, failure, failure_message, failure_type

BOOKKEEPING = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=20)
WRITE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=8,
    non_retryable_error_types=[*NON_RETRYABLE, Failure.STALE],
)


@workflow.defn
class ApplyActionWorkflow:
    def __init__(self) -> None:
        self._status = "preparing"
        self._expires_at: datetime | None = None
        self._prepared: PreparedAction | None = None
        self._decision: ApprovalRequest | RejectRequest | None = None
        self._approved_at: datetime | None = None
        self._outcome: ActionOutcome | None = None

    @workflow.run
    async def run(self, inp: ApplyActionInput) -> ActionOutcome:
        self._expires_at = inp.expires_at
        prepared = await workflow.execute_activity(
            ACTIONS_PREPARE,
            PrepareActionInput(
                tenant_id=inp.tenant_id, action_id=inp.action_id, autonomous=inp.autonomous
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=BOOKKEEPING,
            result_type=PreparedAction,
            summary="read the campaign's live state",
        )
        self._prepared = prepared
        if prepared.status not in ("pending_approval", "approved"):
            return await self._finish(inp, "failed", f"the action is already {prepared.status}")
        approver = AI_AUTONOMOUS if prepared.auto_approved else None
        if approver is None:
            self._status = "waiting"
            remaining = inp.expires_at - workflow.now()
            try:
                await workflow.wait_condition(
                    lambda: self._decision is not None,
                    timeout=max(remaining, timedelta(seconds=1)),
                )
            except TimeoutError:
                return await self._finish(
                    inp, "expired", "nobody approved the action in time: nothing was changed"
                )
            decision = self._decision
            if isinstance(decision, RejectRequest):
                reason = f": {decision.reason}" if decision.reason else ""
                return await self._finish(
                    inp, "rejected", f"rejected by {decision.actor}{reason}",
                    decided_by=decision.actor, user_id=decision.user_id,
                )  # fmt: skip
            assert isinstance(decision, ApprovalRequest)
            approver = decision.actor
        self._status = "executing"
        return await self._execute(inp, prepared, approver)

    async def _execute(
        self, inp: ApplyActionInput, prepared: PreparedAction, approver: str
    ) -> ActionOutcome:
        done: list[StepResult] = []
        for campaign_id, platform in prepared.campaigns:
            assumed, wanted = _step_states(prepared, campaign_id)
            try:
                done.append(await self._step(inp, platform, campaign_id, assumed, wanted))
            except ActivityError as err:
                kind = "stale" if failure_type(err) == Failure.STALE else "failed"
                message = failure_message(err)
                if done:
                    message += await self._undo(inp, prepared, done)
                return await self._finish(inp, kind, message, approved_by=approver)
        new_state: dict[str, Any] = (
            {"campaigns": {r.campaign_id: r.after for r in done}}
            if prepared.action_type == "REALLOCATE"
            else done[0].after
        )
        executed_by = AI_AUTONOMOUS if approver == AI_AUTONOMOUS else approver
        return await self._finish(
            inp, "executed", "changed on the platform and read back",
            executed_by=executed_by, approved_by=approver, new_state=new_state,
        )  # fmt: skip

    async def _step(
        self,
        inp: ApplyActionInput,
        platform: str,
        campaign_id: str,
        assumed: dict[str, Any],
        wanted: dict[str, Any],
        compensating: bool = False,
    ) -> StepResult:
        return await workflow.execute_activity(
            ACTIONS_EXECUTE_STEP,
            StepInput(
                tenant_id=inp.tenant_id,
                action_id=inp.action_id,
                campaign_id=campaign_id,
                assumed=assumed,
                wanted=wanted,
                compensating=compensating,
            ),
            task_queue=inp.write_queues[platform],
            start_to_close_timeout=timedelta(seconds=inp.activity_timeout_seconds),
            schedule_to_close_timeout=timedelta(minutes=30),
            retry_policy=WRITE_RETRY,
            result_type=StepResult,
            summary=(
                f"{'restore' if compensating else 'change'} {platform} campaign "
                f"{campaign_id}: {wanted}"
            ),
        )

    async def _undo(
        self, inp: ApplyActionInput, prepared: PreparedAction, done: list[StepResult]
    ) -> str:
        """Put back the campaigns a failed reallocation already changed."""
        platforms = dict(prepared.campaigns)
        failed = []
        for result in reversed(done):
            restore = {k: result.before[k] for k in ("status", "budgetAmount")}
            try:
                await self._step(
                    inp, platforms[result.campaign_id], result.campaign_id, result.after,
                    restore, compensating=True,
                )  # fmt: skip
            except ActivityError:
                failed.append(result.campaign_id)
        if failed:
            return f"; could not restore {', '.join(failed)}: check them"
        return f"; the {len(done)} campaign(s) already changed were restored"

    async def _finish(
        self, inp: ApplyActionInput, status: str, outcome: str, **values: Any
    ) -> ActionOutcome:
        if status == "executed" and self._approved_at is not None:
            values["approved_at"] = self._approved_at
        elif status == "executed":
            values["approved_at"] = workflow.now()
        self._outcome = await workflow.execute_activity(
            ACTIONS_FINISH,
            FinishActionInput(
                tenant_id=inp.tenant_id,
                action_id=inp.action_id,
                status=status,  # type: ignore[arg-type]
                outcome=outcome,
                **values,
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=BOOKKEEPING,
            result_type=ActionOutcome,
            summary="record the outcome",
        )
        self._status = "done"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._outcome

    # -- people ---------------------------------------------------------------------------------

    @workflow.query
    def state(self) -> ActionWorkflowState:
        assert self._expires_at is not None
        return ActionWorkflowState(
            status=self._status,  # type: ignore[arg-type]
            expires_at=self._expires_at,
            outcome=self._outcome,
        )

    @workflow.update
    async def approve(self, request: ApprovalRequest) -> ActionOutcome:
        self._decision = request
        self._approved_at = workflow.now()
        await workflow.wait_condition(lambda: self._outcome is not None)
        assert self._outcome is not None
        return self._outcome

    @approve.validator
    def _validate_approve(self, request: ApprovalRequest) -> None:
        self._check_decision(request.role, "approve")
        assert self._prepared is not None
        stale = differences(self._prepared.previous_state, request.observed)
        if stale:
            raise failure(
                Failure.STALE,
                "the campaign is no longer in the state this action assumed "
                f"({'; '.join(stale)}): propose it again",
            )

    @workflow.update
    async def reject(self, request: RejectRequest) -> ActionOutcome:
        self._decision = request
        await workflow.wait_condition(lambda: self._outcome is not None)
        assert self._outcome is not None
        return self._outcome

    @reject.validator
    def _validate_reject(self, request: RejectRequest) -> None:
        self._check_decision(request.role, "reject")

    def _check_decision(self, role: str, verb: str) -> None:
        if not role_at_least(role, "approver"):
            raise failure(
                Failure.FORBIDDEN, f"only an approver may {verb} an action; you are {role}"
            )
        if self._status != "waiting" or self._decision is not None:
            state = "being prepared" if self._status == "preparing" else "already decided"
            raise failure(Failure.STALE, f"the action is {state}")
        assert self._expires_at is not None
        if workflow.now() >= self._expires_at:
            raise failure(Failure.STALE, "the action has expired")


def _step_states(
    prepared: PreparedAction, campaign_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What one campaign's step assumes and wants."""
    if prepared.action_type == "REALLOCATE":
        previous = (prepared.previous_state.get("campaigns") or {}).get(campaign_id) or {}
        wanted = (prepared.new_state.get("campaigns") or {}).get(campaign_id) or {}
    else:
        previous, wanted = prepared.previous_state, prepared.new_state
    assumed = {k: previous[k] for k in ("status", "budgetAmount") if k in previous}
    return assumed, dict(wanted)
