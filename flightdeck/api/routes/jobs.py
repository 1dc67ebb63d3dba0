"""`/api/v1/jobs/{workflowId}`: the state of one run, for polling clients."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from flightdeck.api.deps import SessionDep, TemporalDep, TenantDep
from flightdeck.api.errors import not_found
from flightdeck.api.publishing import workflow_status
from flightdeck.db.repositories.campaign_errors import CampaignErrorRepository
from flightdeck.db.repositories.campaign_requests import CampaignRequestRepository
from flightdeck.domain.plans import CamelModel
from flightdeck.domain.publish import Progress
from flightdeck.workflows.publish_plan import PublishPlanWorkflow

router = APIRouter(prefix="/jobs", tags=["jobs"])


class JobProgress(CamelModel):
    step: str | None
    done: int
    total: int


class JobOut(CamelModel):
    workflow_id: str
    status: str
    progress: JobProgress
    result: dict[str, Any] | None = None
    error: str | None = None


@router.get("/{workflow_id}", response_model=JobOut)
async def get_job(
    workflow_id: str, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> JobOut:
    """Status from Temporal when reachable, progress from the workflow (live) or Postgres."""
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
