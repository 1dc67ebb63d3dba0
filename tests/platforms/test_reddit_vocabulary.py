"""Our campaign-set words in Reddit's enums: every value we map to is one the spec accepts,
money is integer micros, and the seed's wrong Reddit words are refused."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.simulators.reddit_spec import reddit_spec

CAMPAIGN_CREATE = ("POST", "/ad_accounts/{ad_account_id}/campaigns")
AD_GROUP_CREATE = ("POST", "/ad_accounts/{ad_account_id}/ad_groups")


def spec_enum(operation: tuple[str, str], field: str) -> set[Any]:
    op = reddit_spec().operation(*operation)
    assert op is not None
    prop = op.data_properties[field]
    values = prop.get("enum") or [v for part in prop.get("allOf", []) for v in part["enum"]]
    return set(values) - {None}


def test_every_mapped_value_is_in_the_spec() -> None:
    assert set(vocab.OBJECTIVES.values()) <= spec_enum(CAMPAIGN_CREATE, "objective")
    assert set(vocab.DEFAULT_BID_TYPES) == spec_enum(CAMPAIGN_CREATE, "objective")
    assert set(vocab.STATUSES.values()) <= spec_enum(CAMPAIGN_CREATE, "configured_status")
    strategies = {strategy for strategy, _ in vocab.BID_STRATEGIES.values()}
    assert strategies <= spec_enum(AD_GROUP_CREATE, "bid_strategy")
    bid_types = {t for _, t in vocab.BID_STRATEGIES.values() if t} | set(
        vocab.DEFAULT_BID_TYPES.values()
    )
    assert bid_types <= spec_enum(AD_GROUP_CREATE, "bid_type")
    goals = set(vocab.DEFAULT_OPTIMIZATION_GOALS.values())
    assert goals <= spec_enum(AD_GROUP_CREATE, "optimization_goal")
    assert set(vocab.GOAL_TYPES.values()) <= spec_enum(AD_GROUP_CREATE, "goal_type")


@pytest.mark.parametrize(
    ("ours", "reddit"),
    [
        ("awareness", "IMPRESSIONS"),
        ("consideration", "CLICKS"),
        ("traffic", "CLICKS"),
        ("conversions", "CONVERSIONS"),
        ("app_installs", "APP_INSTALLS"),
        ("video_views", "VIDEO_VIEWABLE_IMPRESSIONS"),
    ],
)
def test_objectives(ours: str, reddit: str) -> None:
    assert vocab.reddit_objective(ours) == reddit
    assert vocab.reddit_objective(vocab.objective_from_reddit(reddit)) == reddit


def test_the_seeds_reddit_words_are_refused() -> None:
    with pytest.raises(vocab.UnmappedValueError, match="objective 'AWARENESS'"):
        vocab.reddit_objective("AWARENESS")
    with pytest.raises(vocab.UnmappedValueError, match="bid strategy 'MANUAL_CPC'"):
        vocab.reddit_bidding("MANUAL_CPC", "CLICKS")
    with pytest.raises(vocab.UnmappedValueError, match="status 'completed'"):
        vocab.reddit_status("completed")


@pytest.mark.parametrize(
    ("ours", "configured"),
    [
        ("draft", "PAUSED"),
        ("pending", "PAUSED"),
        ("active", "ACTIVE"),
        ("paused", "PAUSED"),
        ("archived", "ARCHIVED"),
        ("deleted", "DELETED"),
    ],
)
def test_statuses(ours: str, configured: str) -> None:
    assert vocab.reddit_status(ours) == configured


@pytest.mark.parametrize(
    ("configured", "effective", "ours"),
    [
        ("ACTIVE", "ACTIVE", "active"),
        ("ACTIVE", "CAMPAIGN_PAUSED", "active"),
        ("ACTIVE", "COMPLETED", "completed"),
        ("ACTIVE", "REJECTED", "error"),
        ("ACTIVE", "PENDING_BILLING_INFO", "pending"),
        ("PAUSED", "PAUSED", "paused"),
        ("PAUSED", "REJECTED", "paused"),
        ("DELETED", "DELETED", "deleted"),
        ("ARCHIVED", None, "archived"),
    ],
)
def test_statuses_from_reddit(configured: str, effective: str | None, ours: str) -> None:
    assert vocab.status_from_reddit(configured, effective) == ours


@pytest.mark.parametrize(
    ("amount", "micros"),
    [(50, 50_000_000), ("12.34", 12_340_000), (Decimal("0.0000005"), 1), (0.1, 100_000)],
)
def test_micros(amount: Any, micros: int) -> None:
    assert vocab.to_micros(amount) == micros
    assert vocab.from_micros(micros) == Decimal(micros) / 1_000_000


@pytest.mark.parametrize("amount", [-1, "NaN", "abc", float("inf")])
def test_bad_amounts(amount: Any) -> None:
    with pytest.raises(ValueError):
        vocab.to_micros(amount)


def test_budget_and_bidding() -> None:
    assert vocab.reddit_budget("daily", 50) == {
        "goal_type": "DAILY_SPEND",
        "goal_value": 50_000_000,
    }
    assert vocab.reddit_budget("lifetime", "1000")["goal_type"] == "LIFETIME_SPEND"
    assert vocab.reddit_bidding("automatic", "CLICKS") == {
        "bid_strategy": "MAXIMIZE_VOLUME",
        "bid_type": "CPC",
    }
    assert vocab.reddit_bidding("manual_cpm", "IMPRESSIONS", "7.5") == {
        "bid_strategy": "MANUAL_BIDDING",
        "bid_type": "CPM",
        "bid_value": 7_500_000,
    }
    with pytest.raises(ValueError, match="needs a bid amount"):
        vocab.reddit_bidding("manual_cpc", "CLICKS")
    with pytest.raises(ValueError, match="between 3.5 and 100"):
        vocab.reddit_bidding("manual_cpm", "IMPRESSIONS", 2)


def test_optimization_goals() -> None:
    assert vocab.optimization_goal("CONVERSIONS") == "PURCHASE"
    assert vocab.optimization_goal("CONVERSIONS", "SIGN_UP") == "SIGN_UP"
    assert vocab.optimization_goal("CLICKS") is None
