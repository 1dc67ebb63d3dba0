"""Seed 000's tables: campaign plans, their requests (progress) and errors, Strategis templates."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ARRAY, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import Base, CreatedAt, Timestamps, UUIDPrimaryKey


class CampaignPlan(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "campaign_plans"
    __table_args__ = (
        UniqueConstraint("tenant_id", "request_id"),
        Index("ix_campaign_plans_tenant_hook_set", "tenant_id", "hook_set_id"),
        Index("ix_campaign_plans_tenant_status", "tenant_id", "status"),
        Index("ix_campaign_plans_tenant_created", "tenant_id", "created_at", "id"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(255))
    brand: Mapped[str] = mapped_column(String(255))
    objective: Mapped[str] = mapped_column(String(100))
    hook_set_id: Mapped[str] = mapped_column(String(255))
    market: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))
    date: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(100))
    ad_account_id: Mapped[str] = mapped_column(String(255))
    organization: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    destination: Mapped[str] = mapped_column(String(50))
    strategis_template_id: Mapped[str | None] = mapped_column(String(255))
    campaign_name: Mapped[str] = mapped_column(Text)
    ad_set_names: Mapped[list[str]] = mapped_column(ARRAY(Text))
    ad_names: Mapped[list[list[str]]] = mapped_column(JSONB)
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(50), default="pending")
    workflow_id: Mapped[str] = mapped_column(String(400))


class CampaignRequest(UUIDPrimaryKey, Timestamps, Base):
    """Idempotency and live status of one publish request (seed's `campaign_requests`)."""

    __tablename__ = "campaign_requests"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(255))
    campaign_plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_plans.id"), unique=True
    )
    workflow_id: Mapped[str] = mapped_column(String(400), unique=True)
    status: Mapped[str] = mapped_column(String(50), default="pending")
    step: Mapped[str | None] = mapped_column(String(100))
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)


class CampaignError(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "campaign_errors"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    campaign_plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaign_plans.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(255))
    step: Mapped[str] = mapped_column(String(100))
    error_type: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str] = mapped_column(Text)
    error_details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class StrategisTemplate(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "strategis_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "organization", "key"),)

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    organization: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(255))
    strategis_template_id: Mapped[str] = mapped_column(String(255))
