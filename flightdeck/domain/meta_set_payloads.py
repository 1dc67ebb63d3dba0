"""A campaign set's entities as Meta Graph objects (issue 14; meta-marketing-api.md §1-§3):
campaign → campaign, ad group → ad set, ad → ad with its link creative. Pure: the adapter sends
what these build, and the set validator (`meta_set_rules`) runs the same builders, so a dry run
and a sync never disagree. A builder raises `MetaPayloadError(field, reason)`, `field` spelled
as the API's JSON path under the entity (`budget.amount`, `targeting.geolocations`).

- Objectives map to the OUTCOME_* ones (the only ones Graph creates with from v17); objectives
  that need objects we cannot name (a pixel, an app) are refused with the reason.
- Budgets are integers in the currency's minor unit; CBO puts the budget (and bid strategy) on
  the campaign, otherwise each ad set carries its own — never both.
- Keywords have no Meta equivalent: the ad set is sent without them and the sync reports them
  `not_applicable` (they are never sent, and never silently lost).
- Interests and communities are Reddit names, not Meta ids: refused rather than dropped.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, Budget, CampaignSpec
from flightdeck.domain.graph import OBJECTIVE_OPTIMIZATION_GOALS, OPTIMIZATION_GOALS
from flightdeck.domain.meta_rules import min_daily_budget, minor_units, targets_eu, to_minor

MAX_NAME_LENGTH = 400  # Graph's limit on campaign, ad set and ad names
MARKER_LENGTH = len(" [fd:0123456789ab]")  # the adoption marker our creates append
MAX_OUR_NAME_LENGTH = MAX_NAME_LENGTH - MARKER_LENGTH
OBJECTIVES = {
    "awareness": "OUTCOME_AWARENESS",
    "consideration": "OUTCOME_ENGAGEMENT",
    "traffic": "OUTCOME_TRAFFIC",
    "video_views": "OUTCOME_ENGAGEMENT",
    "lead_generation": "OUTCOME_LEADS",
}
UNSUPPORTED_OBJECTIVES = {
    "conversions": "needs a Meta pixel (promoted_object.pixel_id), which a set cannot name yet",
    "catalog_sales": "needs a Meta product catalog, which a set cannot name yet",
    "app_installs": "needs an app (promoted_object.application_id), which a set cannot name yet",
}
DEFAULT_GOALS = {
    "awareness": "REACH",
    "consideration": "POST_ENGAGEMENT",
    "traffic": "LINK_CLICKS",
    "video_views": "THRUPLAY",
    "lead_generation": "LINK_CLICKS",
}
BID_STRATEGIES = {
    "automatic": "LOWEST_COST_WITHOUT_CAP",
    "manual_cpc": "LOWEST_COST_WITH_BID_CAP",
    "manual_cpm": "LOWEST_COST_WITH_BID_CAP",
    "target_cost": "COST_CAP",
}
DEVICES = {"DESKTOP": "desktop", "MOBILE": "mobile"}
COUNTRY = re.compile(r"^[A-Z]{2}$")
KEYWORDS_NOT_APPLICABLE = (
    "Meta has no keywords: ad sets target people, not search terms; the keywords are kept "
    "here and not sent"
)


class MetaPayloadError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def status(ours: str) -> str:
    """Our status in Graph's words: only `active` runs; drafts are created PAUSED."""
    return "ACTIVE" if ours == "active" else "PAUSED"


def objective(spec: CampaignSpec) -> str:
    if spec.objective in UNSUPPORTED_OBJECTIVES:
        raise MetaPayloadError(
            "objective", f"{spec.objective} {UNSUPPORTED_OBJECTIVES[spec.objective]}"
        )
    found = OBJECTIVES.get(spec.objective)
    if found is None:
        raise MetaPayloadError("objective", f"{spec.objective} has no Meta objective")
    return found


def optimization_goal(campaign: CampaignSpec, group: AdGroupSpec) -> str:
    goal = group.optimization_goal or DEFAULT_GOALS.get(campaign.objective, "LINK_CLICKS")
    if goal not in OPTIMIZATION_GOALS:
        raise MetaPayloadError("optimizationGoal", f"{goal!r} is not a Meta optimization goal")
    outcome = OBJECTIVES.get(campaign.objective)  # an unmapped one is the campaign's problem
    if outcome is not None and goal not in OBJECTIVE_OPTIMIZATION_GOALS.get(outcome, frozenset()):
        allowed = ", ".join(sorted(OBJECTIVE_OPTIMIZATION_GOALS.get(outcome, frozenset())))
        raise MetaPayloadError(
            "optimizationGoal",
            f"{goal} is not available for objective {outcome} (campaign objective "
            f"{campaign.objective}); use one of {allowed}",
        )
    if goal == "OFFSITE_CONVERSIONS":
        raise MetaPayloadError("optimizationGoal", "OFFSITE_CONVERSIONS needs a Meta pixel")
    return goal


