"""Campaign spaces (seed 003): one platform campaign's organisational unit — its metadata,
template flag, cached performance and asset counters — with a ranked full-text vector over
its name and description.

`asset_count` and `total_asset_size_bytes` count the space's live (not soft-deleted) assets;
they change only together with an asset row, in the same transaction (see
`CampaignAssetRepository`). Performance figures are pushed (`update-performance`) or written by
a metrics job; `performance_source` and `performance_as_of` say which and how fresh.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    false,
    text,
    true,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.domain.campaign_spaces import AD_PLATFORMS, IMPORT_SOURCES

AD_PLATFORM = SAEnum(*AD_PLATFORMS, name="adplatform")
IMPORT_SOURCE = SAEnum(*IMPORT_SOURCES, name="campaignimportsource")

# Name weighs more than description in the ranking (A > B).
SPACE_SEARCH = (
    "setweight(to_tsvector('english', coalesce(campaign_name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'B')"
)


def _zero() -> Any:
    return text("0")


class PerformanceColumns:
    """The seed's cached performance figures (BigQuery in the seed; our metrics later)."""

    total_impressions: Mapped[int] = mapped_column(BigInteger, default=0, server_default=_zero())
    total_clicks: Mapped[int] = mapped_column(BigInteger, default=0, server_default=_zero())
    total_spend: Mapped[Decimal] = mapped_column(
        Numeric(20, 6), default=Decimal(0), server_default=_zero()
    )
    total_conversions: Mapped[int] = mapped_column(BigInteger, default=0, server_default=_zero())
    total_revenue: Mapped[Decimal] = mapped_column(
        Numeric(20, 6), default=Decimal(0), server_default=_zero()
    )
    ctr: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    roas: Mapped[Decimal | None] = mapped_column(Numeric(12, 4))
    # Where the figures came from (`manual` = pushed through the API, `metrics_sync` = the
    # scheduled metrics job) and the moment they describe; an older push never wins.
    performance_source: Mapped[str | None] = mapped_column(String(50))
    performance_as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignSpace(UUIDPrimaryKey, PerformanceColumns, Timestamps, TenantOwned):
    __tablename__ = "campaign_spaces"
    __table_args__ = (
        Index("ix_campaign_spaces_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_campaign_spaces_tenant_platform", "tenant_id", "platform"),
        Index("ix_campaign_spaces_tenant_brand", "tenant_id", "brand_id"),
        Index(
            "ix_campaign_spaces_tenant_template",
            "tenant_id",
            "is_template",
            postgresql_where=text("deleted_at IS NULL"),
        ),
        Index("ix_campaign_spaces_external", "tenant_id", "platform", "external_campaign_id"),
        Index("ix_campaign_spaces_tags", "tags", postgresql_using="gin"),
        Index("ix_campaign_spaces_search", "search_vector", postgresql_using="gin"),
    )

    brand_id: Mapped[str | None] = mapped_column(String(255))
    # Who created it: the API key's user (the API key id until users exist).
    user_id: Mapped[str | None] = mapped_column(String(100))
    campaign_name: Mapped[str] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(AD_PLATFORM)
    external_campaign_id: Mapped[str | None] = mapped_column(String(255))
    # The connected account imports read through (Reddit), if any.
    ad_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("ad_accounts.id"))
    description: Mapped[str | None] = mapped_column(Text)
    campaign_objective: Mapped[str | None] = mapped_column(String(100))
    target_audience: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    start_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    import_source: Mapped[str] = mapped_column(
        IMPORT_SOURCE, default="manual_upload", server_default="manual_upload"
    )
    import_metadata: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    imported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    tags: Mapped[list[str]] = mapped_column(
        ARRAY(String(100)), default=list, server_default=text("'{}'::character varying[]")
    )
    category: Mapped[str | None] = mapped_column(String(100))
    is_template: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    template_metadata: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )

    asset_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default=_zero())
    total_asset_size_bytes: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default=_zero()
    )

    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SPACE_SEARCH, persisted=True), deferred=True
    )
