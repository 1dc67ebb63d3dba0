"""Seed 004's recommendations, budget allocations and the AI actions log, plus the tenant's
performance settings.

`ai_actions_log` holds every action from proposal to outcome (the seed's columns, plus its
lifecycle): `status` moves pending_approval → executed, or to rejected / expired / stale /
failed; `executed_at` is set only when the platform was changed (the seed's DEFAULT NOW()
would date a rejected action). `previous_state` is what the action assumed and found on the
platform; `new_state` what it read back after the change.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import Base, CreatedAt, TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.db.models.campaign_sets import in_check
from flightdeck.domain.performance_settings import ACTION_TYPES

RECOMMENDATION_TYPES = ("PAUSE_CAMPAIGN", "INCREASE_BUDGET", "DECREASE_BUDGET", "REALLOCATE_BUDGET")
RECOMMENDATION_STATUSES = ("pending", "accepted", "rejected", "executed", "superseded", "failed")
ACTION_STATUSES = (
    "pending_approval",
    "approved",
    "executed",
    "rejected",
    "expired",
    "stale",
    "failed",
)


class AiRecommendation(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "ai_recommendations"
    __table_args__ = (
        Index("ix_ai_recommendations_status", "tenant_id", "status"),
        Index("ix_ai_recommendations_campaign", "campaign_id"),
        # Never two pending recommendations for the same change (e.g. "the budget of X").
        Index(
            "uq_ai_recommendations_pending_change",
            "tenant_id",
            "change_key",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        in_check("recommendation_type", RECOMMENDATION_TYPES),
        in_check("status", RECOMMENDATION_STATUSES),
        in_check("action_type", ACTION_TYPES),
    )

    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("platform_campaigns.id", ondelete="CASCADE")
    )
    recommendation_type: Mapped[str] = mapped_column(String(100))
    recommendation_text: Mapped[str] = mapped_column(Text)  # the reasoning, with its numbers
    confidence_score: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    status: Mapped[str] = mapped_column(String(50), default="pending", server_default="pending")
    executed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    action_type: Mapped[str] = mapped_column(String(50))
    change_key: Mapped[str] = mapped_column(String(200))
    # What to change ({"status": "paused"}, {"budgetAmount": "60.00"}, or per campaign for a
    # reallocation) and the numbers the recommendation rests on.
    proposed_change: Mapped[dict[str, Any]] = mapped_column(JSONB)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    narrative: Mapped[str | None] = mapped_column(Text)
    allocation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("budget_allocations.id", ondelete="SET NULL")
    )
    action_id: Mapped[uuid.UUID | None]
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BudgetAllocation(UUIDPrimaryKey, CreatedAt, TenantOwned):
    """A period's budget split across platforms (`allocations`: {"meta": 3000.0, …}, in
    `currency`); `details` holds the per-campaign split behind it."""

    __tablename__ = "budget_allocations"
    __table_args__ = (Index("ix_budget_allocations_tenant_period", "tenant_id", "period_start"),)

    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    total_budget: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    currency: Mapped[str] = mapped_column(String(3))
    allocations: Mapped[dict[str, Any]] = mapped_column(JSONB)
    details: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    ai_suggested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[str] = mapped_column(String(255))


class AiActionLog(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "ai_actions_log"
    __table_args__ = (
        Index("ix_ai_actions_log_executed_at", "tenant_id", "executed_at"),
        Index("ix_ai_actions_log_status", "tenant_id", "status"),
        Index("ix_ai_actions_log_platform", "platform"),
        in_check("action_type", ACTION_TYPES),
        in_check("status", ACTION_STATUSES),
    )

    action_type: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(50))  # "multi" for a cross-platform move
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("platform_campaigns.id", ondelete="SET NULL")
    )
    previous_state: Mapped[dict[str, Any]] = mapped_column(JSONB)
    new_state: Mapped[dict[str, Any]] = mapped_column(JSONB)  # wanted, then read back
    reasoning: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    executed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    executed_by: Mapped[str | None] = mapped_column(String(100))  # ai_autonomous or user:<name>
    approval_required: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(
        String(30), default="pending_approval", server_default="pending_approval"
    )
    proposed_by: Mapped[str] = mapped_column(String(255))
    recommendation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ai_recommendations.id", ondelete="SET NULL")
    )
    reverts_action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ai_actions_log.id", ondelete="SET NULL")
    )
    autonomous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(255))  # who rejected
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(Text)  # why it ended as it did
    workflow_id: Mapped[str] = mapped_column(String(200))


class PerformanceSettingsRow(Base):
    """One tenant's `domain.performance_settings.PerformanceSettings` (JSON), and the secret
    its alert webhooks are signed with (AES-256-GCM, bound to the tenant)."""

    __tablename__ = "performance_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
