"""Campaign-set sync (seed 002 phases 3–5): start it in the background, watch it, pause and
resume a set on the platform. The work runs in `SyncCampaignSetWorkflow`.

    POST /campaign-sets/{setId}/validate      {valid, problems}: every platform rule, at once
    POST /campaign-sets/{setId}/sync          202 {jobId, status}; a running sync is joined;
                                              422 with every problem if validation fails;
                                              ?dryRun=true: 200 {requests, problems}, nothing sent
    GET  /campaign-sets/{setId}/sync-status   the latest run: {status, runStatus, progress:
                                              {synced, failed, held, skipped, total}, errors}
    GET  /campaign-sets/{setId}/sync-stream   SSE of the current run only: sync-progress once
                                              per campaign, then sync-complete
    POST /campaign-sets/{setId}/pause|resume  202 {jobId, status}: the platform, not only here

The job id is the workflow id (`sync-set-{setId}`, `status-set-{setId}`): it names the set's
latest run of that kind, so `GET /jobs/{jobId}` always shows the one that matters. Nothing is
written before Temporal accepted the start (Temporal unreachable → 503, nothing changed): the
sync's first activity marks the set `syncing` and opens the run (`set_sync_runs`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError

from flightdeck.api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from flightdeck.api.errors import ApiError, not_found, unavailable
from flightdeck.api.job_status import describe
from flightdeck.api.publishing import parse_uuid, workflow_status
from flightdeck.api.set_checks import (
    TargetTree,
    dry_run,
    problems_json,
    target_trees,
    validate,
)
from flightdeck.db.circuit_breaker import CircuitBreakerService
from flightdeck.db.models import AdAccount, CampaignSet, SetSyncRun
from flightdeck.db.repositories.campaign_set_targets import (
    CampaignSetTargetRepository,
    campaign_standing,
)
from flightdeck.db.repositories.jobs import JobRepository
from flightdeck.db.repositories.set_sync import SetSyncRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.campaign_sets import CamelModel
from flightdeck.domain.sync import SyncOperation, SyncSetInput, SyncTarget
from flightdeck.jobs import JobKind
from flightdeck.platforms.registry import platform
from flightdeck.set_entity_client import request_set_operation
from flightdeck.settings import Settings
from flightdeck.temporal import (
    status_workflow_id,
    sync_workflow_id,
    temporal_unreachable,
)
from flightdeck.workflows.campaign_set_entity import (
    CampaignSetEntityInput,
    CampaignSetWorkflow,
    SetOperationRequest,
    entity_workflow_id,
)
from flightdeck.workflows.sync_campaign_set import SyncCampaignSetWorkflow

router = APIRouter(prefix="/campaign-sets", tags=["campaign-set sync"])

SSE_POLL_SECONDS = 0.25
# A stream asks a running workflow where it is; with no worker to answer it gives up quickly
# and reads Postgres instead.
QUERY_TIMEOUT = timedelta(seconds=2)
STREAM_WAIT_SECONDS = 60.0  # longest wait for a requested operation's run to start


class SyncAccepted(CamelModel):
    job_id: str
    status: Literal["queued", "running"]


class ProblemOut(CamelModel):
    field: str
    message: str
    entity_type: str | None = None
    entity_id: str | None = None
    platform: str | None = None  # a set with several targets: whose rule


class PlannedRequest(CamelModel):
    method: str
    path: str
    body: dict[str, Any] | None
    entity_type: str | None = None
    entity_id: str | None = None
    entity_path: str | None = None
    platform: str | None = None  # a set with several targets: which platform it goes to


class TargetCheckOut(CamelModel):
    """One target's verdict by its platform's rules (and, in a dry run, its requests)."""

    platform: str
    ad_account_id: uuid.UUID | None
    valid: bool
    problems: list[ProblemOut]
    requests: list[PlannedRequest] | None = None


class ValidationOut(CamelModel):
    """`platform`: the first target; `problems`: every target's (each names its platform when
    there are several); `targets`: each target's own verdict."""

    valid: bool
    platform: str
    problems: list[ProblemOut]
    targets: list[TargetCheckOut] = Field(default_factory=list)


class DryRunOut(ValidationOut):
    dry_run: Literal[True] = True
    requests: list[PlannedRequest]


class SyncProgressOut(CamelModel):
    """One run's counts: each campaign it took is counted once, as synced, failed, held (by an
    open conflict; its other changes were pushed) or skipped; they add up to `total` when the
    run is finished."""

    synced: int
    failed: int
    held: int = 0
    skipped: int = 0
    total: int


class SyncErrorOut(CamelModel):
    campaign_id: str
    message: str


