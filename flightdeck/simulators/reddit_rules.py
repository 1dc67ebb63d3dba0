"""Reddit's rules beyond the JSON schemas, from the spec's field descriptions and the contract
notes (reddit-ads-api.md §3). Each check returns Reddit 400 `fields` entries; the schema has
already passed. Checks run on the object as it would be after the write (`merged`), so a PATCH
is judged together with what it does not change.

Marked ASSUMED where the source is only a description's wording, not observed behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flightdeck.simulators.reddit_spec import FieldError

# "Starting July 13th, 2026, conversion_pixel_id is required for all ad groups" (and for CBO
# campaigns): the spec's Create Ad Group / Create Campaign descriptions.
PIXEL_REQUIRED_FROM = datetime(2026, 7, 13, tzinfo=UTC)
CBO_ONLY_FIELDS = (
    "goal_type",
    "goal_value",
    "bid_strategy",
    "bid_type",
    "bid_value",
    "start_time",
    "view_through_conversion_type",
    "conversion_pixel_id",
)
CBO_REQUIRED_FIELDS = ("goal_type", "goal_value", "bid_strategy", "bid_type", "start_time")
AD_GROUP_BUDGET_FIELDS = ("bid_strategy", "bid_type", "goal_type", "goal_value")
BIDS_NEEDING_VALUE = frozenset({"MANUAL_BIDDING", "TARGET_CPX"})  # ASSUMED: a bid to target
CPM_BID_RANGE = (3_500_000, 100_000_000)  # "$3.50 and $100 USD when bid_type is CPM"
GOAL_NEEDING_OBJECTIVES = frozenset({"CONVERSIONS", "CATALOG_SALES", "APP_INSTALLS"})
RETIRED_GOALS = frozenset({"VIEW_CONTENT", "SEARCH", "ADD_TO_WISHLIST"})  # for new ad groups
SINGLE_CONTENT_POSTS = frozenset({"IMAGE", "VIDEO", "TEXT"})

# (object type, id) -> the live (not DELETED) object of the ad account being written, if any.
Finder = Callable[[str, str], Mapping[str, Any] | None]


def problem(field: str, message: str) -> FieldError:
    return {"field": f"data/{field}" if field else "data", "message": message}


def pixel_required(now: datetime | None = None) -> bool:
    return (now or datetime.now(UTC)) >= PIXEL_REQUIRED_FROM


def check_campaign(merged: Mapping[str, Any], find: Finder) -> list[FieldError]:
    problems = _references(
        merged, find, funding_instrument_id="funding_instruments", conversion_pixel_id="pixels"
    )
    if merged.get("is_campaign_budget_optimization") is True:
        required = CBO_REQUIRED_FIELDS + (("conversion_pixel_id",) if pixel_required() else ())
        problems += _missing(merged, required, "is required for campaign budget optimization")
        if merged.get("objective") in ("CONVERSIONS", "VIDEO_VIEWABLE_IMPRESSIONS"):
            problems += _missing(merged, ("optimization_goal",), "is required for this objective")
    else:
        problems += [
            problem(name, "is only available when is_campaign_budget_optimization is true")
            for name in CBO_ONLY_FIELDS
            if merged.get(name) is not None
        ]
    return problems + _schedule(merged, start_with_end=False)


def check_ad_group(
    merged: Mapping[str, Any], campaign: Mapping[str, Any], find: Finder, *, creating: bool
) -> list[FieldError]:
    # The contract's manual-create requirements (SPEC-A); this spec's schema lists none.
    problems = _missing(merged, ("name",), "is required")
    problems += _references(merged, find, conversion_pixel_id="pixels")
    if pixel_required():
        problems += _missing(merged, ("conversion_pixel_id",), "is required for all ad groups")
    problems += _budget(merged, campaign) + _bid(merged)
    problems += _schedule(merged, start_with_end=True)
    problems += _optimization_goal(merged, campaign, creating=creating)
    return problems


def check_ad(merged: Mapping[str, Any], find: Finder) -> list[FieldError]:
    # ASSUMED: an ad shows a post unless it is a shopping (catalog) ad.
    if merged.get("post_id") is None and merged.get("shopping_creative") is None:
        return [problem("post_id", "is required unless shopping_creative is set")]
    return _references(merged, find, post_id="posts")


def check_post(data: Mapping[str, Any]) -> list[FieldError]:
    """ASSUMED from the spec's descriptions: a post has a type and a headline; image, video
    and text posts hold one content item; media and destination per post type."""
    problems = _missing(data, ("type", "headline"), "is required")
    post_type, content = data.get("type"), data.get("content") or []
    if post_type in SINGLE_CONTENT_POSTS and len(content) > 1:
        problems.append(problem("content", f"{post_type} posts support only 1 item"))
    needs = {
        "IMAGE": ("destination_url", "media_url"),
        "CAROUSEL": ("destination_url", "media_url"),
        "VIDEO": ("media_url",),
    }.get(str(post_type), ())
    for index, item in enumerate(content):
        problems += _missing(item, needs, f"is required for {post_type} posts", f"content/{index}/")
    if post_type == "VIDEO" and not data.get("thumbnail_url"):
        problems.append(problem("thumbnail_url", "is required for VIDEO posts"))
    return problems


def check_unchanged(
    current: Mapping[str, Any], changes: Mapping[str, Any], fields: tuple[str, ...]
) -> list[FieldError]:
    """Fields the platform refuses to change after creation."""
    return [
        problem(name, "can't be changed after creation")
        for name in fields
        if name in changes and changes[name] != current.get(name)
    ]


def check_not_deleted(current: Mapping[str, Any], kind: str) -> list[FieldError]:
    # ASSUMED: DELETED is terminal, as on every ads platform.
    if current.get("configured_status") == "DELETED":
        return [problem("", f"a deleted {kind} can't be changed")]
    return []


def _budget(merged: Mapping[str, Any], campaign: Mapping[str, Any]) -> list[FieldError]:
    """Budget and bidding live on the ad group, unless the campaign optimizes its budget."""
    if campaign.get("is_campaign_budget_optimization") is not True:
        return _missing(merged, AD_GROUP_BUDGET_FIELDS, "is required (the campaign is not CBO)")
    problems = []
    if merged.get("goal_value") is not None:
        problems.append(problem("goal_value", "must be null under campaign budget optimization"))
    if merged.get("bid_value") is not None and campaign.get("bid_value") is not None:
        problems.append(problem("bid_value", "can't be set when the campaign sets bid_value"))
    for name in ("goal_type", "bid_strategy", "bid_type"):
        if merged.get(name) is not None and merged[name] != campaign.get(name):
            problems.append(problem(name, "must match the campaign's under CBO"))
    return problems


def _bid(merged: Mapping[str, Any]) -> list[FieldError]:
    problems = []
    if merged.get("bid_strategy") in BIDS_NEEDING_VALUE and merged.get("bid_value") is None:
        problems.append(problem("bid_value", f"is required with {merged['bid_strategy']}"))
    low, high = CPM_BID_RANGE
    value = merged.get("bid_value")
    if merged.get("bid_type") == "CPM" and value is not None and not low <= value <= high:
        problems.append(problem("bid_value", f"must be between {low} and {high} for CPM"))
    return problems


def _optimization_goal(
    merged: Mapping[str, Any], campaign: Mapping[str, Any], *, creating: bool
) -> list[FieldError]:
    goal, objective = merged.get("optimization_goal"), campaign.get("objective")
    if goal is None and objective == "VIDEO_VIEWABLE_IMPRESSIONS":
        return [problem("optimization_goal", "can't be null for video views campaigns")]
    if goal is None and objective in GOAL_NEEDING_OBJECTIVES:
        if campaign.get("optimization_goal") is None:  # no CBO goal to default from
            return [problem("optimization_goal", f"is required for {objective} campaigns")]
    cbo_goal = campaign.get("optimization_goal")
    if goal is not None and cbo_goal is not None and goal != cbo_goal:
        return [problem("optimization_goal", "must match the campaign's under CBO")]
    if creating and goal in RETIRED_GOALS:
        return [problem("optimization_goal", f"{goal} is no longer supported for new ad groups")]
    return []


def _schedule(merged: Mapping[str, Any], *, start_with_end: bool) -> list[FieldError]:
    """Dates parse, end after start; an ad group with an end needs a start ("Required if
    end_time is set"), while a non-CBO campaign may not set a start at all."""
    problems: list[FieldError] = []
    times = {}
    for name in ("start_time", "end_time"):
        value = merged.get(name)
        if value is None:
            continue
        try:
            times[name] = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            problems.append(problem(name, "is not an ISO 8601 date-time"))
    if start_with_end and merged.get("end_time") is not None and merged.get("start_time") is None:
        problems.append(problem("start_time", "is required when end_time is set"))
    if merged.get("goal_type") == "LIFETIME_SPEND" and merged.get("end_time") is None:
        problems.append(problem("end_time", "is required with LIFETIME_SPEND"))
    start, end = times.get("start_time"), times.get("end_time")
    if start and end and _aware(end) <= _aware(start):
        problems.append(problem("end_time", "must be after start_time"))
    return problems


def _references(merged: Mapping[str, Any], find: Finder, **kinds: str) -> list[FieldError]:
    """Ids that must name a live object of the same ad account."""
    return [
        problem(name, f"{merged[name]!r} does not exist in this ad account")
        for name, kind in kinds.items()
        if merged.get(name) is not None and find(kind, str(merged[name])) is None
    ]


def _missing(
    data: Mapping[str, Any], names: tuple[str, ...], message: str, prefix: str = ""
) -> list[FieldError]:
    return [problem(prefix + name, message) for name in names if data.get(name) in (None, "")]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
