"""Our campaign-set words (seed 002) in the Reddit Ads API v3's enums, and back.

Per ../shared/platforms/reddit-ads-api.md §3 and §7, the seed's own Reddit words are wrong:
objectives are IMPRESSIONS/CLICKS/CONVERSIONS/… (not AWARENESS/CONSIDERATION), bidding is
`bid_strategy` (BIDLESS, MANUAL_BIDDING, MAXIMIZE_VOLUME, TARGET_CPX) plus a separate billing
`bid_type` (CPC, CPM, CPV…), `configured_status` is ACTIVE/PAUSED/ARCHIVED/DELETED (COMPLETED
is only an effective status), and budgets are `goal_type` + `goal_value` in micros on the ad
group (on the campaign only under campaign budget optimization).

Choices that are ours, not the contract's, are marked ASSUMED.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, TypeVar

Objective = Literal[
    "awareness",
    "consideration",
    "traffic",
    "conversions",
    "app_installs",
    "video_views",
    "lead_generation",
    "catalog_sales",
]
Status = Literal[
    "draft", "pending", "active", "paused", "completed", "archived", "deleted", "error"
]
BidStrategy = Literal["automatic", "manual_cpc", "manual_cpm", "manual_cpv", "target_cost"]
BudgetType = Literal["daily", "lifetime"]

MICROS_PER_UNIT = 1_000_000  # "1 USD = 1,000,000"
CPM_BID_RANGE_MICROS = (3_500_000, 100_000_000)  # "a CPM bid must be $3.50-$100"

OBJECTIVES: dict[str, str] = {
    "awareness": "IMPRESSIONS",
    "consideration": "CLICKS",  # ASSUMED: the seed's "consideration" is Reddit's traffic goal
    "traffic": "CLICKS",
    "conversions": "CONVERSIONS",
    "app_installs": "APP_INSTALLS",
    "video_views": "VIDEO_VIEWABLE_IMPRESSIONS",
    "lead_generation": "LEAD_GENERATION",
    "catalog_sales": "CATALOG_SALES",
}
# Reddit -> ours, for sync-back; CLICKS reads back as traffic.
OBJECTIVES_FROM_REDDIT: dict[str, str] = {
    reddit: ours for ours, reddit in OBJECTIVES.items() if ours != "consideration"
}

# Ours -> configured_status. A draft or pending object goes to Reddit paused: Reddit has no
# draft state, and creating paused is the contract's advice (§6) for anything not yet live.
STATUSES: dict[str, str] = {
    "draft": "PAUSED",
    "pending": "PAUSED",
    "active": "ACTIVE",
    "paused": "PAUSED",
    "archived": "ARCHIVED",
    "deleted": "DELETED",
}
CONFIGURED_STATUSES_FROM_REDDIT = {"DELETED": "deleted", "ARCHIVED": "archived", "PAUSED": "paused"}
EFFECTIVE_STATUSES_FROM_REDDIT = {
    "COMPLETED": "completed",
    "REJECTED": "error",
    "INVALID_DATA_SOURCE": "error",
    "MISSING_PERMISSIONS": "error",
    "PENDING_APPROVAL": "pending",
    "PENDING_BILLING_INFO": "pending",
    "PENDING_ID_VERIFICATION": "pending",
    "PROCESSING": "pending",
}

# Ours -> (bid_strategy, bid_type or None for the objective's default).
BID_STRATEGIES: dict[str, tuple[str, str | None]] = {
    "automatic": ("MAXIMIZE_VOLUME", None),
    "manual_cpc": ("MANUAL_BIDDING", "CPC"),
    "manual_cpm": ("MANUAL_BIDDING", "CPM"),
    "manual_cpv": ("MANUAL_BIDDING", "CPV"),
    "target_cost": ("TARGET_CPX", None),
}
BIDS_NEEDING_AMOUNT = frozenset({"manual_cpc", "manual_cpm", "manual_cpv", "target_cost"})
# ASSUMED: what an objective is billed on when the bid does not say (Reddit's Ads Manager
# defaults): reach by impressions, traffic and installs by click, video by view.
DEFAULT_BID_TYPES: dict[str, str] = {
    "IMPRESSIONS": "CPM",
    "CLICKS": "CPC",
    "CONVERSIONS": "CPM",
    "APP_INSTALLS": "CPC",
    "VIDEO_VIEWABLE_IMPRESSIONS": "CPV",
    "LEAD_GENERATION": "CPM",
    "CATALOG_SALES": "CPM",
}
# Objectives whose ad groups need an optimization goal, and the one used when ours has none.
DEFAULT_OPTIMIZATION_GOALS: dict[str, str] = {
    "CONVERSIONS": "PURCHASE",  # ASSUMED: a sale is what "conversions" means in seed 002
    "CATALOG_SALES": "PURCHASE",
    "APP_INSTALLS": "MOBILE_CONVERSION_INSTALL",
    "VIDEO_VIEWABLE_IMPRESSIONS": "VIDEO_VIEW_6S",  # the spec's advice since March 2026
}
GOAL_TYPES: dict[str, str] = {"daily": "DAILY_SPEND", "lifetime": "LIFETIME_SPEND"}
# Under campaign budget optimization the campaign bids, and its `bid_type` enum has no CPV:
# ASSUMED: a video-views campaign pays per 6-second view, matching its VIDEO_VIEW_6S goal.
CAMPAIGN_BID_TYPES: dict[str, str] = {"CPV": "CPV6"}
# Our call to action -> the post's `call_to_action`, which Reddit takes as the button's text.
CALLS_TO_ACTION: dict[str, str] = {
    "LEARN_MORE": "Learn More",
    "SHOP_NOW": "Shop Now",
    "SIGN_UP": "Sign Up",
    "DOWNLOAD": "Download",
    "INSTALL": "Install",
    "GET_A_QUOTE": "Get a Quote",
    "CONTACT_US": "Contact Us",
    "APPLY_NOW": "Apply Now",
    "BOOK_NOW": "Book Now",
    "ORDER_NOW": "Order Now",
    "SEE_MENU": "See Menu",
    "PLAY_NOW": "Play Now",
    "WATCH_NOW": "Watch Now",
    "VIEW_MORE": "View More",
    "GET_SHOWTIMES": "Get Showtimes",
}

_V = TypeVar("_V")


class UnmappedValueError(ValueError):
    """A value of ours with no Reddit equivalent; the message names the field and choices."""

    def __init__(self, field: str, value: object, allowed: object) -> None:
        super().__init__(f"{field} {value!r} has no Reddit equivalent; use one of {allowed}")


def reddit_objective(objective: str) -> str:
    return _lookup(OBJECTIVES, "objective", objective)


def objective_from_reddit(objective: str) -> str:
    return _lookup(OBJECTIVES_FROM_REDDIT, "Reddit objective", objective)


def reddit_status(status: str) -> str:
    """Our status as `configured_status`; completed and error are outcomes, not settings."""
    return _lookup(STATUSES, "status", status)


def status_from_reddit(configured_status: str, effective_status: str | None = None) -> str:
    """Our status for a Reddit object. A paused, archived or deleted setting wins; then what
    Reddit made of an ACTIVE one. A parent's pause (CAMPAIGN_PAUSED, AD_GROUP_PAUSED) is the
    parent's status, so the object itself reads as active."""
    if configured_status in CONFIGURED_STATUSES_FROM_REDDIT:
        return CONFIGURED_STATUSES_FROM_REDDIT[configured_status]
    return EFFECTIVE_STATUSES_FROM_REDDIT.get(effective_status or "", "active")


