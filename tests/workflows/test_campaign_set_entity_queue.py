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


def request(
    operation: SyncOperation, campaign_ids: list[str] | None = None, trigger: str = "api"
) -> SetOperationRequest:
    sync = SyncSetInput(
        tenant_id="t",
        set_id=SET_ID,
        operation=operation,
        campaign_ids=campaign_ids,
        trigger=trigger,
    )
    return SetOperationRequest(operation=operation, sync=sync)


def queued(*operations: SyncOperation) -> list[str]:
    entity = CampaignSetWorkflow()
    for operation in operations:
        entity.request(request(operation))
    return [p.operation for p in entity._pending]


def test_a_waiting_push_covers_later_pushes() -> None:
    assert queued("push", "push", "push") == ["push"]
    assert queued("push", "pause", "push") == ["push", "pause"]


def test_a_waiting_retry_sweep_push_grows_into_what_later_requests_need() -> None:
    entity = CampaignSetWorkflow()
    entity.request(request("push", ["a"], trigger="retry_sweep"))
    entity.request(request("push", ["b"], trigger="retry_sweep"))
    [waiting] = entity._pending
    assert waiting.sync.campaign_ids == ["a", "b"] and waiting.sync.trigger == "retry_sweep"
    entity.request(request("push"))  # a person's whole-set push
    [waiting] = entity._pending
    assert waiting.sync.campaign_ids is None and waiting.sync.trigger == "api"
    entity.request(request("push", ["c"], trigger="retry_sweep"))
    [waiting] = entity._pending
    assert waiting.sync.campaign_ids is None and waiting.sync.trigger == "api"


def test_the_latest_pause_or_resume_replaces_the_waiting_one_in_its_place() -> None:
    assert queued("pause", "resume") == ["resume"]
    assert queued("pause", "push", "resume") == ["resume", "push"]
    assert queued("resume", "pause", "push", "pause") == ["pause", "push"]


def test_each_operation_runs_under_the_job_id_clients_follow() -> None:
    assert child_id(request("push")) == f"sync-set-{SET_ID}"
    assert child_id(request("pause")) == f"status-set-{SET_ID}"
    assert child_id(request("resume")) == f"status-set-{SET_ID}"
