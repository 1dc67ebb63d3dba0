"""Starting a cycle's ConflictWorkflows from an activity (a real dev server): each conflict's
workflow is started once, under its entity's id, with the tenant's search attributes; a
repeated start (an activity retry, a later cycle) leaves the waiting one alone."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from flightdeck.activities.conflict_starts import ConflictStartActivities
from flightdeck.domain.sync_back_io import ConflictRef, StartConflictsInput
from flightdeck.temporal import TENANT_ID, conflict_workflow_id
from flightdeck.workflows.sync_back import ConflictWorkflow


def refs(count: int) -> list[ConflictRef]:
    return [
        ConflictRef(conflict_id=str(uuid.uuid4()), entity_type="ad", entity_id=str(uuid.uuid4()))
        for _ in range(count)
    ]


async def test_each_conflict_workflow_starts_once(dev_env: WorkflowEnvironment) -> None:
    queue = f"conflicts-{uuid.uuid4().hex[:8]}"
    tenant = str(uuid.uuid4())
    starts = ConflictStartActivities(dev_env.client, queue)
    first = refs(40)
    async with Worker(dev_env.client, task_queue=queue, workflows=[ConflictWorkflow]):
        started = await starts.start_conflict_workflows(
            StartConflictsInput(tenant_id=tenant, conflicts=first, write_task_queue=queue)
        )
        assert started == 40
        # A retry with one more conflict: only the new one starts; the others keep theirs.
        again = [*first, *refs(1)]
        retried = [
            ConflictRef(conflict_id=str(uuid.uuid4()), entity_type=r.entity_type,
                        entity_id=r.entity_id)
            for r in again
        ]  # fmt: skip
        started = await starts.start_conflict_workflows(
            StartConflictsInput(tenant_id=tenant, conflicts=retried, write_task_queue=queue)
        )
        assert started == 1
        for ref in (first[0], first[-1]):
            handle = dev_env.client.get_workflow_handle(
                conflict_workflow_id(ref.entity_type, ref.entity_id)
            )
            state = await handle.query(ConflictWorkflow.state)
            assert state is not None and state.conflict_id == ref.conflict_id
            assert state.status == "open"
            described = await handle.describe()
            assert described.typed_search_attributes.get(TENANT_ID) == tenant
        for ref in again:
            await dev_env.client.get_workflow_handle(
                conflict_workflow_id(ref.entity_type, ref.entity_id)
            ).terminate("test over")
