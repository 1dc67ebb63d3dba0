"""The API's camelCase shapes for metrics, alerts, recommendations, actions and performance
settings (seed 004), and the conversions from rows. Money and ratios are decimal strings (no
binary floating point between the database and the client)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from flightdeck.db.models import AiActionLog, AiRecommendation, MetricsSyncRun, PlatformCampaign
from flightdeck.db.repositories.metrics import Totals
from flightdeck.domain.campaign_sets import CamelModel


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class JobStarted(CamelModel):
    job_id: str
    status: Literal["queued"] = "queued"


class CampaignOut(CamelModel):
    id: str
    platform: str
    account_id: str
    connection_id: str | None
    platform_campaign_id: str
    name: str | None
    status: str
    platform_status: str | None
    objective: str | None
    budget_amount: str | None
    budget_type: str | None
    budget_owner: str | None
    currency: str | None
    start_date: datetime | None
    end_date: datetime | None
    origin: str
    campaign_plan_id: str | None
    meta_campaign_id: str | None
    generated_campaign_id: str | None
    discovered_at: datetime
    last_seen_at: datetime | None
    last_metrics_at: datetime | None


class CampaignPage(CamelModel):
    items: list[CampaignOut]
    next_cursor: str | None = None


def campaign_out(row: PlatformCampaign) -> CampaignOut:
    def ref(value: uuid.UUID | None) -> str | None:
        return str(value) if value else None

    return CampaignOut(
        id=str(row.id),
        platform=row.platform,
        account_id=row.account_id,
        connection_id=ref(row.connection_id),
        platform_campaign_id=row.platform_campaign_id,
        name=row.name,
        status=row.status,
        platform_status=row.platform_status,
        objective=row.objective,
        budget_amount=_s(row.budget_amount),
        budget_type=row.budget_type,
        budget_owner=row.budget_owner,
        currency=row.currency,
        start_date=row.start_date,
        end_date=row.end_date,
        origin=row.origin,
        campaign_plan_id=ref(row.campaign_plan_id),
        meta_campaign_id=ref(row.meta_campaign_id),
        generated_campaign_id=ref(row.generated_campaign_id),
        discovered_at=row.created_at,
        last_seen_at=row.last_seen_at,
        last_metrics_at=row.last_metrics_at,
    )


class SyncRunOut(CamelModel):
    id: str
    cycle_id: str
    trigger: str
    platform: str
    connection_id: str
    account_id: str | None
    status: str
    window_start: date | None
    window_end: date | None
    report_calls: int
    report_jobs: int
    campaigns_discovered: int
    campaigns_new: int
    rows_fetched: int
    rows_upserted: int
    throttle_wait_seconds: float
    details: dict[str, Any]
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class SyncRunPage(CamelModel):
    items: list[SyncRunOut]
    next_cursor: str | None = None


def sync_run_out(r: MetricsSyncRun) -> SyncRunOut:
    return SyncRunOut(
        id=str(r.id),
        cycle_id=r.cycle_id,
        trigger=r.trigger,
        platform=r.platform,
        connection_id=str(r.connection_id),
        account_id=r.account_id,
        status=r.status,
        window_start=r.window_start,
        window_end=r.window_end,
        report_calls=r.report_calls,
        report_jobs=r.report_jobs,
        campaigns_discovered=r.campaigns_discovered,
        campaigns_new=r.campaigns_new,
        rows_fetched=r.rows_fetched,
        rows_upserted=r.rows_upserted,
        throttle_wait_seconds=r.throttle_wait_seconds,
        details=r.details,
        error=r.error,
        started_at=r.created_at,
        finished_at=r.finished_at,
    )


class Metrics(CamelModel):
    impressions: int
    clicks: int
    spend: str
    conversions: int
    revenue: str
    cpc: str | None
    cpm: str | None
    ctr: str | None
    roas: str | None
    roi: str | None
    cpa: str | None


def metrics_out(t: Totals) -> dict[str, Any]:
    r = t.ratios
    return {
        "impressions": t.impressions,
        "clicks": t.clicks,
        "spend": str(t.spend),
        "conversions": t.conversions,
        "revenue": str(t.revenue),
        "cpc": _s(r.cpc),
        "cpm": _s(r.cpm),
        "ctr": _s(r.ctr),
        "roas": _s(r.roas),
        "roi": _s(r.roi),
        "cpa": _s(r.cpa),
    }


class CampaignPerformance(Metrics):
    campaign_id: str
    name: str | None
    platform: str
    currency: str | None


class CampaignPerformancePage(CamelModel):
    since: date
    until: date
    items: list[CampaignPerformance]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


class PlatformPerformance(Metrics):
    platform: str
    currency: str
    campaigns: int


class PlatformPerformancePage(CamelModel):
    since: date
    until: date
    items: list[PlatformPerformance]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


class SeriesOut(CamelModel):
    class Day(Metrics):
        day: date

    campaign_id: str
    name: str | None
    platform: str
    currency: str | None
    days: list[Day]


class SeriesPage(CamelModel):
    since: date
    until: date
    items: list[SeriesOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


# -- alerts ------------------------------------------------------------------------------------


class AlertOut(CamelModel):
    id: str
    alert_type: str
    severity: str
    campaign_id: str | None
    campaign_name: str | None = None
    platform: str | None
    entity_type: str
    entity_id: str
    message: str
    metric_name: str | None
    metric_value: str | None
    threshold_value: str | None
    details: dict[str, Any] | None
    fire_count: int
    created_at: datetime
    last_fired_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    notified_at: datetime | None
    notification_error: str | None


class AlertPage(CamelModel):
    items: list[AlertOut]
    next_cursor: str | None = None


# -- recommendations and actions ---------------------------------------------------------------


class RecommendationOut(CamelModel):
    id: str
    campaign_id: str | None
    campaign_name: str | None
    platform: str | None
    recommendation_type: str
    recommendation_text: str
    confidence_score: str
    status: str
    action_type: str
    proposed_change: dict[str, Any]
    data: dict[str, Any]
    narrative: str | None
    allocation_id: str | None
    action_id: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    executed_at: datetime | None
    result_metrics: dict[str, Any] | None


class RecommendationPage(CamelModel):
    items: list[RecommendationOut]
    next_cursor: str | None = None


def recommendation_out(
    r: AiRecommendation, name: str | None, platform: str | None
) -> RecommendationOut:
    return RecommendationOut(
        id=str(r.id),
        campaign_id=str(r.campaign_id) if r.campaign_id else None,
        campaign_name=name,
        platform=platform or r.data.get("platform"),
        recommendation_type=r.recommendation_type,
        recommendation_text=r.recommendation_text,
        confidence_score=str(r.confidence_score),
        status=r.status,
        action_type=r.action_type,
        proposed_change=r.proposed_change,
        data=r.data,
        narrative=r.narrative,
        allocation_id=str(r.allocation_id) if r.allocation_id else None,
        action_id=str(r.action_id) if r.action_id else None,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        created_at=r.created_at,
        executed_at=r.executed_at,
        result_metrics=r.result_metrics,
    )


class AllocationOut(CamelModel):
    id: str
    period_start: date
    period_end: date
    total_budget: str
    currency: str
    allocations: dict[str, Any]
    details: dict[str, Any]
    ai_suggested: bool
    created_by: str
    created_at: datetime


class AllocationPage(CamelModel):
    items: list[AllocationOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


class ActionOut(CamelModel):
    id: str
    action_type: str
    platform: str
    campaign_id: str | None
    campaign_name: str | None
    previous_state: dict[str, Any]
    new_state: dict[str, Any]
    reasoning: str | None
    confidence: str | None
    status: str
    outcome: str | None
    executed_at: datetime | None
    executed_by: str | None
    approval_required: bool
    approved_by: str | None
    approved_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    proposed_by: str
    recommendation_id: str | None
    reverts_action_id: str | None
    autonomous: bool
    expires_at: datetime
    workflow_id: str
    created_at: datetime


class ActionPage(CamelModel):
    items: list[ActionOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


def action_out(a: AiActionLog, name: str | None = None) -> ActionOut:
    return ActionOut(
        id=str(a.id),
        action_type=a.action_type,
        platform=a.platform,
        campaign_id=str(a.campaign_id) if a.campaign_id else None,
        campaign_name=name,
        previous_state=a.previous_state,
        new_state=a.new_state,
        reasoning=a.reasoning,
        confidence=_s(a.confidence),
        status=a.status,
        outcome=a.outcome,
        executed_at=a.executed_at,
        executed_by=a.executed_by,
        approval_required=a.approval_required,
        approved_by=a.approved_by,
        approved_at=a.approved_at,
        decided_by=a.decided_by,
        decided_at=a.decided_at,
        proposed_by=a.proposed_by,
        recommendation_id=str(a.recommendation_id) if a.recommendation_id else None,
        reverts_action_id=str(a.reverts_action_id) if a.reverts_action_id else None,
        autonomous=a.autonomous,
        expires_at=a.expires_at,
        workflow_id=a.workflow_id,
        created_at=a.created_at,
    )


class ProposeIn(CamelModel):
    """A hand-made action on one campaign: pause it, or set its budget."""

    action_type: Literal["PAUSE", "BUDGET_CHANGE"]
    campaign_id: str
    budget_amount: Decimal | None = Field(
        default=None, gt=0, max_digits=14, decimal_places=2, description="BUDGET_CHANGE only"
    )
    reasoning: str | None = Field(default=None, max_length=2000)


class DecisionIn(CamelModel):
    reason: str | None = Field(default=None, max_length=2000)


class ActionStarted(CamelModel):
    action_id: str
    workflow_id: str
    status: str
    expires_at: datetime
