"""Cache of Strategis tracking-template ids, per tenant, organization and template key."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import CreatedAt, TenantOwned, UUIDPrimaryKey


class StrategisTemplate(UUIDPrimaryKey, CreatedAt, TenantOwned):
    __tablename__ = "strategis_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "organization", "key"),)

    organization: Mapped[str] = mapped_column(String(255))
    key: Mapped[str] = mapped_column(String(255))
    strategis_template_id: Mapped[str] = mapped_column(String(255))
