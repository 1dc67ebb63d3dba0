"""Our campaign-set specs as Reddit Ads API v3 request `data` (reddit-ads-api.md §3): pure
functions, no I/O. Creates carry every field we set; patches carry only the fields a Reddit
PATCH takes whose value differs from what was last pushed (`base`).

Reddit fixes some fields at creation (objective, budget optimization, optimization goal, a
post's copy). A change to one of them raises `ImmutableFieldError` naming our field, rather
than leaving the platform silently out of date. Content Reddit cannot express at all raises
`RedditPayloadError`; both are `ValueError`s, never retryable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, CampaignSpec

Payload = dict[str, Any]

# What each PATCH takes, per the spec's update bodies. The contract (§3) also lists objective,
# schedule and use_catalog for campaigns; the official spec does not declare them, and it wins.
CAMPAIGN_PATCH_FIELDS = (
    "name",
    "configured_status",
    "goal_value",
    "spend_cap",
    "bid_strategy",
    "bid_type",
    "bid_value",
    "start_time",
    "end_time",
)
AD_GROUP_PATCH_FIELDS = (
    "name",
    "configured_status",
    "bid_strategy",
    "bid_type",
    "bid_value",
    "goal_type",
    "goal_value",
    "start_time",
    "end_time",
    "targeting",
)
AD_PATCH_FIELDS = ("name", "configured_status", "click_url")
# Fields Reddit fixes at creation ("can't be changed after publishing the campaign"), as
# Reddit's name -> ours. The optimization goal follows from the objective on campaigns.
CAMPAIGN_FIXED = {
    "objective": "objective",
    "is_campaign_budget_optimization": "budgetOptimization",
    "goal_type": "budget.type",
    "optimization_goal": "objective",
}
AD_GROUP_FIXED = {"optimization_goal": "optimizationGoal"}
# The ad's copy lives on its post, whose only PATCH is allow_comments. The post's
# destination_url is not here: the ad's click_url, which a PATCH takes, is where a click goes.
POST_FIELDS = {
    "headline": "headline",
    "description": "description",
    "call_to_action": "callToAction",
    "image_url": "imageUrl",
    "display_url": "displayUrl",
}
# A PATCH leaves these alone when we have no value for them; they cannot be nulled.
NOT_NULLABLE = frozenset({"name", "configured_status"})
# Reddit has no per-keyword switch: a keyword that is not live is left out of the targeting.
INACTIVE_KEYWORD_STATUSES = frozenset({"paused", "archived", "deleted"})


class RedditPayloadError(ValueError):
    """Our content has no Reddit request that expresses it; `field` is ours (camelCase)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class ImmutableFieldError(RedditPayloadError):
    """A field Reddit fixes at creation differs from what was pushed."""

    def __init__(self, field: str, reddit_field: str, kind: str) -> None:
        self.reddit_field = reddit_field
        super().__init__(
            field,
            f"can't be changed after creation on Reddit ({reddit_field}); "
            f"create a new {kind} instead",
        )


# -- creates --------------------------------------------------------------------------------


def campaign_create(
    spec: CampaignSpec,
    funding_instrument_id: str | None = None,
    *,
    conversion_pixel_id: str | None = None,
) -> Payload:
    """`POST /ad_accounts/{id}/campaigns`. The pixel goes on budget-optimized campaigns only
    (required on them since 2026-07-13)."""
    data = _campaign(spec, creating=True)
    data["funding_instrument_id"] = funding_instrument_id
    if spec.budget_optimization:
        data["conversion_pixel_id"] = conversion_pixel_id
    return _present(data)


def ad_group_create(
    campaign_platform_id: str,
    campaign: CampaignSpec,
    spec: AdGroupSpec,
    *,
    conversion_pixel_id: str | None = None,
) -> Payload:
    """`POST /ad_accounts/{id}/ad_groups`: budget and bidding here unless the campaign
    optimizes its budget; keywords in the targeting."""
    data = {"campaign_id": campaign_platform_id, **_ad_group(campaign, spec, creating=True)}
    data["conversion_pixel_id"] = conversion_pixel_id
    return _present(data)


