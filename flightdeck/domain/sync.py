"""Inputs and outputs of the campaign-set sync workflows and their activities (seed 002).

Only identifiers, counts and error messages travel through Temporal history: entity contents
are read from Postgres by the activities, and credentials never leave the encrypted store.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

SyncOperation = Literal["push", "pause", "resume"]
PushEntityType = Literal["campaign", "ad_group", "post", "ad"]
PushAction = Literal[
    "created", "adopted", "updated", "unchanged", "deleted", "paused", "resumed", "skipped", "held"
]
# What one run did with one campaign: pushed; failed (its error says why); held back by an
# open conflict (its other entities and fields were pushed); nothing to do (e.g. a pause of a
# campaign that is not on the platform).
CampaignOutcomeStatus = Literal["synced", "failed", "held", "skipped"]
RunStatus = Literal["running", "completed", "completed_with_errors", "failed"]

MAX_ERRORS_KEPT = 100
MAX_ERROR_CHARS = 500


class SyncError(BaseModel):
    campaign_id: str
    message: str
    entity_type: str = "campaign"
    entity_id: str | None = None


class SyncTarget(BaseModel):
    """One ad account a set is synced to: its platform and that platform's write queue."""

    platform: str
    task_queue: str


class TargetOutcome(BaseModel):
    """What one run did with one campaign on one target."""

    platform: str
    status: CampaignOutcomeStatus
    error: str | None = None


class TargetTotals(BaseModel):
    """One target's counts in a run; `error`: why the target stopped as a whole (its account
    must be reconnected, …) while the others went on."""

    synced: int = 0
    failed: int = 0
    held: int = 0
    skipped: int = 0
    error: str | None = None

    def add(self, status: CampaignOutcomeStatus) -> None:
        setattr(self, status, getattr(self, status) + 1)


class SyncTotals(BaseModel):
    """One run's counts (they add up to `total` once it is finished) and its first errors;
    with several targets, a campaign counts once (failed if it failed on any target) and
    `targets` has each target's own counts."""

    status: RunStatus = "running"
    synced: int = 0
    failed: int = 0
    held: int = 0
    skipped: int = 0
    total: int = 0
    errors: list[SyncError] = Field(default_factory=list)
    targets: dict[str, TargetTotals] = Field(default_factory=dict)

    def add(self, outcome: CampaignOutcome) -> None:
        for target in outcome.targets:
            self.targets.setdefault(target.platform, TargetTotals()).add(target.status)
        if outcome.status == "synced":
            self.synced += 1
        elif outcome.status == "held":
            self.held += 1
        elif outcome.status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1
            if outcome.error and len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append(outcome.error)


class SyncSetInput(BaseModel):
    """One push, pause or resume of a set: the workflow's whole contract, so any caller (the
    API, the retry sweep, a parent workflow) can start it. `campaign_ids` narrows it (the retry
    sweep; read once, by `prepare`). The campaigns are paged from Postgres by id, never carried
    here; after continue-as-new `run_id`, `cursor` and `totals` carry the work already done."""

    tenant_id: str
    set_id: str
    platform: str = "reddit"
    operation: SyncOperation = "push"
    campaign_ids: list[str] | None = None
    batch_size: int = 25
    window: int = 4
    platform_task_queue: str = "reddit"
    activity_timeout_seconds: float = 60.0
    max_batches_per_run: int = 20
    call_max_attempts: int = 8
    retry_initial_seconds: float = 1.0
    trigger: str = "api"
    # Two or more: the set's targets, each campaign pushed to all of them at once (each on its
    # platform's queue); empty: the one target `platform` / `platform_task_queue`.
    targets: list[SyncTarget] = Field(default_factory=list)
    # The run's business deadline: a timer inside the workflow (never an execution timeout, which
    # would end the run without recording it). Past it, the run stops like a fatal error: lost
    # creates are settled and the run, its campaigns and the set end recorded with the reason.
    deadline_seconds: float = 24 * 3600.0
    # Carried across continue-as-new:
    deadline_at: datetime | None = None
    run_id: str | None = None
    cursor: str | None = None
    batches_started: int = 0
    totals: SyncTotals = Field(default_factory=SyncTotals)
    batches_failed: int = 0  # their campaigns have no outcome: `finish` settles them


class SyncStartInput(BaseModel):
    tenant_id: str
    set_id: str
    run_id: str
    workflow_id: str
    platform: str
    operation: SyncOperation
    campaign_ids: list[str] | None = None
    trigger: str = "api"
    platforms: list[str] | None = None  # several targets: each one's account is checked


class SyncPlan(BaseModel):
    """What `prepare_set_sync` decided: the run's campaigns are marked with its id in Postgres.
    `refused`: targets left out of the run (platform → why, e.g. reconnect its account)."""

    platform: str
    total: int
    refused: dict[str, str] = Field(default_factory=dict)


