"""Errors recorded while publishing a plan: which step failed, how, with what details."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import CreatedAt, TenantOwned, UUIDPrimaryKey


class CampaignError(UUIDPrimaryKey, CreatedAt, TenantOwned):
    __tablename__ = "campaign_errors"
    __table_args__ = (Index("ix_campaign_errors_tenant_id", "tenant_id"),)

    campaign_plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("campaign_plans.id"), index=True)
    request_id: Mapped[str] = mapped_column(String(255))
    step: Mapped[str] = mapped_column(String(100))
    error_type: Mapped[str | None] = mapped_column(String(100))
    error_message: Mapped[str] = mapped_column(Text)
    error_details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
