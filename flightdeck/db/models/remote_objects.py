"""The remote-object ledger: every object Flightdeck asked a platform to create, written before
the call (`requested`) and right after it (`created` + external id)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import TenantOwned, Timestamps, UUIDPrimaryKey

LEDGER_STATES = ("requested", "created", "failed", "paused", "deleted")


class RemoteObject(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "remote_objects"
    __table_args__ = (
        UniqueConstraint("tenant_id", "system", "client_request_key"),
        Index("ix_remote_objects_external", "tenant_id", "system", "object_type", "external_id"),
        # One platform object is in one ledger row, whatever the tenant: a create answered with
        # an object another run (or tenant) already holds fails loudly instead of mapping it.
        Index(
            "uq_remote_objects_system_external_id",
            "system",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        CheckConstraint(f"state IN {LEDGER_STATES!r}", name="state"),
    )

    campaign_plan_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaign_plans.id"), index=True
    )
    # Seed 001: the Meta campaign whose publish created the object (system "meta").
    meta_campaign_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("meta_campaigns.id"), index=True
    )
    system: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(50))
    local_key: Mapped[str] = mapped_column(String(255))
    client_request_key: Mapped[str] = mapped_column(String(400))
    external_id: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(20), default="requested", server_default="requested")
    name: Mapped[str | None] = mapped_column(Text)
    parent_external_id: Mapped[str | None] = mapped_column(String(255))
    ad_set_index: Mapped[int | None] = mapped_column(Integer)
    ad_index: Mapped[int | None] = mapped_column(Integer)
    attributes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    last_error: Mapped[str | None] = mapped_column(Text)
