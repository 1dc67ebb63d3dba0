"""Which `CampaignSetPlatformAdapter` serves an ad account, for the sync activities.

One adapter (and HTTP client) per connected account per worker process, kept for the worker's
life; the account context (ids, defaults) is read again on every call, so a reconnect or a
`reauth_required` mark is seen at once. Credentials stay inside the account service.
"""

from __future__ import annotations

import uuid

from flightdeck.accounts.reddit import RedditAccountService
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.platform_poller import PlatformPoller
from flightdeck.platforms.reddit import RedditAdsClient
from flightdeck.platforms.reddit_adapter import RedditCampaignSetAdapter
from flightdeck.platforms.reddit_poller import RedditPlatformPoller


class PlatformAdapters:
    def __init__(self, reddit: RedditAccountService, *, poll_page_size: int = 1000) -> None:
        self._reddit = reddit
        self._poll_page_size = poll_page_size
        self._open: dict[
            tuple[uuid.UUID, uuid.UUID], tuple[RedditAdsClient, RedditCampaignSetAdapter]
        ] = {}

    async def __call__(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID
    ) -> tuple[CampaignSetPlatformAdapter, AccountContext]:
        context = await self._reddit.account_context(tenant_id, ad_account_id)
        key = (tenant_id, ad_account_id)
        if key not in self._open:
            client = self._reddit.ads_client(tenant_id, ad_account_id)
            self._open[key] = (client, RedditCampaignSetAdapter(client))
        return self._open[key][1], context

    async def poller(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID
    ) -> tuple[PlatformPoller, AccountContext]:
        """The account's `PlatformPoller` (sync-back), on the same client as its adapter."""
        _, context = await self(tenant_id, ad_account_id)
        client, _ = self._open[(tenant_id, ad_account_id)]
        return RedditPlatformPoller(client, page_size=self._poll_page_size), context

    async def reddit_client(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID
    ) -> tuple[RedditAdsClient, AccountContext]:
        """The account's Ads API client (asset imports read with it), shared with its adapter."""
        _, context = await self(tenant_id, ad_account_id)
        return self._open[(tenant_id, ad_account_id)][0], context

    async def aclose(self) -> None:
        for client, _ in self._open.values():
            await client.aclose()
        self._open.clear()
