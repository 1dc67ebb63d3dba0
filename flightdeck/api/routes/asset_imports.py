"""Imports into a campaign space (seed 003), run by `ImportCampaignSpaceWorkflow`:

    POST /campaign-assets/campaign-spaces/{spaceId}/assets/import
         JSON `{"source": "platform_api"}` (or no body): the space's platform campaign
         multipart `source=csv_import|bulk_import` + `file`: a CSV, or a zip of files
         -> 202 {jobId, runId, status, source}; a platform import already running is joined
    GET  /campaign-assets/imports/{runId}          the run: status, counts, failed items
    GET  /campaign-assets/imports/{runId}/events   SSE: `import-progress`, `import-complete`

The job id is the workflow id (`import-{runId}`); `GET /jobs/{jobId}` resolves it too.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.service import RPCError

from flightdeck.api.asset_deps import UPLOAD_ERRORS, ActorDep, LibraryDep, audit, invalid, parse_id
from flightdeck.api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from flightdeck.api.errors import ApiError, ErrorBody, invalid_json, not_found, validation_detail
from flightdeck.api.job_status import describe
from flightdeck.api.multipart import FormError, read_upload_form
from flightdeck.api.publishing import workflow_status
from flightdeck.assets.library import AssetLibrary
from flightdeck.db.models import AssetImportRun, CampaignSpace
from flightdeck.db.repositories.asset_imports import ActiveImportExists, AssetImportRepository
from flightdeck.db.repositories.campaign_spaces import CampaignSpaceRepository
from flightdeck.db.repositories.jobs import JobRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.asset_import import ImportSpaceInput
from flightdeck.domain.campaign_sets import CamelModel
from flightdeck.settings import Settings
from flightdeck.storage.base import upload_key
from flightdeck.storage.intake import StagedFile
from flightdeck.storage.names import display_filename
from flightdeck.storage.sniff import sniff
from flightdeck.temporal import TENANT_ID
from flightdeck.workflows.import_campaign_space import ImportCampaignSpaceWorkflow

router = APIRouter(prefix="/campaign-assets", tags=["campaign asset imports"])

IMPORTABLE_PLATFORMS = ("reddit", "meta")
STALE_AFTER = timedelta(minutes=2)  # a queued run whose workflow never started
SSE_POLL_SECONDS = 0.25
TERMINAL = ("completed", "failed")
IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    **UPLOAD_ERRORS,
    409: {"model": ErrorBody, "description": "A file import is already running for the space"},
    503: {"model": ErrorBody, "description": "Temporal is unreachable; nothing was started"},
}


class PlatformImportIn(CamelModel):
    source: Literal["platform_api"] = "platform_api"


class ImportAccepted(CamelModel):
    job_id: str
    run_id: uuid.UUID
    status: Literal["queued", "running"]
    source: str


class ImportCounts(CamelModel):
    total: int
    imported: int
    skipped: int
    failed: int


class FailedItem(CamelModel):
    item_key: str
    error: str | None


class ImportRunOut(CamelModel):
    run_id: uuid.UUID
    job_id: str
    campaign_space_id: uuid.UUID
    source: str
    status: str
    progress: ImportCounts
    error: str | None
    failed_items: list[FailedItem]
    created_at: datetime
    finished_at: datetime | None


@router.post(
    "/campaign-spaces/{space_id}/assets/import",
    status_code=202,
    response_model=ImportAccepted,
    responses=IMPORT_ERRORS,
)
async def start_import(
    space_id: str,
    request: Request,
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    library: LibraryDep,
    actor: ActorDep,
) -> ImportAccepted:
    """Import the space's assets in the background. Re-running adds nothing twice."""
    space = await CampaignSpaceRepository(session).get(
        tenant.id, parse_id(space_id, "campaign space")
    )
    if space is None:
        raise not_found("campaign space")
    await session.commit()  # no transaction stays open while the client sends a file
    if request.headers.get("content-type", "").startswith("multipart/"):
        source, staged, filename = await _file_import(request, library, settings)
    else:
        source, staged, filename = await _platform_import(request, space), None, None
    runs = AssetImportRepository(session)
    run_id = uuid.uuid4()
    try:
        await _retire_stale(runs, temporal, tenant.id, space.id)
        if staged is not None:
            key = upload_key(tenant.id, run_id)
            await library.store.put_file(key, staged.path, "application/octet-stream")
        run = await runs.create_run(
            tenant.id,
            space.id,
            {
                "id": run_id,
                "source": source,
                "user_id": actor,
                "upload_key": upload_key(tenant.id, run_id) if staged is not None else None,
                "upload_filename": filename,
            },
        )
    except ActiveImportExists as exc:
        if staged is not None:
            await library.store.delete(upload_key(tenant.id, run_id))
            raise ApiError(409, "conflict", str(exc)) from None
        return ImportAccepted(
            job_id=exc.run.workflow_id, run_id=exc.run.id, status="running", source=exc.run.source
        )
    finally:
        if staged is not None:
            staged.discard()
    await audit(session, tenant.id, "campaign_space.import_started", space.id, actor, source=source)
    await JobRepository(session).record(tenant.id, run.workflow_id, "asset_import", run.id)
    await session.commit()
    await _start_workflow(temporal, settings, run, session, library)
    return ImportAccepted(job_id=run.workflow_id, run_id=run.id, status="queued", source=source)


