"""Seed 001's `publish_data`: the Graph payloads of a wizard-built campaign (campaign, ad set,
creatives, ads, metadata), built from its sections and Meta connection, with every problem that
would stop a publish found at once (prepare = a dry run before money moves).

Goal -> Graph (DOC:ad-campaign-group §odax-mapping):

    website-visits  OUTCOME_TRAFFIC  LINK_CLICKS                    destination WEBSITE
    leads, website  OUTCOME_LEADS    OFFSITE_CONVERSIONS + pixel    destination WEBSITE
    leads, form     OUTCOME_LEADS    LEAD_GENERATION + page         destination ON_AD
    calls           OUTCOME_LEADS    QUALITY_CALL                   CTA CALL_NOW tel:+…

The campaign is created PAUSED whatever the wanted status (`metadata.launchStatus`): nothing
spends until every object exists, and the publish turns it on last.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flightdeck.domain.meta_rules import (
    ACCOUNT_STATUSES,
    REQUIRED_SCOPES,
    min_daily_budget,
    targets_eu,
    to_minor,
)
from flightdeck.domain.meta_sections import SECTIONS, section_errors

PUBLISH_DATA_VERSION = "flightdeck-meta-1"
OBJECTIVES = {
    "website-visits": "OUTCOME_TRAFFIC",
    "leads": "OUTCOME_LEADS",
    "calls": "OUTCOME_LEADS",
}
DESTINATIONS = {"website-visits": ("website",), "leads": ("website", "form"), "calls": ("call",)}
DEFAULT_CTA = {"website": "LEARN_MORE", "form": "SIGN_UP", "call": "CALL_NOW"}
MARKER_PREFIX = "fd:"
# Problems that leave nothing sensible to build (the payloads would point nowhere).
UNBUILDABLE = frozenset({"unknown_copy"})


@dataclass(frozen=True)
class ConnectionFacts:
    """What prepare needs to know about the campaign's Meta connection (no token)."""

    connection_id: str
    status: str
    status_reason: str | None
    token_expires_at: datetime | None
    scopes: frozenset[str]
    ad_account_id: str | None
    ad_account_status: int | None
    currency: str | None
    payment_connected: bool
    page_id: str | None
    instagram_user_id: str | None


@dataclass(frozen=True)
class AdRow:
    """A meta_ads row as prepare sees it (position order)."""

    id: str
    name: str


