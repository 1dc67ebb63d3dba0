"""Sync-back and conflicts (seed 002 §6).

POST /sync-back/run?platform=reddit run a sync-back cycle of one platform's accounts (reddit,
                                    google, meta) for this tenant now → 202 {jobId}
GET  /sync-back/runs                recent cycles per ad account, with what each changed
GET  /conflicts?status=open         conflicts with base, local and platform values
GET  /conflicts/{id}
POST /conflicts/{id}/resolve        {"resolution": "use_local" | "use_platform"}: a Temporal
                                    update to the entity's ConflictWorkflow; its validator
                                    rejects an invalid or stale resolution (409/422) before
                                    anything is written; accepted → 202 {jobId}, the push runs
                                    in the background (GET /jobs/{jobId})
POST /sync-back/runs/{id}/held-deletions/release|discard
                                    a person's answer to deletions a cycle held back

An escalated conflict raises an alert (`GET /alerts`, routes/alerts.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from flightdeck.api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from flightdeck.api.errors import ApiError, field_error, from_failure, not_found
from flightdeck.api.paging import PageDep
from flightdeck.api.publishing import parse_uuid
from flightdeck.db.models import SyncConflict
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.jobs import JobRepository
from flightdeck.db.repositories.sync_back import (
    ConflictRepository,
    SyncBackRunRepository,
    SyncedEntities,
    release_held,
)
from flightdeck.domain.campaign_sets import CamelModel
from flightdeck.domain.sync_back_io import ConflictState, ResolveConflict
from flightdeck.platforms.registry import platforms
from flightdeck.schedules import sync_back_input
from flightdeck.temporal import TENANT_ID
from flightdeck.workflows.sync_back import ConflictWorkflow, SyncBackWorkflow

router = APIRouter(tags=["sync-back"])
QUERY_TIMEOUT = timedelta(seconds=1)


class SyncBackStarted(CamelModel):
    job_id: str
    status: Literal["queued"] = "queued"


class SyncBackRunOut(CamelModel):
    id: str
    cycle_id: str
    trigger: str
    ad_account_id: str
    status: str
    api_calls: int
    entities_checked: int
    rows_changed: int
    conflicts_opened: int
    deleted_on_platform: int
    changes: list[dict[str, Any]]
    error: str | None
    held_deletions: list[dict[str, Any]] | None = None
    hold_status: str | None = None
    started_at: datetime
    finished_at: datetime | None


class ConflictField(CamelModel):
    field: str
    base: Any
    local: Any
    platform: Any
    reason: str | None = None  # why the platform's value could not simply be taken


class ConflictOut(CamelModel):
    id: str
    entity_type: str
    entity_id: str
    platform: str
    platform_id: str
    fields: list[ConflictField]
    status: str
    resolution: str | None
    detected_at: datetime
    resolved_at: datetime | None
    escalated_at: datetime | None
    workflow_id: str


class ConflictPage(CamelModel):
    items: list[ConflictOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


class ResolveIn(CamelModel):
    resolution: Literal["use_local", "use_platform"]


class ResolutionAccepted(CamelModel):
    job_id: str
    conflict_id: str
    resolution: str
    status: Literal["accepted"] = "accepted"


class HeldDecision(CamelModel):
    run_id: str
    hold_status: str
    deleted: int


class ResolutionOut(CamelModel):
    conflict_id: str
    resolution: str
    entity_type: str
    entity_id: str
    applied: dict[str, Any]
    platform_fields_sent: list[str]


@router.post("/sync-back/run", status_code=202, response_model=SyncBackStarted)
async def run_sync_back(
    tenant: TenantDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    platform: Annotated[
        str, Query(max_length=32, description="The platform whose accounts are read back")
    ] = "reddit",
) -> SyncBackStarted:
    """Pull platform-side changes for this tenant's connected accounts of one platform now."""
    known = sorted(entry.name for entry in platforms())
    if platform not in known:
        raise field_error("platform", f"must be one of {', '.join(known)}")
    handle = await temporal.start_workflow(
        SyncBackWorkflow.run,
        sync_back_input(settings, "api", str(tenant.id), platform_name=platform),
        id=f"sync-back-{tenant.id}-{uuid.uuid4().hex[:12]}",
        task_queue=settings.task_queue,
        static_summary="Read back platform changes of this tenant's accounts",
        search_attributes=TypedSearchAttributes([SearchAttributePair(TENANT_ID, str(tenant.id))]),
    )
    # Recorded once Temporal took the run: the id handed out always resolves at GET /jobs.
    await JobRepository(session).record(tenant.id, handle.id, "sync_back")
    await session.commit()
    return SyncBackStarted(job_id=handle.id)


