"""Campaign sets (seed 002): set → generated campaign → ad group → ad / keyword, as edited
locally, with each entity's platform id and sync state.

Children are soft-deleted (`deleted_at`) once they exist on a platform, so the next sync can
delete them there; names are unique among a parent's live children only. Relationships are
`lazy="raise"`: load a tree explicitly (`CampaignSetRepository.get_tree`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flightdeck.db.models.base import TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.domain.campaign_sets import (
    PLATFORMS,
    CampaignSetStatus,
    CampaignStatus,
    KeywordSyncStatus,
    SyncStatus,
)
from flightdeck.domain.reddit_vocabulary import BudgetType

CAMPAIGN_SET_STATUSES: tuple[str, ...] = get_args(CampaignSetStatus)
ENTITY_STATUSES: tuple[str, ...] = get_args(CampaignStatus)
SYNC_STATUSES: tuple[str, ...] = get_args(SyncStatus)
KEYWORD_SYNC_STATUSES: tuple[str, ...] = get_args(KeywordSyncStatus)
BUDGET_TYPES: tuple[str, ...] = get_args(BudgetType)

LIVE = sql_text("deleted_at IS NULL")


def in_check(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """`column IN (…)`, named after the column (→ `ck_<table>_<column>`)."""
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def budget_checks() -> tuple[CheckConstraint, ...]:
    """A budget is all three columns or none of them."""
    complete = (
        "(budget_type IS NULL) = (budget_amount IS NULL) "
        "AND (budget_type IS NULL) = (currency IS NULL)"
    )
    return in_check("budget_type", BUDGET_TYPES), CheckConstraint(complete, name="budget")


def entity_checks() -> tuple[CheckConstraint, ...]:
    return in_check("status", ENTITY_STATUSES), in_check("sync_status", SYNC_STATUSES)


class BudgetColumns:
    budget_type: Mapped[str | None] = mapped_column(String(20))
    budget_amount: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    currency: Mapped[str | None] = mapped_column(String(3))


class SyncedEntity:
    """Status columns shared by campaigns, ad groups and ads."""

    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    sync_status: Mapped[str] = mapped_column(
        String(20), default="pending", server_default="pending"
    )
    sync_error: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignSet(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "campaign_sets"
    __table_args__ = (
        Index("ix_campaign_sets_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_campaign_sets_tenant_status", "tenant_id", "status"),
        in_check("platform", PLATFORMS),
        in_check("status", CAMPAIGN_SET_STATUSES),
        in_check("sync_status", SYNC_STATUSES),
    )

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(20), default="reddit", server_default="reddit")
    ad_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ad_accounts.id"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    sync_status: Mapped[str] = mapped_column(
        String(20), default="pending", server_default="pending"
    )
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    campaigns: Mapped[list[GeneratedCampaign]] = relationship(
        lazy="raise",
        order_by=lambda: (GeneratedCampaign.position, GeneratedCampaign.id),
        passive_deletes=True,
    )
    targets: Mapped[list[CampaignSetTarget]] = relationship(
        lazy="raise",
        order_by=lambda: (CampaignSetTarget.position, CampaignSetTarget.id),
        passive_deletes=True,
    )


class CampaignSetTarget(UUIDPrimaryKey, Timestamps, TenantOwned):
    """One ad account a set is synced to: at most one per platform (the mapping of an entity
    on a platform is its `sync_records` row, unique per entity and platform). Position 0 is the
    set's first target, mirrored in `campaign_sets.platform` / `ad_account_id` (and in the
    entities' `platform_*_id` columns, see ARCHITECTURE "Campaign sets: targets")."""

    __tablename__ = "campaign_set_targets"
    __table_args__ = (
        UniqueConstraint("campaign_set_id", "platform"),
        Index("ix_campaign_set_targets_tenant_set", "tenant_id", "campaign_set_id"),
        in_check("platform", PLATFORMS),
        in_check("sync_status", SYNC_STATUSES),
    )

    campaign_set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_sets.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    platform: Mapped[str] = mapped_column(String(20))
    ad_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ad_accounts.id"), index=True
    )
    sync_status: Mapped[str] = mapped_column(
        String(20), default="pending", server_default="pending"
    )
    # Why the target's last operation did not complete (its platform down, its account to
    # reconnect), in the target's own words.
    sync_error: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class GeneratedCampaign(UUIDPrimaryKey, SyncedEntity, BudgetColumns, Timestamps, TenantOwned):
    __tablename__ = "generated_campaigns"
    __table_args__ = (
        Index(
            "uq_generated_campaigns_campaign_set_id_name",
            "campaign_set_id",
            "name",
            unique=True,
            postgresql_where=LIVE,
        ),
        Index("ix_generated_campaigns_campaign_set_position", "campaign_set_id", "position"),
        Index("ix_generated_campaigns_tenant_platform_id", "tenant_id", "platform_campaign_id"),
        # A set sync pages its campaigns by id from here (no id list in Temporal history).
        Index("ix_generated_campaigns_sync_run", "sync_run_id", "id"),
        CheckConstraint(
            "sync_run_outcome IN ('synced', 'failed', 'held', 'skipped')", name="sync_run_outcome"
        ),
        *entity_checks(),
        *budget_checks(),
    )

    campaign_set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_sets.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    objective: Mapped[str] = mapped_column(String(50))
    budget_optimization: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    platform_campaign_id: Mapped[str | None] = mapped_column(String(100))
    # The latest set sync that took this campaign, and what it did with it (null: not yet).
    sync_run_id: Mapped[uuid.UUID | None]
    sync_run_outcome: Mapped[str | None] = mapped_column(String(20))

    ad_groups: Mapped[list[AdGroup]] = relationship(
        lazy="raise", order_by=lambda: (AdGroup.position, AdGroup.id), passive_deletes=True
    )


