"""Connected ad-platform accounts (seed 002: Reddit OAuth) and in-flight OAuth handshakes.

Tokens and PKCE verifiers are stored only encrypted (AES-256-GCM, by the caller); the columns
hold ciphertext and never enter workflow history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import CreatedAt, TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.db.models.campaign_sets import in_check
from flightdeck.domain.campaign_sets import PLATFORMS, Platform

AD_ACCOUNT_STATUSES = ("active", "reauth_required", "disconnected")
# Platforms an account can be connected on (migration 0044 added Google Ads): the campaign-set
# platforms.
AccountPlatform = Platform
ACCOUNT_PLATFORMS: tuple[AccountPlatform, ...] = PLATFORMS


class AdAccount(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "ad_accounts"
    __table_args__ = (
        # Leads with tenant_id, so it is also the tenant index.
        UniqueConstraint("tenant_id", "platform", "platform_account_id"),
        in_check("platform", ACCOUNT_PLATFORMS),
        in_check("status", AD_ACCOUNT_STATUSES),
    )

    platform: Mapped[str] = mapped_column(String(20))
    # Reddit: a2_…; unknown until the OAuth callback has looked the account up.
    platform_account_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    username: Mapped[str | None] = mapped_column(String(255))
    access_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scopes: Mapped[str | None] = mapped_column(Text)
    funding_instrument_id: Mapped[str | None] = mapped_column(String(100))
    profile_id: Mapped[str | None] = mapped_column(String(100))
    connected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Google Ads: the manager account the client account is reached through (the
    # `login-customer-id` header); None when the user has direct access.
    login_customer_id: Mapped[str | None] = mapped_column(String(20))


class OAuthState(UUIDPrimaryKey, CreatedAt, TenantOwned):
    """One authorization request: the `state` we sent and the PKCE verifier to redeem it."""

    __tablename__ = "oauth_states"
    __table_args__ = (
        Index("ix_oauth_states_tenant_id", "tenant_id"),
        in_check("platform", ACCOUNT_PLATFORMS),
    )

    platform: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(128), unique=True)
    code_verifier_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    redirect_uri: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
