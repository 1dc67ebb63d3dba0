"""Naming conventions: the one deterministic function that names campaigns, ad sets and ads.

Formats are `str.format` templates (settings `FLIGHTDECK_*_NAME_FORMAT`). Fields available:

- campaign: brand, objective, hookSetId, market, channel, date (YYYY-MM-DD), category,
  organization, destination
- ad set: every campaign field, plus audienceKey, placementKey, optimizationEvent,
  budgetType, version, adSetIndex
- ad: every ad-set field, plus hookId, adIndex

Names must be deterministic: the Strategis tracking campaign is adopted by its name after an
ambiguous failure, so the same plan must always produce the same names.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any

from flightdeck.domain.plans import CampaignPlanIn, GeneratedNames

CAMPAIGN_FIELDS = (
    "brand", "objective", "hookSetId", "market", "channel", "date", "category",
    "organization", "destination",
)  # fmt: skip
AD_SET_FIELDS = CAMPAIGN_FIELDS + (
    "audienceKey", "placementKey", "optimizationEvent", "budgetType", "version", "adSetIndex",
)  # fmt: skip
AD_FIELDS = AD_SET_FIELDS + ("hookId", "adIndex")

MAX_NAME_LENGTH = 400  # Graph's limit on ad set names; we hold every level to it.


class NamingFormatError(ValueError):
    """A naming format names a field that does not exist at its level."""


@dataclass(frozen=True)
class NamingConvention:
    campaign_format: str
    ad_set_format: str
    ad_format: str

    def __post_init__(self) -> None:
        for fmt, allowed in (
            (self.campaign_format, CAMPAIGN_FIELDS),
            (self.ad_set_format, AD_SET_FIELDS),
            (self.ad_format, AD_FIELDS),
        ):
            for _, field, _, _ in string.Formatter().parse(fmt):
                if field is not None and field.split(".")[0].split("[")[0] not in allowed:
                    raise NamingFormatError(f"unknown field {{{field}}} in name format {fmt!r}")


def generate_names(plan: CampaignPlanIn, convention: NamingConvention) -> GeneratedNames:
    """Name the campaign, each ad set and each ad of a plan from its fields."""
    campaign_fields: dict[str, Any] = {
        "brand": plan.brand,
        "objective": plan.objective,
        "hookSetId": plan.hook_set_id,
        "market": plan.market,
        "channel": plan.channel,
        "date": plan.date.isoformat(),
        "category": plan.category,
        "organization": plan.organization,
        "destination": plan.destination,
    }
    campaign_name = _fit(convention.campaign_format.format(**campaign_fields))
    ad_set_names: list[str] = []
    ad_names: list[list[str]] = []
    for i, ad_set in enumerate(plan.ad_sets):
        ad_set_fields = campaign_fields | {
            "audienceKey": ad_set.audience_key,
            "placementKey": ad_set.placement_key,
            "optimizationEvent": ad_set.optimization_event,
            "budgetType": ad_set.budget_type,
            "version": ad_set.version,
            "adSetIndex": i,
        }
        ad_set_names.append(_fit(convention.ad_set_format.format(**ad_set_fields)))
        ad_names.append(
            [
                _fit(convention.ad_format.format(**ad_set_fields, hookId=ad.hook_id, adIndex=j))
                for j, ad in enumerate(ad_set.ads)
            ]
        )
    return GeneratedNames(campaign_name=campaign_name, ad_set_names=ad_set_names, ad_names=ad_names)


def _fit(name: str) -> str:
    name = " ".join(name.split())
    return name[:MAX_NAME_LENGTH]