class AdGroup(UUIDPrimaryKey, SyncedEntity, BudgetColumns, Timestamps, TenantOwned):
    __tablename__ = "ad_groups"
    __table_args__ = (
        Index(
            "uq_ad_groups_campaign_id_name",
            "campaign_id",
            "name",
            unique=True,
            postgresql_where=LIVE,
        ),
        Index("ix_ad_groups_campaign_position", "campaign_id", "position"),
        Index("ix_ad_groups_tenant_platform_id", "tenant_id", "platform_ad_group_id"),
        *entity_checks(),
        *budget_checks(),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("generated_campaigns.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    bid_strategy: Mapped[str] = mapped_column(String(20))
    bid_amount: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    # `Targeting.model_dump(mode="json")`.
    targeting: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=sql_text("'{}'::jsonb")
    )
    optimization_goal: Mapped[str | None] = mapped_column(String(64))
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    platform_ad_group_id: Mapped[str | None] = mapped_column(String(100))

    ads: Mapped[list[GeneratedAd]] = relationship(
        lazy="raise", order_by=lambda: (GeneratedAd.position, GeneratedAd.id), passive_deletes=True
    )
    # Positive keywords first, then alphabetically: how an ad-ops person reads a keyword list.
    keywords: Mapped[list[Keyword]] = relationship(
        lazy="raise",
        order_by=lambda: (Keyword.negative, func.lower(Keyword.text), Keyword.id),
        passive_deletes=True,
    )


class GeneratedAd(UUIDPrimaryKey, SyncedEntity, Timestamps, TenantOwned):
    """Seed 002's `ads` (renamed: `ads` means something else in seeds 001 and 004)."""

    __tablename__ = "generated_ads"
    __table_args__ = (
        Index(
            "uq_generated_ads_ad_group_id_name",
            "ad_group_id",
            "name",
            unique=True,
            postgresql_where=LIVE,
        ),
        Index("ix_generated_ads_ad_group_position", "ad_group_id", "position"),
        Index("ix_generated_ads_tenant_platform_id", "tenant_id", "platform_ad_id"),
        *entity_checks(),
    )

    ad_group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ad_groups.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    headline: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    display_url: Mapped[str | None] = mapped_column(String(200))
    call_to_action: Mapped[str] = mapped_column(String(32))
    image_url: Mapped[str | None] = mapped_column(Text)
    platform_ad_id: Mapped[str | None] = mapped_column(String(100))
    # Reddit: the post (t3_…) carrying the ad's copy.
    platform_post_id: Mapped[str | None] = mapped_column(String(100))


class Keyword(UUIDPrimaryKey, Timestamps, TenantOwned):
    """An ad group's keyword. Reddit has no keyword objects: keywords are sent as the ad
    group's targeting, so a keyword change is an ad-group change (`platform_keyword_id` stays
    empty there)."""

    __tablename__ = "keywords"
    __table_args__ = (
        Index(
            "uq_keywords_ad_group_id_text_negative",
            "ad_group_id",
            func.lower(sql_text("text")),
            "negative",
            unique=True,
            postgresql_where=LIVE,
        ),
        Index("ix_keywords_tenant_ad_group", "tenant_id", "ad_group_id"),
        Index("ix_keywords_ad_group_id", "ad_group_id"),
        in_check("status", ENTITY_STATUSES),
        in_check("sync_status", KEYWORD_SYNC_STATUSES),
    )

    ad_group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ad_groups.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(100))
    negative: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    platform_keyword_id: Mapped[str | None] = mapped_column(String(100))
    sync_status: Mapped[str] = mapped_column(
        String(20), default="pending", server_default="pending"
    )
    # Why the keyword is not on the platform although synced (Meta: not_applicable).
    sync_reason: Mapped[str | None] = mapped_column(Text)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
