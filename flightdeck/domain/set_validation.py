"""A whole campaign set as a platform's rules see it, and the problems they find.

`SetTree` is what a validator needs: each live entity's spec, where it sits in the set (its
field path, spelled as the API's JSON: `campaigns.0.adGroups.1.budget`) and, for an entity
already on the platform, the spec last pushed (`base`: fields fixed at creation are judged
against it). A validator returns **every** problem at once; an empty list means the set can go.
Platforms register their validator in `flightdeck.platforms.registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, CampaignSpec


@dataclass(frozen=True)
class Problem:
    field: str  # the API's path: campaigns.0.adGroups.1.bidAmount
    message: str
    entity_type: str | None = None
    entity_id: str | None = None

    def as_json(self) -> dict[str, str]:
        out = {"field": self.field, "message": self.message}
        if self.entity_type and self.entity_id:
            out |= {"entityType": self.entity_type, "entityId": self.entity_id}
        return out


@dataclass
class AdNode:
    id: str
    path: str
    spec: AdSpec
    platform_id: str | None = None
    base: AdSpec | None = None
    deleted: bool = False  # removed locally: only its deletion on the platform is left
    removed_remotely: bool = False  # that deletion already reached the platform
    post_id: str | None = None  # a creative made before the ad (Reddit: its post)


@dataclass
class AdGroupNode:
    id: str
    path: str
    spec: AdGroupSpec
    platform_id: str | None = None
    base: AdGroupSpec | None = None
    deleted: bool = False
    removed_remotely: bool = False
    in_conflict: bool = False  # its pushes wait for the conflict's resolution
    ads: list[AdNode] = field(default_factory=list)


@dataclass
class CampaignNode:
    id: str
    path: str
    spec: CampaignSpec
    platform_id: str | None = None
    base: CampaignSpec | None = None
    deleted: bool = False
    removed_remotely: bool = False
    in_conflict: bool = False
    ad_groups: list[AdGroupNode] = field(default_factory=list)


@dataclass(frozen=True)
class AccountFacts:
    """What validation needs to know of the set's ad account (never a credential)."""

    platform: str
    status: str
    profile_id: str | None = None


@dataclass
class SetTree:
    platform: str
    account: AccountFacts | None
    campaigns: list[CampaignNode] = field(default_factory=list)


SetValidator = Callable[[SetTree], list[Problem]]


def account_problems(tree: SetTree) -> list[Problem]:
    """Platform-neutral: the set names a usable account on its own platform."""
    account = tree.account
    if account is None:
        return [Problem("adAccountId", "the set has no ad account to sync to")]
    if account.platform != tree.platform:
        return [
            Problem(
                "adAccountId",
                f"is a {account.platform} account; this set targets {tree.platform}",
            )
        ]
    if account.status != "active":
        return [
            Problem(
                "adAccountId",
                f"the ad account is {account.status}: reconnect it before syncing",
            )
        ]
    return []


def unique(problems: list[Problem]) -> list[Problem]:
    """In order, each (field, message) once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for problem in problems:
        key = (problem.field, problem.message)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out
