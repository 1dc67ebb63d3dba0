"""`/api/v1/meta/campaigns/{id}/publish` and the operations on a published campaign: publish
(202 + a job: `GET /api/v1/jobs/{jobId}`, the SSE stream at `…/events`, the Web UI), the
publication's ids and objects, pause, resume, delete, and pushing a name or budget edit."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from flightdeck.api.deps import PrincipalDep, SessionDep, SettingsDep, TemporalDep, TenantDep
from flightdeck.api.errors import ApiError
from flightdeck.api.meta_models import (
    CampaignOut,
    CampaignPatch,
    JobAccepted,
    PublishedOut,
    published_out,
)
from flightdeck.api.meta_prepare import prepare_campaign
from flightdeck.api.routes.meta_campaigns import campaign_out, load_campaign
from flightdeck.db.models import MetaCampaign
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.jobs import JobRepository
from flightdeck.db.repositories.meta import MetaCampaignRepository, MetaPublishedRepository
from flightdeck.db.repositories.meta_ledger import MetaObjectLedger
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.meta_io import (
    MetaRef,
    OperateInput,
    Operation,
    PublishMetaInput,
    ReviewSettings,
)
from flightdeck.settings import Settings
from flightdeck.temporal import (
    META_CAMPAIGN_ID,
    PLATFORM,
    TENANT_ID,
    meta_operation_workflow_id,
    meta_publish_workflow_id,
    meta_review_workflow_id,
)
from flightdeck.workflows.meta_ops import OperateMetaCampaignWorkflow
from flightdeck.workflows.publish_meta import PublishMetaCampaignWorkflow

router = APIRouter(prefix="/meta/campaigns", tags=["meta publishing"])
SSE_POLL_SECONDS = 0.25
TERMINAL = ("active", "paused", "error", "deleted")


@router.post("/{campaign_id}/publish", status_code=202, response_model=JobAccepted)
async def publish(
    campaign_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> JobAccepted:
    """Prepare (every problem at once: 409 if any), then start publishing. While a publish
    runs, publishing again joins it; after an error it continues where it stopped."""
    tenant = principal.tenant
    campaign = await load_campaign(session, tenant.id, campaign_id)
    workflow_id = meta_publish_workflow_id(tenant.id, campaign.id)
    if campaign.published_status == "publishing":
        return JobAccepted(job_id=workflow_id, workflow_id=workflow_id, status="publishing")
    if campaign.published_status in ("active", "paused"):
        raise ApiError(
            409, "conflict", f"the campaign is already on Meta ({campaign.published_status})"
        )
    prepared = await prepare_campaign(session, campaign, settings)
    if not prepared.ready:
        await session.commit()
        raise ApiError(409, "not_ready", prepared.problems)
    published = await MetaPublishedRepository(session).start(tenant.id, campaign.id, workflow_id)
    await MetaCampaignRepository(session).update(
        tenant.id, campaign.id, published_status="publishing", status="ready"
    )
    await _audit(session, campaign, "meta_publish.requested", generation=published.generation)
    assert campaign.meta_connection_id is not None  # prepare checked it
    ref = MetaRef(
        tenant_id=str(tenant.id),
        campaign_id=str(campaign.id),
        connection_id=str(campaign.meta_connection_id),
        generation=published.generation,
        user_id=str(principal.user_id),
    )
    review_id = meta_review_workflow_id(tenant.id, campaign.id, published.generation)
    await MetaPublishedRepository(session).update(
        tenant.id, campaign.id, review_workflow_id=review_id
    )
    await JobRepository(session).record(tenant.id, workflow_id, "meta_publish", campaign.id)
    await session.commit()
    try:
        await _start_publish(temporal, settings, ref, workflow_id, review_id)
    except RPCError as exc:
        await MetaCampaignRepository(session).update(
            tenant.id, campaign.id, published_status="error"
        )
        await MetaPublishedRepository(session).update(
            tenant.id, campaign.id, publish_status="error", error_message="could not start"
        )
        await session.commit()
        raise ApiError(503, "temporal_unavailable", "could not start the publish; retry") from exc
    return JobAccepted(job_id=workflow_id, workflow_id=workflow_id, status="publishing")


async def _start_publish(
    temporal: Client, settings: Settings, ref: MetaRef, workflow_id: str, review_id: str
) -> None:
    await temporal.start_workflow(
        PublishMetaCampaignWorkflow.run,
        PublishMetaInput(
            ref=ref,
            meta_task_queue=settings.meta_task_queue,
            activity_timeout_seconds=settings.publish_activity_timeout_seconds,
            step_timeout_seconds=settings.meta_step_timeout_seconds,
            deadline_seconds=settings.meta_publish_deadline_seconds,
            token_min_validity_seconds=settings.meta_token_min_validity_seconds,
            review=ReviewSettings(
                alert_after_seconds=settings.meta_review_alert_after_seconds,
                poll_initial_seconds=settings.meta_review_poll_initial_seconds,
                poll_max_seconds=settings.meta_review_poll_max_seconds,
                give_up_seconds=settings.meta_review_give_up_seconds,
            ),
            review_workflow_id=review_id,
        ),
        id=workflow_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=_attributes(ref),
        static_summary=f"Publish Meta campaign {ref.campaign_id}",
    )


def _attributes(ref: MetaRef) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(TENANT_ID, ref.tenant_id),
            SearchAttributePair(PLATFORM, "meta"),
            SearchAttributePair(META_CAMPAIGN_ID, ref.campaign_id),
        ]
    )


@router.get("/{campaign_id}/publication", response_model=dict[str, Any])
async def publication(campaign_id: str, tenant: TenantDep, session: SessionDep) -> dict[str, Any]:
    """The publication: its Meta ids and status, and every object in the ledger."""
    campaign = await load_campaign(session, tenant.id, campaign_id)
    published = await MetaPublishedRepository(session).get(tenant.id, campaign.id)
    rows = await MetaObjectLedger(session).list_for_campaign(tenant.id, campaign.id)
    out: PublishedOut | None = published_out(published)
    return {
        "campaignId": str(campaign.id),
        "publishedStatus": campaign.published_status,
        "published": out.model_dump(by_alias=True, mode="json") if out else None,
        "objects": [
            {
                "type": row.object_type,
                "localKey": row.local_key,
                "metaId": row.external_id,
                "state": row.state,
                "name": row.name,
                "adopted": bool((row.attributes or {}).get("adopted")),
                "lastError": row.last_error,
            }
            for row in rows
        ],
    }


@router.post("/{campaign_id}/pause", status_code=202, response_model=JobAccepted)
async def pause(
    campaign_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
    temporal: TemporalDep,
) -> JobAccepted:  # fmt: skip
    return await _operate(campaign_id, "pause", principal, session, settings, temporal)


@router.post("/{campaign_id}/resume", status_code=202, response_model=JobAccepted)
async def resume(
    campaign_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
    temporal: TemporalDep,
) -> JobAccepted:  # fmt: skip
    return await _operate(campaign_id, "resume", principal, session, settings, temporal)


@router.post("/{campaign_id}/delete", status_code=202, response_model=JobAccepted)
async def delete(
    campaign_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep,
    temporal: TemporalDep,
) -> JobAccepted:  # fmt: skip
    """Delete the campaign on Meta (its ad sets and ads with it); publishing again makes new
    objects."""
    return await _operate(campaign_id, "delete", principal, session, settings, temporal)


@router.patch("/{campaign_id}", response_model=None)
async def edit(
    campaign_id: str,
    body: CampaignPatch,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    temporal: TemporalDep,
) -> JobAccepted | CampaignOut:
    """Rename or change the budget. On a published campaign just that change is pushed to Meta
    (202 + job); otherwise it is saved locally (200)."""
    tenant = principal.tenant
    campaign = await load_campaign(session, tenant.id, campaign_id)
    if body.name is None and body.budget_amount is None:
        raise ApiError(422, "validation_error", [{"field": "name", "message": "nothing to change"}])
    if campaign.published_status in ("active", "paused"):
        response.status_code = 202
        return await _operate(
            campaign_id, "update", principal, session, settings, temporal,
            name=body.name, budget_amount=body.budget_amount,
        )  # fmt: skip
    if campaign.published_status == "publishing":
        raise ApiError(409, "conflict", "the campaign is being published; wait for the job")
    if body.name is not None:
        await MetaCampaignRepository(session).update(tenant.id, campaign.id, name=body.name)
    if body.budget_amount is not None:
        raise ApiError(
            422,
            "validation_error",
            [{"field": "budgetAmount", "message": "edit the budget section before publishing"}],
        )
    await _audit(session, campaign, "meta_campaign.renamed", name=body.name)
    await session.commit()
    return await campaign_out(session, campaign)


async def _operate(
    campaign_id: str,
    operation: Operation,
    principal: Any,
    session: SessionDep,
    settings: Settings,
    temporal: Client,
    **change: Any,
) -> JobAccepted:
    tenant_id: uuid.UUID = principal.tenant_id
    campaign = await load_campaign(session, tenant_id, campaign_id)
    published = await MetaPublishedRepository(session).get(tenant_id, campaign.id)
    if published is None or published.meta_campaign_id is None or campaign.published_status in (
        "publishing", "deleted", None,
    ):  # fmt: skip
        raise ApiError(409, "conflict", "the campaign is not published on Meta")
    ref = MetaRef(
        tenant_id=str(tenant_id),
        campaign_id=str(campaign.id),
        connection_id=str(campaign.meta_connection_id),
        generation=published.generation,
        user_id=str(principal.user_id),
    )
    workflow_id = meta_operation_workflow_id(tenant_id, campaign.id, uuid.uuid4().hex[:12])
    await _audit(session, campaign, f"meta_campaign.{operation}_requested", **change)
    await JobRepository(session).record(tenant_id, workflow_id, "meta_operation", campaign.id)
    await session.commit()
    try:
        await temporal.start_workflow(
            OperateMetaCampaignWorkflow.run,
            OperateInput(
                ref=ref,
                meta_task_queue=settings.meta_task_queue,
                operation=operation,
                actor=principal.actor,
                activity_timeout_seconds=settings.publish_activity_timeout_seconds,
                **change,
            ),
            id=workflow_id,
            task_queue=settings.task_queue,
            search_attributes=_attributes(ref),
            static_summary=f"{operation.capitalize()} Meta campaign '{campaign.name}'",
        )
    except RPCError as exc:
        raise ApiError(503, "temporal_unavailable", "could not start; retry") from exc
    return JobAccepted(job_id=workflow_id, workflow_id=workflow_id, status="running")


@router.get("/{campaign_id}/events", response_class=StreamingResponse)
async def events(
    campaign_id: str,
    request: Request,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
) -> StreamingResponse:
    """Server-Sent Events: `progress` on every change of the publish, `complete` at the end."""
    campaign = await load_campaign(session, tenant.id, campaign_id)
    return StreamingResponse(
        _progress(request, tenant.id, campaign.id, temporal),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _progress(
    request: Request, tenant_id: uuid.UUID, campaign_id: uuid.UUID, temporal: Client
) -> AsyncIterator[str]:
    last: dict[str, Any] | None = None
    while not await request.is_disconnected():
        async with tenant_session(request.app.state.sessions, tenant_id) as session:
            published = await MetaPublishedRepository(session).get(tenant_id, campaign_id)
            rows = await MetaObjectLedger(session).list_for_campaign(tenant_id, campaign_id)
        if published is None:
            return
        current = {
            "status": published.publish_status,
            "created": sum(1 for r in rows if r.external_id and r.object_type != "image"),
            "metaCampaignId": published.meta_campaign_id,
            "error": published.error_message,
        }
        if current != last:
            yield f"event: progress\ndata: {json.dumps(current)}\n\n"
            last = current
        if published.publish_status in TERMINAL:
            yield f"event: complete\ndata: {json.dumps(current)}\n\n"
            return
        await asyncio.sleep(SSE_POLL_SECONDS)


async def _audit(session: SessionDep, campaign: MetaCampaign, action: str, **details: Any) -> None:
    await AuditLogRepository(session).add(
        tenant_id=campaign.tenant_id,
        action=action,
        entity_type="meta_campaign",
        entity_id=str(campaign.id),
        details={k: v for k, v in details.items() if v is not None},
    )
