"""One publish request per plan: idempotency by requestId, and the run's live progress."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.db.models.campaign_plans import status_check


class CampaignRequest(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "campaign_requests"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id"), status_check())

    request_id: Mapped[str] = mapped_column(String(255))
    campaign_plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_plans.id"), unique=True
    )
    workflow_id: Mapped[str] = mapped_column(String(400), unique=True)
    status: Mapped[str] = mapped_column(String(50), default="pending", server_default="pending")
    step: Mapped[str | None] = mapped_column(String(100))
    progress_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
