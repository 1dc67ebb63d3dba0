"""The set entity workflow's queue (issue 9 item 13): what waits behind the running operation.
A push waiting covers later pushes; a waiting pause/resume is replaced by the latest intent in
its place; nothing jumps ahead of what was asked before it."""

from __future__ import annotations

from flightdeck.domain.sync import SyncOperation, SyncSetInput
from flightdeck.workflows.campaign_set_entity import (
    CampaignSetWorkflow,
    SetOperationRequest,
    child_id,
)

SET_ID = "0b7e0d7e-5b36-4d86-9a55-0c8f9a0f2a11"


def request(operation: SyncOperation) -> SetOperationRequest:
    sync = SyncSetInput(tenant_id="t", set_id=SET_ID, operation=operation)
    return SetOperationRequest(operation=operation, sync=sync)


def queued(*operations: SyncOperation) -> list[str]:
    entity = CampaignSetWorkflow()
    for operation in operations:
        entity.request(request(operation))
    return [p.operation for p in entity._pending]


def test_a_waiting_push_covers_later_pushes() -> None:
    assert queued("push", "push", "push") == ["push"]
    assert queued("push", "pause", "push") == ["push", "pause"]


def test_the_latest_pause_or_resume_replaces_the_waiting_one_in_its_place() -> None:
    assert queued("pause", "resume") == ["resume"]
    assert queued("pause", "push", "resume") == ["resume", "push"]
    assert queued("resume", "pause", "push", "pause") == ["pause", "push"]


def test_each_operation_runs_under_the_job_id_clients_follow() -> None:
    assert child_id(request("push")) == f"sync-set-{SET_ID}"
    assert child_id(request("pause")) == f"status-set-{SET_ID}"
    assert child_id(request("resume")) == f"status-set-{SET_ID}"
