"""The three-way comparison of sync-back: every outcome for every compared field, values that
are equal in different shapes (amounts, currencies, missing fields), the status rule (only
settings compare, never outcomes like completed), and the helpers that build the three dicts
from a synced snapshot, a local spec and a platform state."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from flightdeck.domain.campaign_sets import AdGroupSpec, Budget, CampaignSpec
from flightdeck.domain.sync_back import (
    CompareEntityType,
    PlatformAdGroupState,
    PlatformCampaignState,
    compare,
    platform_state_fields,
    reddit_bid_strategy,
    snapshot_fields,
    spec_fields,
)

DAILY_50 = {"type": "daily", "amount": "50", "currency": "USD"}
DAILY_80 = {"type": "daily", "amount": "80", "currency": "USD"}
DAILY_99 = {"type": "daily", "amount": "99", "currency": "USD"}

# field -> (base value, a second value, a third value): the outcomes below need three.
VALUES: dict[str, tuple[Any, Any, Any]] = {
    "name": ("Summer Sale", "Summer Sale v2", "Summer Sale (UI)"),
    "status": ("active", "paused", "archived"),
    "budget": (DAILY_50, DAILY_80, DAILY_99),
    "bid_amount": (Decimal("2.50"), Decimal("3"), Decimal("4.25")),
}
CASES: list[tuple[CompareEntityType, str]] = [
    ("campaign", "name"),
    ("campaign", "status"),
    ("campaign", "budget"),
    ("ad_group", "name"),
    ("ad_group", "status"),
    ("ad_group", "budget"),
    ("ad_group", "bid_amount"),
    ("ad", "name"),
    ("ad", "status"),
]


def sides(field: str, local: int, platform: int) -> tuple[dict[str, Any], ...]:
    """Base holds value 0; local and platform hold the value at the given index."""
    values = VALUES[field]
    return {field: values[0]}, {field: values[local]}, {field: values[platform]}


@pytest.mark.parametrize(("entity_type", "field"), CASES)
@pytest.mark.parametrize(
    ("local", "platform", "outcome"),
    [
        (0, 0, "unchanged"),
        (0, 1, "platform_only"),
        (1, 0, "local_only"),
        (1, 1, "both_same"),
        (1, 2, "conflict"),
    ],
)
def test_every_outcome_of_every_field(
    entity_type: CompareEntityType, field: str, local: int, platform: int, outcome: str
) -> None:
    comparison = compare(entity_type, *sides(field, local, platform))
    assert comparison.outcome(field) == outcome
    taken = comparison.platform_values
    assert (field in taken) == (outcome in ("platform_only", "both_same"))
    assert comparison.has_conflict == (outcome == "conflict")
    assert comparison.local_only == ([field] if outcome == "local_only" else [])


def test_a_conflict_keeps_all_three_values() -> None:
    base, local, platform = sides("budget", 1, 2)
    [conflict] = compare("ad_group", base, local, platform).conflicts
    assert conflict.field == "budget"
    assert conflict.base == {"type": "daily", "amount": Decimal(50)}
    assert conflict.local == {"type": "daily", "amount": Decimal(80)}
    assert conflict.platform == {"type": "daily", "amount": Decimal(99)}


def test_a_platform_change_is_taken_in_our_vocabulary() -> None:
    base = {"name": "Summer Sale", "status": "active", "budget": DAILY_50}
    platform = {
        "name": "Summer Sale (UI)",
        "status": "paused",
        "budget": Budget(type="daily", amount=Decimal("75")),
    }
    comparison = compare("campaign", base, dict(base), platform)
    assert comparison.platform_values == {
        "name": "Summer Sale (UI)",
        "status": "paused",
        "budget": {"type": "daily", "amount": Decimal(75)},
    }


def test_every_field_a_push_sends_is_compared_at_every_level() -> None:
    assert set(compare("campaign", {}, {}, {}).fields) == {
        "name", "status", "budget", "start_time", "end_time",
    }  # fmt: skip
    assert set(compare("ad_group", {}, {}, {}).fields) == {
        "name", "status", "budget", "bid_strategy", "bid_amount", "start_time", "end_time",
        "communities", "interests", "geolocations", "devices", "keywords", "excluded_keywords",
    }  # fmt: skip
    assert set(compare("ad", {}, {}, {}).fields) == {"name", "status", "final_url"}


@pytest.mark.parametrize(
    ("entity_type", "field", "values"),
    [
        ("ad_group", "bid_strategy", ("automatic", "manual_cpc", "manual_cpm")),
        ("ad_group", "start_time", ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z",
                                    "2026-03-01T00:00:00Z")),
        ("ad_group", "end_time", ("2026-05-01T00:00:00Z", None, "2026-06-01T00:00:00Z")),
        ("campaign", "end_time", ("2026-05-01T00:00:00Z", "2026-05-02T00:00:00Z", None)),
        ("ad", "final_url", ("https://a.example/x", "https://a.example/y", "https://b.example/")),
    ],
)  # fmt: skip
@pytest.mark.parametrize(
    ("local", "platform", "outcome"),
    [(0, 0, "unchanged"), (0, 1, "platform_only"), (1, 0, "local_only"), (1, 2, "conflict")],
)
def test_the_new_scalar_fields_take_and_conflict_like_the_others(
    entity_type: CompareEntityType,
    field: str,
    values: tuple[Any, Any, Any],
    local: int,
    platform: int,
    outcome: str,
) -> None:
    comparison = compare(
        entity_type, {field: values[0]}, {field: values[local]}, {field: values[platform]}
    )
    assert comparison.outcome(field) == outcome


def test_times_compare_as_the_platform_holds_them() -> None:
    local = {"start_time": datetime(2026, 1, 1, 12, 0, 0, 400, tzinfo=UTC)}
    comparison = compare(
        "ad_group", {"start_time": "2026-01-01T12:00:00Z"}, local,
        {"start_time": "2026-01-01T12:00:00+00:00"},
    )  # fmt: skip
    assert comparison.outcome("start_time") == "unchanged"


def test_keywords_are_a_set_merged_three_ways() -> None:
    base = {"keywords": ["summer sale", "deals"]}
    local = {"keywords": ["deals", "summer sale", "beach"]}  # added one here
    platform = {"keywords": ["summer sale", "sandals"]}  # added one, removed one in Reddit's UI
    comparison = compare("ad_group", base, local, platform)
    assert comparison.outcome("keywords") == "merged"
    assert not comparison.has_conflict
    # Taken locally: ours plus the platform's addition, minus its removal.
    assert comparison.platform_values == {"keywords": ["beach", "sandals", "summer sale"]}
    # The base becomes the platform's set: the next push sends only "beach".
    assert comparison.base_values == {"keywords": ["sandals", "summer sale"]}


def test_a_keyword_added_on_the_platform_is_taken() -> None:
    base = local = {"keywords": ["summer sale"], "excluded_keywords": ["cheap"]}
    platform = {"keywords": ["summer sale", "flip flops"], "excluded_keywords": ["cheap"]}
    comparison = compare("ad_group", base, local, platform)
    assert comparison.platform_values == {"keywords": ["flip flops", "summer sale"]}
    assert comparison.outcome("excluded_keywords") == "unchanged"


def test_devices_compare_as_types_whatever_their_shape() -> None:
    comparison = compare(
        "ad_group", {"devices": ["MOBILE"]}, {"devices": ["MOBILE"]},
        {"devices": [{"type": "MOBILE"}]},
    )  # fmt: skip
    assert comparison.outcome("devices") == "unchanged"


def test_reddit_bidding_reads_back_as_our_bid_strategy() -> None:
    assert reddit_bid_strategy("MAXIMIZE_VOLUME", "CPC") == "automatic"
    assert reddit_bid_strategy("MANUAL_BIDDING", "CPM") == "manual_cpm"
    assert reddit_bid_strategy("TARGET_CPX", "CPC") == "target_cost"
    assert reddit_bid_strategy(None, None) is None


# -- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "platform_budget",
    [
        {"type": "daily", "amount": 50},
        {"type": "daily", "amount": 50.0},
        {"type": "daily", "amount": "50.000000"},
        {"type": "daily", "amount": Decimal("50.0000001")},  # below a micro: Reddit can't hold it
        Budget(type="daily", amount=Decimal("50")),
        {"type": "daily", "amount": "50", "currency": "EUR"},  # Reddit budgets carry no currency
        {"type": "daily", "amount": "50", "currency": None},
    ],
)
def test_equal_budgets_in_other_shapes_are_unchanged(platform_budget: Any) -> None:
    base = {"budget": {"type": "daily", "amount": "50"}}  # a snapshot without a currency
    comparison = compare("ad_group", base, {"budget": DAILY_50}, {"budget": platform_budget})
    assert comparison.outcome("budget") == "unchanged"


def test_bid_amounts_compare_as_numbers() -> None:
    base = {"bid_amount": "2.5"}
    comparison = compare("ad_group", base, {"bid_amount": 2.5}, {"bid_amount": Decimal("2.50")})
    assert comparison.outcome("bid_amount") == "unchanged"


def test_a_missing_field_is_none() -> None:
    comparison = compare("ad_group", {"bid_amount": None}, {}, {"bid_amount": None})
    assert comparison.outcome("bid_amount") == "unchanged"
    set_on_platform = compare("ad_group", {}, {}, {"bid_amount": "1.75"})
    assert set_on_platform.outcome("bid_amount") == "platform_only"
    assert set_on_platform.platform_values == {"bid_amount": Decimal("1.75")}


def test_a_budget_removed_on_the_platform_is_a_change() -> None:
    comparison = compare("ad_group", {"budget": DAILY_50}, {"budget": DAILY_50}, {"budget": None})
    assert comparison.outcome("budget") == "platform_only"


def test_a_budget_type_change_is_a_change() -> None:
    lifetime = {"type": "lifetime", "amount": "50"}
    comparison = compare(
        "campaign", {"budget": DAILY_50}, {"budget": DAILY_50}, {"budget": lifetime}
    )
    assert comparison.outcome("budget") == "platform_only"


# -- the status rule ----------------------------------------------------------------------------


@pytest.mark.parametrize("outcome_status", ["completed", "pending", "error"])
def test_a_platform_outcome_is_not_a_change_of_an_active_setting(outcome_status: str) -> None:
    base = local = {"status": "active"}
    comparison = compare("campaign", base, local, {"status": outcome_status})
    assert comparison.outcome("status") == "unchanged"
    assert comparison.fields["status"].platform == "active"


@pytest.mark.parametrize("outcome_status", ["completed", "pending", "error"])
def test_a_platform_outcome_of_something_we_left_paused_means_someone_activated_it(
    outcome_status: str,
) -> None:
    # Reddit reports an outcome only for an ACTIVE object: the setting did change.
    base = local = {"status": "paused"}
    comparison = compare("campaign", base, local, {"status": outcome_status})
    assert comparison.outcome("status") == "platform_only"
    assert comparison.platform_values == {"status": "active"}


@pytest.mark.parametrize("local_status", ["draft", "pending"])
def test_draft_and_pending_compare_as_the_paused_they_are_pushed_as(local_status: str) -> None:
    base = {"status": "draft"}
    local = {"status": local_status}
    assert compare("ad_group", base, local, {"status": "paused"}).outcome("status") == "unchanged"
    resumed = compare("ad_group", base, local, {"status": "active"})
    assert resumed.outcome("status") == "platform_only"
    assert resumed.platform_values == {"status": "active"}


@pytest.mark.parametrize("local_status", ["completed", "error"])
def test_a_local_outcome_claims_no_setting(local_status: str) -> None:
    base = {"status": "active"}
    local = {"status": local_status}
    assert compare("campaign", base, local, {"status": "active"}).outcome("status") == "unchanged"
    paused = compare("campaign", base, local, {"status": "paused"})
    assert paused.outcome("status") == "platform_only"


def test_with_no_setting_pushed_the_platform_status_is_not_taken() -> None:
    base = local = {"status": "completed"}
    comparison = compare("campaign", base, local, {"status": "paused"})
    assert comparison.outcome("status") == "unchanged"
    resumed_here = compare("campaign", base, {"status": "active"}, {"status": "paused"})
    assert resumed_here.outcome("status") == "local_only"


def test_deleted_on_the_platform_is_a_status_change() -> None:
    base = local = {"status": "active"}
    comparison = compare("campaign", base, local, {"status": "deleted"})
    assert comparison.platform_values == {"status": "deleted"}
    paused_here = compare("campaign", base, {"status": "paused"}, {"status": "deleted"})
    assert paused_here.outcome("status") == "conflict"


def test_an_unknown_status_fails_loudly() -> None:
    with pytest.raises(ValueError, match="unknown platform status 'draft'"):
        compare("campaign", {"status": "active"}, {"status": "active"}, {"status": "draft"})
    with pytest.raises(ValueError, match="unknown spec status 'running'"):
        compare("campaign", {"status": "running"}, {"status": "active"}, {"status": "active"})


# -- building the three dicts -------------------------------------------------------------------


def test_helpers_build_comparable_dicts_from_snapshot_spec_and_platform() -> None:
    spec = AdGroupSpec.model_validate(
        {
            "name": "Summer Sale - deal hunters",
            "status": "active",
            "bidStrategy": "manual_cpc",
            "bidAmount": "1.5",
            "budget": {"type": "daily", "amount": 50},
        }
    )
    base = snapshot_fields("ad_group", spec.model_dump(mode="json"))
    state = PlatformAdGroupState(
        platform_id="1",
        campaign_platform_id="2",
        name="Summer Sale - deal hunters",
        status="completed",
        budget=Budget(type="daily", amount=Decimal("65")),
        bid_strategy="manual_cpc",
        bid_amount=Decimal("1.500000"),
    )
    comparison = compare("ad_group", base, spec_fields(spec), platform_state_fields(state))
    changed = {name: f.outcome for name, f in comparison.fields.items() if f.outcome != "unchanged"}
    assert changed == {"budget": "platform_only"}


def test_automatic_bidding_sends_no_amount_so_none_is_compared() -> None:
    spec = AdGroupSpec.model_validate(
        {"name": "Summer Sale - auto", "bidStrategy": "automatic", "bidAmount": "2"}
    )
    assert spec_fields(spec)["bid_amount"] is None


def test_a_lifetime_campaign_budget_is_its_spend_cap_on_the_platform() -> None:
    spec = CampaignSpec.model_validate(
        {
            "name": "Summer Sale",
            "objective": "traffic",
            "budget": {"type": "lifetime", "amount": 1000},
        }
    )
    state = PlatformCampaignState(
        platform_id="1", name="Summer Sale", status="paused", spend_cap=Decimal("1000")
    )
    fields = spec_fields(spec)
    comparison = compare("campaign", fields, fields, platform_state_fields(state))
    assert comparison.outcome("budget") == "unchanged"


def test_an_optimized_campaign_budget_is_its_goal() -> None:
    spec = CampaignSpec.model_validate(
        {
            "name": "Summer Sale",
            "objective": "traffic",
            "budgetOptimization": True,
            "budget": {"type": "daily", "amount": 40},
        }
    )
    state = PlatformCampaignState(
        platform_id="1",
        name="Summer Sale",
        status="paused",
        budget=Budget(type="daily", amount=Decimal("40")),
    )
    fields = spec_fields(spec)
    comparison = compare("campaign", fields, fields, platform_state_fields(state))
    assert comparison.outcome("budget") == "unchanged"