def post_create(spec: AdSpec) -> Payload:
    """`POST /profiles/{id}/posts`: the legacy post that carries the ad's copy."""
    with _as_field("callToAction"):
        call_to_action = vocab.reddit_call_to_action(spec.call_to_action)
    content = {
        "destination_url": spec.final_url,
        "display_url": spec.display_url,
        "call_to_action": call_to_action,
        "media_url": spec.image_url,
    }
    post = {
        "type": "IMAGE" if spec.image_url else "TEXT",
        "headline": spec.headline,
        "body": spec.description,
        "content": [_present(content)],
    }
    return _present(post)


def ad_create(ad_group_platform_id: str, post_id: str, spec: AdSpec) -> Payload:
    """`POST /ad_accounts/{id}/ads`: the ad promoting `post_id`."""
    data = {"ad_group_id": ad_group_platform_id, "post_id": post_id, **_ad(spec, creating=True)}
    return _present(data)


# -- patches --------------------------------------------------------------------------------


def campaign_patch(spec: CampaignSpec, base: CampaignSpec | None) -> Payload:
    """The campaign's changed patchable fields; all of them when nothing was pushed yet."""
    desired = _campaign(spec, creating=False)
    if base is None:
        return _pick(desired, CAMPAIGN_PATCH_FIELDS)
    previous = _campaign(base, creating=False)
    _check_fixed(desired, previous, CAMPAIGN_FIXED, "campaign")
    return _diff(desired, previous, CAMPAIGN_PATCH_FIELDS)


def ad_group_patch(campaign: CampaignSpec, spec: AdGroupSpec, base: AdGroupSpec | None) -> Payload:
    """The ad group's changed patchable fields (a keyword change sends the targeting)."""
    desired = _ad_group(campaign, spec, creating=False)
    if base is None:
        return _pick(desired, AD_GROUP_PATCH_FIELDS)
    previous = _ad_group(campaign, base, creating=False)
    _check_fixed(desired, previous, AD_GROUP_FIXED, "ad group")
    return _diff(desired, previous, AD_GROUP_PATCH_FIELDS)


def ad_patch(spec: AdSpec, base: AdSpec | None) -> Payload:
    """The ad's changed patchable fields; a change to the post's copy raises."""
    desired = _ad(spec, creating=False)
    if base is None:
        return _pick(desired, AD_PATCH_FIELDS)
    for ours, field in POST_FIELDS.items():
        if getattr(spec, ours) != getattr(base, ours):
            raise ImmutableFieldError(field, f"the post's {ours}", "ad")
    return _diff(desired, _ad(base, creating=False), AD_PATCH_FIELDS)


