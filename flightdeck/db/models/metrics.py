"""Seed 004's platform-campaign registry and metrics time series.

- `platform_campaigns` is the seed's `campaigns` table (ARCHITECTURE.md: the name `campaigns`
  is taken). It is its own table rather than `remote_objects` rows: it holds every campaign on
  every connected account — most of them *discovered* there, never created by Flightdeck —
  while the ledger records only our own creates, keyed by the request that made them. A
  registry row points back to the Flightdeck object it came from, when there is one
  (`campaign_plan_id` for the Strategis relay, `meta_campaign_id` for Meta direct,
  `generated_campaign_id` for a Reddit set). The seed's UNIQUE(platform,
  platform_campaign_id) is per tenant: two tenants may read the same ad account.
- `campaign_metrics`: one row per campaign and day, partitioned by month on `time` (native
  range partitions, created ahead by the metrics schedule through
  `flightdeck_ensure_metric_partitions`, a SECURITY DEFINER function of migration 0030).
- `metrics_sync_runs`: what each cycle did per connected account.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import Base, TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.db.models.campaign_sets import in_check
from flightdeck.domain.metrics import METRIC_PLATFORMS

ORIGINS = ("discovered", "relay", "meta", "campaign_set")
CAMPAIGN_STATUSES = ("active", "paused", "archived", "deleted", "unknown")
BUDGET_TYPES = ("daily", "lifetime")
BUDGET_OWNERS = ("campaign", "ad_set")
RUN_STATUSES = ("running", "completed", "failed")
Money = Numeric(20, 6)


class PlatformCampaign(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "platform_campaigns"
    __table_args__ = (
        UniqueConstraint("tenant_id", "platform", "platform_campaign_id"),
        Index("ix_platform_campaigns_tenant_account", "tenant_id", "platform", "account_id"),
        Index("ix_platform_campaigns_tenant_status", "tenant_id", "status"),
        Index("ix_platform_campaigns_tenant_created", "tenant_id", "created_at", "id"),
        in_check("platform", METRIC_PLATFORMS),
        in_check("status", CAMPAIGN_STATUSES),
        in_check("budget_type", BUDGET_TYPES),
        in_check("budget_owner", BUDGET_OWNERS),
        in_check("origin", ORIGINS),
    )

    platform: Mapped[str] = mapped_column(String(50))
    # The platform's ad account (act_…, a2_…) and the Flightdeck connection it is read through
    # (a Meta connection or a connected ad account; none for relay campaigns no one connected).
    account_id: Mapped[str] = mapped_column(String(100))
    connection_id: Mapped[uuid.UUID | None]
    platform_campaign_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(50), default="unknown", server_default="unknown")
    platform_status: Mapped[str | None] = mapped_column(String(50))  # the platform's own word
    objective: Mapped[str | None] = mapped_column(String(100))
    budget_amount: Mapped[Decimal | None] = mapped_column(Money)  # major units
    budget_type: Mapped[str | None] = mapped_column(String(50))
    # Where the budget lives: on the campaign, or summed over its ad sets / ad groups.
    budget_owner: Mapped[str | None] = mapped_column(String(20))
    currency: Mapped[str | None] = mapped_column(String(3))
    start_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    origin: Mapped[str] = mapped_column(
        String(20), default="discovered", server_default="discovered"
    )
    campaign_plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaign_plans.id", ondelete="SET NULL")
    )
    meta_campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_campaigns.id", ondelete="SET NULL")
    )
    generated_campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("generated_campaigns.id", ondelete="SET NULL")
    )
    # Platform details the operators need (e.g. the relay's organization, ad set ids).
    attributes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_metrics_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignMetric(Base):
    """One campaign's day. `time` is the day's midnight (UTC label of the account's calendar
    day); money in the campaign currency's major unit; ratios derived from the row's own
    counts (`domain.metrics.derive`), NULL where the denominator is zero."""

    __tablename__ = "campaign_metrics"
    __table_args__ = (
        PrimaryKeyConstraint("campaign_id", "time"),
        # The tenant's window queries (7-day performance, per platform): an index-only scan
        # (it covers every column they sum; migration 0049).
        Index(
            "ix_campaign_metrics_tenant_time",
            "tenant_id",
            "time",
            postgresql_include=[
                "campaign_id",
                "impressions",
                "clicks",
                "spend",
                "revenue",
                "conversions",
            ],
        ),
        {"postgresql_partition_by": "RANGE (time)"},
    )

    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("platform_campaigns.id", ondelete="CASCADE")
    )
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"))
    impressions: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    clicks: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    spend: Mapped[Decimal] = mapped_column(Money, default=0, server_default="0")
    conversions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    revenue: Mapped[Decimal] = mapped_column(Money, default=0, server_default="0")
    cpc: Mapped[Decimal | None] = mapped_column(Money)
    cpm: Mapped[Decimal | None] = mapped_column(Money)
    ctr: Mapped[Decimal | None] = mapped_column(Numeric(12, 8))
    roas: Mapped[Decimal | None] = mapped_column(Money)
    roi: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MetricsSyncRun(UUIDPrimaryKey, Timestamps, TenantOwned):
    """One connected account in one metrics cycle."""

    __tablename__ = "metrics_sync_runs"
    __table_args__ = (
        UniqueConstraint("cycle_id", "platform", "connection_id"),
        Index("ix_metrics_sync_runs_tenant_created", "tenant_id", "created_at"),
        in_check("status", RUN_STATUSES),
        in_check("platform", METRIC_PLATFORMS),
    )

    cycle_id: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(20))
    platform: Mapped[str] = mapped_column(String(50))
    connection_id: Mapped[uuid.UUID]
    account_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="running", server_default="running")
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    report_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    report_jobs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    campaigns_discovered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    campaigns_new: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_fetched: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_upserted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    throttle_wait_seconds: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    details: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
