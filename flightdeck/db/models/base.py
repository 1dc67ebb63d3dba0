"""Declarative base with a constraint naming convention (so migrations are deterministic), and
the column mixins every table shares: UUID key, tenant owner, timestamps."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, MetaData, func, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Key first, owner next, timestamps last, whatever order the mixins are listed in.
_FIRST, _OWNER, _LAST = -20, -10, 100


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Fetch server-generated values (timestamps) in the INSERT/UPDATE itself (RETURNING), so an
    # async caller never triggers a lazy load by reading `created_at` after a flush.
    __mapper_args__ = {"eager_defaults": True}


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True,
        default=uuid.uuid4,
        server_default=text("gen_random_uuid()"),
        sort_order=_FIRST,
    )


class TenantOwned(Base):
    """A row that belongs to one tenant; repositories always filter on `tenant_id`.

    Each table indexes `tenant_id` with an index that leads with it (its own, or a composite one
    that its queries need anyway), so there is no redundant single-column index to maintain.
    """

    __abstract__ = True

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), sort_order=_OWNER)


class CreatedAt:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), sort_order=_LAST
    )


class Timestamps(CreatedAt):
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        server_default=func.now(),
        onupdate=func.now(),
        sort_order=_LAST + 1,
    )
