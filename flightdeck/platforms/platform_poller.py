"""`PlatformPoller` (seed 002 phase 6.1): reads what a platform now has of an account's
campaigns and ad groups, in our vocabulary, for sync-back's three-way comparison
(`domain.sync_back`). One implementation per platform; the sync-back job depends on this only.

Contract for every implementation:
- `fetch_all` lists the whole account with the platform's largest pages, so a cycle costs a
  request per page, not per entity, and reports the requests it made in `calls`.
- Objects deleted on the platform are returned with `deleted=True` while the platform lists
  them; an id missing from the listing is left for the caller to judge.
- Errors are `flightdeck.platforms.errors.PlatformError` subclasses, classified once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from flightdeck.domain.sync_back import PlatformCampaignState, PlatformSnapshot
from flightdeck.platforms.campaign_set_adapter import AccountContext


class PlatformPoller(Protocol):
    platform: str

    async def fetch_campaign_status(
        self, account: AccountContext, platform_campaign_id: str
    ) -> PlatformCampaignState:
        """One campaign, read now (one request)."""
        ...

    async def fetch_all(
        self, account: AccountContext, heartbeat: Callable[[], None] | None = None
    ) -> PlatformSnapshot:
        """Every campaign, ad group and ad of the account; `heartbeat` is called per page."""
        ...


class SyncBackSwitchedOff:
    """The poller a platform registers while `domain.sync_back` cannot compare its fields yet:
    a snapshot in Reddit's shape would read the fields the platform lacks (ad-group budgets,
    targeting lists, keywords) as cleared and overwrite local values. `fetch_all` fails the
    account's run with `reason` (non-retryable) and nothing local changes; single reads (a
    campaign's status, used by pause/resume checks) still go to the platform's real reader."""

    def __init__(self, reader: PlatformPoller, reason: str) -> None:
        self.reader = reader
        self.platform = reader.platform
        self.reason = reason

    async def fetch_campaign_status(
        self, account: AccountContext, platform_campaign_id: str
    ) -> PlatformCampaignState:
        return await self.reader.fetch_campaign_status(account, platform_campaign_id)

    async def fetch_all(
        self, account: AccountContext, heartbeat: Callable[[], None] | None = None
    ) -> PlatformSnapshot:
        from flightdeck.platforms.errors import NonRetryableError

        raise NonRetryableError(self.reason, platform=self.platform)
