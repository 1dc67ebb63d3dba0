"""Tenants, their users (each with a role) and the users' API keys (stored as SHA-256 hashes,
never in plain text), and the publish targets a tenant registered as its own."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import Base, CreatedAt, TenantOwned, UUIDPrimaryKey
from flightdeck.domain.users import PUBLISH_TARGET_KINDS, ROLES


class Tenant(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(255), unique=True)


class User(UUIDPrimaryKey, CreatedAt, TenantOwned):
    """A named person (or integration) of one tenant; its role decides what its keys may do."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(f"role IN {ROLES!r}", name="role"),
    )

    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(UUIDPrimaryKey, CreatedAt, TenantOwned):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant_id", "tenant_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PublishTarget(UUIDPrimaryKey, CreatedAt, TenantOwned):
    """A Strategis organization or Facebook ad account the tenant may publish to. A plan that
    names anything else is refused before anything is stored."""

    __tablename__ = "publish_targets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "value"),
        CheckConstraint(f"kind IN {PUBLISH_TARGET_KINDS!r}", name="kind"),
    )

    kind: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(255))
