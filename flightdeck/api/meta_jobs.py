"""`GET /api/v1/jobs/{id}` for Meta jobs: a campaign's publish (`meta-publish-…`) and an
operation on it (`meta-op-…`). A job id names its tenant, so another tenant's is a 404."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowFailureError, WorkflowQueryFailedError
from temporalio.service import RPCError

from flightdeck.api.errors import not_found
from flightdeck.api.publishing import workflow_status
from flightdeck.db.repositories.meta import MetaPublishedRepository
from flightdeck.domain.meta_io import OperateResult, PublishOutcome, PublishProgress
from flightdeck.workflows.publish_meta import PublishMetaCampaignWorkflow

META_JOB_PREFIXES = ("meta-publish-", "meta-op-")


async def meta_job(
    workflow_id: str, tenant_id: uuid.UUID, session: AsyncSession, temporal: Client
) -> dict[str, Any]:
    """The job's fields (`workflowId, status, progress, result, error`)."""
    prefix = next(p for p in META_JOB_PREFIXES if workflow_id.startswith(p))
    if not workflow_id.startswith(f"{prefix}{tenant_id}-"):
        raise not_found("job")
    if prefix == "meta-op-":
        return await _operation(workflow_id, temporal)
    published = await MetaPublishedRepository(session).by_workflow_id(tenant_id, workflow_id)
    if published is None:
        raise not_found("job")
    status = await workflow_status(temporal, workflow_id)
    progress = {"step": published.publish_status, "done": 0, "total": 0}
    result: dict[str, Any] | None = None
    if status == "running":
        try:
            live: PublishProgress = await temporal.get_workflow_handle(workflow_id).query(
                PublishMetaCampaignWorkflow.progress
            )
            progress = {"step": live.step, "done": live.done, "total": live.total}
        except (RPCError, WorkflowQueryFailedError):
            pass
    elif status == "completed":
        outcome = await temporal.get_workflow_handle(
            workflow_id, result_type=PublishOutcome
        ).result()
        result = camel(outcome.model_dump(mode="json"))
        count = 2 + len(outcome.meta_ad_ids)
        progress = {"step": "done", "done": count, "total": count}
    return {
        "workflowId": workflow_id,
        "status": status or _status_from(published.publish_status),
        "progress": progress,
        "result": result,
        "error": published.error_message if published.publish_status == "error" else None,
    }


async def _operation(workflow_id: str, temporal: Client) -> dict[str, Any]:
    status = await workflow_status(temporal, workflow_id)
    if status is None:
        raise not_found("job")
    result: dict[str, Any] | None = None
    error = None
    if status in ("completed", "failed"):
        try:
            done = await temporal.get_workflow_handle(
                workflow_id, result_type=OperateResult
            ).result()
            result = camel(done.model_dump(mode="json"))
        except WorkflowFailureError as exc:
            error = str(exc.cause or exc)
    return {
        "workflowId": workflow_id,
        "status": status,
        "progress": {"step": "operate", "done": 1 if status == "completed" else 0, "total": 1},
        "result": result,
        "error": error,
    }


def camel(value: Any) -> Any:
    """The API's spelling (camelCase keys) of a workflow result."""
    if isinstance(value, dict):
        return {to_camel(str(k)): camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def _status_from(publish_status: str) -> str:
    return {"publishing": "running", "error": "failed"}.get(publish_status, "completed")
