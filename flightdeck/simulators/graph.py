"""Meta Graph's validation rules for ad objects, which the Strategis relay passes through
(../shared/platforms/meta-marketing-api.md §2).

Enums come from `flightdeck/domain/graph.py`, so the simulator refuses exactly what the plan
validator refuses. A future Meta Graph simulator reuses this module as is.

Every refusal is Graph's code-100 error (`graph_errors.py`) blaming the offending field.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flightdeck.domain.graph import (
    BID_STRATEGIES,
    BID_STRATEGIES_NEEDING_BID_AMOUNT,
    BILLING_EVENTS,
    CALL_TO_ACTION_TYPES,
    CREATE_STATUSES,
    CUSTOM_EVENT_TYPES,
    LEGACY_OBJECTIVE_TO_OUTCOME,
    MIN_BUDGET_MINOR_UNITS,
    OBJECTIVE_OPTIMIZATION_GOALS,
    OPTIMIZATION_GOALS,
    OUTCOME_OBJECTIVES,
    SPECIAL_AD_CATEGORIES,
    STATUSES,
)
from flightdeck.simulators.graph_errors import Subcode, invalid_parameter, nonexistent_object

# The full legacy list (meta-marketing-api.md §2): readable, refused at creation since v17.
LEGACY_OBJECTIVES = frozenset(LEGACY_OBJECTIVE_TO_OUTCOME) | {
    "LOCAL_AWARENESS",
    "OFFER_CLAIMS",
    "STORE_VISITS",
}
MIN_BUDGET = MIN_BUDGET_MINOR_UNITS  # Graph's real minimum depends on currency, goal, country
MAX_NAME_LENGTH = 400
BUDGET_FIELDS = ("daily_budget", "lifetime_budget")
BUYING_TYPES = frozenset({"AUCTION", "RESERVED"})
# Call ads: the button's link is the number to call, `tel:+<digits>`.
CALL_CTA_TYPES = frozenset({"CALL_NOW", "CALL", "CALL_ME"})
UPDATABLE_FIELDS = {
    "campaigns": frozenset({"status", "name", "daily_budget", "lifetime_budget"}),
    "adsets": frozenset({"status", "name", "daily_budget", "lifetime_budget", "bid_amount"}),
    "ads": frozenset({"status", "name"}),
}

# (object type, id) -> the object if it exists, is not deleted and is visible to the caller.
Finder = Callable[[str, str], Mapping[str, Any] | None]
_MISSING = object()

# -- field checks (dotted paths into the body) -------------------------------------------------


def _lookup(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _present(body: Mapping[str, Any], path: str) -> bool:
    return _lookup(body, path) not in (_MISSING, None)


def _require(body: Mapping[str, Any], path: str) -> Any:
    value = _lookup(body, path)
    if value is _MISSING or value is None:
        raise invalid_parameter(path, "is required", Subcode.MISSING_PARAMETER)
    return value


def _require_text(body: Mapping[str, Any], path: str, max_length: int = MAX_NAME_LENGTH) -> str:
    value = _require(body, path)
    if not isinstance(value, str) or not value.strip():
        raise invalid_parameter(path, "must be a non-empty string")
    if len(value) > max_length:
        raise invalid_parameter(path, f"must be at most {max_length} characters")
    return value


def _optional_text(body: Mapping[str, Any], path: str) -> str | None:
    return _require_text(body, path, max_length=10_000) if _present(body, path) else None


def _require_choice(body: Mapping[str, Any], path: str, allowed: Collection[str]) -> str:
    value = _require(body, path)
    if value not in allowed:
        raise invalid_parameter(path, f"must be one of {', '.join(sorted(allowed))}; got {value!r}")
    return str(value)


def _optional_choice(body: Mapping[str, Any], path: str, allowed: Collection[str]) -> str | None:
    return _require_choice(body, path, allowed) if _present(body, path) else None


def _require_object(body: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    value = _require(body, path)
    if not isinstance(value, Mapping):
        raise invalid_parameter(path, "must be a JSON object")
    return value


def _require_id(body: Mapping[str, Any], path: str) -> str:
    value = _require(body, path)
    if isinstance(value, bool) or not str(value).isdigit():
        raise invalid_parameter(path, f"must be a numeric id; got {value!r}")
    return str(value)


def _require_url(body: Mapping[str, Any], path: str) -> str:
    value = _require(body, path)
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_parameter(path, f"must be an http(s) URL; got {value!r}")
    return str(value)


def _phone_link(body: Mapping[str, Any], path: str) -> str:
    value = _require(body, path)
    digits = value[len("tel:+") :] if isinstance(value, str) and value.startswith("tel:+") else ""
    if not (7 <= len(digits) <= 15 and digits.isdigit()):
        raise invalid_parameter(path, f"must be a phone link tel:+<digits>; got {value!r}")
    return str(value)


def _optional_url(body: Mapping[str, Any], path: str) -> str | None:
    return _require_url(body, path) if _present(body, path) else None


def _amount(body: Mapping[str, Any], path: str, minimum: int) -> int | None:
    """Money and bids are integers in the account's minor unit (cents): never "12.5" or 12.5."""
    if not _present(body, path):
        return None
    value = _lookup(body, path)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_parameter(
            path, f"must be an integer in the account currency's minor unit; got {value!r}"
        )
    if value < minimum:
        raise invalid_parameter(
            path, f"must be at least {minimum} (minor units); got {value}", Subcode.BUDGET_TOO_LOW
        )
    return value