class SyncBackRunPage(CamelModel):
    items: list[SyncBackRunOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


@router.get("/sync-back/runs", response_model=SyncBackRunPage)
async def list_sync_back_runs(
    tenant: TenantDep, session: SessionDep, page: PageDep
) -> SyncBackRunPage:
    rows = await SyncBackRunRepository(session).list(
        tenant.id, limit=page.limit, cursor=page.cursor
    )
    return SyncBackRunPage(
        next_cursor=rows.next_cursor,
        items=[
            SyncBackRunOut(
                id=str(r.id),
                cycle_id=r.cycle_id,
                trigger=r.trigger,
                ad_account_id=str(r.ad_account_id),
                status=r.status,
                api_calls=r.api_calls,
                entities_checked=r.entities_checked,
                rows_changed=r.rows_changed,
                conflicts_opened=r.conflicts_opened,
                deleted_on_platform=r.deleted_on_platform,
                changes=r.changes,
                error=r.error,
                held_deletions=r.held_deletions,
                hold_status=r.hold_status,
                started_at=r.created_at,
                finished_at=r.finished_at,
            )
            for r in rows.items
        ],
    )


@router.get("/conflicts", response_model=ConflictPage)
async def list_conflicts(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[Literal["open", "resolved"] | None, Query()] = None,
) -> ConflictPage:
    rows = await ConflictRepository(session).list(
        tenant.id, status, limit=page.limit, cursor=page.cursor
    )
    return ConflictPage(items=[_conflict(r) for r in rows.items], next_cursor=rows.next_cursor)


@router.get("/conflicts/{conflict_id}", response_model=ConflictOut)
async def get_conflict(conflict_id: str, tenant: TenantDep, session: SessionDep) -> ConflictOut:
    return _conflict(await _load(session, tenant.id, conflict_id))


@router.post("/conflicts/{conflict_id}/resolve", status_code=202, response_model=ResolutionAccepted)
async def resolve_conflict(
    conflict_id: str, body: ResolveIn, tenant: TenantDep, session: SessionDep, temporal: TemporalDep
) -> ResolutionAccepted:
    """The ConflictWorkflow's validator decides at once (409/422, nothing written); an accepted
    resolution is applied in the background: follow `GET /api/v1/jobs/{jobId}`."""
    conflict = await _load(session, tenant.id, conflict_id)
    if conflict.status != "open":
        raise ApiError(409, "stale_request", f"conflict {conflict.id} is already resolved")
    handle = temporal.get_workflow_handle(conflict.workflow_id)
    try:
        await handle.start_update(
            ConflictWorkflow.resolve,
            ResolveConflict(conflict_id=str(conflict.id), resolution=body.resolution),
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
        )
    except WorkflowUpdateFailedError as exc:
        raise from_failure(exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(409, "stale_request", "the conflict is no longer waiting") from None
        raise
    await JobRepository(session).record(
        tenant.id, conflict.workflow_id, "conflict_resolution", conflict.id
    )
    await session.commit()
    return ResolutionAccepted(
        job_id=conflict.workflow_id, conflict_id=str(conflict.id), resolution=body.resolution
    )


@router.post("/sync-back/runs/{run_id}/held-deletions/{decision}", response_model=HeldDecision)
async def decide_held_deletions(
    run_id: str,
    decision: Literal["release", "discard"],
    tenant: TenantDep,
    session: SessionDep,
) -> HeldDecision:
    """`release`: soft-delete the held entities (those still live); `discard`: delete
    nothing (a later cycle that still finds them gone holds them again)."""
    parsed = parse_uuid(run_id)
    runs = SyncBackRunRepository(session)
    run = await runs.get(tenant.id, parsed) if parsed else None
    if run is None:
        raise not_found("sync-back run")
    closed = await runs.close_hold(
        tenant.id, run.id, "released" if decision == "release" else "discarded"
    )
    if closed is None:
        raise ApiError(409, "stale_request", f"run {run.id} holds no deletions")
    deleted = 0
    if decision == "release":
        deleted = await release_held(session, tenant.id, closed.held_deletions or [])
    await SyncedEntities(session).resolve_alert(
        tenant.id, "sync_back_deletions_held", str(closed.ad_account_id)
    )
    await AuditLogRepository(session).add(
        tenant_id=tenant.id,
        action=f"sync_back.deletions_{closed.hold_status}",
        entity_type="sync_back_run",
        entity_id=str(run.id),
        details={"held": len(closed.held_deletions or []), "deleted": deleted},
    )
    await session.commit()
    return HeldDecision(run_id=str(run.id), hold_status=closed.hold_status or "", deleted=deleted)


async def conflict_job(workflow_id: str, tenant_id: uuid.UUID, session: Any, temporal: Any) -> Any:
    """`GET /jobs/conflict-…`: a conflict resolution's progress, from its workflow's state
    (None: not this tenant's, or no such conflict)."""
    rows = await ConflictRepository(session).for_workflow(tenant_id, workflow_id)
    if not rows:
        return None
    await session.close()  # no pooled connection is held while Temporal answers
    try:
        # The push's outcome (and a failed push's reason) lives in the workflow's state; a
        # query with a short deadline, so a status read never waits long on a worker.
        state: ConflictState | None = await temporal.get_workflow_handle(workflow_id).query(
            ConflictWorkflow.state, rpc_timeout=QUERY_TIMEOUT
        )
    except (TimeoutError, RPCError, WorkflowQueryFailedError):
        state = None
    latest = rows[0]
    if state is not None and state.status == "resolving":
        status, result, error = "running", None, None
    elif state is not None and state.result is not None:
        status, result, error = "completed", state.result.model_dump(mode="json"), None
    elif latest.status == "resolved":
        status, error = "completed", None
        result = {"conflictId": str(latest.id), "resolution": latest.resolution}
    elif state is not None and state.error:
        status, result, error = "failed", None, state.error
    else:
        status, result, error = "waiting", None, None
    done = int(status == "completed")
    return {
        "workflowId": workflow_id,
        "status": status,
        "progress": {"step": "resolve", "done": done, "total": 1},
        "result": result,
        "error": error,
    }


async def _load(session: Any, tenant_id: uuid.UUID, conflict_id: str) -> SyncConflict:
    parsed = parse_uuid(conflict_id)
    conflict = await ConflictRepository(session).get(tenant_id, parsed) if parsed else None
    if conflict is None:
        raise not_found("conflict")
    return conflict


def _conflict(row: SyncConflict) -> ConflictOut:
    return ConflictOut(
        id=str(row.id),
        entity_type=row.entity_type,
        entity_id=str(row.entity_id),
        platform=row.platform,
        platform_id=row.platform_id,
        fields=[
            ConflictField(
                field=f["field"],
                base=f["base"],
                local=f["local"],
                platform=f["platform"],
                reason=f.get("reason"),
            )
            for f in row.fields
        ],
        status=row.status,
        resolution=row.resolution,
        detected_at=row.created_at,
        resolved_at=row.resolved_at,
        escalated_at=row.escalated_at,
        workflow_id=row.workflow_id,
    )
