"""`PlatformPoller` (seed 002 phase 6.1): reads what a platform now has of an account's
campaigns and ad groups, in our vocabulary, for sync-back's three-way comparison
(`domain.sync_back`). One implementation per platform; the sync-back job depends on this only.

Contract for every implementation:
- `fetch_all` lists the whole account with the platform's largest pages, so a cycle costs a
  request per page, not per entity, and reports the requests it made in `calls`.
- Objects deleted on the platform are returned with `deleted=True` while the platform lists
  them; an id missing from the listing is left for the caller to judge.
- Errors are `flightdeck.platforms.errors.PlatformError` subclasses, classified once.
- The snapshot names the compared fields the platform reports (`PlatformSnapshot.fields`;
  None: Reddit's): only those are compared, so what a platform lacks never reads as cleared.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class IncrementalPoller(Protocol):
    """A poller that can list only what changed after a time (Meta: `filtering` on
    `updated_time`). The sync-back job uses it once the account has a completed run; the
    snapshot says so (`since`), and ids it lacks are unchanged, not gone."""

    async def fetch_changed(
        self,
        account: AccountContext,
        since: datetime,
        heartbeat: Callable[[], None] | None = None,
    ) -> PlatformSnapshot: ...