def to_micros(amount: Decimal | int | float | str) -> int:
    """An amount in currency units as Reddit's integer micros (half-up at the micro)."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        raise ValueError(f"amount {amount!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"amount {amount!r} must be a finite, non-negative number")
    return int((value * MICROS_PER_UNIT).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_micros(micros: int) -> Decimal:
    return Decimal(micros) / MICROS_PER_UNIT


def reddit_budget(budget_type: str, amount: Decimal | int | float | str) -> dict[str, Any]:
    """`goal_type` + `goal_value` (micros), for an ad group, or a CBO campaign."""
    goal_type = _lookup(GOAL_TYPES, "budget type", budget_type)
    return {"goal_type": goal_type, "goal_value": to_micros(amount)}


def reddit_bidding(
    bid_strategy: str, objective: str, amount: Decimal | int | float | str | None = None
) -> dict[str, Any]:
    """`bid_strategy`, `bid_type` and (when bidding a price) `bid_value` for an ad group.
    `objective` is Reddit's (e.g. CLICKS); it picks the billing event a strategy leaves open."""
    strategy, bid_type = _lookup(BID_STRATEGIES, "bid strategy", bid_strategy)
    fields: dict[str, Any] = {
        "bid_strategy": strategy,
        "bid_type": bid_type or _lookup(DEFAULT_BID_TYPES, "Reddit objective", objective),
    }
    if bid_strategy in BIDS_NEEDING_AMOUNT:
        if amount is None:
            raise ValueError(f"bid strategy {bid_strategy!r} needs a bid amount")
        fields["bid_value"] = to_micros(amount)
    low, high = CPM_BID_RANGE_MICROS
    if fields["bid_type"] == "CPM" and "bid_value" in fields:
        if not low <= fields["bid_value"] <= high:
            raise ValueError(
                f"a CPM bid must be between {from_micros(low)} and {from_micros(high)}"
            )
    return fields


def campaign_bidding(objective: str) -> dict[str, Any]:
    """`bid_strategy` and `bid_type` of a budget-optimized campaign (its ad groups must match):
    automatic bidding on the objective's billing event. `objective` is Reddit's."""
    fields = reddit_bidding("automatic", objective)
    fields["bid_type"] = CAMPAIGN_BID_TYPES.get(fields["bid_type"], fields["bid_type"])
    return fields


def reddit_call_to_action(call_to_action: str) -> str:
    """Our call to action (SHOP_NOW) as the button text Reddit takes ("Shop Now")."""
    return _lookup(CALLS_TO_ACTION, "call to action", call_to_action)


def optimization_goal(objective: str, goal: str | None = None) -> str | None:
    """The ad group's `optimization_goal`: ours if given, else the objective's default (None
    for objectives that take none)."""
    return goal or DEFAULT_OPTIMIZATION_GOALS.get(objective)


def _lookup(table: dict[str, _V], field: str, value: str) -> _V:
    try:
        return table[value]
    except KeyError:
        raise UnmappedValueError(field, value, sorted(table)) from None