def name(value: str, field: str = "name") -> str:
    if len(value) > MAX_OUR_NAME_LENGTH:
        raise MetaPayloadError(
            field,
            f"must be at most {MAX_OUR_NAME_LENGTH} characters on Meta ({MAX_NAME_LENGTH} less "
            f"the adoption marker); it has {len(value)}",
        )
    return value


def budget_fields(budget: Budget, field: str, goal: str | None) -> dict[str, Any]:
    amount = budget.amount * minor_units(budget.currency)
    if amount != amount.to_integral_value():
        raise MetaPayloadError(
            f"{field}.amount", f"is finer than the smallest unit of {budget.currency}"
        )
    minor = to_minor(budget.amount, budget.currency)
    if budget.type == "daily":
        minimum = min_daily_budget(budget.currency, goal or "IMPRESSIONS")
        if minor < minimum:
            major = Decimal(minimum) / minor_units(budget.currency)
            raise MetaPayloadError(
                f"{field}.amount",
                f"a daily budget of at least {major} {budget.currency} is needed on Meta for "
                f"optimization goal {goal or 'IMPRESSIONS'}",
            )
        return {"daily_budget": minor}
    return {"lifetime_budget": minor}


def bid_strategy(group: AdGroupSpec) -> str:
    found = BID_STRATEGIES.get(group.bid_strategy)
    if found is None:
        raise MetaPayloadError("bidStrategy", f"{group.bid_strategy} has no Meta bid strategy")
    return found


def campaign_create(
    spec: CampaignSpec, groups: list[AdGroupSpec], display_name: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": display_name,
        "objective": objective(spec),
        "status": status(spec.status),
        "special_ad_categories": [],
        "buying_type": "AUCTION",
    }
    name(spec.name)
    if spec.budget_optimization:
        assert spec.budget is not None  # the spec's own validator
        goals = [optimization_goal(spec, g) for g in groups] or ["IMPRESSIONS"]
        strictest = max((min_daily_budget(spec.budget.currency, g), g) for g in goals)[1]
        body |= budget_fields(spec.budget, "budget", strictest)
        body["bid_strategy"] = "LOWEST_COST_WITHOUT_CAP"
    elif spec.budget is not None:
        raise MetaPayloadError(
            "budget",
            "a campaign budget on Meta is Advantage campaign budget: set budgetOptimization, "
            "or put the budgets on the ad groups",
        )
    return body


