"""The asset library (seed 003): stored files (`asset_blobs`, content-addressed, one per tenant
and SHA-256), the assets that point at them (`campaign_assets`, text assets carry no blob),
and each recorded reuse (`asset_reuses`: who used which asset where, when, in what context).

A blob's bytes live in the storage backend under `storage_key`; the blob row is removed —
and the bytes with it — only when no asset row (live or soft-deleted) points at it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import CreatedAt, TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.db.models.campaign_spaces import AD_PLATFORM, IMPORT_SOURCE
from flightdeck.domain.campaign_spaces import ASSET_TYPES

ASSET_TYPE = SAEnum(*ASSET_TYPES, name="campaignassettype")

ASSET_SEARCH = (
    "setweight(to_tsvector('english', coalesce(asset_name, '') || ' ' || coalesce(title, '')), "
    "'A') || setweight(to_tsvector('english', coalesce(headline_text, '') || ' ' || "
    "coalesce(description, '')), 'B') || setweight(to_tsvector('english', "
    "coalesce(ad_copy_text, '') || ' ' || coalesce(cta_text, '')), 'C')"
)


class AssetBlob(UUIDPrimaryKey, CreatedAt, TenantOwned):
    __tablename__ = "asset_blobs"
    __table_args__ = (UniqueConstraint("tenant_id", "sha256"),)

    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(100))
    storage_key: Mapped[str] = mapped_column(String(300))
    thumbnail_key: Mapped[str | None] = mapped_column(String(300))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)


class CampaignAsset(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "campaign_assets"
    __table_args__ = (
        Index("ix_campaign_assets_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_campaign_assets_space_created", "campaign_space_id", "created_at", "id"),
        Index("ix_campaign_assets_tenant_type", "tenant_id", "asset_type"),
        Index("ix_campaign_assets_tenant_hash", "tenant_id", "file_hash"),
        Index("ix_campaign_assets_blob_id", "blob_id"),
        # Imports are idempotent: one asset per space, type and platform object.
        Index(
            "uq_campaign_assets_external",
            "campaign_space_id",
            "asset_type",
            "external_asset_id",
            unique=True,
            postgresql_where=text("external_asset_id IS NOT NULL"),
        ),
        Index("ix_campaign_assets_tags", "tags", postgresql_using="gin"),
        Index("ix_campaign_assets_search", "search_vector", postgresql_using="gin"),
    )

    campaign_space_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_spaces.id", ondelete="CASCADE")
    )
    brand_id: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[str | None] = mapped_column(String(100))
    asset_name: Mapped[str] = mapped_column(String(255))
    asset_type: Mapped[str] = mapped_column(ASSET_TYPE)
    import_source: Mapped[str] = mapped_column(
        IMPORT_SOURCE, default="manual_upload", server_default="manual_upload"
    )
    import_run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("asset_import_runs.id", ondelete="SET NULL")
    )
    external_asset_id: Mapped[str | None] = mapped_column(String(255))

    # The file (none for text assets). `storage_path` is the seed's `gcs_path`, for any backend.
    blob_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("asset_blobs.id"))
    file_url: Mapped[str | None] = mapped_column(Text)
    public_url: Mapped[str | None] = mapped_column(Text)
    storage_path: Mapped[str | None] = mapped_column(String(300))
    file_hash: Mapped[str | None] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    original_filename: Mapped[str | None] = mapped_column(String(255))

    title: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    ad_copy_text: Mapped[str | None] = mapped_column(Text)
    headline_text: Mapped[str | None] = mapped_column(Text)
    cta_text: Mapped[str | None] = mapped_column(String(100))

    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    thumbnail_url: Mapped[str | None] = mapped_column(Text)

    impressions: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    clicks: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    conversions: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    spend: Mapped[Decimal] = mapped_column(
        Numeric(20, 6), default=Decimal(0), server_default=text("0")
    )
    ctr: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))

    platform_metadata: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    platform_variants: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), default=list, server_default=text("'{}'::character varying[]")
    )
    reused_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_reused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(ASSET_SEARCH, persisted=True), deferred=True
    )


class AssetReuse(UUIDPrimaryKey, TenantOwned):
    """One use of an asset somewhere (a campaign, an ad, a Reddit post …), recorded once per
    place: recording the same place again changes nothing."""

    __tablename__ = "asset_reuses"
    __table_args__ = (
        UniqueConstraint("asset_id", "reused_in_type", "reused_in_id"),
        Index("ix_asset_reuses_tenant_reused_at", "tenant_id", "reused_at"),
    )

    asset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_assets.id", ondelete="CASCADE")
    )
    user_id: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(50))  # "api", "worker", …
    reused_in_type: Mapped[str] = mapped_column(String(50))
    reused_in_id: Mapped[str] = mapped_column(String(255))
    reused_in_name: Mapped[str | None] = mapped_column(String(255))
    platform: Mapped[str | None] = mapped_column(AD_PLATFORM)
    context: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    reused_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
