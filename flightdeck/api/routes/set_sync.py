"""Campaign-set sync (seed 002 phases 3–5): start it in the background, watch it, pause and
resume a set on the platform. The work runs in `SyncCampaignSetWorkflow`.

    POST /campaign-sets/{setId}/validate      {valid, problems}: every platform rule, at once
    POST /campaign-sets/{setId}/sync          202 {jobId, status}; a running sync is joined;
                                              422 with every problem if validation fails;
                                              ?dryRun=true: 200 {requests, problems}, nothing sent
    GET  /campaign-sets/{setId}/sync-status   {status, progress: {synced, failed, total}, errors}
    GET  /campaign-sets/{setId}/sync-stream   SSE: sync-progress per campaign, sync-complete
    POST /campaign-sets/{setId}/pause|resume  202 {jobId, status}: the platform, not only here

The job id is the workflow id (`sync-set-{setId}`, `status-set-{setId}`): it names the set's
latest run of that kind, so `GET /jobs/{jobId}` always shows the one that matters.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from flightdeck.api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from flightdeck.api.errors import ApiError, not_found
from flightdeck.api.publishing import parse_uuid, workflow_status
from flightdeck.api.set_checks import dry_run, load_tree, problems_json, validate
from flightdeck.db.circuit_breaker import CircuitBreakerService
from flightdeck.db.models import AdAccount, CampaignSet, GeneratedCampaign
from flightdeck.db.repositories.campaign_sets import CampaignSetRepository
from flightdeck.db.repositories.jobs import JobRepository
from flightdeck.db.repositories.set_sync import SetSyncRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.campaign_sets import CamelModel
from flightdeck.domain.sync import SyncOperation, SyncSetInput
from flightdeck.jobs import JobKind
from flightdeck.platforms.registry import platform
from flightdeck.set_entity_client import request_set_operation
from flightdeck.settings import Settings
from flightdeck.temporal import (
    status_workflow_id,
    sync_workflow_id,
)
from flightdeck.workflows.campaign_set_entity import CampaignSetEntityInput, SetOperationRequest

router = APIRouter(prefix="/campaign-sets", tags=["campaign-set sync"])

SSE_POLL_SECONDS = 0.25


class SyncAccepted(CamelModel):
    job_id: str
    status: Literal["queued", "running"]


class ProblemOut(CamelModel):
    field: str
    message: str
    entity_type: str | None = None
    entity_id: str | None = None


class ValidationOut(CamelModel):
    valid: bool
    platform: str
    problems: list[ProblemOut]


class PlannedRequest(CamelModel):
    method: str
    path: str
    body: dict[str, Any] | None
    entity_type: str | None = None
    entity_id: str | None = None
    entity_path: str | None = None


class DryRunOut(ValidationOut):
    dry_run: Literal[True] = True
    requests: list[PlannedRequest]


class SyncProgressOut(CamelModel):
    synced: int
    failed: int
    total: int


class SyncErrorOut(CamelModel):
    campaign_id: str
    message: str


class SyncStatusOut(CamelModel):
    status: str
    progress: SyncProgressOut
    errors: list[SyncErrorOut]
    last_synced_at: str | None = None
    job_id: str


@router.post("/{set_id}/validate", response_model=ValidationOut)
async def validate_campaign_set(
    set_id: str, tenant: TenantDep, session: SessionDep
) -> ValidationOut:
    """Check the whole set against its platform's rules: every problem at once, each with the
    field path it belongs to (`campaigns.0.adGroups.1.bidAmount`). Nothing is sent anywhere."""
    campaign_set, account = await _get_set_and_account(session, tenant.id, set_id)
    tree = await load_tree(session, tenant.id, campaign_set, account)
    problems = problems_json(validate(tree))
    return ValidationOut.model_validate(
        {"valid": not problems, "platform": campaign_set.platform, "problems": problems}
    )


@router.post(
    "/{set_id}/sync",
    status_code=202,
    response_model=SyncAccepted,
    responses={
        200: {"model": DryRunOut, "description": "dryRun=true: what a sync would send"},
        422: {"description": "the set breaks its platform's rules: every problem is listed"},
    },
)
async def sync_campaign_set(
    set_id: str,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    request: Request,
    dry_run_only: Annotated[
        bool,
        Query(
            alias="dryRun",
            description="Return the exact requests (method, path, body) a sync would send "
            "now, in order, and the set's problems, without sending or changing anything.",
        ),
    ] = False,
) -> SyncAccepted | JSONResponse:
    """Push the set to its platform in the background; joins a sync already running. Refused
    (422, every problem listed) when the set breaks its platform's rules."""
    if dry_run_only:
        campaign_set, account = await _get_set_and_account(session, tenant.id, set_id)
        tree = await load_tree(session, tenant.id, campaign_set, account)
        problems = validate(tree)
        preview = await dry_run(tree, account)
        out = DryRunOut.model_validate(
            {
                "valid": not problems,
                "platform": campaign_set.platform,
                "problems": problems_json(problems or preview.problems),
                "requests": preview.requests,
            }
        )
        return JSONResponse(out.model_dump(mode="json", by_alias=True))
    return await _start(set_id, "push", tenant.id, session, temporal, settings, request)


