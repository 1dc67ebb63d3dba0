"""Asking a campaign set's entity workflow for an operation (signal-with-start): the one way
the API and the retry sweep reach a set's platform operations, so they run one at a time."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)

from flightdeck.temporal import CAMPAIGN_SET_ID, PLATFORM, TENANT_ID
from flightdeck.workflows.campaign_set_entity import (
    CampaignSetEntityInput,
    CampaignSetWorkflow,
    SetOperationRequest,
    entity_workflow_id,
)


async def request_set_operation(
    temporal: Client,
    task_queue: str,
    entity: CampaignSetEntityInput,
    request: SetOperationRequest,
    *,
    summary: str | None = None,
    rpc_timeout: timedelta | None = None,
) -> str:
    """Signal the set's entity, starting it if it is not running; returns the entity's id."""
    handle = await temporal.start_workflow(
        CampaignSetWorkflow.run,
        entity,
        id=entity_workflow_id(entity.set_id),
        task_queue=task_queue,
        start_signal="request",
        start_signal_args=[request],
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(TENANT_ID, entity.tenant_id),
                SearchAttributePair(CAMPAIGN_SET_ID, entity.set_id),
                SearchAttributePair(PLATFORM, entity.platform),
            ]
        ),
        static_summary=summary or f"Campaign set {entity.set_id} on {entity.platform}",
        rpc_timeout=rpc_timeout,
    )
    return handle.id
