"""What `GET /api/v1/jobs/{jobId}` answers for each job kind (`flightdeck/jobs.py`).

Every reader works in two phases so that a status read never waits on a worker and never holds
a pooled database connection while it waits on Temporal (issue 10 goal 3):
1. `read(session, tenant_id, job)`: everything Postgres knows (status, progress, errors) — the
   route then releases its connection;
2. `answer(snapshot, described)`: combined with a Temporal *describe* (short deadline; `None`
   when Temporal is slow, down, or the run is unknown). No workflow query, ever.

A job whose end Postgres already holds (`Snapshot.settled`: a plan `active`, `paused`,
`failed` or `cancelled`; a set's run under this job id completed, with or without errors) is
answered from Postgres alone: every run records how it ended before it ends, so Temporal could
add nothing, and a describe is the slowest part of a read while runs are in flight
(bench/api_load.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from flightdeck.db.models import (
    CampaignSet,
    Job,
    MetricsSyncRun,
    SetSyncRun,
    SyncBackRun,
)
from flightdeck.db.repositories.campaign_errors import CampaignErrorRepository
from flightdeck.db.repositories.campaign_requests import CampaignRequestRepository
from flightdeck.db.repositories.campaign_set_targets import CampaignSetTargetRepository
from flightdeck.db.repositories.remote_objects import RemoteObjectLedger
from flightdeck.db.repositories.set_sync import SetSyncRepository
from flightdeck.domain.publish import step_of_local_key
from flightdeck.jobs import JOB_KINDS

DESCRIBE_TIMEOUT = timedelta(seconds=1)
NOT_STARTED = "not_started"  # Temporal has no run under the id (yet)


@dataclass(frozen=True)
class Described:
    status: str  # running, completed, failed, terminated, cancelled, timed_out, continued_as_new
    start_time: datetime | None


async def describe(temporal: Client | None, workflow_id: str) -> Described | None:
    """Temporal's view of the latest run, within `DESCRIBE_TIMEOUT`; None if it has none."""
    if temporal is None:
        return None
    try:
        found = await temporal.get_workflow_handle(workflow_id).describe(
            rpc_timeout=DESCRIBE_TIMEOUT
        )
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return Described(status=NOT_STARTED, start_time=None)
        return None  # Temporal down or slow: Postgres answers
    except Exception:  # noqa: BLE001 - e.g. a lazy client that cannot connect
        return None
    status = found.status
    if not isinstance(status, WorkflowExecutionStatus):
        return None
    return Described(status=status.name.lower(), start_time=found.start_time)


@dataclass
class Snapshot:
    """What Postgres knows of one job."""

    job: Job
    status: str | None  # Postgres's own view (None: ask Temporal)
    progress: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Postgres holds how the job ended: no describe is needed (module docstring).
    settled: bool = False


Reader = Callable[[AsyncSession, uuid.UUID, Job], Awaitable[Snapshot | None]]
Answer = Callable[[Snapshot, Described | None], dict[str, Any]]


@dataclass(frozen=True)
class StatusReader:
    read: Reader
    answer: Answer


def _default_answer(snapshot: Snapshot, described: Described | None) -> dict[str, Any]:
    found = described is not None and described.status != NOT_STARTED
    status = described.status if found and described else (snapshot.status or "unknown")
    return {
        "workflow_id": snapshot.job.id,
        "status": status,
        "progress": snapshot.progress,
        "result": snapshot.result if status == "completed" else None,
        "error": snapshot.error if status != "completed" else None,
    }


# -- plans ------------------------------------------------------------------------------------


async def _read_plan(session: AsyncSession, tenant_id: uuid.UUID, job: Job) -> Snapshot | None:
    request = await CampaignRequestRepository(session).get_by_workflow_id(tenant_id, job.id)
    if request is None:
        return None
    error = None
    if request.status == "failed":
        errors = await CampaignErrorRepository(session).list_for_plan(
            tenant_id, request.campaign_plan_id
        )
        error = f"{errors[-1].step}: {errors[-1].error_message}" if errors else "failed"
    progress = {
        "step": request.step,
        "done": request.progress_done,
        "total": request.progress_total,
    }
    result = {"campaignPlanId": str(request.campaign_plan_id), "status": request.status}
    # In the job's words, which are Temporal's (a cancelled run is `canceled`).
    plan_status = {"failed": "failed", "cancelled": "canceled"}.get(request.status)
    if request.status in ("active", "paused"):
        plan_status = "completed"
    if plan_status is None and request.status != "pending":
        # Running: the run records its counts only when it ends; until then the ledger says
        # how far it got (as the plan's SSE stream does) and which step created the newest.
        done, newest = await RemoteObjectLedger(session).live_progress(
            tenant_id, request.campaign_plan_id
        )
        progress["done"] = max(request.progress_done, done)
        if newest is not None:
            progress["step"] = step_of_local_key(newest)
    return Snapshot(
        job, plan_status or "running", progress, result, error, settled=plan_status is not None
    )


# -- campaign sets ----------------------------------------------------------------------------


