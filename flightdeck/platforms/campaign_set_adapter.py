"""`CampaignSetPlatformAdapter` (seed 002): one interface per ad platform for pushing a
campaign set's entities. The sync activities depend only on this; adding a Meta or Google
adapter means one new implementation here, never a workflow change.

Contract for every implementation:
- `create_*` is called only when the entity has no platform ID, with `ref`, the entity's
  adoption marker (`domain.adoption`), which the created object must carry in a field the
  platform keeps. Platforms without an idempotency key (Reddit) are protected by `find_*`:
  after an ambiguous failure (lost answer, timeout, 5xx, a crash; never after a 429 or a 4xx,
  which say nothing was made) the activity calls `find_*` with the name and that marker; an
  adapter must only return an object carrying the marker (Reddit: never one found by a name
  another set may share).
- `update_*` gets the desired content and the `base` (what was last pushed successfully);
  it sends only the fields whose platform value differs, and makes no call when none does.
- `set_status` pauses, resumes, archives or deletes (platform words chosen by the adapter).
- Errors are `flightdeck.platforms.errors.PlatformError` subclasses, classified once.
- Keywords travel with their ad group (`AdGroupSpec.keywords`); on Reddit they are the ad
  group's `targeting.keywords` / `excluded_keywords`, so a keyword change is an ad-group update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    CampaignSpec,
    EntityStatus,
    EntityType,
    PlatformObject,
)


@dataclass(frozen=True)
class AccountContext:
    """Which platform account to write to, and its defaults (no secrets here)."""

    account_id: str  # Reddit: the ad account id (a2_…)
    funding_instrument_id: str | None = None
    profile_id: str | None = None  # Reddit: the profile (t2_…) that owns ad posts


class CampaignSetPlatformAdapter(Protocol):
    platform: str

    async def create_campaign(
        self, account: AccountContext, spec: CampaignSpec, *, ref: str | None = None
    ) -> PlatformObject: ...

    async def find_campaign(
        self, account: AccountContext, name: str, *, ref: str | None = None
    ) -> PlatformObject | None: ...

    async def update_campaign(
        self,
        account: AccountContext,
        platform_id: str,
        spec: CampaignSpec,
        base: CampaignSpec | None,
    ) -> PlatformObject: ...

    async def create_ad_group(
        self,
        account: AccountContext,
        campaign_platform_id: str,
        campaign: CampaignSpec,
        spec: AdGroupSpec,
        *,
        ref: str | None = None,
    ) -> PlatformObject: ...

    async def find_ad_group(
        self,
        account: AccountContext,
        campaign_platform_id: str,
        name: str,
        *,
        ref: str | None = None,
    ) -> PlatformObject | None: ...

    async def update_ad_group(
        self,
        account: AccountContext,
        platform_id: str,
        campaign: CampaignSpec,
        spec: AdGroupSpec,
        base: AdGroupSpec | None,
    ) -> PlatformObject: ...

    async def create_ad_creative(self, account: AccountContext, spec: AdSpec) -> PlatformObject:
        """The creative an ad shows, made before the ad (Reddit: the post the ad promotes).
        Its own call, so each platform write is one rate-limited activity."""
        ...

    async def find_ad_creative(self, account: AccountContext, spec: AdSpec) -> list[PlatformObject]:
        """Creatives an ambiguous `create_ad_creative` for `spec` may have made (unused by any
        ad), oldest first."""
        ...

    async def create_ad(
        self,
        account: AccountContext,
        ad_group_platform_id: str,
        spec: AdSpec,
        creative_id: str | None = None,
        *,
        ref: str | None = None,
    ) -> PlatformObject:
        """Without `creative_id`, the creative is made first, in the same call."""
        ...

    async def find_ad(
        self,
        account: AccountContext,
        ad_group_platform_id: str,
        name: str,
        *,
        ref: str | None = None,
    ) -> PlatformObject | None: ...

    async def update_ad(
        self, account: AccountContext, platform_id: str, spec: AdSpec, base: AdSpec | None
    ) -> PlatformObject: ...

    async def set_status(
        self,
        account: AccountContext,
        entity_type: EntityType,
        platform_id: str,
        status: EntityStatus | str,
    ) -> PlatformObject:
        """`status` is ours ("paused", "active") or "archived"/"deleted" for removal."""
        ...
