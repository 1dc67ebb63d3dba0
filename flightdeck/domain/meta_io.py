"""Inputs and results of the Meta workflows and activities (seed 001). Ids only: payloads are
read from Postgres by the activities, and no token ever enters a workflow's history."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Operation = Literal["pause", "resume", "delete", "update"]


class MetaRef(BaseModel):
    """Which publication of which campaign: the generation changes only after a delete."""

    tenant_id: str
    campaign_id: str
    connection_id: str
    generation: int = 1
    user_id: str | None = None  # who asked (the audit log's user for the run's entries)


class ReviewSettings(BaseModel):
    alert_after_seconds: float = 172_800.0
    poll_initial_seconds: float = 60.0
    poll_max_seconds: float = 3600.0
    give_up_seconds: float = 1_209_600.0


class PublishMetaInput(BaseModel):
    ref: MetaRef
    meta_task_queue: str
    activity_timeout_seconds: float = 60.0
    step_timeout_seconds: float = 1800.0
    deadline_seconds: float = 7200.0
    token_min_validity_seconds: float = 7200.0
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    review_workflow_id: str | None = None


class PublishPlan(BaseModel):
    """What the workflow needs to schedule the DAG (no payloads)."""

    ad_ids: list[str]
    ad_image_urls: list[str]  # per ad, in position order
    image_urls: list[str]  # distinct, first-use order
    launch_status: str = "ACTIVE"


class BeginInput(BaseModel):
    ref: MetaRef
    workflow_id: str
    token_min_validity_seconds: float = 0.0


class ImageInput(BaseModel):
    ref: MetaRef
    url: str


class CreativeInput(BaseModel):
    ref: MetaRef
    ad_index: int
    image_hash: str


class AdSetInput(BaseModel):
    ref: MetaRef
    campaign_id: str


class AdInput(BaseModel):
    ref: MetaRef
    ad_index: int
    adset_id: str
    creative_id: str


class RefInput(BaseModel):
    ref: MetaRef


class ActivateInput(BaseModel):
    ref: MetaRef
    status: str


class VerifyResult(BaseModel):
    checked: int = 0
    mismatches: list[str] = Field(default_factory=list)


class FinishInput(BaseModel):
    ref: MetaRef
    status: Literal["active", "paused", "error"]
    error: str | None = None
    step: str | None = None


class PublishOutcome(BaseModel):
    campaign_id: str
    status: str
    meta_campaign_id: str | None = None
    meta_adset_id: str | None = None
    meta_ad_ids: list[str] = Field(default_factory=list)
    error: str | None = None
    verify: VerifyResult | None = None


class PublishProgress(BaseModel):
    step: str = "starting"
    done: int = 0
    total: int = 0
    status: str = "publishing"


class TrackReviewInput(BaseModel):
    ref: MetaRef
    meta_task_queue: str
    activity_timeout_seconds: float = 60.0
    review: ReviewSettings = Field(default_factory=ReviewSettings)


class ReviewCheck(BaseModel):
    pending: int = 0
    approved: int = 0
    rejected: int = 0
    newly_rejected: list[str] = Field(default_factory=list)  # local ad ids


class ReviewAlertInput(BaseModel):
    ref: MetaRef
    kind: Literal["review_pending", "ad_rejected", "review_stopped"]
    message: str
    ad_ids: list[str] = Field(default_factory=list)


class ReviewOutcome(BaseModel):
    status: Literal["decided", "gave_up", "error"]
    approved: int = 0
    rejected: int = 0
    pending: int = 0
    reason: str | None = None
    polls: int = 0


class FinishReviewInput(BaseModel):
    ref: MetaRef
    outcome: ReviewOutcome


class OperateInput(BaseModel):
    ref: MetaRef
    meta_task_queue: str
    operation: Operation
    name: str | None = None
    budget_amount: float | None = None  # major units of the account currency
    actor: str = "api"
    activity_timeout_seconds: float = 60.0


class OperateResult(BaseModel):
    operation: Operation
    status: str
    changed: list[str] = Field(default_factory=list)


class MaintenanceInput(BaseModel):
    failed_publish_retention_days: int = 30
    audit_retention_days: int = 365


class MaintenanceResult(BaseModel):
    failed_publishes_cleaned: int = 0
    audit_entries_archived: int = 0
