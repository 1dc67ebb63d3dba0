"""Request and response bodies of the campaign-set API (camelCase JSON), and the mapping from
stored rows to responses.

Inputs are the domain specs plus what only the API needs to check: nested children, names
unique within the request, timezone-aware schedules that end after they start, and no NUL
characters (Postgres text cannot store them). PATCH bodies name only what changes; the merged
result is validated as a whole before anything is written (`merge_patch`).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from flightdeck.api.errors import ApiError, validation_detail
from flightdeck.db.models import (
    AdGroup,
    CampaignSet,
    CampaignSetTarget,
    GeneratedAd,
    GeneratedCampaign,
    Keyword,
)
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    Budget,
    CallToAction,
    CamelModel,
    CampaignSetStatus,
    CampaignSpec,
    CampaignStatus,
    EntityStatus,
    KeywordSpec,
    KeywordSyncStatus,
    Platform,
    SyncStatus,
    Targeting,
)
from flightdeck.domain.currency import precision_problem
from flightdeck.domain.reddit_vocabulary import BidStrategy, BudgetType, Objective

MAX_CAMPAIGNS = 500
MAX_AD_GROUPS = 100
MAX_ADS = 50
MAX_KEYWORDS = 1000
# One request stores one tree in one transaction: keep it to what a person builds in a UI.
MAX_TREE_SIZE = 10_000

Spec = TypeVar("Spec", bound=BaseModel)


def _number(value: Decimal) -> int | float:
    """Money as a JSON number, as clients send it (50, 0.75), not a string ("50.000000")."""
    return int(value) if value == value.to_integral_value() else float(value)


Money = Annotated[Decimal, PlainSerializer(_number, return_type=float, when_used="json")]


# --- input --------------------------------------------------------------------------------


def _reject_nul(value: Any) -> Any:
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, str) and "\x00" in item for item in items):
        raise ValueError("must not contain NUL characters")
    return value


def _duplicates(keys: Iterable[Any]) -> list[Any]:
    return sorted(key for key, seen in Counter(keys).items() if seen > 1)


def _unique(values: list[Any], what: str) -> list[Any]:
    if duplicates := _duplicates(item.name for item in values):
        raise ValueError(f"{what} names must be unique here; repeated: {duplicates}")
    return values


def _precise(amount: Decimal, currency: str, field: str) -> None:
    """422 at `field` (e.g. `campaigns.0.budget.amount`) for an amount finer than the currency."""
    if (problem := precision_problem(amount, currency)) is not None:
        error = InitErrorDetails(
            type=PydanticCustomError("amount_precision", problem),
            loc=(field,),
            input=str(amount),
        )
        raise ValidationError.from_exception_data("amount", [error])


class _Clean(BaseModel):
    """Rejects NUL characters in any string field."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _reject_nul(value)


class _Schedule(BaseModel):
    """A schedule in absolute time that ends after it starts."""

    start_time: datetime | None = None
    end_time: datetime | None = None

    @field_validator("start_time", "end_time")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must include a timezone offset (e.g. 2026-07-01T00:00:00Z)")
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValueError("endTime must be after startTime")
        return self