@dataclass
class Prepared:
    publish_data: dict[str, Any] | None
    problems: list[dict[str, str]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems and self.publish_data is not None


def problem(field_path: str, code: str, message: str) -> dict[str, str]:
    return {"field": field_path, "code": code, "message": message}


def prepare(
    *,
    name: str,
    sections: Mapping[str, Any],
    connection: ConnectionFacts | None,
    ads: Sequence[AdRow],
    previous_metadata: Mapping[str, Any] | None,
    now: datetime,
    token_validity_needed: timedelta,
) -> Prepared:
    """Build publish_data and list every problem (sections, connection, Graph rules)."""
    problems = _section_problems(sections)
    problems += connection_problems(connection, now, token_validity_needed)
    if problems and any(p["code"] in ("missing", "invalid") for p in problems):
        return Prepared(None, problems)
    assert connection is not None and connection.currency is not None
    problems += _rule_problems(sections, connection.currency, now)
    if any(p["code"] in UNBUILDABLE for p in problems):
        return Prepared(None, problems)
    data = _publish_data(name, sections, connection, ads, previous_metadata or {}, now)
    return Prepared(data, problems)


def _section_problems(sections: Mapping[str, Any]) -> list[dict[str, str]]:
    found = []
    for section in SECTIONS:
        data = sections.get(section)
        if data is None:
            found.append(problem(section, "missing", f"the {section} section is not filled in"))
            continue
        for error in section_errors(section, data):
            found.append(problem(error["field"], "invalid", error["message"]))
    return found


def connection_problems(
    connection: ConnectionFacts | None, now: datetime, validity: timedelta
) -> list[dict[str, str]]:
    """Why the connection cannot carry a publish (token, scopes, account, payment, Page)."""
    if connection is None:
        return [problem("metaConnection", "no_connection", "choose a Meta connection")]
    found = []
    where = "metaConnection"
    if connection.status in ("authorizing", "disconnected", "declined"):
        found.append(problem(where, "not_connected", f"the connection is {connection.status}"))
    expires = connection.token_expires_at
    if expires is not None and expires <= now:
        found.append(problem(where, "token_expired", "the Meta token has expired: reconnect"))
    elif expires is not None and expires <= now + validity:
        found.append(
            problem(
                where,
                "token_expires_soon",
                f"the Meta token expires at {expires.isoformat()}, before the publish would "
                "finish: reconnect first",
            )
        )
    missing = [s for s in REQUIRED_SCOPES if s not in connection.scopes]
    if missing:
        found.append(
            problem(where, "missing_scopes", f"permissions not granted: {', '.join(missing)}")
        )
    if connection.ad_account_id is None:
        found.append(problem(where, "no_ad_account", "select an ad account"))
    elif connection.ad_account_status != 1:
        status = ACCOUNT_STATUSES.get(connection.ad_account_status or 0, "UNKNOWN")
        found.append(
            problem(
                where,
                "account_not_active",
                f"ad account {connection.ad_account_id} is {status}; it cannot run ads",
            )
        )
    if connection.ad_account_id is not None and not connection.payment_connected:
        found.append(problem(where, "no_payment_method", "the ad account has no payment method"))
    if connection.page_id is None:
        found.append(problem(where, "no_page", "select a Facebook Page"))
    if connection.currency is None and connection.ad_account_id is not None:
        found.append(problem(where, "no_currency", "the ad account's currency is unknown"))
    return found


def _rule_problems(
    sections: Mapping[str, Any], currency: str, now: datetime
) -> list[dict[str, str]]:
    goal, location = sections["goal"], sections["location"]
    budget, copy, preview = sections["budget"], sections["adCopy"], sections["adPreview"]
    found = []
    allowed = DESTINATIONS[goal["goal"]]
    kinds = {ad["destination"]["type"] for ad in preview["ads"]}
    for index, ad in enumerate(preview["ads"]):
        kind = ad["destination"]["type"]
        if kind not in allowed:
            found.append(
                problem(
                    f"adPreview.ads.{index}.destination.type",
                    "destination_not_allowed",
                    f"a {goal['goal']} campaign sends people to {' or '.join(allowed)}, not {kind}",
                )
            )
        if ad["copyVariation"] >= len(copy["variations"]):
            found.append(
                problem(
                    f"adPreview.ads.{index}.copyVariation",
                    "unknown_copy",
                    f"there is no ad copy variation {ad['copyVariation']}",
                )
            )
    if len(kinds) > 1:
        found.append(
            problem(
                "adPreview.ads", "mixed_destinations", "all ads of one ad set share a destination"
            )
        )
    if goal["goal"] == "leads" and "website" in kinds and not goal.get("pixelId"):
        found.append(
            problem("goal.pixelId", "pixel_required", "website leads are counted by a Meta pixel")
        )
    if targets_eu(location["countries"]):
        for name in ("dsaBeneficiary", "dsaPayor"):
            if not location.get(name):
                found.append(problem(f"location.{name}", "dsa_required", "required for EU ads"))
    if location.get("ageMin", 18) > location.get("ageMax", 65):
        found.append(problem("location.ageMin", "invalid_ages", "must not exceed ageMax"))
    found += _budget_problems(budget, goal, currency, now)
    return found


def _budget_problems(
    budget: Mapping[str, Any], goal: Mapping[str, Any], currency: str, now: datetime
) -> list[dict[str, str]]:
    found = []
    optimization = optimization_goal(goal, _first_destination_kind(goal))
    minimum = min_daily_budget(currency, optimization)
    start = _time(budget.get("startTime")) or now
    end = _time(budget.get("endTime"))
    amount = to_minor(Decimal(str(budget["amount"])), currency)
    days = 1
    if end is not None:
        if end <= max(start, now):
            found.append(problem("budget.endTime", "end_in_past", "must be after the start"))
        days = max(1, -(-int((end - start).total_seconds()) // 86_400))
        if budget["type"] == "daily" and end - start < timedelta(hours=24):
            found.append(
                problem("budget.endTime", "too_short", "a daily budget needs more than 24 hours")
            )
    needed = minimum * (days if budget["type"] == "lifetime" else 1)
    if amount < needed:
        found.append(
            problem(
                "budget.amount",
                "budget_too_low",
                f"Meta's minimum for {optimization} is {needed / _units(currency):.2f} "
                f"{currency}{' over the schedule' if budget['type'] == 'lifetime' else ' a day'}",
            )
        )
    return found


def _first_destination_kind(goal: Mapping[str, Any]) -> str:
    return DESTINATIONS[goal["goal"]][0]


def optimization_goal(goal: Mapping[str, Any], destination: str) -> str:
    if goal["goal"] == "website-visits":
        return "LINK_CLICKS"
    if goal["goal"] == "calls":
        return "QUALITY_CALL"
    return "LEAD_GENERATION" if destination == "form" else "OFFSITE_CONVERSIONS"


# -- building publish_data -----------------------------------------------------------------


def _publish_data(
    name: str,
    sections: Mapping[str, Any],
    connection: ConnectionFacts,
    ads: Sequence[AdRow],
    previous: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    goal, budget, preview = sections["goal"], sections["budget"], sections["adPreview"]
    currency = connection.currency or "USD"
    destination = preview["ads"][0]["destination"]["type"]
    campaign: dict[str, Any] = {
        "name": name,
        "objective": OBJECTIVES[goal["goal"]],
        "status": "PAUSED",
        "special_ad_categories": list(goal.get("specialAdCategories", [])),
    }
    adset = _adset(name, sections, connection, destination)
    money = {f"{budget['type']}_budget": to_minor(Decimal(str(budget["amount"])), currency)}
    strategy = budget.get("bidStrategy", "LOWEST_COST_WITHOUT_CAP")
    if budget.get("level", "adset") == "campaign":  # CBO: the budget and strategy on the campaign
        campaign |= money | {"bid_strategy": strategy}
    else:
        adset |= money | {"bid_strategy": strategy}
    if budget.get("bidAmount") is not None:
        adset["bid_amount"] = to_minor(Decimal(str(budget["bidAmount"])), currency)
    creatives = [_creative(ad, sections, connection) for ad in preview["ads"]]
    ads_out = [
        {
            "name": ad["name"],
            "adset_id": "",
            "creative": {"creative_id": ""},
            "status": "ACTIVE",
        }
        for ad in preview["ads"]
    ]
    # Image hashes belong to an ad account: keep the cache only while the account is the same.
    same_account = previous.get("adAccountId") == connection.ad_account_id
    return {
        "campaign": campaign,
        "adset": adset,
        "creatives": creatives,
        "ads": ads_out,
        "metadata": {
            "preparedAt": now.isoformat(),
            "version": PUBLISH_DATA_VERSION,
            "imageHashes": dict(previous.get("imageHashes", {})) if same_account else {},
            "creativeIds": list(previous.get("creativeIds", [])) if same_account else [],
            "adIds": [row.id for row in ads],
            "adAccountId": connection.ad_account_id,
            "currency": currency,
            "launchStatus": goal.get("launchStatus", "ACTIVE"),
        },
    }


def _adset(
    name: str, sections: Mapping[str, Any], connection: ConnectionFacts, destination: str
) -> dict[str, Any]:
    goal, location, budget = sections["goal"], sections["location"], sections["budget"]
    optimization = optimization_goal(goal, destination)
    adset: dict[str, Any] = {
        "name": f"{name} - ad set",
        "campaign_id": "",
        "billing_event": "IMPRESSIONS",
        "optimization_goal": optimization,
        "targeting": targeting(location),
        "status": "ACTIVE",
    }
    if optimization == "OFFSITE_CONVERSIONS":
        promoted = {"custom_event_type": goal.get("conversionEvent", "LEAD")}
        if goal.get("pixelId"):  # without one, prepare reports pixel_required
            promoted["pixel_id"] = goal["pixelId"]
        adset["promoted_object"] = promoted
        adset["destination_type"] = "WEBSITE"
    elif optimization == "LEAD_GENERATION":
        adset["promoted_object"] = {"page_id": connection.page_id}
        adset["destination_type"] = "ON_AD"
    elif optimization == "LINK_CLICKS":
        adset["destination_type"] = "WEBSITE"
    for ours, graphs in (("startTime", "start_time"), ("endTime", "end_time")):
        if budget.get(ours):
            adset[graphs] = budget[ours]
    if targets_eu(location["countries"]):
        adset["dsa_beneficiary"] = location["dsaBeneficiary"]
        adset["dsa_payor"] = location["dsaPayor"]
    return adset


def targeting(location: Mapping[str, Any]) -> dict[str, Any]:
    geo: dict[str, Any] = {"countries": list(location["countries"])}
    if location.get("regions"):
        geo["regions"] = [{"key": r["key"]} for r in location["regions"]]
    if location.get("cities"):
        geo["cities"] = [
            {"key": c["key"], "radius": c.get("radius", 25),
             "distance_unit": c.get("distanceUnit", "mile")}
            for c in location["cities"]
        ]  # fmt: skip
    spec: dict[str, Any] = {
        "geo_locations": geo,
        "age_min": location.get("ageMin", 18),
        "age_max": location.get("ageMax", 65),
        # Sent explicitly: v23 wants the Advantage+ audience choice at creation (a third-party
        # report, UNCONFIRMED in Meta's docs); 0 keeps the targeting exactly as chosen.
        "targeting_automation": {"advantage_audience": 0},
    }
    if location.get("genders"):
        spec["genders"] = list(location["genders"])
    return spec


def _creative(
    ad: Mapping[str, Any], sections: Mapping[str, Any], connection: ConnectionFacts
) -> dict[str, Any]:
    copy = sections["adCopy"]["variations"][ad["copyVariation"]]
    destination = ad["destination"]
    kind = destination["type"]
    cta_type = ad.get("callToAction") or DEFAULT_CTA[kind]
    if kind == "call":
        cta = {"type": "CALL_NOW", "value": {"link": f"tel:{destination['phoneNumber']}"}}
    elif kind == "form":
        cta = {"type": cta_type, "value": {"lead_gen_form_id": destination["leadFormId"]}}
    else:
        cta = {"type": cta_type, "value": {"link": destination["url"]}}
    link_data: dict[str, Any] = {
        "link": destination["url"],
        "message": copy["primaryText"],
        "name": copy["headline"],
        "call_to_action": cta,
    }
    if copy.get("description"):
        link_data["description"] = copy["description"]
    spec: dict[str, Any] = {"page_id": connection.page_id, "link_data": link_data}
    if connection.instagram_user_id:
        spec["instagram_user_id"] = connection.instagram_user_id
    return {
        "name": f"{ad['name']} - creative",
        "object_story_spec": spec,
        "imageUrl": ad["imageUrl"],
    }


# -- what a create sends -------------------------------------------------------------------


def marker(tenant_id: str, ledger_key: str) -> str:
    """The tag only this object carries on Meta (its name ends with `[fd:<marker>]`): a hash of
    the ledger key, which names the tenant, campaign, generation and object."""
    digest = hashlib.sha256(f"{tenant_id}|{ledger_key}".encode()).hexdigest()
    return digest[:16]


def marked_name(name: str, tag: str) -> str:
    return f"{name} [{MARKER_PREFIX}{tag}]"


def ledger_key(tenant_id: str, campaign_id: str, generation: int, local: str) -> str:
    """The remote-object ledger's key for one Meta object of one publication of a campaign."""
    return f"meta/{tenant_id}/{campaign_id}/g{generation}/{local}"


def creative_params(creative: Mapping[str, Any], image_hash: str, name: str) -> dict[str, Any]:
    spec = {**creative["object_story_spec"]}
    spec["link_data"] = {**spec["link_data"], "image_hash": image_hash}
    return {"name": name, "object_story_spec": spec}


# Graph's blame paths -> the wizard field a person fixes (ad-level paths get the ad index).
BLAME_TO_FIELD = {
    "name": "name",
    "objective": "goal.goal",
    "special_ad_categories": "goal.specialAdCategories",
    "daily_budget": "budget.amount",
    "lifetime_budget": "budget.amount",
    "bid_strategy": "budget.bidStrategy",
    "bid_amount": "budget.bidAmount",
    "start_time": "budget.startTime",
    "end_time": "budget.endTime",
    "optimization_goal": "goal.goal",
    "promoted_object": "goal.pixelId",
    "promoted_object.pixel_id": "goal.pixelId",
    "dsa_beneficiary": "location.dsaBeneficiary",
    "dsa_payor": "location.dsaPayor",
    "targeting": "location",
    "targeting.geo_locations.countries": "location.countries",
    "targeting.age_min": "location.ageMin",
    "targeting.age_max": "location.ageMax",
    "targeting.genders": "location.genders",
    "object_story_spec.page_id": "metaConnection",
    "object_story_spec.instagram_user_id": "metaConnection",
    "object_story_spec.link_data.link": "adPreview.ads.{i}.destination.url",
    "object_story_spec.link_data.message": "adCopy.variations",
    "object_story_spec.link_data.name": "adCopy.variations",
    "object_story_spec.link_data.image_hash": "adPreview.ads.{i}.imageUrl",
    "object_story_spec.link_data.call_to_action.type": "adPreview.ads.{i}.callToAction",
    "object_story_spec.link_data.call_to_action.value.link": "adPreview.ads.{i}.destination",
}


def our_fields(blame: Sequence[str], ad_index: int | None = None) -> list[str]:
    """Graph's `blame_field_specs` paths as the wizard's field paths."""
    fields = []
    for path in blame:
        ours = BLAME_TO_FIELD.get(path)
        if ours is None:
            prefix = next((k for k in BLAME_TO_FIELD if path.startswith(k + ".")), None)
            ours = BLAME_TO_FIELD[prefix] if prefix else f"graph:{path}"
        fields.append(ours.replace("{i}", str(ad_index if ad_index is not None else 0)))
    return fields


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _units(currency: str) -> int:
    from flightdeck.domain.meta_rules import minor_units

    return minor_units(currency)
