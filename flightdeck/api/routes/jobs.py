"""`/api/v1/jobs/{workflowId}`: the state of one run, for polling clients."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowFailureError, WorkflowQueryFailedError
from temporalio.service import RPCError

from flightdeck.api.deps import SessionDep, TemporalDep, TenantDep
from flightdeck.api.errors import not_found
from flightdeck.api.meta_jobs import META_JOB_PREFIXES, meta_job
from flightdeck.api.publishing import parse_uuid, workflow_status
from flightdeck.api.routes.asset_imports import IMPORT_JOB_PREFIX, import_job
from flightdeck.db.repositories.campaign_errors import CampaignErrorRepository
from flightdeck.db.repositories.campaign_requests import CampaignRequestRepository
from flightdeck.db.repositories.set_sync import SetSyncRepository
from flightdeck.domain.plans import CamelModel
from flightdeck.domain.publish import Progress
from flightdeck.domain.sync import SyncProgress, SyncTotals
from flightdeck.workflows.publish_plan import PublishPlanWorkflow
from flightdeck.workflows.sync_campaign_set import SyncCampaignSetWorkflow

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobProgress(CamelModel):
    step: str | None
    done: int
    total: int


class SetJobProgress(JobProgress):
    """A set sync counts campaigns: done = synced + failed + held + skipped."""

    synced: int
    failed: int
    held: int = 0
    skipped: int = 0


class JobOut(CamelModel):
    workflow_id: str
    status: str
    progress: SetJobProgress | JobProgress
    result: dict[str, Any] | None = None
    error: str | None = None


@router.get("/{workflow_id}", response_model=JobOut)
async def get_job(
    workflow_id: str, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> JobOut:
    """Status from Temporal when reachable, progress from the workflow (live) or Postgres."""
    if workflow_id.startswith(SET_JOB_PREFIXES):
        return await _set_job(workflow_id, tenant.id, session, temporal)
    if workflow_id.startswith(IMPORT_JOB_PREFIX):
        found = await import_job(workflow_id, tenant.id, session, temporal)
        if found is None:
            raise not_found("job")
        return JobOut.model_validate(found)
    if workflow_id.startswith(META_JOB_PREFIXES):
        return JobOut.model_validate(await meta_job(workflow_id, tenant.id, session, temporal))
    job = await CampaignRequestRepository(session).get_by_workflow_id(tenant.id, workflow_id)
    if job is None:
        raise not_found("job")
    status = await workflow_status(temporal, workflow_id) or job.status
    progress = JobProgress(step=job.step, done=job.progress_done, total=job.progress_total)
    if status == "running":
        try:
            live: Progress = await temporal.get_workflow_handle(workflow_id).query(
                PublishPlanWorkflow.progress
            )
            progress = JobProgress(step=live.step, done=live.done, total=live.total)
        except (RPCError, WorkflowQueryFailedError):
            pass  # no worker answering right now: Postgres has the last recorded progress
    error = None
    if job.status == "failed":
        errors = await CampaignErrorRepository(session).list_for_plan(
            tenant.id, job.campaign_plan_id
        )
        error = f"{errors[-1].step}: {errors[-1].error_message}" if errors else "failed"
    result = None
    if status == "completed":
        result = {"campaignPlanId": str(job.campaign_plan_id), "status": job.status}
    return JobOut(
        workflow_id=workflow_id, status=status, progress=progress, result=result, error=error
    )


SET_JOB_PREFIXES = ("sync-set-", "status-set-")


async def _set_job(
    workflow_id: str, tenant_id: uuid.UUID, session: AsyncSession, temporal: Client
) -> JobOut:
    """A campaign-set sync or pause/resume job: its set's latest run of that kind."""
    set_id = parse_uuid(workflow_id.split("-set-", 1)[1])
    found = await SetSyncRepository(session).set_with_account(tenant_id, set_id) if set_id else None
    status = await workflow_status(temporal, workflow_id) if found else None
    if found is None or status is None:
        raise not_found("job")
    handle = temporal.get_workflow_handle(workflow_id, result_type=SyncTotals)
    step = "push" if workflow_id.startswith("sync-set-") else "status"
    result: dict[str, Any] | None = None
    error: str | None = None
    counts = SyncTotals()
    if status == "running":
        try:
            live: SyncProgress = await handle.query(SyncCampaignSetWorkflow.progress)
            counts = SyncTotals.model_validate(live.model_dump(exclude={"status"}))
            step = live.operation
        except (RPCError, WorkflowQueryFailedError):
            pass
    else:
        try:
            counts = await handle.result()
            result = counts.model_dump(by_alias=True, mode="json")
            status = counts.status  # completed, completed_with_errors or failed
        except WorkflowFailureError as exc:
            error = str(exc.cause or exc)
            counts = await _latest_run_counts(session, tenant_id, found[0].id) or counts
    done = counts.synced + counts.failed + counts.held + counts.skipped
    progress = SetJobProgress(
        step=step, done=done, total=counts.total, synced=counts.synced, failed=counts.failed,
        held=counts.held, skipped=counts.skipped,
    )  # fmt: skip
    total = counts.total
    return JobOut(
        workflow_id=workflow_id,
        status="queued" if status == "running" and total == 0 else status,
        progress=progress,
        result=result,
        error=error,
    )


async def _latest_run_counts(
    session: AsyncSession, tenant_id: uuid.UUID, set_id: uuid.UUID
) -> SyncTotals | None:
    """A failed run's recorded counts (its result is the failure)."""
    run = await SetSyncRepository(session).latest_run(tenant_id, set_id)
    if run is None or run.finished_at is None:
        return None
    return SyncTotals(
        status=run.status,  # type: ignore[arg-type]
        synced=run.synced, failed=run.failed, held=run.held, skipped=run.skipped, total=run.total,
    )  # fmt: skip