class SyncStatusOut(CamelModel):
    status: str
    run_status: Literal["none", "running", "completed", "completed_with_errors", "failed"] = "none"
    run_id: str | None = None
    progress: SyncProgressOut
    errors: list[SyncErrorOut]
    error: str | None = None
    last_synced_at: str | None = None
    job_id: str


@router.post("/{set_id}/validate", response_model=ValidationOut)
async def validate_campaign_set(
    set_id: str, tenant: TenantDep, session: SessionDep
) -> JSONResponse:
    """Check the whole set against each target's platform rules: every problem at once, each
    with the field path it belongs to (`campaigns.0.adGroups.1.bidAmount`) and, with several
    targets, its platform; `targets` has each target's verdict. Nothing is sent anywhere."""
    campaign_set = await _get_set(session, tenant.id, set_id)
    checks = [
        _target_check(target, validate(target.tree))
        for target in await target_trees(session, tenant.id, campaign_set)
    ]
    return _json(ValidationOut.model_validate(_merged(campaign_set, checks)))


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
        campaign_set = await _get_set(session, tenant.id, set_id)
        checks = []
        for target in await target_trees(session, tenant.id, campaign_set):
            problems = validate(target.tree)
            preview = await dry_run(target.tree, target.account)
            checks.append(_target_check(target, problems or preview.problems, preview.requests))
        merged = _merged(campaign_set, checks)
        merged["requests"] = [
            request | ({"platform": check["platform"]} if len(checks) > 1 else {})
            for check in checks
            for request in check["requests"]
        ]
        return _json(DryRunOut.model_validate(merged))
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
    run = await SetSyncRepository(session).latest_run(tenant.id, campaign_set.id)
    progress, errors = await _progress(session, tenant.id, run)
    return SyncStatusOut(
        status=campaign_set.sync_status,
        run_status=run.status if run else "none",  # type: ignore[arg-type]
        run_id=str(run.id) if run else None,
        progress=progress,
        errors=errors,
        error=run.error if run else None,
        last_synced_at=campaign_set.last_synced_at.isoformat()
        if campaign_set.last_synced_at
        else None,
        job_id=sync_workflow_id(campaign_set.id),
    )