def _time(body: Mapping[str, Any], path: str) -> None:
    value = _lookup(body, path)
    if value in (_MISSING, None) or (isinstance(value, int) and not isinstance(value, bool)):
        return
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        raise invalid_parameter(path, f"must be an ISO 8601 time; got {value!r}") from None


def _parent(
    body: Mapping[str, Any], path: str, object_type: str, find: Finder
) -> Mapping[str, Any]:
    object_id = _require_id(body, path)
    parent = find(object_type, object_id)
    if parent is None:
        raise nonexistent_object(object_id, field=path)
    return parent


# -- objects -----------------------------------------------------------------------------------


def validate_campaign(body: Mapping[str, Any]) -> None:
    _ad_account(body)
    _require_text(body, "name")
    _objective(body)
    _require_choice(body, "status", CREATE_STATUSES)
    _special_ad_categories(body)
    has_budget = _budget(body)
    if _optional_choice(body, "bid_strategy", BID_STRATEGIES) and not has_budget:
        raise invalid_parameter(
            "bid_strategy",
            "can be set on a campaign only with a campaign budget (daily_budget or "
            "lifetime_budget); without one, set it on the ad sets",
            Subcode.BUDGET_PLACEMENT,
        )
    _optional_choice(body, "buying_type", BUYING_TYPES)


def validate_adset(body: Mapping[str, Any], find: Finder) -> Mapping[str, Any]:
    """Checks an ad set against Graph's rules and its campaign; returns the campaign."""
    campaign = _parent(body, "campaign_id", "campaigns", find)
    _require_text(body, "name")
    _targeting(body)
    _require_choice(body, "billing_event", BILLING_EVENTS)
    goal = _require_choice(body, "optimization_goal", OPTIMIZATION_GOALS)
    objective = str(campaign.get("objective"))
    if goal not in OBJECTIVE_OPTIMIZATION_GOALS.get(objective, frozenset()):
        raise invalid_parameter(
            "optimization_goal",
            f"{goal} is not available for a campaign with objective {objective}",
            Subcode.GOAL_NOT_ALLOWED_FOR_OBJECTIVE,
        )
    _optional_choice(body, "status", CREATE_STATUSES)
    _adset_budget(body, campaign)
    _bid_amount(body, campaign)
    _promoted_object(body, goal)
    _time(body, "start_time")
    _time(body, "end_time")
    return campaign


