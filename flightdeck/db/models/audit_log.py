"""Append-only audit log: who did what to which entity, with details."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import Base, CreatedAt


class AuditLogEntry(CreatedAt, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_tenant_entity_created", "tenant_id", "entity_type", "created_at"),
        # The audit list pages newest first (keyset on created_at, id).
        Index("ix_audit_log_tenant_created", "tenant_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    # Nullable: system-wide actions (e.g. creating a tenant's first key) belong to no tenant yet.
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id"))
    actor: Mapped[str] = mapped_column(String(100))
    # The user whose request (or whose run) this was; None for the system's own work.
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(100))
    entity_id: Mapped[str] = mapped_column(String(400))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