@router.get("/{set_id}/sync-stream", response_class=StreamingResponse)
async def sync_stream(
    set_id: str, request: Request, tenant: TenantDep, session: SessionDep
) -> StreamingResponse:
    """Server-Sent Events of the set's current run (a sync, pause or resume), until it ends:
    `sync-progress` {campaignId, status: synced|failed|held|skipped, platformId} once per
    campaign as it finishes, then `sync-complete` {status: completed|completed_with_errors|
    failed, synced, failed, held, skipped, total, errors, error}. Nothing of an earlier run is
    replayed; with no run going, the latest run's `sync-complete` alone."""
    campaign_set = await _get_set(session, tenant.id, set_id)
    return StreamingResponse(
        _events(
            request.app.state.sessions,
            request.app.state.temporal,
            tenant.id,
            campaign_set.id,
            request,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _json(out: ValidationOut) -> JSONResponse:
    """A set with one target answers as before targets existed (no `targets`)."""
    exclude = {"targets"} if len(out.targets) < 2 else None
    return JSONResponse(out.model_dump(mode="json", by_alias=True, exclude=exclude))


def _target_check(
    target: TargetTree, problems: list[Any], requests: list[Any] | None = None
) -> dict[str, Any]:
    return {
        "platform": target.platform,
        "adAccountId": target.account.id if target.account else None,
        "valid": not problems,
        "problems": problems_json(problems),
        "requests": requests,
    }


def _merged(campaign_set: CampaignSet, checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Every target's verdict in one: valid when all are; each problem names its platform when
    the set has several targets."""
    several = len(checks) > 1
    return {
        "valid": all(check["valid"] for check in checks),
        "platform": campaign_set.platform,
        "problems": [
            problem | ({"platform": check["platform"]} if several else {})
            for check in checks
            for problem in check["problems"]
        ],
        "targets": checks,
    }


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
    campaign_set = await _get_set(session, tenant_id, set_id)
    if campaign_set.ad_account_id is None:
        detail = [{"field": "adAccountId", "message": "the set has no ad account to sync to"}]
        raise ApiError(422, "validation_error", detail)
    targets = await target_trees(session, tenant_id, campaign_set)
    if operation == "push":
        # Every target by its own platform's rules (each problem names its platform when
        # there are several).
        merged = _merged(campaign_set, [_target_check(t, validate(t.tree)) for t in targets])
        if merged["problems"]:
            raise ApiError(422, "validation_error", merged["problems"])
    workflow_id = (
        sync_workflow_id(campaign_set.id)
        if operation == "push"
        else status_workflow_id(campaign_set.id)
    )
    kind: JobKind = "set_sync" if operation == "push" else "set_status"
    under_way = await describe(temporal, workflow_id) if operation == "push" else None
    if under_way is not None and under_way.status == "running":
        # Join the push under way — unless Postgres already holds its end (Temporal is only
        # closing the run): that one took the campaigns before this request, so a new push
        # is queued behind it instead. The joined job follows the run it joined: it counts
        # as requested when that run started (Postgres's row, or Temporal's current run after
        # a continue-as-new, whichever is first), so the job ends when the run does.
        run = await SetSyncRepository(session).latest_run(tenant_id, campaign_set.id, workflow_id)
        if run is None or run.finished_at is None:
            joined = under_way.start_time
            if run is not None:
                joined = min(run.started_at, joined or run.started_at)
            await JobRepository(session).record(
                tenant_id, workflow_id, kind, campaign_set.id, requested_at=joined
            )
            await session.commit()
            return SyncAccepted(job_id=workflow_id, status="running")
    breaker = CircuitBreakerService.from_settings(request.app.state.sessions, settings)
    # Refused only when every target's platform is failing: one platform's outage must not
    # hold the others (its target fails in the run, with the reason).
    verdicts = [await breaker.check(t.platform) for t in targets]
    verdict = verdicts[0]
    if not any(v.allowed for v in verdicts):
        raise ApiError(
            503,
            "circuit_open",
            f"{campaign_set.platform} is failing too often "
            f"({(verdict.failure_ratio or 0):.0%} of recent calls); try again later",
            {"Retry-After": str(verdict.retry_after_seconds)},
        )
    # Nothing is committed before Temporal accepted the request: the sync's `prepare` marks the
    # set syncing (Temporal unreachable → 503, nothing changed).
    sync_input = SyncSetInput(
        tenant_id=str(tenant_id),
        set_id=str(campaign_set.id),
        platform=campaign_set.platform,
        operation=operation,
        batch_size=settings.sync_batch_size,
        window=settings.sync_window,
        platform_task_queue=platform(campaign_set.platform).task_queue(settings),
        activity_timeout_seconds=settings.publish_activity_timeout_seconds,
        max_batches_per_run=settings.sync_batches_per_run,
        call_max_attempts=settings.sync_call_max_attempts,
        retry_initial_seconds=settings.sync_retry_initial_seconds,
        targets=[
            SyncTarget(platform=t.platform, task_queue=platform(t.platform).task_queue(settings))
            for t in targets
        ]
        if len(targets) > 1
        else [],
    )
    # The job row is written in a transaction committed only once Temporal took the request
    # (its `requested_at`, the transaction's start, precedes the run it names).
    await JobRepository(session).record(tenant_id, workflow_id, kind, campaign_set.id)
    try:
        await _signal_with_start(temporal, settings, campaign_set, operation, sync_input)
    except Exception as exc:
        await session.rollback()
        if temporal_unreachable(exc):
            raise unavailable("temporal", "Temporal is unreachable; nothing was changed") from exc
        raise
    await session.commit()
    return SyncAccepted(job_id=workflow_id, status="queued")


async def _signal_with_start(
    temporal: Client,
    settings: Settings,
    campaign_set: CampaignSet,
    operation: SyncOperation,
    sync_input: SyncSetInput,
) -> None:
    """Signal-with-start: the set's entity workflow takes the request, or starts with it. It
    runs the set's operations one at a time, so a sync and a pause never overlap."""
    tenant_id = campaign_set.tenant_id
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
        rpc_timeout=timedelta(seconds=settings.temporal_rpc_timeout_seconds),
    )


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
    session: AsyncSession, tenant_id: uuid.UUID, run: SetSyncRun | None
) -> tuple[SyncProgressOut, list[SyncErrorOut]]:
    """The run's counts (final ones once it is finished, live ones from its campaigns before)."""
    if run is None:
        return SyncProgressOut(synced=0, failed=0, total=0), []
    repo = SetSyncRepository(session)
    if run.finished_at is not None:
        progress = SyncProgressOut(
            synced=run.synced, failed=run.failed, held=run.held, skipped=run.skipped,
            total=run.total,
        )  # fmt: skip
    else:
        counts = await repo.run_counts(tenant_id, run.id)
        progress = SyncProgressOut(
            synced=counts.get("synced", 0), failed=counts.get("failed", 0),
            held=counts.get("held", 0), skipped=counts.get("skipped", 0), total=run.total,
        )  # fmt: skip
    errors = [
        SyncErrorOut(campaign_id=str(cid), message=message or "failed")
        for cid, message in await repo.run_errors(tenant_id, run.id, 100)
    ]
    return progress, errors


async def _current_run_id(temporal: Client, set_id: uuid.UUID) -> uuid.UUID | None:
    """The run a sync or pause/resume now going is on, from its workflow (it may not have
    written its row yet)."""
    for workflow_id in (sync_workflow_id(set_id), status_workflow_id(set_id)):
        if await workflow_status(temporal, workflow_id) != "running":
            continue
        try:
            live = await temporal.get_workflow_handle(workflow_id).query(
                SyncCampaignSetWorkflow.progress, rpc_timeout=QUERY_TIMEOUT
            )
        except (TimeoutError, RPCError, WorkflowQueryFailedError):
            continue
        if live.run_id:
            return uuid.UUID(live.run_id)
    return None


async def _operation_waiting(temporal: Client, set_id: uuid.UUID) -> bool:
    """Whether the set's entity workflow holds a request not yet running as a sync (its run
    row is about to appear)."""
    entity_id = entity_workflow_id(set_id)
    if await workflow_status(temporal, entity_id) != "running":
        return False
    try:
        state = await temporal.get_workflow_handle(entity_id).query(
            CampaignSetWorkflow.state, rpc_timeout=QUERY_TIMEOUT
        )
    except (TimeoutError, RPCError, WorkflowQueryFailedError):
        return False
    return bool(state.pending or state.running)


async def _run_to_follow(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    tenant_id: uuid.UUID,
    set_id: uuid.UUID,
    request: Request,
) -> tuple[uuid.UUID | None, bool]:
    """(run, whether it is current). Current: unfinished, or started since the stream opened,
    or about to start (a request the set's entity workflow holds); then its campaigns are
    reported. Otherwise the latest run, whose end alone is reported."""
    async with tenant_session(sessions, tenant_id) as session:
        opened_at: datetime = (await session.execute(select(func.now()))).scalar_one()
    waited = 0.0
    while not await request.is_disconnected():
        async with tenant_session(sessions, tenant_id) as session:
            latest = await SetSyncRepository(session).latest_run(tenant_id, set_id)
        if latest is not None and (latest.finished_at is None or latest.started_at >= opened_at):
            return latest.id, True
        running = await _current_run_id(temporal, set_id)
        if running is not None:
            return running, True
        if waited >= STREAM_WAIT_SECONDS or not await _operation_waiting(temporal, set_id):
            return (latest.id if latest else None), False
        await asyncio.sleep(SSE_POLL_SECONDS)
        waited += SSE_POLL_SECONDS
    return None, False


async def _events(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    tenant_id: uuid.UUID,
    set_id: uuid.UUID,
    request: Request,
) -> AsyncIterator[str]:
    run_id, replay = await _run_to_follow(sessions, temporal, tenant_id, set_id, request)
    seen: set[uuid.UUID] = set()
    async with tenant_session(sessions, tenant_id) as session:
        several = len(await CampaignSetTargetRepository(session).list(tenant_id, set_id)) > 1
    while not await request.is_disconnected():
        async with tenant_session(sessions, tenant_id) as session:
            repo = SetSyncRepository(session)
            run = await repo.get_run(tenant_id, run_id) if run_id else None
            outcomes = await repo.run_outcomes(tenant_id, run.id) if run and replay else []
            progress, errors = await _progress(session, tenant_id, run)
            new = [o for o in outcomes if o[0] not in seen]
            # Several targets: each event also says where the campaign stands on each.
            standing = (
                await campaign_standing(session, tenant_id, [o[0] for o in new]) if several else {}
            )
            targets = (
                await _targets_now(session, tenant_id, set_id)
                if several and run is not None and run.finished_at is not None
                else None
            )
        if run_id is None:
            yield _sse("sync-complete", {"status": "none", **progress.model_dump(), "errors": []})
            return
        for campaign_id, outcome, platform_id in new:
            seen.add(campaign_id)
            event: dict[str, Any] = {
                "campaignId": str(campaign_id), "status": outcome, "platformId": platform_id
            }  # fmt: skip
            if several:
                event["targets"] = standing.get(campaign_id, {})
            yield _sse("sync-progress", event)
        if run is not None and run.finished_at is not None:
            complete: dict[str, Any] = {
                "status": run.status,
                **progress.model_dump(),
                "errors": [e.model_dump(by_alias=True) for e in errors],
                "error": run.error,
            }
            if targets is not None:
                complete["targets"] = targets
            yield _sse("sync-complete", complete)
            return
        await asyncio.sleep(SSE_POLL_SECONDS)


async def _targets_now(
    session: AsyncSession, tenant_id: uuid.UUID, set_id: uuid.UUID
) -> list[dict[str, Any]]:
    """Each target's status and its campaigns by status there."""
    repo = CampaignSetTargetRepository(session)
    counts = await repo.campaign_counts(tenant_id, set_id)
    return [
        {
            "platform": t.platform,
            "syncStatus": t.sync_status,
            "syncError": t.sync_error,
            "campaigns": counts.get(t.platform, {"total": 0, "onPlatform": 0}),
        }
        for t in await repo.list(tenant_id, set_id)
    ]


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"
