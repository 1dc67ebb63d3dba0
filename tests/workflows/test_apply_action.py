"""ApplyActionWorkflow on the time-skipping server, with its activities replaced by fakes that
record what would have touched the platform: an unanswered action expires after its timer and
touches nothing; the approval's validator refuses a viewer, a stale observation and a late
answer before anything is written; autonomous actions inside the guardrails run at once; a
reallocation that fails half-way puts back what it changed."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from flightdeck.activities import names
from flightdeck.domain.metrics_io import (
    ActionOutcome,
    ApplyActionInput,
    ApprovalRequest,
    FinishActionInput,
    PrepareActionInput,
    PreparedAction,
    RejectRequest,
    StepInput,
    StepResult,
)
from flightdeck.failures import Failure, failure, failure_type
from flightdeck.workflows.apply_action import ApplyActionWorkflow

ACTIVE_40 = {"status": "active", "budgetAmount": "40", "budgetType": "daily"}


class FakeActivities:
    def __init__(self, prepared: PreparedAction, fail_step: str | None = None) -> None:
        self.prepared = prepared
        self.fail_step = fail_step
        self.steps: list[StepInput] = []
        self.finished: list[FinishActionInput] = []

    @activity.defn(name=names.ACTIONS_PREPARE)
    async def prepare(self, inp: PrepareActionInput) -> PreparedAction:
        return self.prepared

    @activity.defn(name=names.ACTIONS_EXECUTE_STEP)
    async def step(self, inp: StepInput) -> StepResult:
        self.steps.append(inp)
        if inp.campaign_id == self.fail_step and not inp.compensating:
            raise failure(Failure.PLATFORM_REJECTED, "Reddit refused the budget")
        return StepResult(
            campaign_id=inp.campaign_id,
            before=dict(inp.assumed),
            after={**inp.assumed, **inp.wanted},
        )

    @activity.defn(name=names.ACTIONS_FINISH)
    async def finish(self, inp: FinishActionInput) -> ActionOutcome:
        self.finished.append(inp)
        return ActionOutcome(
            action_id=inp.action_id, status=inp.status, outcome=inp.outcome,
            new_state=inp.new_state, executed_by=inp.executed_by, approved_by=inp.approved_by,
        )  # fmt: skip


def budget_change(**overrides: Any) -> PreparedAction:
    values: dict[str, Any] = {
        "status": "pending_approval",
        "action_type": "BUDGET_CHANGE",
        "platform": "reddit",
        "previous_state": ACTIVE_40,
        "new_state": {"budgetAmount": "48"},
        "campaigns": [("c1", "reddit")],
    }
    return PreparedAction(**(values | overrides))


async def started(
    env: WorkflowEnvironment, fakes: FakeActivities, queue: str, *, autonomous: bool = False
) -> WorkflowHandle[Any, Any]:
    now = await env.get_current_time()
    handle = await env.client.start_workflow(
        ApplyActionWorkflow.run,
        ApplyActionInput(
            tenant_id=str(uuid.uuid4()),
            action_id=str(uuid.uuid4()),
            expires_at=now + timedelta(hours=24),
            autonomous=autonomous,
            write_queues={"reddit": queue},
        ),
        id=f"action-{uuid.uuid4()}",
        task_queue=queue,
    )
    return handle


def worker(env: WorkflowEnvironment, fakes: FakeActivities, queue: str) -> Worker:
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[ApplyActionWorkflow],
        activities=[fakes.prepare, fakes.step, fakes.finish],
    )


async def until_waiting(handle: WorkflowHandle[Any, Any]) -> None:
    for _ in range(200):
        if (await handle.query(ApplyActionWorkflow.state)).status == "waiting":
            return
    raise AssertionError("the workflow never waited for approval")


async def test_an_unanswered_action_expires_and_touches_nothing(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env, fakes, queue = time_skipping_env, FakeActivities(budget_change()), f"q-{uuid.uuid4()}"
    async with worker(env, fakes, queue):
        handle = await started(env, fakes, queue)
        await until_waiting(handle)
        await env.sleep(timedelta(hours=23))
        assert (await handle.query(ApplyActionWorkflow.state)).status == "waiting"
        outcome = await handle.result()  # the 24 h timer fires (time skipped)
    assert outcome.status == "expired"
    assert fakes.steps == []
    assert [f.status for f in fakes.finished] == ["expired"]


async def test_the_validator_refuses_viewers_stale_and_late_approvals(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env, fakes, queue = time_skipping_env, FakeActivities(budget_change()), f"q-{uuid.uuid4()}"
    async with worker(env, fakes, queue):
        handle = await started(env, fakes, queue)
        await until_waiting(handle)
        refusals = (
            (ApprovalRequest(actor="user:v", role="viewer", observed=ACTIVE_40), Failure.FORBIDDEN),
            (ApprovalRequest(actor="user:e", role="editor", observed=ACTIVE_40), Failure.FORBIDDEN),
            (
                ApprovalRequest(
                    actor="user:a", role="approver", observed={**ACTIVE_40, "budgetAmount": "45"}
                ),
                Failure.STALE,
            ),
        )
        for request, expected in refusals:
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(ApplyActionWorkflow.approve, request)
            assert failure_type(refused.value) == expected
        assert fakes.steps == [] and fakes.finished == []
        # A refused update leaves no trace in history: the action is still waiting.
        assert (await handle.query(ApplyActionWorkflow.state)).status == "waiting"

        outcome = await handle.execute_update(
            ApplyActionWorkflow.approve,
            ApprovalRequest(actor="user:a", role="approver", observed=dict(ACTIVE_40)),
        )
        assert outcome.status == "executed" and outcome.approved_by == "user:a"
        late = RejectRequest(actor="user:b", role="admin")
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # decided: the run is over
            await handle.execute_update(ApplyActionWorkflow.reject, late)
    assert [s.wanted for s in fakes.steps] == [{"budgetAmount": "48"}]
    assert fakes.steps[0].assumed == {"status": "active", "budgetAmount": "40"}
    (finished,) = fakes.finished
    assert finished.status == "executed" and finished.executed_by == "user:a"
    assert finished.approved_at is not None


async def test_an_expired_action_cannot_be_approved(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env, fakes, queue = time_skipping_env, FakeActivities(budget_change()), f"q-{uuid.uuid4()}"
    async with worker(env, fakes, queue):
        handle = await started(env, fakes, queue)
        await until_waiting(handle)
        await handle.result()
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # the run is closed
            await handle.execute_update(
                ApplyActionWorkflow.approve,
                ApprovalRequest(actor="user:a", role="approver", observed=ACTIVE_40),
            )
    assert fakes.steps == []


async def test_an_autonomous_action_inside_the_guardrails_runs_at_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    prepared = budget_change(status="approved", auto_approved=True)
    env, fakes, queue = time_skipping_env, FakeActivities(prepared), f"q-{uuid.uuid4()}"
    async with worker(env, fakes, queue):
        outcome = await (await started(env, fakes, queue, autonomous=True)).result()
    assert outcome.status == "executed" and outcome.executed_by == "ai_autonomous"
    assert len(fakes.steps) == 1


async def test_a_failed_reallocation_puts_back_what_it_changed(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    prepared = budget_change(
        action_type="REALLOCATE",
        platform="multi",
        previous_state={"campaigns": {"a": ACTIVE_40, "b": ACTIVE_40}},
        new_state={"campaigns": {"a": {"budgetAmount": "32"}, "b": {"budgetAmount": "48"}}},
        campaigns=[("a", "reddit"), ("b", "reddit")],
    )
    env, fakes, queue = (
        time_skipping_env,
        FakeActivities(prepared, fail_step="b"),
        f"q-{uuid.uuid4()}",
    )
    async with worker(env, fakes, queue):
        handle = await started(env, fakes, queue)
        await until_waiting(handle)
        outcome = await handle.execute_update(
            ApplyActionWorkflow.approve,
            ApprovalRequest(
                actor="user:a", role="approver",
                observed={"campaigns": {"a": ACTIVE_40, "b": ACTIVE_40}},
            ),
        )  # fmt: skip
    assert outcome.status == "failed" and "restored" in outcome.outcome
    assert [(s.campaign_id, s.wanted, s.compensating) for s in fakes.steps] == [
        ("a", {"budgetAmount": "32"}, False),
        ("b", {"budgetAmount": "48"}, False),
        ("a", {"status": "active", "budgetAmount": "40"}, True),
    ]