class CampaignPageInput(BaseModel):
    tenant_id: str
    run_id: str
    after: str | None = None
    limit: int = 25


class CampaignPage(BaseModel):
    campaign_ids: list[str] = Field(default_factory=list)


class SyncFinishInput(BaseModel):
    tenant_id: str
    set_id: str
    run_id: str
    workflow_id: str
    operation: SyncOperation
    trigger: str = "api"
    fatal_error: str | None = None
    targets: dict[str, TargetTotals] = Field(default_factory=dict)  # several targets: each's


class LostCreatesInput(BaseModel):
    """Settle the creates of a stopped push whose outcome is unknown (ledger rows left
    `requested`): `campaign_ids` (a failed campaign's subtree), or else the run's campaigns
    that have no outcome (the run was cancelled or stopped), paged `page_size` at a time."""

    tenant_id: str
    platform: str
    set_id: str
    run_id: str
    campaign_ids: list[str] | None = None
    reason: str = "the sync failed"
    page_size: int = 25


class LostCreatesResult(BaseModel):
    found: int = 0  # on the platform after all: now mapped (and paused or deleted)
    not_created: int = 0  # not on the platform: the ledger says so, with the reason


class CampaignBatchInput(BaseModel):
    tenant_id: str
    set_id: str
    platform: str
    operation: SyncOperation
    run_id: str | None = None
    campaign_ids: list[str]
    platform_task_queue: str = "reddit"
    activity_timeout_seconds: float = 60.0
    call_max_attempts: int = 8
    retry_initial_seconds: float = 1.0
    targets: list[SyncTarget] = Field(default_factory=list)  # see `SyncSetInput.targets`


class CampaignOutcome(BaseModel):
    campaign_id: str
    status: CampaignOutcomeStatus
    platform_id: str | None = None
    error: SyncError | None = None
    targets: list[TargetOutcome] = Field(default_factory=list)


class BatchResult(BaseModel):
    outcomes: list[CampaignOutcome] = Field(default_factory=list)
    fatal_error: str | None = None  # e.g. the account needs reconnecting: stop the whole sync
    # Several targets: a target that must stop (its account needs reconnecting), and why; the
    # others go on.
    target_errors: dict[str, str] = Field(default_factory=dict)


class PushEntityInput(BaseModel):
    tenant_id: str
    platform: str
    entity_type: PushEntityType
    entity_id: str
    operation: SyncOperation = "push"
    set_id: str | None = None
    # Set by the activity (never by a workflow): whether `platform` is the set's first target,
    # whose ids and status the entities' own columns mirror (None: not known yet, as first).
    first_target: bool | None = None


class AdChild(BaseModel):
    ad_id: str
    needs_post: bool = False  # Reddit: the ad's post must be created before the ad


class AdGroupChildren(BaseModel):
    ad_group_id: str
    ads: list[AdChild] = Field(default_factory=list)


class PushEntityResult(BaseModel):
    entity_id: str
    platform_id: str | None = None
    action: PushAction
    # A campaign's push returns its subtree, so the workflow knows what to push next.
    ad_groups: list[AdGroupChildren] = Field(default_factory=list)


class CampaignOutcomeInput(BaseModel):
    tenant_id: str
    platform: str
    campaign_id: str
    status: CampaignOutcomeStatus
    error: str | None = None
    run_id: str | None = None
    targets: list[TargetOutcome] = Field(default_factory=list)  # several targets: each's


class SyncProgress(BaseModel):
    status: str = "queued"
    operation: SyncOperation = "push"
    run_id: str | None = None
    synced: int = 0
    failed: int = 0
    held: int = 0
    skipped: int = 0
    total: int = 0
    batches_running: int = 0
    targets: dict[str, TargetTotals] = Field(default_factory=dict)


class RetrySweepInput(BaseModel):
    """The retry sweep's settings, fixed in the Schedule's action when it is created."""

    platform: str = "reddit"
    max_attempts: int = 3
    interval_seconds: float = 300.0
    limit: int = 1000  # campaigns per sweep (the rest are due at the next one)
    batch_size: int = 25
    window: int = 4
    platform_task_queue: str = "reddit"
    activity_timeout_seconds: float = 60.0
    max_batches_per_run: int = 20
    call_max_attempts: int = 8
    retry_initial_seconds: float = 1.0


class RetryableSet(BaseModel):
    tenant_id: str
    set_id: str
    campaign_ids: list[str]


class RetrySweepPlan(BaseModel):
    due: list[RetryableSet] = Field(default_factory=list)
    given_up: int = 0  # campaigns marked permanently failed by this sweep


class RetrySweepResult(BaseModel):
    started: list[str] = Field(default_factory=list)  # workflow ids
    skipped_running: list[str] = Field(default_factory=list)
    given_up: int = 0
