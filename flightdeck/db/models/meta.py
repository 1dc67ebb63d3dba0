"""Seed 001's tables, under ARCHITECTURE.md's names: wizard-built Meta campaigns
(`meta_campaigns`), their sections and prepared Graph payloads (`campaign_states`), their ads
(`meta_ads`), what is published on Meta (`meta_published_campaigns`) and the Meta connections
(`campaign_meta_connections`). Every table is tenant-owned, under row-level security.

Connections belong to the tenant (and the user who made them) rather than to one campaign, as
in the seed: a campaign picks one in its Meta-connection section (`meta_connection_id`).
Tokens are stored only AES-256-GCM encrypted (`*_encrypted`), bound to their row and column.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.db.models.campaign_sets import in_check

INITIAL_GOALS = ("leads", "website-visits", "calls")
CAMPAIGN_STATUSES = ("draft", "ready", "published")
PUBLISHED_STATUSES = ("publishing", "active", "paused", "error", "deleted")
CONNECTION_STATUSES = (
    "authorizing",  # sent to Facebook Login, callback pending
    "pending_selection",  # connected; business, Page and ad account not chosen yet
    "connected",
    "token_expired",
    "missing_scopes",
    "account_disabled",
    "no_payment_method",
    "declined",  # the user cancelled the dialog
    "disconnected",
)
DESTINATION_TYPES = ("website", "form", "call")


class CampaignMetaConnection(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "campaign_meta_connections"
    __table_args__ = (
        Index("ix_campaign_meta_connections_token_expiry", "tenant_id", "token_expires_at"),
        Index("ix_campaign_meta_connections_ad_account", "tenant_id", "selected_ad_account_id"),
        in_check("connection_status", CONNECTION_STATUSES),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # who connected
    fb_user_id: Mapped[str | None] = mapped_column(String(64))
    fb_user_name: Mapped[str | None] = mapped_column(String(255))
    long_lived_user_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    data_access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scopes: Mapped[str | None] = mapped_column(Text)
    declined_scopes: Mapped[str | None] = mapped_column(Text)
    selected_business_id: Mapped[str | None] = mapped_column(String(64))
    selected_business_name: Mapped[str | None] = mapped_column(String(255))
    selected_page_id: Mapped[str | None] = mapped_column(String(64))
    selected_page_name: Mapped[str | None] = mapped_column(String(255))
    selected_page_access_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    selected_ig_user_id: Mapped[str | None] = mapped_column(String(64))
    selected_ig_username: Mapped[str | None] = mapped_column(String(255))
    # "act_123456"
    selected_ad_account_id: Mapped[str | None] = mapped_column(String(64))
    selected_ad_account_name: Mapped[str | None] = mapped_column(String(255))
    ad_account_currency_code: Mapped[str | None] = mapped_column(String(3))
    ad_account_status: Mapped[int | None] = mapped_column(Integer)
    ad_account_payment_connected: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    admin_connected: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    user_app_connected: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    connection_status: Mapped[str] = mapped_column(
        String(30), default="authorizing", server_default="authorizing"
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    # The OAuth `state` while the dialog is open (single use, short-lived).
    oauth_state: Mapped[str | None] = mapped_column(String(128), unique=True)
    oauth_state_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the user may choose from: businesses, ad accounts, Pages, Instagram accounts (no
    # tokens: a Page token is fetched again when the Page is selected).
    discovered: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MetaCampaign(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "meta_campaigns"
    __table_args__ = (
        Index("ix_meta_campaigns_published_status", "tenant_id", "published_status"),
        Index("ix_meta_campaigns_tenant_created", "tenant_id", "created_at", "id"),
        in_check("initial_goal", INITIAL_GOALS),
        in_check("status", CAMPAIGN_STATUSES),
        in_check("published_status", PUBLISHED_STATUSES),
    )

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # the owner
    name: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    published_status: Mapped[str | None] = mapped_column(String(20))
    initial_goal: Mapped[str | None] = mapped_column(String(20))
    meta_connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaign_meta_connections.id")
    )
    last_metrics_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignState(UUIDPrimaryKey, Timestamps, TenantOwned):
    """The wizard's sections, each JSON validated against its schema, and `publish_data`."""

    __tablename__ = "campaign_states"
    __table_args__ = (Index("ix_campaign_states_tenant_id", "tenant_id"),)

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meta_campaigns.id"), unique=True)
    goal_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    location_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    budget_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ad_copy_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    ad_preview_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    meta_connect_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    publish_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class MetaAd(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "meta_ads"
    __table_args__ = (
        Index("ix_meta_ads_campaign_status", "tenant_id", "campaign_id", "status"),
        Index("ix_meta_ads_meta_ad_id", "tenant_id", "meta_ad_id"),
        UniqueConstraint("campaign_id", "position"),
        in_check("destination_type", DESTINATION_TYPES),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meta_campaigns.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    meta_ad_id: Mapped[str | None] = mapped_column(String(64))
    meta_creative_id: Mapped[str | None] = mapped_column(String(64))
    meta_review_status: Mapped[str | None] = mapped_column(String(30))
    review_feedback: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    issues_info: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    copy_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    creative_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    destination_data: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    destination_type: Mapped[str | None] = mapped_column(String(20))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MetaPublishedCampaign(UUIDPrimaryKey, Timestamps, TenantOwned):
    """What is on Meta for a campaign: its ids as they are created, and the publish status.
    `generation` counts publications: a deleted campaign published again is a new generation
    (new ledger keys), so nothing of the old one is ever adopted."""

    __tablename__ = "meta_published_campaigns"
    __table_args__ = (
        Index("ix_meta_published_campaigns_status", "tenant_id", "publish_status"),
        in_check("publish_status", PUBLISHED_STATUSES),
    )

    campaign_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meta_campaigns.id"), unique=True)
    meta_campaign_id: Mapped[str | None] = mapped_column(String(64))
    meta_adset_id: Mapped[str | None] = mapped_column(String(64))
    meta_ad_ids: Mapped[list[str]] = mapped_column(
        ARRAY(String(64)), default=list, server_default=text("'{}'")
    )
    publish_status: Mapped[str] = mapped_column(
        String(20), default="publishing", server_default="publishing"
    )
    error_message: Mapped[str | None] = mapped_column(Text)
    generation: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    workflow_id: Mapped[str | None] = mapped_column(String(200))
    review_workflow_id: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
