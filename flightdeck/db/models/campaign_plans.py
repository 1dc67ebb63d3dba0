"""Campaign plans (seed 000): the validated plan, its generated names and its publish status."""

from __future__ import annotations

import datetime as dt
from typing import Any, get_args

from sqlalchemy import CheckConstraint, Date, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.domain.plans import PlanStatus

PLAN_STATUSES: tuple[str, ...] = get_args(PlanStatus)


def status_check(column: str = "status") -> CheckConstraint:
    """`status IN (…)` for tables whose status follows the plan's lifecycle."""
    values = ", ".join(f"'{value}'" for value in PLAN_STATUSES)
    return CheckConstraint(f"{column} IN ({values})", name=column)


class CampaignPlan(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "campaign_plans"
    __table_args__ = (
        UniqueConstraint("tenant_id", "request_id"),
        Index("ix_campaign_plans_tenant_hook_set", "tenant_id", "hook_set_id"),
        Index("ix_campaign_plans_tenant_status", "tenant_id", "status"),
        Index("ix_campaign_plans_tenant_created", "tenant_id", "created_at", "id"),
        status_check(),
    )

    request_id: Mapped[str] = mapped_column(String(255))
    brand: Mapped[str] = mapped_column(String(255))
    objective: Mapped[str] = mapped_column(String(100))
    hook_set_id: Mapped[str] = mapped_column(String(255))
    market: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))
    date: Mapped[dt.date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(100))
    ad_account_id: Mapped[str] = mapped_column(String(255))
    organization: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    destination: Mapped[str] = mapped_column(String(50))
    strategis_template_id: Mapped[str | None] = mapped_column(String(255))
    campaign_name: Mapped[str] = mapped_column(Text)
    ad_set_names: Mapped[list[str]] = mapped_column(ARRAY(Text))
    # A list of lists of different lengths: a Postgres 2-D array would have to be rectangular.
    ad_names: Mapped[list[list[str]]] = mapped_column(JSONB)
    # The full validated plan, as the camelCase JSON the API accepted.
    plan: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(50), default="pending", server_default="pending")
    workflow_id: Mapped[str] = mapped_column(String(400))