async def _read_set(session: AsyncSession, tenant_id: uuid.UUID, job: Job) -> Snapshot | None:
    """The set's latest run under this job id (`set_sync_runs`): its live or final counts,
    which add up to the total once it is finished, and its status and reason."""
    set_id = uuid.UUID(job.subject_id) if job.subject_id else None
    campaign_set = await session.scalar(
        select(CampaignSet).where(CampaignSet.tenant_id == tenant_id, CampaignSet.id == set_id)
    )
    if campaign_set is None:
        return None
    run = await session.scalar(
        select(SetSyncRun)
        .where(
            SetSyncRun.tenant_id == tenant_id,
            SetSyncRun.campaign_set_id == campaign_set.id,
            SetSyncRun.workflow_id == job.id,
        )
        .order_by(SetSyncRun.started_at.desc(), SetSyncRun.id.desc())
        .limit(1)
    )
    step = "push" if job.kind == "set_sync" else "status"
    counts = {"synced": 0, "failed": 0, "held": 0, "skipped": 0}
    total, pg_status, error, finished_at = 0, None, None, None
    if run is not None and run.started_at >= job.requested_at:
        total, finished_at = run.total, run.finished_at
        if run.finished_at is not None:
            counts = {"synced": run.synced, "failed": run.failed, "held": run.held,
                      "skipped": run.skipped}  # fmt: skip
            pg_status, error = run.status, run.error
        else:
            live = await SetSyncRepository(session).run_counts(tenant_id, run.id)
            counts = {k: live.get(k, 0) for k in counts}
            pg_status = "running"
    done = sum(counts.values())
    progress: dict[str, Any] = {"step": step, "done": done, "total": total, **counts}
    result: dict[str, Any] = {"status": pg_status, **counts, "total": total}
    targets = await CampaignSetTargetRepository(session).list(tenant_id, campaign_set.id)
    if len(targets) > 1:  # each target's own standing (its campaigns by status there)
        per_target = await CampaignSetTargetRepository(session).campaign_counts(
            tenant_id, campaign_set.id
        )
        progress["targets"] = result["targets"] = [
            {
                "platform": t.platform,
                "adAccountId": str(t.ad_account_id) if t.ad_account_id else None,
                "syncStatus": t.sync_status,
                "syncError": t.sync_error,
                "campaigns": per_target.get(t.platform, {"total": 0, "onPlatform": 0}),
            }
            for t in targets
        ]
    return Snapshot(
        job,
        pg_status,
        progress,
        result,
        error,
        {"finished_at": finished_at, "run_status": pg_status},
        # This job's own run finished (a run that started before the request is another's) and
        # did its work; a `failed` run may have been cancelled or terminated: Temporal says which.
        settled=finished_at is not None and pg_status in ("completed", "completed_with_errors"),
    )


def _answer_set(snapshot: Snapshot, described: Described | None) -> dict[str, Any]:
    """A set's job id names its latest run of that kind. No run yet, or only one that started
    before this request, means the request waits behind another operation of the set: queued.
    With Temporal unreachable, Postgres answers: done only if the set finished an operation
    after the request."""
    out = _default_answer(snapshot, described)
    requested = snapshot.job.requested_at
    if described is None:
        finished = snapshot.extra.get("finished_at")
        if snapshot.status != "running" and (finished is None or finished < requested):
            out["status"] = "queued"
    elif described.status == NOT_STARTED or (
        described.status != "running"
        and described.start_time is not None
        and described.start_time < requested
    ):
        out["status"] = "queued"
    if out["status"] == "running" and snapshot.progress["total"] == 0:
        out["status"] = "queued"
    if out["status"] == "completed" and snapshot.extra.get("run_status") in (
        "completed_with_errors",
        "failed",
    ):
        out["status"] = snapshot.extra["run_status"]  # the run's own word for how it ended
    done = out["status"] in ("completed", "completed_with_errors")
    out["result"] = snapshot.result if done else None
    out["error"] = (snapshot.error or "failed") if out["status"] == "failed" else None
    return out


# -- tenant-wide cycles -------------------------------------------------------------------------


async def _read_sync_back(session: AsyncSession, tenant_id: uuid.UUID, job: Job) -> Snapshot | None:
    rows = list(
        await session.scalars(
            select(SyncBackRun).where(
                SyncBackRun.tenant_id == tenant_id, SyncBackRun.cycle_id == job.id
            )
        )
    )
    return _cycle(job, [(r.status, r.error, str(r.ad_account_id)) for r in rows], rows)


async def _read_metrics(session: AsyncSession, tenant_id: uuid.UUID, job: Job) -> Snapshot | None:
    rows = list(
        await session.scalars(
            select(MetricsSyncRun).where(
                MetricsSyncRun.tenant_id == tenant_id, MetricsSyncRun.cycle_id == job.id
            )
        )
    )
    return _cycle(job, [(r.status, r.error, str(r.connection_id)) for r in rows], rows)


def _cycle(job: Job, runs: list[tuple[str, str | None, str]], rows: list[Any]) -> Snapshot:
    """A cycle over accounts: one run row per account, each ending with its own status."""
    done = [r for r in runs if r[0] != "running"]
    failed = [r for r in runs if r[0] == "failed"]
    result = {"accounts": len(runs), "failed": len(failed)}
    error = "; ".join(f"{account}: {message}" for _, message, account in failed if message)
    return Snapshot(
        job,
        None,  # the cycle's own end is Temporal's to say; its runs are only its parts
        {"step": "accounts", "done": len(done), "total": len(runs)},
        result,
        error or None,
    )


# -- the registry's readers ---------------------------------------------------------------------

READERS: dict[str, StatusReader] = {
    "plan_publish": StatusReader(_read_plan, _default_answer),
    "set_sync": StatusReader(_read_set, _answer_set),
    "set_status": StatusReader(_read_set, _answer_set),
    "sync_back": StatusReader(_read_sync_back, _default_answer),
    "metrics_sync": StatusReader(_read_metrics, _default_answer),
}


def reader(kind: str) -> StatusReader | None:
    assert kind in JOB_KINDS, kind
    return READERS.get(kind)