def campaign_changes(spec: CampaignSpec, base: CampaignSpec | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if base is None or spec.name != base.name:
        changes["name"] = name(spec.name)
    if base is None or status(spec.status) != status(base.status):
        changes["status"] = status(spec.status)
    if spec.budget_optimization and spec.budget is not None:
        wanted = budget_fields(spec.budget, "budget", None)
        before = (
            budget_fields(base.budget, "budget", None)
            if base is not None and base.budget is not None
            else {}
        )
        if wanted != before:
            if (
                base is not None
                and base.budget is not None
                and base.budget.type != spec.budget.type
            ):
                raise MetaPayloadError("budget.type", "cannot change after creation on Meta")
            changes |= wanted
    if base is not None and base.objective != spec.objective:
        raise MetaPayloadError("objective", "cannot change after creation on Meta")
    return changes


def targeting(group: AdGroupSpec) -> dict[str, Any]:
    spec = group.targeting
    if spec.communities:
        raise MetaPayloadError(
            "targeting.communities", "Reddit communities have no Meta equivalent; remove them"
        )
    if spec.interests:
        raise MetaPayloadError(
            "targeting.interests",
            "are Reddit interest names; Meta needs its own interest ids, which a set cannot "
            "name yet; remove them",
        )
    if not spec.geolocations:
        raise MetaPayloadError(
            "targeting.geolocations", "Meta ad sets need at least one country (ISO code)"
        )
    bad = [g for g in spec.geolocations if not COUNTRY.match(g)]
    if bad:
        raise MetaPayloadError(
            "targeting.geolocations",
            f"Meta takes two-letter country codes here; not {', '.join(bad)}",
        )
    if targets_eu(spec.geolocations):
        raise MetaPayloadError(
            "targeting.geolocations",
            "targeting the EU needs the Digital Services Act payor and beneficiary "
            "(dsa_payor, dsa_beneficiary), which a set cannot name yet",
        )
    out: dict[str, Any] = {"geo_locations": {"countries": list(spec.geolocations)}}
    if spec.devices:
        out["device_platforms"] = sorted({DEVICES[d] for d in spec.devices})
    out["targeting_automation"] = {"advantage_audience": 0}
    return out


def ad_set_create(
    campaign: CampaignSpec,
    campaign_id: str,
    spec: AdGroupSpec,
    display_name: str,
) -> dict[str, Any]:
    name(spec.name)
    goal = optimization_goal(campaign, spec)
    body: dict[str, Any] = {
        "name": display_name,
        "campaign_id": campaign_id,
        "status": status(spec.status),
        "billing_event": "IMPRESSIONS",
        "optimization_goal": goal,
        "targeting": targeting(spec),
    }
    strategy = bid_strategy(spec)
    if campaign.budget_optimization:
        if strategy != "LOWEST_COST_WITHOUT_CAP":
            raise MetaPayloadError(
                "bidStrategy",
                "with the budget on the campaign (budgetOptimization), Meta ad sets here use "
                "the automatic bid strategy",
            )
        if spec.budget is not None:
            raise MetaPayloadError(
                "budget",
                "the campaign has the budget (budgetOptimization); on Meta an ad set cannot "
                "have one too",
            )
    else:
        if spec.budget is None:
            raise MetaPayloadError(
                "budget", "is required on Meta: the campaign has no budget (no budgetOptimization)"
            )
        body |= budget_fields(spec.budget, "budget", goal)
        body["bid_strategy"] = strategy
    if strategy != "LOWEST_COST_WITHOUT_CAP":
        if spec.bid_amount is None:
            raise MetaPayloadError("bidAmount", f"is required with bid strategy {strategy}")
        body["bid_amount"] = to_minor(spec.bid_amount, _currency(campaign, spec))
    start = spec.start_time or campaign.start_time
    end = spec.end_time or campaign.end_time
    if start is not None:
        body["start_time"] = _time(start)
    if end is not None:
        body["end_time"] = _time(end)
    lifetime = "lifetime_budget" in body or (
        campaign.budget_optimization and campaign.budget and campaign.budget.type == "lifetime"
    )
    if lifetime and end is None:
        raise MetaPayloadError("endTime", "is required with a lifetime budget on Meta")
    return body


def ad_set_changes(
    campaign: CampaignSpec, spec: AdGroupSpec, base: AdGroupSpec | None
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if base is None or spec.name != base.name:
        changes["name"] = name(spec.name)
    if base is None or status(spec.status) != status(base.status):
        changes["status"] = status(spec.status)
    if not campaign.budget_optimization and spec.budget is not None:
        goal = optimization_goal(campaign, spec)
        wanted = budget_fields(spec.budget, "budget", goal)
        before = (
            budget_fields(base.budget, "budget", goal)
            if base is not None and base.budget is not None
            else {}
        )
        if wanted != before:
            changes |= wanted
    if base is not None and spec.bid_amount != base.bid_amount and spec.bid_amount is not None:
        changes["bid_amount"] = to_minor(spec.bid_amount, _currency(campaign, spec))
    for fixed in ("optimization_goal", "targeting", "bid_strategy"):
        if base is not None and getattr(base, fixed) != getattr(spec, fixed):
            raise MetaPayloadError(
                _camel(fixed),
                "cannot be changed through a sync on Meta yet; make a new ad group",
            )
    return changes


def creative_create(spec: AdSpec, page_id: str | None) -> dict[str, Any]:
    if not page_id:
        raise MetaPayloadError(
            "adAccountId", "the Meta connection has no Page selected: ads are posted as a Page"
        )
    if spec.image_url is None:
        raise MetaPayloadError("imageUrl", "a Meta link ad needs an image")
    if len(spec.headline) > 255:
        raise MetaPayloadError("headline", "must be at most 255 characters on Meta")
    link_data: dict[str, Any] = {
        "link": spec.final_url,
        "name": spec.headline,
        "picture": spec.image_url,
        "call_to_action": {"type": spec.call_to_action, "value": {"link": spec.final_url}},
    }
    if spec.description:
        link_data["message"] = spec.description
    return {
        "name": name(spec.name),
        "object_story_spec": {"page_id": page_id, "link_data": link_data},
    }


def ad_create(spec: AdSpec, ad_set_id: str, creative_id: str, display_name: str) -> dict[str, Any]:
    name(spec.name)
    return {
        "name": display_name,
        "adset_id": ad_set_id,
        "creative": {"creative_id": creative_id},
        "status": status(spec.status),
    }


def ad_changes(spec: AdSpec, base: AdSpec | None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if base is None or spec.name != base.name:
        changes["name"] = name(spec.name)
    if base is None or status(spec.status) != status(base.status):
        changes["status"] = status(spec.status)
    if base is not None:
        copy = ("headline", "description", "final_url", "image_url", "call_to_action")
        changed = [f for f in copy if getattr(base, f) != getattr(spec, f)]
        if changed:
            raise MetaPayloadError(
                _camel(changed[0]),
                "a Meta ad's creative cannot be edited; make a new ad with the new copy",
            )
    return changes


def _currency(campaign: CampaignSpec, spec: AdGroupSpec) -> str:
    budget = spec.budget or campaign.budget
    return budget.currency if budget is not None else "USD"


def _time(value: datetime) -> str:
    return value.isoformat()


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
