"""Sync bookkeeping for campaign sets (seed 002): one sync record per entity and platform, and
the per-platform call log and circuit breaker state that all workers share."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import Base, TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.db.models.campaign_sets import SYNC_STATUSES, in_check
from flightdeck.domain.campaign_sets import PLATFORMS, EntityType

ENTITY_TYPES: tuple[str, ...] = get_args(EntityType)
# A Reddit ad's post is ledgered too (under the ad's id), like every other create.
SYNC_RECORD_ENTITY_TYPES: tuple[str, ...] = (*ENTITY_TYPES, "post")
SYNC_RECORD_STATES = ("requested", "created", "synced", "failed", "deleted")
CIRCUIT_STATES = ("closed", "open", "half_open")
SET_SYNC_RUN_STATUSES = ("running", "completed", "completed_with_errors", "failed")
# What one run did with one campaign (`generated_campaigns.sync_run_outcome`).
RUN_OUTCOMES = ("synced", "failed", "held", "skipped")


class SyncRecord(UUIDPrimaryKey, Timestamps, TenantOwned):
    """Where one entity stands on one platform.

    `synced_snapshot` is the entity's spec as last pushed successfully: the base an update
    diffs against (send only changed fields) and, later, the common ancestor for three-way
    conflict detection. `error_log` is a list of `{at, message, code?}`.
    """

    __tablename__ = "sync_records"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "platform"),
        Index("ix_sync_records_tenant_sync_status", "tenant_id", "sync_status"),
        # The retry sweep's selection (failed campaigns only, oldest first).
        Index(
            "ix_sync_records_retryable_campaigns",
            "platform",
            "updated_at",
            "id",
            postgresql_where=text(
                "entity_type = 'campaign' AND sync_status = 'failed' AND NOT permanently_failed"
            ),
        ),
        in_check("entity_type", SYNC_RECORD_ENTITY_TYPES),
        in_check("platform", PLATFORMS),
        in_check("state", SYNC_RECORD_STATES),
        in_check("sync_status", SYNC_STATUSES),
    )

    entity_type: Mapped[str] = mapped_column(String(20))
    # Polymorphic (campaign, ad group or ad), so no foreign key.
    entity_id: Mapped[uuid.UUID]
    platform: Mapped[str] = mapped_column(String(20))
    platform_id: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), default="requested", server_default="requested")
    sync_status: Mapped[str] = mapped_column(
        String(20), default="pending", server_default="pending"
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error_log: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    synced_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    permanently_failed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class PlatformCall(Base):
    """One call to a platform API and whether it worked: the circuit breaker's input."""

    __tablename__ = "platform_calls"
    __table_args__ = (Index("ix_platform_calls_platform_at", "platform", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id"))
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CircuitBreaker(Base):
    """Per-platform circuit state (seed: open above 50% failures in 5 minutes)."""

    __tablename__ = "circuit_breakers"
    __table_args__ = (in_check("state", CIRCUIT_STATES),)

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="closed", server_default="closed")
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure_ratio: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class SetSyncRun(UUIDPrimaryKey, Timestamps, TenantOwned):
    """One push, pause or resume of a campaign set (its id is the Temporal workflow's first run
    id, kept across continue-as-new). The campaigns it took carry its id
    (`generated_campaigns.sync_run_id`) and, once each is done, their outcome; `status` is
    final once `finished_at` is set, with `error` saying why a run failed."""

    __tablename__ = "set_sync_runs"
    __table_args__ = (
        Index("ix_set_sync_runs_tenant_set_started", "tenant_id", "campaign_set_id", "started_at"),
        in_check("status", SET_SYNC_RUN_STATUSES),
    )

    campaign_set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_sets.id", ondelete="CASCADE")
    )
    workflow_id: Mapped[str] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30), default="running", server_default="running")
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    synced: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


UNMARKED_CREATE_STATES = ("in_flight", "lost", "looking", "done")


class UnmarkedCreate(Base):
    """One create — or one lookup after a lost answer — of a platform object that carries no
    marker of ours (a Reddit post: reddit-ads-api.md gives it no name or other free field).
    Shared by every tenant, as tenants may connect the same profile; a row names no tenant,
    only opaque hashes: the owner is the entity's adoption ref (`domain.adoption.entity_ref`)
    and the content a hash of the copy a lookup compares. `activities.unmarked_creates`
    explains the protocol: a lookup waits out the creates of the same content in flight, and
    new ones wait out the lookup, so a lookup never takes a post another create has just made
    and not yet recorded. `remote_id` is unique: one post is claimed by one owner only."""

    __tablename__ = "unmarked_creates"
    __table_args__ = (
        Index(
            "ix_unmarked_creates_open",
            "platform",
            "scope",
            "content_key",
            postgresql_where=text("state <> 'done'"),
        ),
        Index(
            "uq_unmarked_creates_platform_remote_id",
            "platform",
            "remote_id",
            unique=True,
            postgresql_where=text("remote_id IS NOT NULL"),
        ),
        Index("ix_unmarked_creates_owner", "platform", "owner"),
        in_check("state", UNMARKED_CREATE_STATES),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(255))  # where the object lives (the profile)
    content_key: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20))
    remote_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A row `in_flight` or `looking` past this is one whose worker died: no longer waited for.
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
