"""Inputs and outputs of the metrics and action workflows (seed 004). Only ids, queue names,
counts and campaign states (status, budget) travel through history; tokens never do."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class PlatformQueues(BaseModel):
    """Where a platform's metrics reads and action writes run."""

    platform: str
    report_queue: str
    write_queue: str


class MetricsSyncInput(BaseModel):
    trigger: str = "schedule"
    tenant_id: str | None = None  # a manual run covers one tenant; the schedule covers all
    platforms: list[PlatformQueues] = Field(default_factory=list)
    account_concurrency: int = 4
    partitions_ahead_months: int = 3
    webhook_max_attempts: int = 5
    analyze: bool = True

    def queues(self, platform: str) -> PlatformQueues:
        return next(p for p in self.platforms if p.platform == platform)


class MetricsAccount(BaseModel):
    tenant_id: str
    platform: str
    connection_id: str
    account_id: str


class MetricsPrepared(BaseModel):
    accounts: list[MetricsAccount] = Field(default_factory=list)
    partitions_created: int = 0


class AccountSyncInput(BaseModel):
    account: MetricsAccount
    cycle_id: str
    trigger: str = "schedule"


class AccountSyncResult(BaseModel):
    run_id: str
    report_calls: int = 0
    report_jobs: int = 0
    campaigns_discovered: int = 0
    campaigns_new: int = 0
    rows_fetched: int = 0
    rows_upserted: int = 0
    throttle_wait_seconds: float = 0.0
    window_start: date | None = None
    window_end: date | None = None


class AccountFailure(BaseModel):
    account: MetricsAccount
    cycle_id: str
    trigger: str
    error: str


class AnalyzeInput(BaseModel):
    tenant_id: str
    cycle_id: str
    action_queue: str
    write_queues: dict[str, str] = Field(default_factory=dict)


class AutonomousStart(BaseModel):
    action_id: str
    expires_at: datetime


class AnalyzeResult(BaseModel):
    alerts_opened: int = 0
    alerts_updated: int = 0
    alerts_resolved: int = 0
    alerts_suppressed: int = 0  # would have fired, but within the cooldown
    notify: list[str] = Field(default_factory=list)  # alert ids
    recommendations_new: int = 0
    recommendations_pending: int = 0
    autonomous: list[AutonomousStart] = Field(default_factory=list)


class NotifyInput(BaseModel):
    tenant_id: str
    alert_id: str


class MetricsSyncResult(BaseModel):
    accounts: int = 0
    failed_accounts: list[str] = Field(default_factory=list)
    partitions_created: int = 0
    report_calls: int = 0
    rows_upserted: int = 0
    tenants_analyzed: int = 0
    alerts_opened: int = 0
    alerts_resolved: int = 0
    notifications_failed: int = 0
    recommendations_new: int = 0
    autonomous_started: int = 0


# -- actions -----------------------------------------------------------------------------------


class ApplyActionInput(BaseModel):
    tenant_id: str
    action_id: str
    expires_at: datetime
    autonomous: bool = False
    write_queues: dict[str, str] = Field(default_factory=dict)
    activity_timeout_seconds: float = 60.0


class PrepareActionInput(BaseModel):
    tenant_id: str
    action_id: str
    autonomous: bool = False


class PreparedAction(BaseModel):
    status: str
    action_type: str
    platform: str
    previous_state: dict[str, Any]
    new_state: dict[str, Any]
    # One entry per campaign the action changes: (registry id, its platform).
    campaigns: list[tuple[str, str]] = Field(default_factory=list)
    auto_approved: bool = False
    autonomy_reason: str | None = None


class ApprovalRequest(BaseModel):
    """An approver's answer. `observed` is the campaign's state as its platform reports it
    right now (the API reads it): the validator refuses an action whose campaign moved on."""

    actor: str
    user_id: str | None = None
    role: str
    observed: dict[str, Any] = Field(default_factory=dict)


class RejectRequest(BaseModel):
    actor: str
    user_id: str | None = None
    role: str
    reason: str | None = None


class StepInput(BaseModel):
    tenant_id: str
    action_id: str
    campaign_id: str
    assumed: dict[str, Any]
    wanted: dict[str, Any]
    compensating: bool = False


class StepResult(BaseModel):
    campaign_id: str
    before: dict[str, Any]
    after: dict[str, Any]


FinalStatus = Literal["executed", "rejected", "expired", "stale", "failed"]


class FinishActionInput(BaseModel):
    tenant_id: str
    action_id: str
    status: FinalStatus
    outcome: str
    executed_by: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    decided_by: str | None = None
    user_id: str | None = None
    new_state: dict[str, Any] | None = None


class ActionOutcome(BaseModel):
    action_id: str
    status: str
    outcome: str
    new_state: dict[str, Any] | None = None
    executed_by: str | None = None
    approved_by: str | None = None


class ActionWorkflowState(BaseModel):
    status: Literal["preparing", "waiting", "executing", "done"]
    expires_at: datetime
    outcome: ActionOutcome | None = None