async def _platform_import(request: Request, space: CampaignSpace) -> str:
    body = await request.body()
    try:
        PlatformImportIn.model_validate(json.loads(body) if body.strip() else {})
    except json.JSONDecodeError as exc:
        raise invalid_json(exc.doc, exc.pos, exc.msg) from None
    except ValidationError as exc:
        raise ApiError(422, "validation_error", validation_detail(list(exc.errors()))) from None
    if space.platform not in IMPORTABLE_PLATFORMS:
        raise invalid("platform", f"importing from {space.platform} is not supported yet")
    if not space.external_campaign_id:
        raise invalid("externalCampaignId", "the space names no platform campaign to import")
    if space.platform == "reddit" and space.ad_account_id is None:
        raise invalid("adAccountId", "connect the space to a Reddit ad account first")
    return "platform_api"


async def _file_import(
    request: Request, library: AssetLibrary, settings: Settings
) -> tuple[str, StagedFile, str | None]:
    limit = settings.bulk_import_max_total_bytes
    try:
        form = await read_upload_form(
            request,
            lambda: library.intake(limit),
            allowed_fields={"source"},
            max_file_bytes=limit,
        )
    except FormError as exc:
        error = "payload_too_large" if exc.status_code == 413 else "validation_error"
        detail = [{"field": exc.field, "message": exc.message}]
        raise ApiError(exc.status_code, error, detail) from None
    staged = form.file
    source = form.fields.get("source", "")
    problem: tuple[str, str] | None = None
    if source not in ("csv_import", "bulk_import"):
        problem = ("source", "must be csv_import or bulk_import for a file import")
    elif staged is None:
        problem = ("file", "required")
    else:
        family = sniff(staged.head).family
        if source == "csv_import" and family != "text":
            problem = ("file", "a csv_import takes a UTF-8 CSV file")
        if source == "bulk_import" and family != "archive":
            problem = ("file", "a bulk_import takes a zip archive")
    if problem is not None:
        if staged is not None:
            staged.discard()
        raise invalid(*problem)
    assert staged is not None
    return source, staged, display_filename(form.filename)


async def _retire_stale(
    runs: AssetImportRepository, temporal: Client, tenant_id: uuid.UUID, space_id: uuid.UUID
) -> None:
    """An active run whose workflow is over (terminated by hand) or never started no longer
    blocks the space."""
    active = await runs.active_for_space(tenant_id, space_id)
    if active is None:
        return
    status = await workflow_status(temporal, active.workflow_id)
    never_started = status is None and datetime.now(UTC) - active.created_at > STALE_AFTER
    if never_started or (status is not None and status != "running"):
        await runs.set_status(tenant_id, active.id, "failed", error=f"workflow {status or 'lost'}")
        await runs.session.flush()


