"""Which `CampaignSetPlatformAdapter` (and `PlatformPoller`) serves an ad account, for the sync
and sync-back activities.

The account's platform names its entry in `platforms/registry.py`; the adapter and poller are
made per call on the platform's one shared HTTP client, acting for the account through its own
token provider — nothing is kept per account for the worker's life but the account's platform
(which never changes) and the platform's small caches (Reddit: each account's pixel). The
account context (ids, defaults) is read on every call, so a reconnect or a `reauth_required`
mark is seen at once. Credentials stay inside each platform's account service.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.accounts import AccountNotFound
from flightdeck.db.models import AdAccount
from flightdeck.db.tenancy import tenant_session
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.platform_poller import PlatformPoller
from flightdeck.platforms.registry import PlatformAccounts, PlatformEntry, platform


class PlatformAdapters:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        accounts: Mapping[str, PlatformAccounts],
        *,
        poll_page_size: int = 1000,
    ) -> None:
        self._sessions = sessions
        self._accounts = dict(accounts)
        self._poll_page_size = poll_page_size
        self._platform_of: dict[uuid.UUID, str] = {}  # an account's platform never changes
        self._caches: dict[str, dict[str, Any]] = {name: {} for name in self._accounts}

    async def __call__(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID
    ) -> tuple[CampaignSetPlatformAdapter, AccountContext]:
        entry, client, context = await self._client(tenant_id, ad_account_id)
        return entry.adapter(client, self._caches[entry.name]), context

    async def poller(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID
    ) -> tuple[PlatformPoller, AccountContext]:
        """The account's `PlatformPoller` (sync-back)."""
        entry, client, context = await self._client(tenant_id, ad_account_id)
        return entry.poller(client, self._poll_page_size), context

    async def reddit_client(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID
    ) -> tuple[Any, AccountContext]:
        """The account's Ads API client (asset imports read with it)."""
        _, client, context = await self._client(tenant_id, ad_account_id)
        return client, context

    async def aclose(self) -> None:
        """The shared HTTP clients belong to the account services, closed by their owner."""

    async def _client(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID
    ) -> tuple[PlatformEntry, Any, AccountContext]:
        name = await self._platform(tenant_id, ad_account_id)
        accounts = self._accounts.get(name)
        if accounts is None:
            raise AccountNotFound(ad_account_id)
        context = await accounts.account_context(tenant_id, ad_account_id)
        return platform(name), accounts.ads_client(tenant_id, ad_account_id), context

    async def _platform(self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID) -> str:
        if ad_account_id not in self._platform_of:
            async with tenant_session(self._sessions, tenant_id) as session:
                found = await session.scalar(
                    select(AdAccount.platform).where(
                        AdAccount.tenant_id == tenant_id, AdAccount.id == ad_account_id
                    )
                )
            if found is None:
                raise AccountNotFound(ad_account_id)
            self._platform_of[ad_account_id] = found
        return self._platform_of[ad_account_id]
