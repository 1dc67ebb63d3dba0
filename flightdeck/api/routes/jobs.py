"""`/api/v1/jobs/{jobId}`: the state of any job the API handed out, for polling clients.

The id is looked up in the job registry (`jobs` table, kinds in `flightdeck/jobs.py`); its
kind's reader answers from Postgres, the connection is released, and Temporal is only
*described* with a short deadline (`api/job_status.py`) — and not at all once Postgres holds
how the job ended. Never a workflow query: a status read
is as fast with every worker down as with them up.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from flightdeck.api.deps import SessionDep, TemporalDep, TenantDep
from flightdeck.api.errors import not_found
from flightdeck.api.job_status import describe, reader
from flightdeck.api.meta_jobs import meta_job
from flightdeck.api.routes.asset_imports import import_job
from flightdeck.api.routes.sync_back import conflict_job
from flightdeck.db.repositories.jobs import JobRepository
from flightdeck.domain.plans import CamelModel

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


class MultiTargetJobProgress(SetJobProgress):
    """A set with several targets: each one's status and its campaigns by status there."""

    targets: list[dict[str, Any]]


class JobOut(CamelModel):
    workflow_id: str
    kind: str | None = None
    status: str
    progress: MultiTargetJobProgress | SetJobProgress | JobProgress
    result: dict[str, Any] | None = None
    error: str | None = None


@router.get("/{job_id}", response_model=JobOut)
async def get_job(
    job_id: str, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> JobOut:
    """Status, progress, result or error of one job, whatever its kind."""
    job = await JobRepository(session).get(tenant.id, job_id)
    if job is None:
        raise not_found("job")
    kind = job.kind
    status_reader = reader(kind)
    if status_reader is None:  # kinds whose reader lives with their feature
        if kind == "asset_import":
            found = await import_job(job_id, tenant.id, session, temporal)
        elif kind == "conflict_resolution":
            found = await conflict_job(job_id, tenant.id, session, temporal)
        else:
            found = await meta_job(job_id, tenant.id, session, temporal)
        if found is None:
            raise not_found("job")
        return JobOut.model_validate(found | {"kind": kind})
    snapshot = await status_reader.read(session, tenant.id, job)
    if snapshot is None:
        raise not_found("job")
    await session.close()  # no pooled connection is held while Temporal answers
    described = None if snapshot.settled else await describe(temporal, job_id)
    answer = status_reader.answer(snapshot, described)
    return JobOut.model_validate(answer | {"kind": kind})