def validate_adcreative(body: Mapping[str, Any]) -> None:
    link_data = "object_story_spec.link_data"
    _ad_account(body)
    _require_text(body, "name")
    _require_object(body, "object_story_spec")
    _require_id(body, "object_story_spec.page_id")
    _require_object(body, link_data)
    _require_url(body, f"{link_data}.link")
    _optional_text(body, f"{link_data}.message")
    _optional_text(body, f"{link_data}.name")
    image_hash = _optional_text(body, f"{link_data}.image_hash")
    picture = _optional_url(body, f"{link_data}.picture")
    if image_hash is None and picture is None:
        raise invalid_parameter(
            f"{link_data}.image_hash", "or picture is required", Subcode.MISSING_PARAMETER
        )
    if _present(body, f"{link_data}.call_to_action"):
        _require_object(body, f"{link_data}.call_to_action")
        cta = _require_choice(body, f"{link_data}.call_to_action.type", CALL_TO_ACTION_TYPES)
        if cta in CALL_CTA_TYPES:
            _phone_link(body, f"{link_data}.call_to_action.value.link")
        else:
            _optional_url(body, f"{link_data}.call_to_action.value.link")


def validate_ad(body: Mapping[str, Any], find: Finder) -> Mapping[str, Any]:
    """Checks an ad and the objects it references; returns its ad set."""
    adset = _parent(body, "adset_id", "adsets", find)
    _require_text(body, "name")
    _require_object(body, "creative")
    _parent(body, "creative.creative_id", "adcreatives", find)
    _optional_choice(body, "status", CREATE_STATUSES)
    return adset


def validate_update(
    object_type: str, current: Mapping[str, Any], fields: Mapping[str, Any]
) -> None:
    """Graph's update rules: DELETED is terminal; ARCHIVED may only be renamed or deleted."""
    if current.get("status") == "DELETED":
        raise nonexistent_object(str(current["id"]))
    for field in fields:
        if field not in UPDATABLE_FIELDS[object_type]:
            raise invalid_parameter(field, f"cannot be updated on {object_type}")
    status = _optional_choice(fields, "status", STATUSES)
    if current.get("status") == "ARCHIVED":
        if status not in (None, "ARCHIVED", "DELETED") or set(fields) - {"name", "status"}:
            raise invalid_parameter(
                "status",
                "an ARCHIVED object can only be renamed or moved to DELETED",
                Subcode.STATUS_TRANSITION,
            )
    if "name" in fields:
        _require_text(fields, "name")
    for field in BUDGET_FIELDS:
        if _amount(fields, field, MIN_BUDGET) is not None and current.get(field) is None:
            raise invalid_parameter(
                field,
                f"cannot be set: this {object_type[:-1]} has no {field}",
                Subcode.BUDGET_PLACEMENT,
            )
    _amount(fields, "bid_amount", 1)


# -- rules shared by the objects ---------------------------------------------------------------


def _ad_account(body: Mapping[str, Any]) -> None:
    value = _require(body, "adAccountId")
    if not isinstance(value, str) or not value.startswith("act_") or not value[4:].isdigit():
        raise invalid_parameter("adAccountId", f"must look like act_<digits>; got {value!r}")


def _objective(body: Mapping[str, Any]) -> None:
    value = _require(body, "objective")
    if value in LEGACY_OBJECTIVES:
        raise invalid_parameter(
            "objective",
            f"{value} is a legacy objective, which is no longer accepted for new campaigns; use "
            "one of the OUTCOME_* objectives",
            Subcode.LEGACY_OBJECTIVE,
        )
    _require_choice(body, "objective", OUTCOME_OBJECTIVES)


def _special_ad_categories(body: Mapping[str, Any]) -> None:
    value = _require(body, "special_ad_categories")
    if not isinstance(value, list):
        raise invalid_parameter("special_ad_categories", "must be a list (it may be empty)")
    unknown = [v for v in value if v not in SPECIAL_AD_CATEGORIES]
    if unknown:
        raise invalid_parameter("special_ad_categories", f"has unknown values {unknown!r}")


