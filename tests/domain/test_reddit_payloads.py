"""Our specs as Reddit request bodies: seed 002's "Summer Sale" in the contract's real fields,
the enum mappings, keyword targeting, the call-to-action text, PATCH diffs and the fields
Reddit fixes at creation, and every body valid under the spec's request schemas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

import pytest

from flightdeck.domain import reddit_payloads as payloads
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    CallToAction,
    CampaignSpec,
)
from flightdeck.simulators.reddit_spec import reddit_spec

CAMPAIGN_CREATE = ("POST", "/ad_accounts/{ad_account_id}/campaigns")
CAMPAIGN_PATCH = ("PATCH", "/campaigns/{campaign_id}")
AD_GROUP_CREATE = ("POST", "/ad_accounts/{ad_account_id}/ad_groups")
AD_GROUP_PATCH = ("PATCH", "/ad_groups/{ad_group_id}")
POST_CREATE = ("POST", "/profiles/{profile_id}/posts")
AD_CREATE = ("POST", "/ad_accounts/{ad_account_id}/ads")
AD_PATCH = ("PATCH", "/ads/{ad_id}")
SUMMER_BUDGET = {"type": "daily", "amount": 50, "currency": "USD"}
START = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def campaign(**changes: Any) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {"name": "Summer Sale", "objective": "conversions"} | changes
    )


def cbo_campaign(**changes: Any) -> CampaignSpec:
    fields = {"budget": SUMMER_BUDGET, "budgetOptimization": True, "startTime": START}
    return campaign(**(fields | changes))


def ad_group(**changes: Any) -> AdGroupSpec:
    fields = {
        "name": "Summer Sale - deal hunters",
        "budget": SUMMER_BUDGET,
        "targeting": {"communities": ["deals"], "geolocations": ["US"], "devices": ["MOBILE"]},
        "keywords": [
            {"text": "summer sale"},
            {"text": "discount code"},
            {"text": "free", "negative": True},
        ],
    }
    return AdGroupSpec.model_validate(fields | changes)


def ad(**changes: Any) -> AdSpec:
    fields = {
        "name": "Summer Sale - image 1",
        "headline": "Summer Sale: 40% off everything",
        "description": "This week only.",
        "finalUrl": "https://shop.example.com/summer",
        "callToAction": "SHOP_NOW",
        "imageUrl": "https://cdn.example.com/summer.jpg",
    }
    return AdSpec.model_validate(fields | changes)


def assert_spec_valid(operation: tuple[str, str], data: dict[str, Any]) -> None:
    """Valid under the operation's request schema, and every field one Reddit applies (the
    simulator, like Reddit, drops fields a body may carry but the operation does not declare)."""
    op = reddit_spec().operation(*operation)
    assert op is not None
    assert op.body_errors({"data": data}) == []
    assert op.writable(data) == data


# -- seed 002's "Summer Sale" --------------------------------------------------------------


def test_summer_sale_budget_goes_on_the_ad_group() -> None:
    data = payloads.ad_group_create("1900", campaign(), ad_group())
    assert data["goal_type"] == "DAILY_SPEND" and data["goal_value"] == 50_000_000
    created = payloads.campaign_create(campaign(), "700000000001")
    assert created == {
        "name": "Summer Sale",
        "objective": "CONVERSIONS",
        "configured_status": "PAUSED",
        "is_campaign_budget_optimization": False,
        "funding_instrument_id": "700000000001",
    }


def test_summer_sale_budget_goes_on_the_campaign_under_budget_optimization() -> None:
    created = payloads.campaign_create(cbo_campaign(), "700000000001", conversion_pixel_id="t2_px")
    assert created["goal_type"] == "DAILY_SPEND" and created["goal_value"] == 50_000_000
    assert created["is_campaign_budget_optimization"] is True
    assert created["start_time"] == "2026-12-01T09:30:00Z"
    assert created["conversion_pixel_id"] == "t2_px"
    group = payloads.ad_group_create("1900", cbo_campaign(), ad_group(budget=None))
    assert "goal_type" not in group and "goal_value" not in group
    # Reddit: an ad group's bidding must match its budget-optimized campaign's.
    assert (group["bid_strategy"], group["bid_type"]) == (
        created["bid_strategy"],
        created["bid_type"],
    )


def test_a_budget_reddit_has_no_place_for_is_refused() -> None:
    with pytest.raises(payloads.RedditPayloadError, match="budgetOptimization") as daily:
        payloads.campaign_create(campaign(budget=SUMMER_BUDGET))
    assert daily.value.field == "budget"
    with pytest.raises(payloads.RedditPayloadError) as missing:
        payloads.ad_group_create("1900", campaign(), ad_group(budget=None))
    assert missing.value.field == "budget"
    with pytest.raises(payloads.RedditPayloadError) as doubled:
        payloads.ad_group_create("1900", cbo_campaign(), ad_group())
    assert doubled.value.field == "budget"


def test_a_lifetime_campaign_budget_is_the_spend_cap() -> None:
    lifetime = {"type": "lifetime", "amount": "1200.50"}
    assert payloads.campaign_create(campaign(budget=lifetime))["spend_cap"] == 1_200_500_000


# -- mappings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "configured"),
    [("draft", "PAUSED"), ("pending", "PAUSED"), ("paused", "PAUSED"), ("active", "ACTIVE")],
)
def test_new_objects_take_our_status_mapped(status: str, configured: str) -> None:
    assert payloads.campaign_create(campaign(status=status))["configured_status"] == configured
    group = payloads.ad_group_create("1", campaign(), ad_group(status=status))
    assert group["configured_status"] == configured
    assert payloads.ad_create("2", "t3_x", ad(status=status))["configured_status"] == configured


def test_an_outcome_status_creates_paused_and_patches_nothing() -> None:
    assert payloads.campaign_create(campaign(status="error"))["configured_status"] == "PAUSED"
    assert payloads.campaign_patch(campaign(status="completed"), campaign(status="active")) == {}


@pytest.mark.parametrize(
    ("bid", "expected"),
    [
        ({"bidStrategy": "automatic"}, {"bid_strategy": "MAXIMIZE_VOLUME", "bid_type": "CPM"}),
        (
            {"bidStrategy": "manual_cpc", "bidAmount": "1.25"},
            {"bid_strategy": "MANUAL_BIDDING", "bid_type": "CPC", "bid_value": 1_250_000},
        ),
        (
            {"bidStrategy": "target_cost", "bidAmount": 12},
            {"bid_strategy": "TARGET_CPX", "bid_type": "CPM", "bid_value": 12_000_000},
        ),
    ],
)
def test_bidding(bid: dict[str, Any], expected: dict[str, Any]) -> None:
    data = payloads.ad_group_create("1", campaign(), ad_group(**bid))
    assert {k: v for k, v in data.items() if k.startswith("bid_")} == expected


def test_a_bid_reddit_refuses_names_our_field() -> None:
    with pytest.raises(payloads.RedditPayloadError, match="needs a bid amount") as error:
        payloads.ad_group_create("1", campaign(), ad_group(bidStrategy="manual_cpc"))
    assert error.value.field == "bidAmount"


@pytest.mark.parametrize(
    ("objective", "goal"),
    [("conversions", "PURCHASE"), ("app_installs", "MOBILE_CONVERSION_INSTALL"), ("traffic", None)],
)
def test_optimization_goal_defaults_per_objective(objective: str, goal: str | None) -> None:
    data = payloads.ad_group_create("1", campaign(objective=objective), ad_group())
    assert data.get("optimization_goal") == goal
    chosen = ad_group(optimizationGoal="ADD_TO_CART")
    assert payloads.ad_group_create("1", campaign(), chosen)["optimization_goal"] == "ADD_TO_CART"


def test_keywords_are_the_ad_groups_targeting() -> None:
    keywords = [
        {"text": "summer sale"},
        {"text": "summer sale"},
        {"text": "old promo", "status": "paused"},
        {"text": "free", "negative": True},
        {"text": "cheap", "negative": True, "status": "draft"},
    ]
    data = payloads.ad_group_create("1", campaign(), ad_group(keywords=keywords))
    assert data["targeting"] == {
        "communities": ["deals"],
        "interests": [],
        "geolocations": ["US"],
        "devices": [{"type": "MOBILE"}],
        "keywords": ["summer sale"],
        "excluded_keywords": ["free", "cheap"],
    }


@pytest.mark.parametrize("call_to_action", get_args(CallToAction))
def test_every_call_to_action_is_a_reddit_button(call_to_action: str) -> None:
    post = payloads.post_create(ad(callToAction=call_to_action))
    assert_spec_valid(POST_CREATE, post)
    button = post["content"][0]["call_to_action"]  # e.g. "Get a Quote" for GET_A_QUOTE
    assert button.upper().replace(" ", "_") == call_to_action


def test_the_post_carries_the_copy_and_the_ad_the_click() -> None:
    post = payloads.post_create(ad())
    assert post == {
        "type": "IMAGE",
        "headline": "Summer Sale: 40% off everything",
        "body": "This week only.",
        "content": [
            {
                "destination_url": "https://shop.example.com/summer",
                "call_to_action": "Shop Now",
                "media_url": "https://cdn.example.com/summer.jpg",
            }
        ],
    }
    assert payloads.post_create(ad(imageUrl=None, description=None))["type"] == "TEXT"
    assert payloads.ad_create("42", "t3_abc", ad()) == {
        "ad_group_id": "42",
        "post_id": "t3_abc",
        "name": "Summer Sale - image 1",
        "configured_status": "PAUSED",
        "click_url": "https://shop.example.com/summer",
    }


def test_timestamps_are_iso_8601_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert payloads.reddit_timestamp(datetime(2026, 12, 1, 10, 30, tzinfo=paris)) == (
        "2026-12-01T09:30:00Z"
    )
    assert payloads.reddit_timestamp(datetime(2026, 12, 1, 9, 30)) == "2026-12-01T09:30:00Z"
    group = ad_group(startTime=START, endTime=START + timedelta(days=14))
    data = payloads.ad_group_create("1", campaign(), group)
    assert (data["start_time"], data["end_time"]) == (
        "2026-12-01T09:30:00Z",
        "2026-12-15T09:30:00Z",
    )


def test_a_campaign_start_time_needs_budget_optimization() -> None:
    with pytest.raises(payloads.RedditPayloadError) as error:
        payloads.campaign_create(campaign(startTime=START))
    assert error.value.field == "startTime"


# -- patches --------------------------------------------------------------------------------


def test_patches_carry_only_what_changed() -> None:
    assert payloads.campaign_patch(campaign(name="Summer Sale 2"), campaign()) == {
        "name": "Summer Sale 2"
    }
    assert payloads.campaign_patch(campaign(status="active"), campaign()) == {
        "configured_status": "ACTIVE"
    }
    more = ad_group(budget={"type": "daily", "amount": 75})
    assert payloads.ad_group_patch(campaign(), more, ad_group()) == {"goal_value": 75_000_000}
    assert payloads.ad_patch(ad(finalUrl="https://shop.example.com/fall"), ad()) == {
        "click_url": "https://shop.example.com/fall"
    }


def test_a_keyword_change_patches_the_targeting() -> None:
    keywords = [{"text": "summer sale"}, {"text": "beach gear"}]
    changes = payloads.ad_group_patch(campaign(), ad_group(keywords=keywords), ad_group())
    assert list(changes) == ["targeting"]
    assert changes["targeting"]["keywords"] == ["summer sale", "beach gear"]
    assert changes["targeting"]["excluded_keywords"] == []


def test_equal_specs_patch_nothing() -> None:
    assert payloads.campaign_patch(campaign(), campaign()) == {}
    assert payloads.campaign_patch(cbo_campaign(), cbo_campaign()) == {}
    assert payloads.ad_group_patch(campaign(), ad_group(), ad_group()) == {}
    assert payloads.ad_patch(ad(), ad()) == {}


def test_a_removed_end_time_is_cleared() -> None:
    ends = ad_group(startTime=START, endTime=START + timedelta(days=1))
    assert payloads.ad_group_patch(campaign(), ad_group(startTime=START), ends) == {
        "end_time": None
    }


def test_without_a_base_every_patchable_field_is_sent() -> None:
    assert payloads.campaign_patch(campaign(), None) == {
        "name": "Summer Sale",
        "configured_status": "PAUSED",
    }
    changes = payloads.ad_group_patch(campaign(), ad_group(), None)
    assert set(changes) == {
        "name",
        "configured_status",
        "bid_strategy",
        "bid_type",
        "goal_type",
        "goal_value",
        "targeting",
    }
    assert set(payloads.ad_patch(ad(), None)) == {"name", "configured_status", "click_url"}


@pytest.mark.parametrize(
    ("before", "after", "field"),
    [
        (campaign(), campaign(objective="traffic"), "objective"),
        (
            cbo_campaign(),
            cbo_campaign(budget={"type": "lifetime", "amount": 500}, endTime=START),
            "budget.type",
        ),
        (campaign(), cbo_campaign(), "budgetOptimization"),
    ],
)
def test_a_campaign_field_fixed_at_creation_refuses_to_change(
    before: CampaignSpec, after: CampaignSpec, field: str
) -> None:
    with pytest.raises(payloads.ImmutableFieldError, match="can't be changed") as error:
        payloads.campaign_patch(after, before)
    assert error.value.field == field


def test_the_optimization_goal_refuses_to_change() -> None:
    with pytest.raises(payloads.ImmutableFieldError) as error:
        payloads.ad_group_patch(campaign(), ad_group(optimizationGoal="LEAD"), ad_group())
    assert error.value.field == "optimizationGoal"
    assert error.value.reddit_field == "optimization_goal"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"headline": "Fall Sale"}, "headline"),
        ({"description": "Next week too."}, "description"),
        ({"callToAction": "LEARN_MORE"}, "callToAction"),
        ({"imageUrl": None}, "imageUrl"),
        ({"displayUrl": "shop.example.com"}, "displayUrl"),
    ],
)
def test_the_posts_copy_refuses_to_change(change: dict[str, Any], field: str) -> None:
    with pytest.raises(payloads.ImmutableFieldError, match="create a new ad") as error:
        payloads.ad_patch(ad(**change), ad())
    assert error.value.field == field


# -- every body is one Reddit's spec accepts -------------------------------------------------


def produced_bodies() -> list[tuple[str, tuple[str, str], dict[str, Any]]]:
    """What the functions produce across the shapes they take, with the operation each is for."""
    lifetime = {"type": "lifetime", "amount": 900}
    scheduled = ad_group(startTime=START, endTime=START + timedelta(days=7), budget=lifetime)
    video = campaign(objective="video_views", budget=SUMMER_BUDGET, budgetOptimization=True)
    return [
        ("campaign", CAMPAIGN_CREATE, payloads.campaign_create(campaign(), "700000000001")),
        ("campaign, no funding", CAMPAIGN_CREATE, payloads.campaign_create(campaign())),
        (
            "campaign, lifetime cap",
            CAMPAIGN_CREATE,
            payloads.campaign_create(campaign(budget=lifetime, endTime=START)),
        ),
        (
            "campaign, CBO",
            CAMPAIGN_CREATE,
            payloads.campaign_create(cbo_campaign(), "700000000001", conversion_pixel_id="t2_p"),
        ),
        (
            "campaign, CBO video",
            CAMPAIGN_CREATE,
            payloads.campaign_create(video.model_copy(update={"start_time": START})),
        ),
        ("campaign patch", CAMPAIGN_PATCH, payloads.campaign_patch(campaign(), None)),
        ("campaign patch, CBO", CAMPAIGN_PATCH, payloads.campaign_patch(cbo_campaign(), None)),
        (
            "campaign patch, end",
            CAMPAIGN_PATCH,
            payloads.campaign_patch(campaign(endTime=START), campaign()),
        ),
        (
            "ad group",
            AD_GROUP_CREATE,
            payloads.ad_group_create("1900", campaign(), ad_group(), conversion_pixel_id="t2_p"),
        ),
        (
            "ad group, manual CPC, scheduled",
            AD_GROUP_CREATE,
            payloads.ad_group_create(
                "1900",
                campaign(objective="traffic"),
                scheduled.model_copy(update={"bid_strategy": "manual_cpc", "bid_amount": 2}),
            ),
        ),
        (
            "ad group, CBO",
            AD_GROUP_CREATE,
            payloads.ad_group_create("1900", cbo_campaign(), ad_group(budget=None)),
        ),
        (
            "ad group, video CBO",
            AD_GROUP_CREATE,
            payloads.ad_group_create("1900", video, ad_group(budget=None)),
        ),
        ("ad group patch", AD_GROUP_PATCH, payloads.ad_group_patch(campaign(), ad_group(), None)),
        (
            "ad group patch, cleared end",
            AD_GROUP_PATCH,
            payloads.ad_group_patch(campaign(), ad_group(startTime=START), scheduled),
        ),
        ("image post", POST_CREATE, payloads.post_create(ad(displayUrl="shop.example.com"))),
        ("text post", POST_CREATE, payloads.post_create(ad(imageUrl=None, description=None))),
        ("ad", AD_CREATE, payloads.ad_create("1901", "t3_abc", ad())),
        ("ad patch", AD_PATCH, payloads.ad_patch(ad(), None)),
        ("ad patch, url", AD_PATCH, payloads.ad_patch(ad(finalUrl="https://x.example"), ad())),
    ]


@pytest.mark.parametrize(
    ("operation", "data"),
    [(operation, data) for _, operation, data in produced_bodies()],
    ids=[label for label, _, _ in produced_bodies()],
)
def test_every_payload_is_valid_under_the_spec(
    operation: tuple[str, str], data: dict[str, Any]
) -> None:
    assert data, "an empty body proves nothing"
    assert_spec_valid(operation, data)