@router.post("/{set_id}/pause", status_code=202, response_model=SyncAccepted)
async def pause_campaign_set(
    set_id: str,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    request: Request,
) -> SyncAccepted:
    """Pause every synced campaign of the set on the platform (then locally)."""
    return await _start(set_id, "pause", tenant.id, session, temporal, settings, request)


@router.post("/{set_id}/resume", status_code=202, response_model=SyncAccepted)
async def resume_campaign_set(
    set_id: str,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    request: Request,
) -> SyncAccepted:
    """Set every synced campaign of the set active again on the platform (then locally)."""
    return await _start(set_id, "resume", tenant.id, session, temporal, settings, request)


@router.get("/{set_id}/sync-status", response_model=SyncStatusOut)
async def sync_status(set_id: str, tenant: TenantDep, session: SessionDep) -> SyncStatusOut:
    campaign_set = await _get_set(session, tenant.id, set_id)
    progress, errors = await _progress(session, tenant.id, campaign_set.id)
    return SyncStatusOut(
        status=campaign_set.sync_status,
        progress=progress,
        errors=errors,
        last_synced_at=campaign_set.last_synced_at.isoformat()
        if campaign_set.last_synced_at
        else None,
        job_id=sync_workflow_id(campaign_set.id),
    )


@router.get("/{set_id}/sync-stream", response_class=StreamingResponse)
async def sync_stream(
    set_id: str, request: Request, tenant: TenantDep, session: SessionDep
) -> StreamingResponse:
    """Server-Sent Events until the set's current sync ends:
    `sync-progress` {campaignId, status, platformId} each time a campaign finishes, then
    `sync-complete` {synced, failed, errors}."""
    campaign_set = await _get_set(session, tenant.id, set_id)
    return StreamingResponse(
        _events(request.app.state.sessions, tenant.id, campaign_set.id, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# -- starting -------------------------------------------------------------------------------


async def _start(
    set_id: str,
    operation: SyncOperation,
    tenant_id: uuid.UUID,
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    request: Request,
) -> SyncAccepted:
    campaign_set, account = await _get_set_and_account(session, tenant_id, set_id)
    if campaign_set.ad_account_id is None:
        detail = [{"field": "adAccountId", "message": "the set has no ad account to sync to"}]
        raise ApiError(422, "validation_error", detail)
    if operation == "push":
        problems = validate(await load_tree(session, tenant_id, campaign_set, account))
        if problems:
            raise ApiError(422, "validation_error", problems_json(problems))
    workflow_id = (
        sync_workflow_id(campaign_set.id)
        if operation == "push"
        else status_workflow_id(campaign_set.id)
    )
    kind: JobKind = "set_sync" if operation == "push" else "set_status"
    if operation == "push" and await workflow_status(temporal, workflow_id) == "running":
        await JobRepository(session).record(tenant_id, workflow_id, kind, campaign_set.id)
        await session.commit()
        return SyncAccepted(job_id=workflow_id, status="running")
    verdict = await CircuitBreakerService.from_settings(request.app.state.sessions, settings).check(
        campaign_set.platform
    )
    if not verdict.allowed:
        raise ApiError(
            503,
            "circuit_open",
            f"{campaign_set.platform} is failing too often "
            f"({(verdict.failure_ratio or 0):.0%} of recent calls); try again later",
            {"Retry-After": str(verdict.retry_after_seconds)},
        )
    await CampaignSetRepository(session).set_status(
        tenant_id, campaign_set.id, sync_status="syncing"
    )
    await JobRepository(session).record(tenant_id, workflow_id, kind, campaign_set.id)
    await session.commit()
    sync_input = SyncSetInput(
        tenant_id=str(tenant_id),
        set_id=str(campaign_set.id),
        operation=operation,
        batch_size=settings.sync_batch_size,
        window=settings.sync_window,
        platform_task_queue=platform(campaign_set.platform).task_queue(settings),
        activity_timeout_seconds=settings.publish_activity_timeout_seconds,
        max_batches_per_run=settings.sync_batches_per_run,
        call_max_attempts=settings.sync_call_max_attempts,
        retry_initial_seconds=settings.sync_retry_initial_seconds,
    )
    # Signal-with-start: the set's entity workflow takes the request, or starts with it. It
    # runs the set's operations one at a time, so a sync and a pause never overlap.
    await request_set_operation(
        temporal,
        settings.task_queue,
        CampaignSetEntityInput(
            tenant_id=str(tenant_id),
            set_id=str(campaign_set.id),
            platform=campaign_set.platform,
            idle_seconds=settings.set_entity_idle_seconds,
        ),
        SetOperationRequest(operation=operation, sync=sync_input),
        summary=f"Campaign set '{campaign_set.name}' on {campaign_set.platform.capitalize()}",
    )
    return SyncAccepted(job_id=workflow_id, status="queued")


# -- reading --------------------------------------------------------------------------------


async def _get_set(session: AsyncSession, tenant_id: uuid.UUID, set_id: str) -> CampaignSet:
    return (await _get_set_and_account(session, tenant_id, set_id))[0]


async def _get_set_and_account(
    session: AsyncSession, tenant_id: uuid.UUID, set_id: str
) -> tuple[CampaignSet, AdAccount | None]:
    parsed = parse_uuid(set_id)
    found = await SetSyncRepository(session).set_with_account(tenant_id, parsed) if parsed else None
    if found is None:
        raise not_found("campaign set")
    return found


async def _progress(
    session: AsyncSession, tenant_id: uuid.UUID, set_id: uuid.UUID
) -> tuple[SyncProgressOut, list[SyncErrorOut]]:
    live = (
        GeneratedCampaign.tenant_id == tenant_id,
        GeneratedCampaign.campaign_set_id == set_id,
        GeneratedCampaign.deleted_at.is_(None),
    )
    synced, failed, total = (
        await session.execute(
            select(
                func.count().filter(GeneratedCampaign.sync_status == "synced"),
                func.count().filter(GeneratedCampaign.sync_status == "failed"),
                func.count(),
            ).where(*live)
        )
    ).one()
    failures = await session.execute(
        select(GeneratedCampaign.id, GeneratedCampaign.sync_error)
        .where(*live, GeneratedCampaign.sync_status == "failed")
        .order_by(GeneratedCampaign.position)
        .limit(100)
    )
    errors = [
        SyncErrorOut(campaign_id=str(cid), message=message or "failed")
        for cid, message in failures.all()
    ]
    return SyncProgressOut(synced=synced, failed=failed, total=total), errors


async def _events(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    set_id: uuid.UUID,
    request: Request,
) -> AsyncIterator[str]:
    seen: dict[uuid.UUID, tuple[str, str | None]] = {}
    first = True
    while not await request.is_disconnected():
        async with tenant_session(sessions, tenant_id) as session:
            campaign_set = await session.get(CampaignSet, set_id, populate_existing=True)
            if campaign_set is None:
                return
            rows = await session.execute(
                select(
                    GeneratedCampaign.id,
                    GeneratedCampaign.sync_status,
                    GeneratedCampaign.platform_campaign_id,
                )
                .where(
                    GeneratedCampaign.tenant_id == tenant_id,
                    GeneratedCampaign.campaign_set_id == set_id,
                    GeneratedCampaign.deleted_at.is_(None),
                )
                .order_by(GeneratedCampaign.position)
            )
            progress, errors = await _progress(session, tenant_id, set_id)
        for campaign_id, status, platform_id in rows.all():
            current = (status, platform_id)
            if seen.get(campaign_id) != current:
                seen[campaign_id] = current
                # The first look only reports what is already finished.
                if not first or status in ("synced", "failed"):
                    yield _sse(
                        "sync-progress",
                        {
                            "campaignId": str(campaign_id),
                            "status": status,
                            "platformId": platform_id,
                        },
                    )
        first = False
        if campaign_set.sync_status != "syncing":
            yield _sse(
                "sync-complete",
                {
                    "status": campaign_set.sync_status,
                    "synced": progress.synced,
                    "failed": progress.failed,
                    "total": progress.total,
                    "errors": [e.model_dump(by_alias=True) for e in errors],
                },
            )
            return
        await asyncio.sleep(SSE_POLL_SECONDS)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