def _budget(body: Mapping[str, Any]) -> bool:
    """Validates daily/lifetime budgets; True when the object carries one."""
    daily = _amount(body, "daily_budget", MIN_BUDGET)
    lifetime = _amount(body, "lifetime_budget", MIN_BUDGET)
    if daily is not None and lifetime is not None:
        raise invalid_parameter(
            "lifetime_budget", "cannot be set together with daily_budget", Subcode.BUDGET_PLACEMENT
        )
    return daily is not None or lifetime is not None


def _adset_budget(body: Mapping[str, Any], campaign: Mapping[str, Any]) -> None:
    campaign_budget = any(campaign.get(field) is not None for field in BUDGET_FIELDS)
    own_budget = _budget(body)
    if own_budget and campaign_budget:
        raise invalid_parameter(
            "daily_budget",
            "cannot be set: the campaign has a budget, and a budget is set at the campaign "
            "level or at the ad set level, not both",
            Subcode.BUDGET_PLACEMENT,
        )
    if not own_budget and not campaign_budget:
        raise invalid_parameter(
            "daily_budget",
            "is required: the campaign has no budget, so the ad set needs daily_budget or "
            "lifetime_budget",
            Subcode.BUDGET_PLACEMENT,
        )
    if _present(body, "lifetime_budget") and not _present(body, "end_time"):
        raise invalid_parameter(
            "end_time", "is required with lifetime_budget", Subcode.MISSING_PARAMETER
        )


def _bid_amount(body: Mapping[str, Any], campaign: Mapping[str, Any]) -> None:
    strategy = _optional_choice(body, "bid_strategy", BID_STRATEGIES) or campaign.get(
        "bid_strategy"
    )
    amount = _amount(body, "bid_amount", 1)
    if strategy in BID_STRATEGIES_NEEDING_BID_AMOUNT and amount is None:
        raise invalid_parameter(
            "bid_amount", f"is required with bid_strategy {strategy}", Subcode.BID_AMOUNT_REQUIRED
        )


def _promoted_object(body: Mapping[str, Any], goal: str) -> None:
    if goal == "OFFSITE_CONVERSIONS":
        if not _present(body, "promoted_object"):
            raise invalid_parameter(
                "promoted_object",
                "is required with optimization_goal OFFSITE_CONVERSIONS (pixel_id and "
                "custom_event_type)",
                Subcode.PROMOTED_OBJECT_REQUIRED,
            )
        _require_object(body, "promoted_object")
        _require_id(body, "promoted_object.pixel_id")
        _require_choice(body, "promoted_object.custom_event_type", CUSTOM_EVENT_TYPES)
    elif _present(body, "promoted_object"):
        _require_object(body, "promoted_object")
        _optional_choice(body, "promoted_object.custom_event_type", CUSTOM_EVENT_TYPES)


def _targeting(body: Mapping[str, Any]) -> None:
    _require_object(body, "targeting")
    _require_object(body, "targeting.geo_locations")
    countries = _require(body, "targeting.geo_locations.countries")
    if (
        not isinstance(countries, list)
        or not countries
        or not all(isinstance(c, str) and len(c) == 2 and c.isupper() for c in countries)
    ):
        raise invalid_parameter(
            "targeting.geo_locations.countries",
            f"must be a non-empty list of ISO country codes; got {countries!r}",
        )
    ages = [_amount(body, f"targeting.{field}", 13) for field in ("age_min", "age_max")]
    if any(age is not None and age > 65 for age in ages):
        raise invalid_parameter("targeting.age_max", "must be at most 65")
    if ages[0] is not None and ages[1] is not None and ages[0] > ages[1]:
        raise invalid_parameter("targeting.age_min", "must not exceed targeting.age_max")
    genders = _lookup(body, "targeting.genders")
    if genders not in (_MISSING, None) and (
        not isinstance(genders, list) or not set(genders) <= {1, 2}
    ):
        raise invalid_parameter(
            "targeting.genders", f"must be a list of 1 and/or 2; got {genders!r}"
        )
