"""Pure transforms from a campaign plan to the payloads the platforms receive (seed 000 steps 2–6).

Kept free of I/O so they are unit-tested directly and shared by workflows (which must stay
deterministic) and activities.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flightdeck.domain.graph import (
    BID_STRATEGIES_NEEDING_BID_AMOUNT,
    LEGACY_OBJECTIVE_TO_OUTCOME,
)
from flightdeck.domain.plans import AdPlan, AdSetPlan, CampaignPlanIn

MICROS_PER_UNIT = 1_000_000
# Minor units per major unit, by account currency (Graph `/docs/marketing-api/currencies`).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "TWD", "VND", "ISK", "HUF", "PYG"})


def micros_to_minor_units(micros: str | int, currency: str = "USD") -> int:
    """Plan money (micros of the major unit) -> Graph money (integer minor units, e.g. cents).

    Rounds half up to the nearest minor unit: 1_234_567 micros USD -> 123 cents.
    """
    value = Decimal(int(micros))
    if value < 0:
        raise ValueError("money cannot be negative")
    offset = 1 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 100
    minor = (value * offset / MICROS_PER_UNIT).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(minor)


def outcome_objective(objective: str) -> str:
    """Map a plan's objective to the ODAX `OUTCOME_*` value Graph accepts at creation."""
    return LEGACY_OBJECTIVE_TO_OUTCOME.get(objective, objective)


_GOAL_BY_OBJECTIVE = {
    "OUTCOME_SALES": "OFFSITE_CONVERSIONS",
    "OUTCOME_LEADS": "OFFSITE_CONVERSIONS",
    "OUTCOME_TRAFFIC": "LINK_CLICKS",
    "OUTCOME_AWARENESS": "REACH",
    "OUTCOME_ENGAGEMENT": "POST_ENGAGEMENT",
    "OUTCOME_APP_PROMOTION": "APP_INSTALLS",
}
_OBJECTIVES_WITH_PIXEL = frozenset({"OUTCOME_SALES", "OUTCOME_LEADS"})


def optimization_goal(objective: str) -> str:
    return _GOAL_BY_OBJECTIVE[outcome_objective(objective)]


# -- client request keys (seed 000 "Idempotency Strategy") -------------------------------------


def scoped_request_id(tenant_id: str, request_id: str) -> str:
    """A requestId is unique only within its tenant, and the relay caches creates by
    (organization, clientRequestKey): every key and name used for idempotency or adoption is
    built from this, which carries the tenant, so two tenants' keys can never collide."""
    return f"{uuid.UUID(tenant_id).hex}.{request_id}"


def campaign_key(request_id: str) -> str:
    return f"campaign-{request_id}"


def adset_key(request_id: str, ad_set_index: int) -> str:
    return f"adset-{request_id}-{ad_set_index}"


def creative_key(request_id: str, ad_set_index: int, ad_index: int) -> str:
    return f"creative-{request_id}-{ad_set_index}-{ad_index}"


def ad_key(request_id: str, ad_set_index: int, ad_index: int) -> str:
    return f"ad-{request_id}-{ad_set_index}-{ad_index}"


def tracking_campaign_key(request_id: str, ad_set_index: int) -> str:
    return f"tracking-campaign-{request_id}-{ad_set_index}"


@dataclass(frozen=True)
class RelayObjectKey:
    """One Facebook object a plan's run may create through the relay, and its ledger coordinates."""

    object_type: str  # the ledger's: campaign, adset, creative, ad
    local_key: str
    client_request_key: str
    ad_set_index: int | None = None
    ad_index: int | None = None


def relay_object_keys(plan: CampaignPlanIn, tenant_id: str) -> list[RelayObjectKey]:
    """Every relay create a run of `plan` may have made, parents first: the record of intent
    that compensation looks up at the relay (its keys are deterministic), so a create whose
    answer was lost is found even though no ledger row was written for it."""
    rid = scoped_request_id(tenant_id, plan.request_id)
    keys = [RelayObjectKey("campaign", "campaign", campaign_key(rid))]
    for i in range(len(plan.ad_sets)):
        keys.append(RelayObjectKey("adset", f"adset:{i}", adset_key(rid, i), i))
    for i, ad_set in enumerate(plan.ad_sets):
        for j in range(len(ad_set.ads)):
            keys.append(
                RelayObjectKey("creative", f"creative:{i}:{j}", creative_key(rid, i, j), i, j)
            )
            keys.append(RelayObjectKey("ad", f"ad:{i}:{j}", ad_key(rid, i, j), i, j))
    return keys


