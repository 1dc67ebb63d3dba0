"""Meta ad accounts for campaign sets (issue 14 item 4): a Meta connection (seed 001,
`accounts/meta.py`) with an ad account and a Page selected becomes an `ad_accounts` row
(platform `meta`, `platform_account_id` = `act_…`, `profile_id` = the Page ads are posted as,
`meta_connection_id` = the connection) that a campaign set can target. The sync acts through
the connection's token, fetched (and its expiry checked) per call by `MetaConnectionService`;
nothing here decrypts or keeps a token.

    account = await MetaSetAccounts(sessions, connections).register(tenant_id, connection_id)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.accounts import AccountNotFound
from flightdeck.accounts.meta import MetaConnectionService
from flightdeck.accounts.reads import kept_ad_account, kept_meta_connection
from flightdeck.db.models import AdAccount
from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.repositories.meta import MetaConnectionRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.meta_errors import MetaReauthRequired
from flightdeck.platforms.meta_set_adapter import MetaAdsClient

PLATFORM: Literal["meta"] = "meta"


class MetaSelectionMissing(ValueError):
    """The connection cannot back a set's ad account yet; `field` says what is missing."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class MetaSetAccounts:
    """`registry.PlatformAccounts` for Meta."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], connections: MetaConnectionService
    ) -> None:
        self._sessions = sessions
        self._connections = connections

    def __repr__(self) -> str:
        return "MetaSetAccounts()"

    async def register(self, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> AdAccount:
        """The set-targetable ad account of the connection's selected ad account and Page
        (created once per ad account; a later call follows a changed selection's Page)."""
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            connection = await MetaConnectionRepository(session).get(tenant_id, connection_id)
            if connection is None:
                raise AccountNotFound(connection_id)
            if not connection.selected_ad_account_id:
                raise MetaSelectionMissing(
                    "adAccountId", "select an ad account on the Meta connection first"
                )
            if not connection.selected_page_id:
                raise MetaSelectionMissing(
                    "pageId", "select a Page on the Meta connection first: ads are posted as it"
                )
            accounts = AdAccountRepository(session)
            row = await accounts.get_by_platform_account(
                tenant_id, PLATFORM, connection.selected_ad_account_id
            )
            if row is None:
                row = await accounts.create(
                    tenant_id,
                    platform=PLATFORM,
                    name=connection.selected_ad_account_name,
                    platform_account_id=connection.selected_ad_account_id,
                    profile_id=connection.selected_page_id,
                    connected_at=datetime.now(UTC),
                )
            await session.execute(
                update(AdAccount)
                .where(AdAccount.tenant_id == tenant_id, AdAccount.id == row.id)
                .values(
                    meta_connection_id=connection.id,
                    profile_id=connection.selected_page_id,
                    status="active",
                )
            )
            found = await accounts.get(tenant_id, row.id)
        assert found is not None
        return found

    async def account_context(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AccountContext:
        account, _ = await self._load(tenant_id, account_id)
        assert account.platform_account_id is not None
        return AccountContext(account_id=account.platform_account_id, profile_id=account.profile_id)

    def ads_client(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> MetaAdsClient:
        async def token() -> str:
            _, connection_id = await self._load(tenant_id, account_id)
            return await self._connections.user_token(tenant_id, connection_id)

        return MetaAdsClient(self._connections.graph, token)

    async def _load(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID
    ) -> tuple[AdAccount, uuid.UUID]:
        account = await kept_ad_account(self._sessions, tenant_id, account_id)
        if account is None or account.platform != PLATFORM:
            raise AccountNotFound(account_id)
        label = account.platform_account_id or str(account.id)
        connection_id = account.meta_connection_id
        if connection_id is None or account.status == "disconnected":
            raise _reconnect(label, "its Meta connection is gone")
        connection = await kept_meta_connection(self._sessions, tenant_id, connection_id)
        if connection is None or connection.connection_status == "disconnected":
            raise _reconnect(label, "its Meta connection was disconnected")
        if connection.selected_ad_account_id != account.platform_account_id:
            raise _reconnect(label, "its Meta connection now has another ad account selected")
        return account, connection.id


def _reconnect(account: str, reason: str) -> MetaReauthRequired:
    return MetaReauthRequired(
        f"Meta ad account {account} cannot be used ({reason}); connect Meta again through "
        "GET /api/v1/meta/connect, select the ad account and Page, then POST "
        "/api/v1/meta/connections/{id}/ad-account",
        platform=PLATFORM,
        details={"account": account, "reason": reason},
    )
