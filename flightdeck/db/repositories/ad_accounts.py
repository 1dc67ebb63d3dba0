"""Connected ad accounts and OAuth handshake states (seed 002, Reddit OAuth with PKCE).

Token and verifier columns hold ciphertext: encryption is the caller's (the credential store),
so nothing here ever sees a plaintext secret.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import AD_ACCOUNT_STATUSES, AdAccount, OAuthState
from flightdeck.db.models.ad_accounts import AccountPlatform
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, asc

ACCOUNT_ORDER = Keyset("ad-accounts", asc(AdAccount.created_at), asc(AdAccount.id))

# What `update_details` may change; None leaves a field as it is.
DETAIL_FIELDS = frozenset(
    {
        "name",
        "platform_account_id",
        "username",
        "funding_instrument_id",
        "profile_id",
        "login_customer_id",
    }
)


class AdAccountRepository(TenantScopedRepository[AdAccount]):
    model = AdAccount

    async def create(
        self,
        tenant_id: uuid.UUID,
        *,
        platform: AccountPlatform = "reddit",
        name: str | None = None,
        platform_account_id: str | None = None,
        username: str | None = None,
        access_token_encrypted: bytes | None = None,
        refresh_token_encrypted: bytes | None = None,
        token_expires_at: datetime | None = None,
        scopes: str | None = None,
        funding_instrument_id: str | None = None,
        profile_id: str | None = None,
        connected_at: datetime | None = None,
    ) -> AdAccount:
        row = AdAccount(
            tenant_id=tenant_id,
            platform=platform,
            name=name,
            platform_account_id=platform_account_id,
            username=username,
            status="active",
            access_token_encrypted=access_token_encrypted,
            refresh_token_encrypted=refresh_token_encrypted,
            token_expires_at=token_expires_at,
            scopes=scopes,
            funding_instrument_id=funding_instrument_id,
            profile_id=profile_id,
            connected_at=connected_at,
        )
        return await self._add(row)

    async def get(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AdAccount | None:
        statement = self._select(tenant_id, AdAccount.id == account_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def get_by_platform_account(
        self, tenant_id: uuid.UUID, platform: str, platform_account_id: str
    ) -> AdAccount | None:
        """The tenant's connection to a platform account (Reddit: `a2_…`)."""
        return await self._one_or_none(
            self._select(
                tenant_id,
                AdAccount.platform == platform,
                AdAccount.platform_account_id == platform_account_id,
            )
        )

    async def list(
        self, tenant_id: uuid.UUID, *, platform: str | None = None, status: str | None = None
    ) -> list[AdAccount]:
        statement = self._select(tenant_id)
        if platform is not None:
            statement = statement.where(AdAccount.platform == platform)
        if status is not None:
            statement = statement.where(AdAccount.status == status)
        return await self._all(statement.order_by(AdAccount.created_at, AdAccount.id))

    async def page(
        self, tenant_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> Page[AdAccount]:
        """A page of the tenant's accounts, oldest connected first."""
        statement = self._select(tenant_id)
        return await ACCOUNT_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def update_tokens(
        self,
        tenant_id: uuid.UUID,
        account_id: uuid.UUID,
        *,
        access_token_encrypted: bytes,
        token_expires_at: datetime | None,
        refresh_token_encrypted: bytes | None = None,
        scopes: str | None = None,
    ) -> AdAccount | None:
        """Store fresh tokens (after the OAuth callback or a refresh) and mark the account
        active. A refresh that does not rotate the refresh token keeps the stored one."""
        values: dict[str, Any] = {
            "access_token_encrypted": access_token_encrypted,
            "token_expires_at": token_expires_at,
            "status": "active",
        }
        if refresh_token_encrypted is not None:
            values["refresh_token_encrypted"] = refresh_token_encrypted
        if scopes is not None:
            values["scopes"] = scopes
        return await self._update_returning(tenant_id, [AdAccount.id == account_id], values)

    async def update_details(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID, **details: str | None
    ) -> AdAccount | None:
        """Fill in what the platform told us (account id, funding instrument, profile …)."""
        if unknown := set(details) - DETAIL_FIELDS:
            raise ValueError(f"not an ad account detail: {sorted(unknown)}")
        values = {key: value for key, value in details.items() if value is not None}
        if not values:
            return await self.get(tenant_id, account_id)
        return await self._update_returning(tenant_id, [AdAccount.id == account_id], values)

    async def mark_connected(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AdAccount | None:
        """The OAuth handshake completed now."""
        values = {"status": "active", "connected_at": datetime.now(UTC)}
        return await self._update_returning(tenant_id, [AdAccount.id == account_id], values)

    async def set_status(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID, status: str
    ) -> AdAccount | None:
        """`reauth_required` when the refresh token stops working; `active` again after."""
        if status not in AD_ACCOUNT_STATUSES:
            raise ValueError(f"unknown ad account status {status!r}")
        values = {"status": status}
        return await self._update_returning(tenant_id, [AdAccount.id == account_id], values)

    async def disconnect(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AdAccount | None:
        """Forget the tokens; the account (and the sets that point at it) stay."""
        values = {
            "status": "disconnected",
            "access_token_encrypted": None,
            "refresh_token_encrypted": None,
            "token_expires_at": None,
        }
        return await self._update_returning(tenant_id, [AdAccount.id == account_id], values)


async def reporting_accounts(
    session: AsyncSession, platform: str, tenant_id: uuid.UUID | None
) -> list[AdAccount]:
    """The connected (`active`, with a platform account id) ad accounts of one platform that
    metrics sync reads — one tenant's, or every tenant's in a system session — in a stable
    order."""
    statement = select(AdAccount).where(
        AdAccount.platform == platform,
        AdAccount.status == "active",
        AdAccount.platform_account_id.is_not(None),
    )
    if tenant_id is not None:
        statement = statement.where(AdAccount.tenant_id == tenant_id)
    return list(
        (await session.scalars(statement.order_by(AdAccount.tenant_id, AdAccount.id))).all()
    )


class OAuthStateRepository(TenantScopedRepository[OAuthState]):
    model = OAuthState

    async def create(
        self,
        tenant_id: uuid.UUID,
        *,
        platform: AccountPlatform,
        state: str,
        code_verifier_encrypted: bytes,
        redirect_uri: str,
        expires_at: datetime,
    ) -> OAuthState:
        row = OAuthState(
            tenant_id=tenant_id,
            platform=platform,
            state=state,
            code_verifier_encrypted=code_verifier_encrypted,
            redirect_uri=redirect_uri,
            expires_at=expires_at,
        )
        return await self._add(row)

    async def consume(self, state: str) -> OAuthState | None:
        """The handshake `state` names, exactly once: None if unknown, expired or used.

        Not tenant-filtered: the callback arrives from the browser without an API key, and
        the state itself (random, single-use, short-lived) identifies the tenant.
        """
        statement = (
            update(OAuthState)
            .where(
                OAuthState.state == state,
                OAuthState.used_at.is_(None),
                OAuthState.expires_at > func.now(),
            )
            .values(used_at=func.now())
            .returning(OAuthState)
        )
        return await self._returning(statement)
