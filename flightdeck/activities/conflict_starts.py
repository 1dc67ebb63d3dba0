"""Starting the ConflictWorkflows a sync-back cycle opened, from an activity: one cycle can open
hundreds of conflicts, and as child workflows each start was two events in the cycle's history
and a workflow task round trip (350 took over a minute), with Temporal's 2,000 pending-children
limit waiting for a bigger cycle. Client starts run concurrently (bounded) and leave the
cycle's history one activity long. Idempotent: a conflict whose workflow already runs (a retry)
is left alone; `ConflictWorkflow` is keyed by its entity (`conflict-{type}-{id}`)."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError

from flightdeck.activities.names import START_CONFLICT_WORKFLOWS
from flightdeck.domain.sync_back_io import ConflictInput, ConflictRef, StartConflictsInput
from flightdeck.temporal import PLATFORM, TENANT_ID, conflict_workflow_id
from flightdeck.workflows.sync_back import ConflictWorkflow

# Starts in flight at once: enough to hide the round trips, few enough not to crowd the server.
CONCURRENT_STARTS = 32


class ConflictStartActivities:
    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue  # where ConflictWorkflow runs (the main queue)

    @activity.defn(name=START_CONFLICT_WORKFLOWS)
    async def start_conflict_workflows(self, inp: StartConflictsInput) -> int:
        """Start each conflict's workflow; the number started (already running: not counted).
        Heartbeats as starts complete, so a lost worker shows within the heartbeat timeout."""
        gate = asyncio.Semaphore(CONCURRENT_STARTS)

        async def start(conflict: ConflictRef) -> bool:
            async with gate:
                started = await self._start(inp, conflict)
            if activity.in_activity():
                activity.heartbeat()
            return started

        return sum(await asyncio.gather(*(start(c) for c in inp.conflicts)))

    async def _start(self, inp: StartConflictsInput, conflict: ConflictRef) -> bool:
        started = ConflictInput.of(
            inp.tenant_id, conflict, inp.escalate_after_seconds, inp.write_task_queue
        )
        try:
            await self._client.start_workflow(
                ConflictWorkflow.run,
                started,
                id=conflict_workflow_id(conflict.entity_type, conflict.entity_id),
                task_queue=self._task_queue,
                static_summary=started.summary,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(TENANT_ID, inp.tenant_id),
                        SearchAttributePair(PLATFORM, inp.platform),
                    ]
                ),
            )
        except WorkflowAlreadyStartedError:
            return False  # the entity's conflict is already waiting for a person
        return True