async def _start_workflow(
    temporal: Client,
    settings: Settings,
    run: AssetImportRun,
    session: AsyncSession,
    library: AssetLibrary,
) -> None:
    try:
        await temporal.start_workflow(
            ImportCampaignSpaceWorkflow.run,
            ImportSpaceInput(
                tenant_id=str(run.tenant_id),
                run_id=str(run.id),
                batch_size=settings.asset_import_batch_size,
                activity_timeout_seconds=max(settings.publish_activity_timeout_seconds, 300.0),
                heartbeat_seconds=settings.asset_import_heartbeat_seconds,
            ),
            id=run.workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(TENANT_ID, str(run.tenant_id))]
            ),
            static_summary=f"Import assets ({run.source}) into space {run.campaign_space_id}",
        )
    except RPCError as exc:
        runs = AssetImportRepository(session)
        await runs.set_status(run.tenant_id, run.id, "failed", error="could not start")
        await session.commit()
        if run.upload_key:
            await library.store.delete(run.upload_key)
        raise ApiError(
            503,
            "temporal_unavailable",
            "could not start the import; try again",
            {"Retry-After": "5"},
        ) from exc


# --- reading --------------------------------------------------------------------------------


async def _run(session: AsyncSession, tenant_id: uuid.UUID, run_id: str) -> AssetImportRun:
    run = await AssetImportRepository(session).get(tenant_id, parse_id(run_id, "import"))
    if run is None:
        raise not_found("import")
    return run


async def run_out(session: AsyncSession, run: AssetImportRun) -> ImportRunOut:
    repo = AssetImportRepository(session)
    totals, _ = await repo.totals(run.tenant_id, run.id)
    failed = await repo.failed_items(run.tenant_id, run.id)
    return ImportRunOut(
        run_id=run.id,
        job_id=run.workflow_id,
        campaign_space_id=run.campaign_space_id,
        source=run.source,
        status=run.status,
        progress=ImportCounts(**totals.model_dump()),
        error=run.error,
        failed_items=[FailedItem(item_key=i.item_key, error=i.error) for i in failed],
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


@router.get("/imports/{run_id}", response_model=ImportRunOut)
async def get_import(run_id: str, tenant: TenantDep, session: SessionDep) -> ImportRunOut:
    return await run_out(session, await _run(session, tenant.id, run_id))


@router.get("/imports/{run_id}/events", response_class=StreamingResponse)
async def import_events(
    run_id: str, request: Request, tenant: TenantDep, session: SessionDep
) -> StreamingResponse:
    """Server-Sent Events until the import ends: `import-progress` {status, total, imported,
    skipped, failed} on every change, then `import-complete` with the final counts."""
    run = await _run(session, tenant.id, run_id)
    return StreamingResponse(
        _events(request.app.state.sessions, tenant.id, run.id, request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    request: Request,
) -> AsyncIterator[str]:
    last: dict[str, Any] | None = None
    while not await request.is_disconnected():
        async with tenant_session(sessions, tenant_id) as session:
            repo = AssetImportRepository(session)
            run = await repo.get(tenant_id, run_id)
            if run is None:
                return
            totals, _ = await repo.totals(tenant_id, run_id)
        state = {"status": run.status} | totals.model_dump()
        if run.status in TERMINAL:
            yield _sse("import-complete", state | {"error": run.error})
            return
        if state != last:
            yield _sse("import-progress", state)
            last = state
        await asyncio.sleep(SSE_POLL_SECONDS)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


# --- the jobs endpoint ----------------------------------------------------------------------

IMPORT_JOB_PREFIX = "import-"


async def import_job(
    workflow_id: str, tenant_id: uuid.UUID, session: AsyncSession, temporal: Client
) -> dict[str, Any] | None:
    """`GET /jobs/import-{runId}`: the run's status and progress (live from the workflow
    while it runs, else from Postgres), or None if the tenant has no such run."""
    run = await AssetImportRepository(session).get_by_workflow_id(tenant_id, workflow_id)
    if run is None:
        return None
    totals, _ = await AssetImportRepository(session).totals(tenant_id, run.id)
    await session.close()  # Postgres answered: no connection held while Temporal does
    # Progress is what the run recorded in Postgres (never a query that waits on a worker).
    described = await describe(temporal, workflow_id)
    status = described.status if described else run.status
    step = run.status
    result = None
    if status == "completed":
        result = {"runId": str(run.id), "campaignSpaceId": str(run.campaign_space_id)} | (
            totals.model_dump()
        )
    return {
        "workflow_id": workflow_id,
        "status": status,
        "progress": {"step": step, "done": totals.done, "total": totals.total},
        "result": result,
        "error": run.error if status == "failed" else None,
    }
