"""Inputs and outputs of the publish workflow and its activities (one pydantic model each).

Only identifiers and platform payloads go through Temporal history: never tokens or API keys.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from flightdeck.domain.plans import CampaignPlanIn, GeneratedNames

RelayObjectType = Literal["campaigns", "adsets", "adcreatives", "ads"]
CompensationMode = Literal["pause", "delete"]


class PublishPlanInput(BaseModel):
    tenant_id: str
    plan_id: str
    plan: CampaignPlanIn
    names: GeneratedNames
    template_key: str
    tracking_base_url: str
    strategis_task_queue: str = "strategis"
    activity_timeout_seconds: float = 60.0
    # A platform call's first retry delay (then doubling, at most 60 s); runs started before
    # this field existed keep 0.5 s.
    retry_initial_seconds: float = 0.5
    # A step (with its retries) and the whole run give up after these (timers in the run).
    step_deadline_seconds: float = 3600.0
    deadline_seconds: float = 6 * 3600.0
    # How long the run waits for the API to commit the plan row before it gives up.
    plan_wait_seconds: float = 600.0
    requested_by: str | None = None  # the user whose POST started the run (audit)


class Progress(BaseModel):
    step: str = "queued"
    done: int = 0
    total: int = 0
    status: str = "pending"


class PublishResult(BaseModel):
    plan_id: str
    status: str
    facebook_campaign_id: str | None = None
    created_objects: int = 0


class PlanRef(BaseModel):
    tenant_id: str
    plan_id: str
    request_id: str
    requested_by: str | None = None  # the user whose request started the run (audit)


class EnsureTemplateInput(BaseModel):
    ref: PlanRef
    organization: str
    key: str
    template_id: str | None = None


class RelayCreateInput(BaseModel):
    """One Facebook object to create through the Strategis relay, with its ledger coordinates."""

    ref: PlanRef
    object_type: RelayObjectType
    ledger_type: str
    local_key: str
    client_request_key: str
    organization: str
    name: str
    body: dict[str, Any]
    parent_external_id: str | None = None
    ad_set_index: int | None = None
    ad_index: int | None = None


class AdSetPublishInput(BaseModel):
    """One ad set of a plan, published in one activity: the ad set, its Strategis tracking
    campaign, then per ad its creative and the ad (every ad concurrently). `plan` holds only
    this ad set (`ad_sets == [it]`), so a big plan's history holds each ad set once."""

    ref: PlanRef
    plan: CampaignPlanIn
    ad_set_index: int
    campaign_name: str
    ad_set_name: str
    ad_names: list[str]
    request_id: str  # tenant-scoped (transforms.scoped_request_id): the keys are built from it
    template_id: str
    fb_campaign_id: str
    tracking_base_url: str


class AdSetPublished(BaseModel):
    fb_ad_set_id: str
    tracking_campaign_id: str
    ad_ids: list[str]


class TrackingCampaignInput(BaseModel):
    ref: PlanRef
    organization: str
    ad_set_index: int
    client_request_key: str
    body: dict[str, Any]
    tracking_base_url: str


class TrackingCampaign(BaseModel):
    id: str
    tracking_url: str


class CompensateInput(BaseModel):
    ref: PlanRef
    organization: str
    mode: CompensationMode


class CompensationResult(BaseModel):
    paused: int = 0
    deleted: int = 0


class PlanStatusInput(BaseModel):
    ref: PlanRef
    status: str
    step: str | None = None
    done: int | None = None  # remote steps finished so far (the workflow's own count)


class PlanFailureInput(BaseModel):
    ref: PlanRef
    step: str
    error_type: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    done: int | None = None
    status: str = "failed"  # or "cancelled" (a cancel whose compensation failed)
    # Compensation could not finish: objects may still be live on the platform (an alert).
    compensation_error: str | None = None


class CancelRequest(BaseModel):
    cleanup: bool = False


# A ledger row's `local_key` (written by each step) -> the name of the step that wrote it, as
# the publish workflow names its steps (progress, campaign_errors): "ad:1:0" -> "facebook_ad[1][0]".
_STEP_OF_KEY = {
    "campaign": "facebook_campaign",
    "adset": "facebook_adset",
    "creative": "facebook_creative",
    "ad": "facebook_ad",
    "tracking_campaign": "tracking_campaign",
}


def step_of_local_key(local_key: str) -> str:
    """The publish step that created the ledger row keyed `local_key`."""
    kind, *indexes = local_key.split(":")
    return _STEP_OF_KEY.get(kind, kind) + "".join(f"[{i}]" for i in indexes)


def total_remote_steps(plan: CampaignPlanIn) -> int:
    """Steps the progress counts: template, campaign, per ad set (ad set, tracking campaign),
    per ad (creative, ad)."""
    ads = sum(len(a.ads) for a in plan.ad_sets)
    return 2 + 2 * len(plan.ad_sets) + 2 * ads


class PendingSweepInput(BaseModel):
    """The pending-plans sweep's settings, fixed in its Schedule's action."""

    grace_seconds: float = 300.0  # younger plans are left alone: their run may be starting
    expiry_seconds: float = 86_400.0  # older ones are failed instead of started
    limit: int = 500


class PendingSweepResult(BaseModel):
    checked: int = 0
    started: list[str] = Field(default_factory=list)  # plan ids
    expired: list[str] = Field(default_factory=list)