class BudgetIn(Budget, _Clean):
    """A budget as entered: no finer than the currency's smallest unit (USD cents, whole
    yen), so nothing is rounded on its way to the platform."""

    @model_validator(mode="wrap")
    @classmethod
    def _currency_precision(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        budget = handler(data)
        _precise(budget.amount, budget.currency, "amount")
        return budget


class TargetingIn(Targeting, _Clean):
    pass


class KeywordIn(KeywordSpec, _Clean):
    pass


class AdIn(AdSpec, _Clean):
    pass


class CampaignContent(CampaignSpec, _Schedule, _Clean):
    budget: BudgetIn | None = None


class AdGroupContent(AdGroupSpec, _Schedule, _Clean):
    budget: BudgetIn | None = None
    targeting: TargetingIn = Field(default_factory=TargetingIn)
    keywords: list[KeywordSpec] = Field(default_factory=list, max_length=MAX_KEYWORDS)

    @model_validator(mode="wrap")
    @classmethod
    def _bid_precision(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """The bid is in the ad group's budget currency (USD when it has none of its own:
        the set's validation checks it again against the campaign's)."""
        group = handler(data)
        if group.bid_amount is not None:
            currency = group.budget.currency if group.budget else "USD"
            _precise(group.bid_amount, currency, "bidAmount")
        return group

    @field_validator("keywords")
    @classmethod
    def _unique_keywords(cls, keywords: list[KeywordSpec]) -> list[KeywordSpec]:
        _reject_nul([keyword.text for keyword in keywords])
        if duplicates := _duplicates((k.text.lower(), k.negative) for k in keywords):
            repeated = [f"{'-' if negative else ''}{text}" for text, negative in duplicates]
            raise ValueError(f"keywords must be unique (ignoring case); repeated: {repeated}")
        return keywords


class AdGroupIn(AdGroupContent):
    ads: list[AdIn] = Field(default_factory=list, max_length=MAX_ADS)

    @field_validator("ads")
    @classmethod
    def _unique_ads(cls, ads: list[AdIn]) -> list[AdIn]:
        return _unique(ads, "ad")


class CampaignIn(CampaignContent):
    ad_groups: list[AdGroupIn] = Field(default_factory=list, max_length=MAX_AD_GROUPS)

    @field_validator("ad_groups")
    @classmethod
    def _unique_ad_groups(cls, ad_groups: list[AdGroupIn]) -> list[AdGroupIn]:
        return _unique(ad_groups, "ad group")


class TargetIn(CamelModel):
    """One ad account the set is synced to."""

    platform: Platform
    ad_account_id: uuid.UUID


class CampaignSetIn(CamelModel, _Clean):
    """`platform` + `adAccountId` name one target (the older form); `targets` names one or more,
    at most one ad account per platform (the first is the set's `platform`/`adAccountId`)."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    platform: Platform = "reddit"
    ad_account_id: uuid.UUID | None = None
    targets: list[TargetIn] | None = Field(default=None, min_length=1, max_length=3)
    campaigns: list[CampaignIn] = Field(default_factory=list, max_length=MAX_CAMPAIGNS)

    @model_validator(mode="after")
    def _first_target(self) -> Self:
        """With `targets`, the older fields name its first (the route checks the rest)."""
        if self.targets and not ({"platform", "ad_account_id"} & self.model_fields_set):
            self.platform = self.targets[0].platform
            self.ad_account_id = self.targets[0].ad_account_id
        return self

    def target_list(self) -> list[tuple[Platform, uuid.UUID | None]]:
        if self.targets is None:
            return [(self.platform, self.ad_account_id)]
        return [(t.platform, t.ad_account_id) for t in self.targets]

    @field_validator("campaigns")
    @classmethod
    def _unique_campaigns(cls, campaigns: list[CampaignIn]) -> list[CampaignIn]:
        size = sum(
            1 + sum(1 + len(group.ads) + len(group.keywords) for group in campaign.ad_groups)
            for campaign in campaigns
        )
        if size > MAX_TREE_SIZE:
            raise ValueError(f"at most {MAX_TREE_SIZE} entities per request; add more later")
        return _unique(campaigns, "campaign")


class CampaignSetPatch(CamelModel, _Clean):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    ad_account_id: uuid.UUID | None = None
    # The whole list of targets (first first; its platform cannot change): add one, or remove
    # or move one that has nothing on its platform yet.
    targets: list[TargetIn] | None = Field(default=None, min_length=1, max_length=3)

    @field_validator("name")
    @classmethod
    def _name_not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("name cannot be removed")
        return value


class CampaignPatch(CamelModel, _Clean):
    """Only the fields given change; `budget: null` removes the budget."""

    name: str | None = None
    objective: Objective | None = None
    budget: BudgetIn | None = None
    budget_optimization: bool | None = None
    status: CampaignStatus | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


class AdGroupPatch(CamelModel, _Clean):
    """Only the fields given change. Keywords have their own endpoints."""

    name: str | None = None
    status: EntityStatus | None = None
    bid_strategy: BidStrategy | None = None
    bid_amount: Decimal | None = None
    budget: BudgetIn | None = None
    targeting: TargetingIn | None = None
    optimization_goal: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


class AdPatch(CamelModel, _Clean):
    name: str | None = None
    status: EntityStatus | None = None
    headline: str | None = None
    description: str | None = None
    final_url: str | None = None
    display_url: str | None = None
    call_to_action: CallToAction | None = None
    image_url: str | None = None


class KeywordPatch(CamelModel, _Clean):
    text: str | None = None
    negative: bool | None = None
    status: EntityStatus | None = None


def merge_patch(current: BaseModel, patch: BaseModel, content: type[Spec]) -> dict[str, Any]:
    """The patched fields, after checking the whole merged entity as `content` (so a patch
    cannot leave, say, a budget-optimized campaign without a budget). 422 names the fields."""
    # Merged in the wire's camelCase, so an error names the field as the client spells it
    # (`finalUrl`, `budget.amount`), never the Python attribute behind it.
    given = patch.model_dump(exclude_unset=True, by_alias=True)
    merged = current.model_dump(exclude={"keywords"}, by_alias=True) | given
    try:
        checked = content.model_validate(merged)
    except ValidationError as exc:
        # Located like request errors, so an entity-wide rule reads as `body`.
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise ApiError(422, "validation_error", validation_detail(errors)) from exc
    return {field: getattr(checked, field) for field in patch.model_fields_set}


def to_spec(value: BaseModel, spec: type[Spec]) -> Spec:
    """An input model as the plain domain spec (without the API's nested children)."""
    fields = spec.model_fields
    return spec.model_validate({name: getattr(value, name) for name in fields})


# --- output -------------------------------------------------------------------------------


class BudgetOut(CamelModel):
    type: BudgetType
    amount: Money
    currency: str


class KeywordOut(CamelModel):
    id: uuid.UUID
    ad_group_id: uuid.UUID
    text: str
    negative: bool
    status: EntityStatus
    platform_keyword_id: str | None
    sync_status: KeywordSyncStatus
    sync_reason: str | None = None  # e.g. why a keyword is not_applicable on the platform
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class _SyncedOut(CamelModel):
    id: uuid.UUID
    position: int
    name: str
    status: EntityStatus
    sync_status: SyncStatus
    sync_error: str | None
    last_synced_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AdOut(_SyncedOut):
    ad_group_id: uuid.UUID
    headline: str
    description: str | None
    final_url: str
    display_url: str | None
    call_to_action: CallToAction
    image_url: str | None
    platform_ad_id: str | None
    platform_post_id: str | None


class AdGroupOut(_SyncedOut):
    campaign_id: uuid.UUID
    bid_strategy: BidStrategy
    bid_amount: Money | None
    budget: BudgetOut | None
    targeting: Targeting
    optimization_goal: str | None
    start_time: datetime | None
    end_time: datetime | None
    platform_ad_group_id: str | None
    ads: list[AdOut]
    keywords: list[KeywordOut]


class CampaignOut(_SyncedOut):
    campaign_set_id: uuid.UUID
    objective: Objective
    budget: BudgetOut | None
    budget_optimization: bool
    start_time: datetime | None
    end_time: datetime | None
    platform_campaign_id: str | None
    ad_groups: list[AdGroupOut]


class TargetProgress(CamelModel):
    """The set's live campaigns on one target, by their sync status there."""

    total: int = 0
    on_platform: int = 0
    synced: int = 0
    failed: int = 0
    syncing: int = 0
    conflict: int = 0
    pending: int = 0


class TargetOut(CamelModel):
    platform: Platform
    ad_account_id: uuid.UUID | None
    sync_status: SyncStatus
    sync_error: str | None
    last_synced_at: datetime | None
    progress: TargetProgress | None = None  # on a single set's GET


class CampaignSetSummary(CamelModel):
    id: uuid.UUID
    name: str
    description: str | None
    # The first target (the older single-platform fields); `targets` lists them all.
    platform: Platform
    ad_account_id: uuid.UUID | None
    targets: list[TargetOut] = Field(default_factory=list)
    status: CampaignSetStatus
    sync_status: SyncStatus
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CampaignSetOut(CampaignSetSummary):
    campaigns: list[CampaignOut]


class CampaignSetPage(CamelModel):
    items: list[CampaignSetSummary]
    next_cursor: str | None


class CampaignList(CamelModel):
    items: list[CampaignOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


class AdGroupList(CamelModel):
    items: list[AdGroupOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


class AdList(CamelModel):
    items: list[AdOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


class KeywordList(CamelModel):
    items: list[KeywordOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


Out = TypeVar("Out", bound=CamelModel)


def _columns(row: Any, model: type[Out], **extra: Any) -> Out:
    """`model` filled from the row's same-named attributes, plus `extra`."""
    names = [name for name in model.model_fields if name not in extra]
    return model.model_validate({name: getattr(row, name) for name in names} | extra)


def _budget(row: GeneratedCampaign | AdGroup) -> BudgetOut | None:
    if row.budget_type is None or row.budget_amount is None or row.currency is None:
        return None
    return BudgetOut.model_validate(
        {"type": row.budget_type, "amount": row.budget_amount, "currency": row.currency}
    )


def keyword_out(row: Keyword) -> KeywordOut:
    return _columns(row, KeywordOut)


def ad_out(row: GeneratedAd) -> AdOut:
    return _columns(row, AdOut)


def ad_group_out(row: AdGroup) -> AdGroupOut:
    """An ad group with its (loaded) ads and keywords."""
    return _columns(
        row,
        AdGroupOut,
        budget=_budget(row),
        ads=[ad_out(ad) for ad in row.ads],
        keywords=[keyword_out(keyword) for keyword in row.keywords],
    )


def campaign_out(row: GeneratedCampaign) -> CampaignOut:
    """A campaign with its (loaded) tree."""
    ad_groups = [ad_group_out(group) for group in row.ad_groups]
    return _columns(row, CampaignOut, budget=_budget(row), ad_groups=ad_groups)


def target_out(row: CampaignSetTarget, counts: dict[str, int] | None = None) -> TargetOut:
    progress = None
    if counts is not None:
        progress = TargetProgress.model_validate(
            {
                k: v
                for k, v in counts.items()
                if k in TargetProgress.model_fields or k == "onPlatform"
            }
        )
    return _columns(row, TargetOut, progress=progress)


def campaign_set_summary(row: CampaignSet) -> CampaignSetSummary:
    """A set with its (loaded) targets."""
    return _columns(row, CampaignSetSummary, targets=[target_out(t) for t in row.targets])


def campaign_set_out(
    row: CampaignSet, progress: dict[str, dict[str, int]] | None = None
) -> CampaignSetOut:
    """A set with its (loaded) tree and targets; `progress` per target platform."""
    campaigns = [campaign_out(campaign) for campaign in row.campaigns]
    counts = progress or {}
    targets = [
        target_out(t, counts.get(t.platform, {}) if progress is not None else None)
        for t in row.targets
    ]
    return _columns(row, CampaignSetOut, campaigns=campaigns, targets=targets)
