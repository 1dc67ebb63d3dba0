"""Campaign sets (seed 002): campaign → ad group → ad (+ keywords), in *our* vocabulary.

These are the platform-neutral contents of each entity — what the user edits and what a
`CampaignSetPlatformAdapter` turns into a platform's payloads. Platform words (Reddit's
`IMPRESSIONS`, `MANUAL_BIDDING`, micros…) never appear here; `reddit_vocabulary` maps them.

Statuses are the seed's enums. `SyncStatus` is per entity and platform (a `sync_records` row).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from flightdeck.domain.reddit_vocabulary import BidStrategy, BudgetType, Objective

Platform = Literal["reddit", "google"]
PLATFORMS: tuple[Platform, ...] = ("reddit", "google")

CampaignSetStatus = Literal[
    "draft", "pending", "syncing", "active", "paused", "completed", "archived", "error"
]
# `archived`: stopped for good on the platform (Reddit's ARCHIVED); kept as such locally so a
# push never un-archives what was archived there.
CampaignStatus = Literal["draft", "pending", "active", "paused", "archived", "completed", "error"]
# Ad groups and ads use the campaign enum (seed: "status tracking for each entity level").
EntityStatus = CampaignStatus
SyncStatus = Literal["pending", "syncing", "synced", "failed", "conflict"]
EntityType = Literal["campaign", "ad_group", "ad"]
CallToAction = Literal[
    "LEARN_MORE",
    "SHOP_NOW",
    "SIGN_UP",
    "DOWNLOAD",
    "INSTALL",
    "GET_A_QUOTE",
    "CONTACT_US",
    "APPLY_NOW",
    "BOOK_NOW",
    "ORDER_NOW",
    "SEE_MENU",
    "PLAY_NOW",
    "WATCH_NOW",
    "VIEW_MORE",
    "GET_SHOWTIMES",
]


class CamelModel(BaseModel):
    """The API's camelCase JSON; snake_case in Python. Unknown fields are an error."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Budget(CamelModel):
    """The seed's `{type, amount, currency}`: amount in currency units (50 = $50.00)."""

    type: BudgetType
    amount: Decimal = Field(
        gt=0,
        max_digits=14,
        decimal_places=6,
        description="In currency units, as a JSON number: 50.25 is $50.25 (not micros: the "
        "platform's micros are computed when syncing). No finer than the currency's smallest "
        "unit (2 decimals for USD, none for JPY); a finer amount is refused with 422.",
        examples=[50, 12.5],
    )
    currency: str = Field(
        default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code of the amount"
    )


class Targeting(CamelModel):
    """Who sees an ad group. Keywords are separate entities (table `keywords`) but are sent
    to Reddit as this ad group's `targeting.keywords` / `excluded_keywords`."""

    communities: list[str] = Field(default_factory=list, max_length=500)
    interests: list[str] = Field(default_factory=list, max_length=500)
    geolocations: list[str] = Field(default_factory=list, max_length=500)
    devices: list[Literal["DESKTOP", "MOBILE"]] = Field(default_factory=list)


class CampaignSpec(CamelModel):
    """A generated campaign's content."""

    name: str = Field(min_length=3, max_length=500)
    objective: Objective
    budget: Budget | None = None
    # Campaign budget optimization: the budget sits on the campaign, not on its ad groups.
    budget_optimization: bool = False
    status: CampaignStatus = "draft"
    start_time: datetime | None = None
    end_time: datetime | None = None

    @model_validator(mode="after")
    def _cbo_needs_budget(self) -> CampaignSpec:
        if self.budget_optimization and self.budget is None:
            raise ValueError("budgetOptimization needs a campaign budget")
        return self


class KeywordSpec(CamelModel):
    text: str = Field(min_length=1, max_length=100)
    negative: bool = False  # an excluded keyword
    status: EntityStatus = "active"


class AdGroupSpec(CamelModel):
    """An ad group's content, with its keywords (Reddit: `targeting.keywords`)."""

    name: str = Field(min_length=3, max_length=500)
    status: EntityStatus = "draft"
    bid_strategy: BidStrategy = "automatic"
    bid_amount: Decimal | None = Field(
        default=None,
        gt=0,
        max_digits=14,
        decimal_places=6,
        description="In currency units (0.75 = $0.75 per click or per thousand impressions), "
        "in the budget's currency; no finer than that currency's smallest unit.",
    )
    budget: Budget | None = None
    targeting: Targeting = Field(default_factory=Targeting)
    optimization_goal: str | None = Field(default=None, max_length=64)
    start_time: datetime | None = None
    end_time: datetime | None = None
    keywords: list[KeywordSpec] = Field(default_factory=list)


class AdSpec(CamelModel):
    """An ad's content. On Reddit the copy lives on a post the ad promotes."""

    name: str = Field(min_length=3, max_length=500)
    status: EntityStatus = "draft"
    headline: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=40000)
    final_url: str = Field(min_length=1, max_length=5000)
    display_url: str | None = Field(default=None, max_length=200)
    call_to_action: CallToAction = "LEARN_MORE"
    image_url: str | None = Field(default=None, max_length=5000)

    @field_validator("final_url", "image_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value


class PlatformObject(BaseModel):
    """What an adapter returns for one entity it created, adopted or updated."""

    platform_id: str
    status: str  # the platform's own status word (e.g. Reddit's configured_status)
    adopted: bool = False  # found on the platform after an ambiguous failure, not created
    changed_fields: list[str] = Field(default_factory=list)  # what an update sent
    extra_ids: dict[str, str] = Field(default_factory=dict)  # e.g. {"post_id": "t3_…"}
