"""`GET /api/v1/jobs/{id}` for Meta jobs: a campaign's publish (`meta-publish-…`) and an
operation on it (`meta-op-…`). A job id names its tenant, so another tenant's is a 404."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from pydantic.alias_generators import to_camel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowFailureError

from flightdeck.api.errors import not_found
from flightdeck.api.job_status import describe
from flightdeck.db.repositories.meta import MetaAdRepository, MetaPublishedRepository
from flightdeck.domain.meta_io import OperateResult, PublishOutcome

META_JOB_PREFIXES = ("meta-publish-", "meta-op-")
# A closed run's result is read from its history (no worker involved), within this deadline.
RESULT_TIMEOUT = timedelta(seconds=2)


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
    # Progress is what the publish recorded in Postgres (never a query that waits on a worker):
    # its ids as they are created — campaign, ad set, then each ad — of 2 + the campaign's ads.
    planned = await MetaAdRepository(session).count_for_campaign(tenant_id, published.campaign_id)
    created = sum(1 for i in (published.meta_campaign_id, published.meta_adset_id) if i)
    progress = {
        "step": published.publish_status,
        "done": created + len(published.meta_ad_ids or []),
        "total": 2 + planned,
    }
    await session.close()  # Postgres answered: no connection held while Temporal does
    described = await describe(temporal, workflow_id)
    status = described.status if described else None
    result: dict[str, Any] | None = None
    if status == "completed":
        outcome = await temporal.get_workflow_handle(
            workflow_id, result_type=PublishOutcome
        ).result(rpc_timeout=RESULT_TIMEOUT)
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
    described = await describe(temporal, workflow_id)
    if described is None:
        raise not_found("job")
    status = described.status
    result: dict[str, Any] | None = None
    error = None
    if status in ("completed", "failed"):
        try:
            done = await temporal.get_workflow_handle(
                workflow_id, result_type=OperateResult
            ).result(rpc_timeout=RESULT_TIMEOUT)
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