def tenant_template_key(tenant_id: str, key: str) -> str:
    """The key of a tenant's tracking template at Strategis. Templates are looked up by
    (organization, key) and adopted when found: two tenants sharing an organization must never
    find each other's, so the key carries the tenant, as every other adoption key does."""
    return f"{key}.{uuid.UUID(tenant_id).hex}"


def template_key(organization: str, key: str) -> str:
    return f"template-{organization}-{key}"


# -- payloads ----------------------------------------------------------------------------------


def campaign_payload(plan: CampaignPlanIn, name: str) -> dict[str, Any]:
    """Relay `campaigns/create` body. CBO: the budget (sum of the ad sets') sits on the campaign."""
    body: dict[str, Any] = {
        "adAccountId": plan.ad_account_id,
        "name": name,
        "objective": outcome_objective(plan.objective),
        "status": "ACTIVE",
        "special_ad_categories": list(plan.special_ad_categories),
    }
    if plan.budget_type == "CBO":
        body["daily_budget"] = sum(micros_to_minor_units(a.daily_budget) for a in plan.ad_sets)
        body["bid_strategy"] = plan.ad_sets[0].bid_strategy
    return body


def adset_payload(
    plan: CampaignPlanIn, ad_set: AdSetPlan, name: str, fb_campaign_id: str
) -> dict[str, Any]:
    """Relay `adsets/create` body. ABO: the ad set carries its own budget and bid strategy."""
    objective = outcome_objective(plan.objective)
    body: dict[str, Any] = {
        "campaign_id": fb_campaign_id,
        "name": name,
        "targeting": ad_set.targeting,
        "billing_event": "IMPRESSIONS",
        "optimization_goal": optimization_goal(objective),
        "status": "ACTIVE",
    }
    if objective in _OBJECTIVES_WITH_PIXEL:
        body["promoted_object"] = {
            "pixel_id": ad_set.pixel_id,
            "custom_event_type": ad_set.custom_event_type,
        }
    if plan.budget_type == "ABO":
        body["daily_budget"] = micros_to_minor_units(ad_set.daily_budget)
        body["bid_strategy"] = ad_set.bid_strategy
    if ad_set.bid_strategy in BID_STRATEGIES_NEEDING_BID_AMOUNT and ad_set.bid_amount:
        body["bid_amount"] = micros_to_minor_units(ad_set.bid_amount)
    if ad_set.start_time is not None:
        body["start_time"] = ad_set.start_time.isoformat()
    return body


def tracking_url(tracking_base_url: str, strategis_campaign_id: str) -> str:
    """Seed: `https://r.strateg.is/route?campaignId={id}&fbclid={{fbclid}}` (macro kept literal)."""
    base = tracking_base_url.rstrip("/")
    return f"{base}/route?campaignId={strategis_campaign_id}&fbclid={{{{fbclid}}}}"


def tracking_campaign_name(campaign_name: str, ad_set_name: str) -> str:
    return f"{campaign_name} - {ad_set_name}"


def tracking_campaign_payload(
    plan: CampaignPlanIn,
    *,
    name: str,
    template_id: str,
    fb_campaign_id: str,
    fb_ad_set_id: str,
) -> dict[str, Any]:
    """Strategis `POST /api/campaigns` body (seed step 5)."""
    return {
        "name": name,
        "category": plan.category,
        "template": {"id": template_id},
        "properties": {
            "buyer": plan.brand,
            "networkName": "facebook",
            "destination": plan.destination,
            "domain": plan.domain,
            "fbCampaignId": fb_campaign_id,
            "fbAdSetId": fb_ad_set_id,
        },
        "organizations": [plan.organization],
    }


def creative_payload(plan: CampaignPlanIn, ad: AdPlan, name: str, link: str) -> dict[str, Any]:
    """Relay `adcreatives/create` body: a link ad whose link is the ad set's tracking URL."""
    link_data: dict[str, Any] = {
        "link": link,
        "message": ad.primary_text,
        "name": ad.headline,
        "call_to_action": {"type": ad.call_to_action, "value": {"link": link}},
    }
    if ad.description:
        link_data["description"] = ad.description
    if ad.image_hash:
        link_data["image_hash"] = ad.image_hash
    else:
        link_data["picture"] = ad.image_url
    return {
        "adAccountId": plan.ad_account_id,
        "name": name,
        "object_story_spec": {"page_id": plan.page_id, "link_data": link_data},
    }


def ad_payload(name: str, fb_ad_set_id: str, creative_id: str) -> dict[str, Any]:
    """Relay `ads/create` body; ads start PAUSED as in the seed."""
    return {
        "adset_id": fb_ad_set_id,
        "name": name,
        "creative": {"creative_id": creative_id},
        "status": "PAUSED",
    }
