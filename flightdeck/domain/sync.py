"""Inputs and outputs of the campaign-set sync workflows and their activities (seed 002).

Only identifiers, counts and error messages travel through Temporal history: entity contents
are read from Postgres by the activities, and credentials never leave the encrypted store.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SyncOperation = Literal["push", "pause", "resume"]
PushEntityType = Literal["campaign", "ad_group", "post", "ad"]
PushAction = Literal[
    "created", "adopted", "updated", "unchanged", "deleted", "paused", "resumed", "skipped"
]
CampaignOutcomeStatus = Literal["synced", "failed"]

MAX_ERRORS_KEPT = 100


class SyncError(BaseModel):
    campaign_id: str
    message: str
    entity_type: str = "campaign"
    entity_id: str | None = None


class SyncTotals(BaseModel):
    synced: int = 0
    failed: int = 0
    total: int = 0
    errors: list[SyncError] = Field(default_factory=list)

    def add(self, outcome: CampaignOutcome) -> None:
        if outcome.status == "synced":
            self.synced += 1
        else:
            self.failed += 1
            if outcome.error and len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append(outcome.error)


class SyncSetInput(BaseModel):
    """One sync of a set; `campaign_ids` narrows it (the retry sweep). After continue-as-new
    `offset` and `totals` carry the work already done."""

    tenant_id: str
    set_id: str
    operation: SyncOperation = "push"
    campaign_ids: list[str] | None = None
    batch_size: int = 25
    window: int = 4
    platform_task_queue: str = "reddit"
    activity_timeout_seconds: float = 60.0
    max_batches_per_run: int = 20
    call_max_attempts: int = 8
    retry_initial_seconds: float = 1.0
    # Carried across continue-as-new:
    planned_ids: list[str] | None = None
    offset: int = 0
    totals: SyncTotals = Field(default_factory=SyncTotals)
    trigger: str = "api"


class SyncStartInput(BaseModel):
    tenant_id: str
    set_id: str
    operation: SyncOperation
    campaign_ids: list[str] | None = None
    trigger: str = "api"


class SyncPlan(BaseModel):
    """What `prepare_set_sync` decided: the campaigns to process, in order."""

    platform: str
    campaign_ids: list[str]


class SyncFinishInput(BaseModel):
    tenant_id: str
    set_id: str
    operation: SyncOperation
    totals: SyncTotals
    fatal_error: str | None = None


class CampaignBatchInput(BaseModel):
    tenant_id: str
    set_id: str
    platform: str
    operation: SyncOperation
    campaign_ids: list[str]
    platform_task_queue: str = "reddit"
    activity_timeout_seconds: float = 60.0
    call_max_attempts: int = 8
    retry_initial_seconds: float = 1.0


class CampaignOutcome(BaseModel):
    campaign_id: str
    status: CampaignOutcomeStatus
    platform_id: str | None = None
    error: SyncError | None = None


class BatchResult(BaseModel):
    outcomes: list[CampaignOutcome] = Field(default_factory=list)
    fatal_error: str | None = None  # e.g. the account needs reconnecting: stop the whole sync


class PushEntityInput(BaseModel):
    tenant_id: str
    platform: str
    entity_type: PushEntityType
    entity_id: str
    operation: SyncOperation = "push"
    set_id: str | None = None


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


class SyncProgress(BaseModel):
    status: str = "queued"
    operation: SyncOperation = "push"
    synced: int = 0
    failed: int = 0
    total: int = 0
    batches_running: int = 0


class RetrySweepInput(BaseModel):
    """The retry sweep's settings, fixed in the Schedule's action when it is created."""

    platform: str = "reddit"
    max_attempts: int = 3
    interval_seconds: float = 300.0
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
