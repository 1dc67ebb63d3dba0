"""Every kind of job the API hands out a `jobId` for, in one registry.

A job id is recorded (table `jobs`: id, tenant, kind, subject) in the same transaction as the
request that hands it out, so `GET /api/v1/jobs/{jobId}` finds its kind by looking the id up —
never by parsing its prefix — and a job queued behind another operation resolves before its
workflow exists. Each kind's status reader (`api/job_status.py`) is registered against the
names here; a test checks that every kind has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

JobKind = Literal[
    "plan_publish",
    "set_sync",
    "set_status",
    "sync_back",
    "metrics_sync",
    "asset_import",
    "meta_publish",
    "meta_operation",
    "conflict_resolution",
]


@dataclass(frozen=True)
class JobKindInfo:
    kind: JobKind
    subject: str  # what `subject_id` names
    description: str


JOB_KINDS: dict[str, JobKindInfo] = {
    info.kind: info
    for info in (
        JobKindInfo("plan_publish", "campaign plan", "a plan's publish (PublishPlanWorkflow)"),
        JobKindInfo("set_sync", "campaign set", "a campaign set's push to its platform"),
        JobKindInfo("set_status", "campaign set", "a campaign set's pause or resume"),
        JobKindInfo("sync_back", "tenant", "a sync-back cycle over the tenant's accounts"),
        JobKindInfo("metrics_sync", "tenant", "a metrics cycle over the tenant's accounts"),
        JobKindInfo("asset_import", "import run", "a campaign space's asset import"),
        JobKindInfo("meta_publish", "meta campaign", "a Meta campaign's publish"),
        JobKindInfo("meta_operation", "meta campaign", "a pause/resume/delete/edit on Meta"),
        JobKindInfo("conflict_resolution", "conflict", "a conflict's resolution being pushed"),
    )
}


def job_kind(kind: str) -> JobKindInfo:
    try:
        return JOB_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown job kind {kind!r}; known: {sorted(JOB_KINDS)}") from None
