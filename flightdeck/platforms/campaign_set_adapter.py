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

Optional capability `CampaignTreeAdapter` (Google Ads): a NEW campaign with all its ad groups,
keywords and ads is created in one atomic request (`create_tree`), so it is either all there or
not at all, and found again whole by its markers after an ambiguous failure (`find_tree`). The
push activity uses it when the adapter offers it (`tree_adapter`); other platforms go entity by
entity. The workflow does not know the difference: the campaign's push returns no children.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    CampaignSpec,
    EntityStatus,
    EntityType,
    PlatformObject,
)
from flightdeck.platforms.errors import NonRetryableError


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

    async def create_ad_creative(
        self, account: AccountContext, spec: AdSpec, *, ref: str | None = None
    ) -> PlatformObject:
        """The creative an ad shows, made before the ad (Reddit: the post the ad promotes).
        Its own call, so each platform write is one rate-limited activity. `ref`: our marker,
        where the creative has a field to carry it (see `unmarked_creative`)."""
        ...

    async def find_ad_creative(
        self, account: AccountContext, spec: AdSpec, *, ref: str | None = None
    ) -> list[PlatformObject]:
        """Creatives an ambiguous `create_ad_creative` for `spec` (and `ref`) may have made
        (unused by any ad), oldest first."""
        ...

    def unmarked_creative(
        self, account: AccountContext, spec: AdSpec
    ) -> tuple[str, dict[str, object]] | None:
        """Where the creative lives and what `find_ad_creative` compares, when the creative
        cannot carry our marker (a Reddit post): its creates and lookups are then coordinated
        across tenants (`activities.unmarked_creates`). None: it carries the marker, or there
        is no separate creative."""
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


# -- optional capability: a whole new campaign in one atomic request -------------------------


@dataclass(frozen=True)
class TreeRefs:
    """The adoption markers of a tree's entities (`domain.adoption.entity_ref`): the
    campaign's, each ad group's, and each ad's per ad group. An ad without one gets no label."""

    campaign: str | None = None
    ad_groups: Sequence[str | None] = ()
    ads: Sequence[Sequence[str | None]] = ()

    def ad_group(self, index: int) -> str | None:
        return self.ad_groups[index] if index < len(self.ad_groups) else None

    def ad(self, group: int, index: int) -> str | None:
        refs = self.ads[group] if group < len(self.ads) else ()
        return refs[index] if index < len(refs) else None


@dataclass
class CampaignTree:
    """What `create_tree` made (everything) or `find_tree` found (None where an object is not
    there): the campaign, then per ad group its object, its ads and its keywords' ids (in the
    order of `AdGroupSpec.keywords`)."""

    campaign: PlatformObject
    ad_groups: list[PlatformObject | None] = field(default_factory=list)
    ads: list[list[PlatformObject | None]] = field(default_factory=list)
    keywords: list[list[str | None]] = field(default_factory=list)


TreeEntityKind = Literal["campaign", "ad_group", "keyword", "ad"]


@dataclass(frozen=True)
class TreeSlot:
    """Which entity of a tree an operation was for: the campaign, ad group `group`, or its
    keyword / ad `index`."""

    kind: TreeEntityKind
    group: int | None = None
    index: int | None = None


class TreeEntityRefused(NonRetryableError):
    """The platform refused one operation of an atomic tree create, so nothing was created;
    `slot` names the entity the operation was for."""

    def __init__(self, message: str, *, slot: TreeSlot, **kwargs: Any) -> None:
        self.slot = slot
        super().__init__(message, **kwargs)


@runtime_checkable
class CampaignTreeAdapter(Protocol):
    async def create_tree(
        self,
        account: AccountContext,
        spec: CampaignSpec,
        ad_groups: Sequence[tuple[AdGroupSpec, Sequence[AdSpec]]],
        *,
        refs: TreeRefs,
        labels_may_exist: bool = True,
    ) -> CampaignTree:
        """The campaign and everything under it in one atomic request, the campaign PAUSED
        (the caller records every id, then sets the wanted status with `set_status`). A refused
        operation raises `TreeEntityRefused`. `labels_may_exist=False`: no marker of these
        entities was ever sent, so nothing is looked up first."""
        ...

    async def find_tree(
        self,
        account: AccountContext,
        spec: CampaignSpec,
        ad_groups: Sequence[tuple[AdGroupSpec, Sequence[AdSpec]]],
        *,
        refs: TreeRefs,
    ) -> CampaignTree | None:
        """After an ambiguous `create_tree`: the campaign carrying `refs.campaign` and what of
        its tree carries the other markers, or None when the campaign is not there."""
        ...


def tree_adapter(adapter: object) -> CampaignTreeAdapter | None:
    """The adapter as a tree creator, if its platform can create a tree atomically."""
    return adapter if isinstance(adapter, CampaignTreeAdapter) else None
