"""ConflictWorkflow on the time-skipping server: it escalates once when nobody answers in
time, keeps waiting, and applies the resolution its update validator accepts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from flightdeck.activities import names
from flightdeck.domain.sync_back_io import (
    ApplyResolutionInput,
    ConflictInput,
    ConflictState,
    EscalateInput,
    ResolutionResult,
    ResolveConflict,
)
from flightdeck.workflows.sync_back import ConflictWorkflow

DAY = 86_400.0


class FakeActivities:
    def __init__(self) -> None:
        self.escalations: list[EscalateInput] = []
        self.applied: list[ApplyResolutionInput] = []

    @activity.defn(name=names.ESCALATE_CONFLICT)
    async def escalate(self, inp: EscalateInput) -> None:
        self.escalations.append(inp)

    @activity.defn(name=names.APPLY_CONFLICT_RESOLUTION)
    async def apply(self, inp: ApplyResolutionInput) -> ResolutionResult:
        self.applied.append(inp)
        return ResolutionResult(
            conflict_id=inp.conflict_id,
            resolution=inp.resolution,
            entity_type="ad_group",
            entity_id="g1",
            applied={"budget": {"type": "daily", "amount": "60"}},
        )


async def test_an_unanswered_conflict_escalates_once_then_keeps_waiting(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env, fakes = time_skipping_env, FakeActivities()
    queue = f"conflicts-{uuid.uuid4().hex[:8]}"
    conflict_id = str(uuid.uuid4())
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ConflictWorkflow],
        activities=[fakes.escalate, fakes.apply],
    ):
        handle = await env.client.start_workflow(
            ConflictWorkflow.run,
            ConflictInput(
                tenant_id=str(uuid.uuid4()),
                conflict_id=conflict_id,
                entity_type="ad_group",
                entity_id=str(uuid.uuid4()),
                escalate_after_seconds=DAY,
                write_task_queue=queue,
            ),
            id=f"conflict-ad_group-{uuid.uuid4()}",
            task_queue=queue,
        )
        await env.sleep(timedelta(hours=23))
        state = await handle.query(ConflictWorkflow.state)
        assert state is not None and not state.escalated and fakes.escalations == []

        await env.sleep(timedelta(hours=2))  # past the escalation time
        state = await handle.query(ConflictWorkflow.state)
        assert state is not None and state.escalated and state.status == "open"
        assert [e.conflict_id for e in fakes.escalations] == [conflict_id]

        await env.sleep(timedelta(days=3))  # still waiting; no second escalation
        assert len(fakes.escalations) == 1

        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                ConflictWorkflow.resolve, ResolveConflict(conflict_id=conflict_id, resolution="x")
            )
        assert fakes.applied == []
        result = await handle.execute_update(
            ConflictWorkflow.resolve,
            ResolveConflict(conflict_id=conflict_id, resolution="use_local"),
        )
        assert result.resolution == "use_local" and result.conflict_id == conflict_id
        final = await handle.result()
        assert isinstance(final, ConflictState)
        assert (final.status, final.resolution, final.escalated) == ("resolved", "use_local", True)
        assert [a.resolution for a in fakes.applied] == ["use_local"]


async def test_a_resolution_sent_before_the_first_workflow_task_is_accepted(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A person may resolve as soon as the cycle opened the conflict, before a busy worker ran
    the workflow's first task: the update arrives with it, and its validator must already know
    the conflict (not answer "still being set up")."""
    env, fakes = time_skipping_env, FakeActivities()
    queue = f"conflicts-{uuid.uuid4().hex[:8]}"
    conflict_id = str(uuid.uuid4())
    handle = await env.client.start_workflow(
        ConflictWorkflow.run,
        ConflictInput(
            tenant_id=str(uuid.uuid4()),
            conflict_id=conflict_id,
            entity_type="ad",
            entity_id=str(uuid.uuid4()),
            escalate_after_seconds=DAY,
            write_task_queue=queue,
        ),
        id=f"conflict-ad-{uuid.uuid4()}",
        task_queue=queue,  # no worker polls it yet
    )
    update = asyncio.create_task(
        handle.execute_update(
            ConflictWorkflow.resolve,
            ResolveConflict(conflict_id=conflict_id, resolution="use_platform"),
        )
    )
    await asyncio.sleep(1)  # the update waits on the server for the first workflow task
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ConflictWorkflow],
        activities=[fakes.escalate, fakes.apply],
    ):
        result = await update
        assert result.resolution == "use_platform" and result.conflict_id == conflict_id
        final = await handle.result()
    assert (final.status, final.resolution) == ("resolved", "use_platform")
