"""A worker for the set-sync workflows with fake activities (the deadline and bookkeeping tests):
an object whose methods `prepare`, `page`, `push`, `record`, `settle` and `finish` are
activities under the sync's names."""

from __future__ import annotations

from typing import Any

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from flightdeck.workflows.sync_campaign_set import (
    SyncCampaignBatchWorkflow,
    SyncCampaignSetWorkflow,
)


def sync_worker(env: WorkflowEnvironment, queue: str, fakes: Any) -> Worker:
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[SyncCampaignSetWorkflow, SyncCampaignBatchWorkflow],
        activities=[
            fakes.prepare,
            fakes.page,
            fakes.push,
            fakes.record,
            fakes.settle,
            fakes.finish,
        ],
    )