def reddit_timestamp(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z` (a naive time is taken as UTC)."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- the full picture of each object, shared by creates and patches ------------------------


def _campaign(spec: CampaignSpec, *, creating: bool) -> Payload:
    with _as_field("objective"):
        objective = vocab.reddit_objective(spec.objective)
    data: Payload = {
        "name": spec.name,
        "objective": objective,
        "configured_status": _configured_status(spec.status, creating=creating),
        "is_campaign_budget_optimization": spec.budget_optimization,
        "end_time": reddit_timestamp(spec.end_time),
    }
    if spec.budget_optimization and spec.budget is not None:
        with _as_field("budget"):
            data |= vocab.reddit_budget(spec.budget.type, spec.budget.amount)
        data |= vocab.campaign_bidding(objective)
        data["optimization_goal"] = vocab.optimization_goal(objective)
        data["start_time"] = reddit_timestamp(spec.start_time)
        return data
    if spec.start_time is not None:
        raise RedditPayloadError(
            "startTime",
            "Reddit takes a campaign start time only under budget optimization; "
            "set the start time on the ad groups",
        )
    if spec.budget is not None and spec.budget.type == "lifetime":
        data["spend_cap"] = vocab.to_micros(spec.budget.amount)  # "a lifetime cap"
    elif spec.budget is not None:
        raise RedditPayloadError(
            "budget",
            "Reddit has no daily campaign budget without budget optimization; "
            "set budgetOptimization or put the budget on each ad group",
        )
    return data


def _ad_group(campaign: CampaignSpec, spec: AdGroupSpec, *, creating: bool) -> Payload:
    with _as_field("objective"):
        objective = vocab.reddit_objective(campaign.objective)
    data: Payload = {
        "name": spec.name,
        "configured_status": _configured_status(spec.status, creating=creating),
        **_ad_group_money(campaign, spec, objective),
        "optimization_goal": vocab.optimization_goal(objective, spec.optimization_goal),
        "start_time": reddit_timestamp(spec.start_time),
        "end_time": reddit_timestamp(spec.end_time),
        "targeting": targeting(spec),
    }
    return data


def _ad_group_money(campaign: CampaignSpec, spec: AdGroupSpec, objective: str) -> Payload:
    """Budget and bidding: the ad group's own, or under budget optimization the campaign's
    (Reddit refuses an ad-group budget there, and its bidding must match the campaign's)."""
    if campaign.budget_optimization:
        if spec.budget is not None:
            raise RedditPayloadError(
                "budget", "the campaign uses budget optimization: its budget applies"
            )
        if spec.bid_strategy != "automatic":
            raise RedditPayloadError(
                "bidStrategy", "the campaign uses budget optimization: its bidding applies"
            )
        return vocab.campaign_bidding(objective)
    if spec.budget is None:
        raise RedditPayloadError(
            "budget", "a Reddit ad group needs a budget unless its campaign optimizes it"
        )
    with _as_field("budget"):
        budget = vocab.reddit_budget(spec.budget.type, spec.budget.amount)
    with _as_field("bidAmount"):
        bidding = vocab.reddit_bidding(spec.bid_strategy, objective, spec.bid_amount)
    return {**bidding, **budget}


def targeting(spec: AdGroupSpec) -> Payload:
    """The ad group's `targeting`, its live keywords included. Every list is sent, empty or
    not, so a PATCH of the targeting clears what was removed."""
    live = [k for k in spec.keywords if k.status not in INACTIVE_KEYWORD_STATUSES]
    chosen = spec.targeting
    return {
        "communities": list(chosen.communities),
        "interests": list(chosen.interests),
        "geolocations": list(chosen.geolocations),
        "devices": [{"type": device} for device in chosen.devices],
        "keywords": _unique(k.text for k in live if not k.negative),
        "excluded_keywords": _unique(k.text for k in live if k.negative),
    }


def _ad(spec: AdSpec, *, creating: bool) -> Payload:
    return {
        "name": spec.name,
        "configured_status": _configured_status(spec.status, creating=creating),
        "click_url": spec.final_url,
    }


# -- helpers ----------------------------------------------------------------------------------


def _configured_status(status: str, *, creating: bool) -> str | None:
    """Completed and error are outcomes Reddit reports, not settings: such an object is created
    paused, and a patch leaves its setting alone."""
    if status in vocab.STATUSES:
        return vocab.reddit_status(status)
    return "PAUSED" if creating else None


def _check_fixed(
    desired: Mapping[str, Any], previous: Mapping[str, Any], fixed: Mapping[str, str], kind: str
) -> None:
    for reddit_field, ours in fixed.items():
        if desired.get(reddit_field) != previous.get(reddit_field):
            raise ImmutableFieldError(ours, reddit_field, kind)


def _diff(
    desired: Mapping[str, Any], previous: Mapping[str, Any], fields: Iterable[str]
) -> Payload:
    changes: Payload = {}
    for name in fields:
        value = desired.get(name)
        if value == previous.get(name) or (value is None and name in NOT_NULLABLE):
            continue
        changes[name] = value  # None clears the field (e.g. an end time removed)
    return changes


def _pick(data: Mapping[str, Any], fields: Iterable[str]) -> Payload:
    return {name: data[name] for name in fields if data.get(name) is not None}


def _present(data: Mapping[str, Any]) -> Payload:
    """Without unset fields: a create leaves them to Reddit's defaults."""
    return {name: value for name, value in data.items() if value is not None}


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


@contextmanager
def _as_field(field: str) -> Iterator[None]:
    """A vocabulary error (unmapped value, missing bid amount) as one about our `field`."""
    try:
        yield
    except RedditPayloadError:
        raise
    except ValueError as exc:
        raise RedditPayloadError(field, str(exc)) from exc
