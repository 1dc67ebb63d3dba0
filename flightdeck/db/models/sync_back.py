"""Scheduled sync-back (seed 002 §6): what each cycle found per ad account, the conflicts that
wait for a person, and the alerts raised when one waits too long."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.db.models.campaign_sets import in_check
from flightdeck.domain.campaign_sets import PLATFORMS

CONFLICT_STATUSES = ("open", "resolved")
RESOLUTIONS = ("use_local", "use_platform")
CONFLICT_ENTITY_TYPES = ("campaign", "ad_group", "ad")
RUN_STATUSES = ("running", "completed", "failed")
HOLD_STATUSES = ("held", "released", "discarded", "superseded")
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


class SyncBackRun(UUIDPrimaryKey, Timestamps, TenantOwned):
    """One ad account in one sync-back cycle: calls made, rows changed, conflicts opened.
    `changes` lists each applied change `{entityType, entityId, field, from, to}` (capped)."""

    __tablename__ = "sync_back_runs"
    __table_args__ = (
        Index("ix_sync_back_runs_tenant_created", "tenant_id", "created_at"),
        in_check("status", RUN_STATUSES),
        in_check("hold_status", HOLD_STATUSES),
    )

    cycle_id: Mapped[str] = mapped_column(String(200))  # the cycle's workflow id
    trigger: Mapped[str] = mapped_column(String(20))
    ad_account_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), default="running", server_default="running")
    api_calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    entities_checked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_changed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    conflicts_opened: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    deleted_on_platform: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changes: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Deletions this cycle held back (too many at once): `[{entityType, entityId, platformId}]`
    # until a person releases (applies) or discards them.
    held_deletions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    hold_status: Mapped[str | None] = mapped_column(String(20))


class SyncConflict(UUIDPrimaryKey, Timestamps, TenantOwned):
    """Both sides changed the same fields of one entity since its last sync. `fields` is
    `[{field, base, local, platform}]`; one open conflict per entity (its workflow's state)."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (
        Index("ix_sync_conflicts_tenant_status", "tenant_id", "status"),
        Index("ix_sync_conflicts_tenant_created", "tenant_id", "created_at", "id"),
        Index(
            "uq_sync_conflicts_open_entity",
            "entity_type",
            "entity_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        in_check("entity_type", CONFLICT_ENTITY_TYPES),
        in_check("platform", PLATFORMS),
        in_check("status", CONFLICT_STATUSES),
        in_check("resolution", RESOLUTIONS),
    )

    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[uuid.UUID]
    platform: Mapped[str] = mapped_column(String(20))
    platform_id: Mapped[str] = mapped_column(String(100))
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    resolution: Mapped[str | None] = mapped_column(String(20))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    workflow_id: Mapped[str] = mapped_column(String(200))


class Alert(UUIDPrimaryKey, Timestamps, TenantOwned):
    """Something a person should look at: seed 004's performance alerts (`ROAS_DROP`,
    `CPA_SPIKE`, `ZERO_CONVERSIONS` on a platform campaign, with the metric and threshold) and
    the operational ones (a conflict unresolved for too long, an ad rejected in review, a
    compensation that failed). One table, one lifecycle: open → acknowledged → resolved (by a
    person, or by itself when the metric recovers). At most one open alert per campaign and
    type; re-firing updates it."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_tenant_created", "tenant_id", "created_at"),
        Index(
            "ix_alerts_unresolved",
            "tenant_id",
            "resolved_at",
            postgresql_where=text("resolved_at IS NULL"),
        ),
        Index(
            "uq_alerts_open_campaign_type",
            "tenant_id",
            "campaign_id",
            "alert_type",
            unique=True,
            postgresql_where=text("resolved_at IS NULL AND campaign_id IS NOT NULL"),
        ),
        in_check("severity", SEVERITIES),
    )

    alert_type: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20), default="MEDIUM", server_default="MEDIUM")
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("platform_campaigns.id", ondelete="CASCADE")
    )
    platform: Mapped[str | None] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    metric_name: Mapped[str | None] = mapped_column(String(100))
    metric_value: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    threshold_value: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    fire_count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(255))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(255))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notification_error: Mapped[str | None] = mapped_column(Text)
