"""`/api/v1/campaign-plans`: submit a plan, look it up, watch it, cancel it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError

from flightdeck.api.deps import PrincipalDep, SessionDep, SettingsDep, TemporalDep, TenantDep
from flightdeck.api.errors import ApiError, not_found, unavailable
from flightdeck.api.paging import PageDep
from flightdeck.api.publishing import (
    TERMINAL_PLAN_STATUSES,
    load_mapping,
    parse_uuid,
    plan_id_for,
    publish_problems,
)
from flightdeck.db.models import CampaignPlan, CampaignRequest, Job
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.campaign_requests import CampaignRequestRepository
from flightdeck.db.repositories.jobs import JobRepository
from flightdeck.db.repositories.remote_objects import RemoteObjectLedger
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.mapping import CampaignMapping
from flightdeck.domain.naming import NamingConvention, generate_names
from flightdeck.domain.plans import CamelModel, CampaignPlanIn, PlanStatus
from flightdeck.domain.publish import CancelRequest, total_remote_steps
from flightdeck.runs import start_publish
from flightdeck.settings import Settings
from flightdeck.temporal import publish_workflow_id, temporal_unreachable
from flightdeck.workflows.publish_plan import PublishPlanWorkflow

router = APIRouter(prefix="/campaign-plans", tags=["campaign plans"])

SSE_POLL_SECONDS = 0.25


class PlanAccepted(CamelModel):
    id: str
    request_id: str
    workflow_id: str
    status: str


class PlanOut(CamelModel):
    id: str
    request_id: str
    workflow_id: str
    status: str
    hook_set_id: str
    campaign_name: str
    ad_set_names: list[str]
    ad_names: list[list[str]]
    strategis_template_id: str | None
    plan: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class PlanPage(CamelModel):
    items: list[PlanOut]
    next_cursor: str | None


class CancelAccepted(CamelModel):
    id: str
    status: str
    cleanup: bool


def naming_convention(settings: Settings) -> NamingConvention:
    return NamingConvention(
        settings.campaign_name_format, settings.ad_set_name_format, settings.ad_name_format
    )


def _accepted(plan: CampaignPlan) -> PlanAccepted:
    return PlanAccepted(
        id=str(plan.id),
        request_id=plan.request_id,
        workflow_id=plan.workflow_id,
        status=plan.status,
    )


def plan_out(plan: CampaignPlan) -> PlanOut:
    return PlanOut(
        id=str(plan.id),
        request_id=plan.request_id,
        workflow_id=plan.workflow_id,
        status=plan.status,
        hook_set_id=plan.hook_set_id,
        campaign_name=plan.campaign_name,
        ad_set_names=list(plan.ad_set_names),
        ad_names=[list(n) for n in plan.ad_names],
        strategis_template_id=plan.strategis_template_id,
        plan=dict(plan.plan),
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


async def _get_plan(session: SessionDep, tenant_id: uuid.UUID, plan_id: str) -> CampaignPlan:
    parsed = parse_uuid(plan_id)
    plan = await CampaignPlanRepository(session).get(tenant_id, parsed) if parsed else None
    if plan is None:
        raise not_found("campaign plan")
    return plan


@router.post(
    "",
    status_code=202,
    response_model=PlanAccepted,
    responses={200: {"model": PlanAccepted, "description": "This requestId was already submitted"}},
)
async def create_campaign_plan(
    body: CampaignPlanIn,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> PlanAccepted:
    """Store a plan and start publishing it. The same requestId again returns the existing plan
    (200) and starts nothing new. The plan is committed (as `pending`) before its run is
    started, so no pooled connection is held while Temporal answers; with Temporal unreachable
    it is withdrawn again and the answer is 503 — nothing stays stored. (A start lost between
    the two, e.g. the API killed, leaves a `pending` plan that the pending-plans sweep starts.)"""
    tenant_id = principal.tenant_id
    plans = CampaignPlanRepository(session)
    existing = await plans.get_by_request_id(tenant_id, body.request_id)
    if existing is not None:
        return await _existing(existing, response, temporal, settings)
    problems = await publish_problems(session, tenant_id, body, settings)
    if problems:
        raise ApiError(422, "validation_error", problems)
    names = generate_names(body, naming_convention(settings))
    workflow_id = publish_workflow_id(str(tenant_id), body.request_id)
    try:
        plan = await plans.create(
            tenant_id, body, names, workflow_id, plan_id=plan_id_for(tenant_id, body.request_id)
        )
        await CampaignRequestRepository(session).create(
            tenant_id, body.request_id, plan.id, workflow_id, total_remote_steps(body)
        )
        await JobRepository(session).record(tenant_id, workflow_id, "plan_publish", plan.id)
        await AuditLogRepository(session).add(
            tenant_id=tenant_id,
            action="campaign_plan.created",
            entity_type="campaign_plan",
            entity_id=str(plan.id),
            details={"requestId": body.request_id},
        )
    except IntegrityError:
        # A concurrent POST with the same requestId won the race: answer with its plan.
        await session.rollback()
        existing = await plans.get_by_request_id(tenant_id, body.request_id)
        if existing is None:
            raise
        return await _existing(existing, response, temporal, settings)
    await session.commit()  # the connection goes back to the pool while Temporal answers
    try:
        await start_publish(temporal, settings, plan, principal.user_id)
    except Exception as exc:
        if temporal_unreachable(exc):
            await _withdraw(session, plan)
            raise unavailable("temporal", "Temporal is unreachable; nothing was stored") from exc
        raise  # a bug: the plan stays `pending` and the pending-plans sweep starts it
    return _accepted(plan)


async def _withdraw(session: AsyncSession, plan: CampaignPlan) -> None:
    """Undo a POST whose run Temporal never took: the plan, its request and job rows go; the
    audit log keeps both entries (created, then withdrawn)."""
    await session.rollback()
    await session.execute(
        delete(CampaignRequest).where(
            CampaignRequest.tenant_id == plan.tenant_id,
            CampaignRequest.campaign_plan_id == plan.id,
        )
    )
    await session.execute(
        delete(Job).where(Job.tenant_id == plan.tenant_id, Job.id == plan.workflow_id)
    )
    await session.execute(
        delete(CampaignPlan).where(
            CampaignPlan.tenant_id == plan.tenant_id, CampaignPlan.id == plan.id
        )
    )
    await AuditLogRepository(session).add(
        tenant_id=plan.tenant_id,
        action="campaign_plan.withdrawn",
        entity_type="campaign_plan",
        entity_id=str(plan.id),
        details={"requestId": plan.request_id, "reason": "Temporal was unreachable"},
    )
    await session.commit()


async def _existing(
    plan: CampaignPlan, response: Response, temporal: TemporalDep, settings: SettingsDep
) -> PlanAccepted:
    response.status_code = 200
    if plan.status == "pending":
        # Stored but not started by this API (an older version, or a lost start): start or
        # attach to its run now; the housekeeping sweep does the same for plans nobody re-posts.
        try:
            await start_publish(temporal, settings, plan)
        except Exception as exc:
            if temporal_unreachable(exc):
                raise unavailable("temporal", "Temporal is unreachable; retry") from exc
            raise
    return _accepted(plan)


@router.get("", response_model=PlanPage)
async def list_campaign_plans(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    hook_set_id: Annotated[str | None, Query(alias="hookSetId")] = None,
    status: Annotated[PlanStatus | None, Query()] = None,
) -> PlanPage:
    """List plans, newest first, by hook set and status (seed's query patterns)."""
    plans = await CampaignPlanRepository(session).list(
        tenant.id, hook_set_id=hook_set_id, status=status, limit=page.limit, cursor=page.cursor
    )
    return PlanPage(items=[plan_out(p) for p in plans.items], next_cursor=plans.next_cursor)


@router.get("/{plan_id}", response_model=PlanOut)
async def get_campaign_plan(plan_id: str, tenant: TenantDep, session: SessionDep) -> PlanOut:
    return plan_out(await _get_plan(session, tenant.id, plan_id))


@router.get("/{plan_id}/mapping", response_model=CampaignMapping)
async def get_campaign_mapping(
    plan_id: str, tenant: TenantDep, session: SessionDep
) -> CampaignMapping:
    """Every ID across Flightdeck, Strategis and Facebook, ordered by ad set and ad index."""
    return await load_mapping(session, await _get_plan(session, tenant.id, plan_id))


@router.post("/{plan_id}/cancel", status_code=202, response_model=CancelAccepted)
async def cancel_campaign_plan(
    plan_id: str,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    cleanup: bool = False,
) -> CancelAccepted:
    """Cancel a running publish. With `cleanup=true` what was created is deleted on Facebook and
    paused on Strategis; without it, the campaign is paused."""
    plan = await _get_plan(session, tenant.id, plan_id)
    if plan.status in TERMINAL_PLAN_STATUSES:
        raise ApiError(409, "conflict", f"the run has already ended ({plan.status})")
    handle = temporal.get_workflow_handle(plan.workflow_id)
    try:
        await handle.signal(
            PublishPlanWorkflow.set_cleanup_on_cancel, CancelRequest(cleanup=cleanup)
        )
        await handle.cancel()
    except RPCError as exc:
        if temporal_unreachable(exc):
            raise unavailable("temporal", "Temporal is unreachable; nothing was changed") from exc
        raise ApiError(409, "conflict", "the run is not running") from exc
    except RuntimeError as exc:  # a lazily connecting client that cannot connect
        if temporal_unreachable(exc):
            raise unavailable("temporal", "Temporal is unreachable; nothing was changed") from exc
        raise
    await AuditLogRepository(session).add(
        tenant_id=tenant.id,
        action="campaign_plan.cancel_requested",
        entity_type="campaign_plan",
        entity_id=str(plan.id),
        details={"cleanup": cleanup},
    )
    await session.commit()
    return CancelAccepted(id=str(plan.id), status="cancelling", cleanup=cleanup)


@router.get("/{plan_id}/events", response_class=StreamingResponse)
async def stream_campaign_plan_events(
    plan_id: str, request: Request, tenant: TenantDep, session: SessionDep
) -> StreamingResponse:
    """Server-Sent Events: `progress` on every change, then `complete` when the run ends."""
    plan = await _get_plan(session, tenant.id, plan_id)
    sessions = request.app.state.sessions
    return StreamingResponse(
        _progress_events(sessions, tenant.id, plan.id, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _progress_events(
    sessions: Any, tenant_id: uuid.UUID, plan_id: uuid.UUID, request: Request
) -> AsyncIterator[str]:
    last: dict[str, Any] | None = None
    while not await request.is_disconnected():
        async with tenant_session(sessions, tenant_id) as session:
            progress = await CampaignRequestRepository(session).get_for_plan(tenant_id, plan_id)
            if progress is None:
                return
            done = await _live_done(session, tenant_id, plan_id, progress.progress_done)
        current = {
            "status": progress.status,
            "step": progress.step,
            "done": done,
            "total": progress.progress_total,
        }
        if current != last:
            yield _sse("progress", current)
            last = current
        if progress.status in TERMINAL_PLAN_STATUSES:
            yield _sse("complete", current)
            return
        await asyncio.sleep(SSE_POLL_SECONDS)


async def _live_done(
    session: AsyncSession, tenant_id: uuid.UUID, plan_id: uuid.UUID, recorded: int
) -> int:
    """Steps done: the ledger's created objects plus the tracking template, or what the run
    recorded when it ended, whichever is further along."""
    done, _ = await RemoteObjectLedger(session).live_progress(tenant_id, plan_id)
    return max(recorded, done)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
