"""Campaign plans (seed 000): what a user POSTs, validated, in the seed's camelCase JSON."""

from __future__ import annotations

import re
from datetime import date as Date
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from flightdeck.domain.graph import (
    BID_STRATEGIES,
    BID_STRATEGIES_NEEDING_BID_AMOUNT,
    CALL_TO_ACTION_TYPES,
    CUSTOM_EVENT_TYPES,
    MIN_BUDGET_MINOR_UNITS,
    OBJECTIVES_ACCEPTED,
)

# Plan money is micros of USD (the seed's unit); Graph's is cents.
MICROS_PER_CENT = 10_000


def platform_problems(plan: CampaignPlanIn) -> list[dict[str, str]]:
    """What Facebook would refuse in this plan, found before anything is stored or sent: every
    problem at once, by field path. (Checked at the API, not by the model: a workflow decodes
    its input with the model, and a stricter model must never fail a run already in flight.)"""
    problems: list[dict[str, str]] = []
    minimum = MIN_BUDGET_MINOR_UNITS * MICROS_PER_CENT
    for i, ad_set in enumerate(plan.ad_sets):
        for name in ("daily_budget", "bid_amount"):
            value = getattr(ad_set, name)
            field = f"adSets.{i}.{to_camel(name)}"
            if value is not None and int(value) % MICROS_PER_CENT:
                problems.append({"field": field, "message": (
                    f"{value} micros is not a whole number of cents (1 cent = "
                    f"{MICROS_PER_CENT} micros): Facebook takes budgets and bids in cents"
                )})  # fmt: skip
        if int(ad_set.daily_budget) < minimum:
            problems.append({
                "field": f"adSets.{i}.dailyBudget",
                "message": f"is below Facebook's minimum daily budget ({minimum} micros = "
                f"{MIN_BUDGET_MINOR_UNITS} cents)",
            })  # fmt: skip
        if ad_set.bid_strategy in BID_STRATEGIES_NEEDING_BID_AMOUNT and ad_set.bid_amount is None:
            problems.append({
                "field": f"adSets.{i}.bidAmount",
                "message": f"is required with bidStrategy {ad_set.bid_strategy}",
            })  # fmt: skip
    return problems


PlanStatus = Literal["draft", "pending", "creating", "active", "paused", "failed", "cancelled"]
MappingStatus = Literal["pending", "creating", "active", "failed", "cancelled"]


class CamelModel(BaseModel):
    """Accepts and emits the seed's camelCase keys; also accepts snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=False
    )


class AdPlan(CamelModel):
    """One ad: its creative content. The link is always the ad set's Strategis tracking URL."""

    hook_id: str = Field(min_length=1, max_length=100)
    headline: str = Field(min_length=1, max_length=255)
    primary_text: str = Field(min_length=1, max_length=2000)
    description: str | None = Field(default=None, max_length=255)
    image_hash: str | None = Field(default=None, max_length=255)
    image_url: str | None = Field(default=None, max_length=2000)
    call_to_action: str = "LEARN_MORE"

    @field_validator("call_to_action")
    @classmethod
    def _cta(cls, value: str) -> str:
        if value not in CALL_TO_ACTION_TYPES:
            raise ValueError(f"unknown call to action {value!r}")
        return value

    @model_validator(mode="after")
    def _one_image(self) -> AdPlan:
        if not self.image_hash and not self.image_url:
            raise ValueError("one of imageHash or imageUrl is required")
        return self


class AdSetPlan(CamelModel):
    """One Facebook ad set, with its tracking campaign and ads (seed's `AdSetPlan`)."""

    audience_key: str = Field(min_length=1, max_length=100)
    placement_key: str = Field(min_length=1, max_length=100)
    optimization_event: str = Field(min_length=1, max_length=100)
    budget_type: Literal["CBO", "ABO"]
    version: int = Field(ge=1, le=10_000)
    targeting: dict[str, Any]
    pixel_id: str = Field(min_length=1, max_length=64)
    custom_event_type: str
    daily_budget: str = Field(
        description="Daily budget in micros of the account currency, as a string of digits: "
        '"50000000" is $50.00 (1 USD = 1,000,000 micros). Unlike campaign sets, whose budgets '
        "are currency units. Whole cents only, and at least Facebook's minimum daily budget.",
        examples=["50000000"],
    )
    bid_strategy: str = "LOWEST_COST_WITHOUT_CAP"
    bid_amount: str | None = Field(
        default=None,
        description='Bid cap in micros, as a string of digits ("1500000" = $1.50), if any; '
        "whole cents only",
    )
    start_time: datetime | None = None
    ads: list[AdPlan] = Field(min_length=1, max_length=50)

    @field_validator("daily_budget", "bid_amount")
    @classmethod
    def _micros(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[1-9][0-9]{0,17}", value):
            raise ValueError("must be a positive whole number of micros, as a string")
        return value

    @field_validator("custom_event_type")
    @classmethod
    def _event(cls, value: str) -> str:
        if value not in CUSTOM_EVENT_TYPES:
            raise ValueError(f"unknown custom event type {value!r}")
        return value

    @field_validator("bid_strategy")
    @classmethod
    def _bid(cls, value: str) -> str:
        if value not in BID_STRATEGIES:
            raise ValueError(f"unknown bid strategy {value!r}")
        return value

    @field_validator("targeting")
    @classmethod
    def _targeting(cls, value: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value.get("geo_locations"), dict):
            raise ValueError("targeting.geo_locations is required")
        return value


class CampaignPlanIn(CamelModel):
    """The body of `POST /api/v1/campaign-plans`."""

    request_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    brand: str = Field(min_length=1, max_length=255)
    objective: str
    hook_set_id: str = Field(min_length=1, max_length=255)
    market: str = Field(min_length=1, max_length=10)
    channel: str = Field(min_length=1, max_length=10)
    date: Date
    category: str = Field(min_length=1, max_length=100)
    ad_account_id: str = Field(pattern=r"^act_[0-9]+$")
    organization: str = Field(min_length=1, max_length=255)
    page_id: str = Field(min_length=1, max_length=64, description="Facebook page the ads run as")
    domain: str = Field(min_length=1, max_length=255)
    destination: str = Field(min_length=1, max_length=50)
    template_id: str | None = Field(
        default=None, description="Strategis template id; if absent one is found or created"
    )
    special_ad_categories: list[str] = Field(default_factory=list)
    ad_sets: list[AdSetPlan] = Field(min_length=1, max_length=50)

    @field_validator("objective")
    @classmethod
    def _objective(cls, value: str) -> str:
        if value not in OBJECTIVES_ACCEPTED:
            raise ValueError(f"unknown objective {value!r}")
        return value

    @model_validator(mode="after")
    def _one_budget_type(self) -> CampaignPlanIn:
        types = {ad_set.budget_type for ad_set in self.ad_sets}
        if len(types) > 1:
            raise ValueError("all adSets must share one budgetType (CBO or ABO)")
        if self.budget_type == "CBO" and len({a.bid_strategy for a in self.ad_sets}) > 1:
            raise ValueError("CBO adSets must share one bidStrategy (it goes on the campaign)")
        return self

    @property
    def budget_type(self) -> Literal["CBO", "ABO"]:
        return self.ad_sets[0].budget_type


class GeneratedNames(CamelModel):
    """Names derived from a plan by the naming convention (seed: campaignName, adSetNames …)."""

    campaign_name: str
    ad_set_names: list[str]
    ad_names: list[list[str]]
