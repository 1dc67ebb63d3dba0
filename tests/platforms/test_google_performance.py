"""Google Ads rows in our units (google-ads-api.md §4 "Metrics", §7): cost_micros exactly,
doubles as their shortest decimal, fractional conversions rounded half-even, zero values that
proto3 JSON leaves out read as 0, and a campaign's own budget discovered daily or lifetime."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from flightdeck.platforms.errors import NonRetryableError
from flightdeck.platforms.google_performance import discovered, parse_row

CAMPAIGN = "customers/1234567890/campaigns/9001"


def row(**metrics: object) -> dict[str, object]:
    return {
        "campaign": {"resourceName": CAMPAIGN, "name": "Shoes"},
        "segments": {"date": "2026-11-27"},
        "metrics": metrics,
    }


def test_units_are_converted_exactly() -> None:
    parsed = parse_row(
        row(
            impressions="4000",
            clicks="80",
            costMicros="12345678",
            conversions=3.0,
            conversionsValue=99.99,
        ),  # fmt: skip
        "EUR",
    )
    assert parsed.platform_campaign_id == CAMPAIGN and parsed.day == date(2026, 11, 27)
    assert (parsed.impressions, parsed.clicks, parsed.conversions) == (4000, 80, 3)
    assert parsed.spend == Decimal("12.345678") and parsed.revenue == Decimal("99.990000")
    assert parsed.currency == "EUR" and parsed.campaign_name == "Shoes"


def test_omitted_zeros_and_fractional_conversions() -> None:
    empty = parse_row(row(), "USD")
    assert (empty.impressions, empty.clicks, empty.conversions) == (0, 0, 0)
    assert empty.spend == 0 and empty.revenue == 0
    assert parse_row(row(conversions=2.5), "USD").conversions == 2  # half-even
    assert parse_row(row(conversions=3.5), "USD").conversions == 4
    assert parse_row(row(conversions=1.4999), "USD").conversions == 1


def test_a_malformed_double_is_not_retried() -> None:
    with pytest.raises(NonRetryableError, match="conversions_value"):
        parse_row(row(conversionsValue="lots"), "USD")
    with pytest.raises(NonRetryableError, match="conversions"):
        parse_row(row(conversions=-1.0), "USD")


def test_discovered_budget_status_and_dates() -> None:
    daily = discovered(
        {
            "campaign": {
                "resourceName": CAMPAIGN,
                "name": "Shoes",
                "status": "PAUSED",
                "startDateTime": "2026-11-01 00:00:00",
            },  # fmt: skip
            "campaignBudget": {"amountMicros": "40000000", "period": "DAILY"},
        },
        "USD",
    )
    assert (daily.status, daily.budget_amount, daily.budget_type) == (
        "paused", Decimal("40"), "daily",
    )  # fmt: skip
    assert daily.budget_owner == "campaign" and daily.start_date is not None
    lifetime = discovered(
        {
            "campaign": {"resourceName": CAMPAIGN, "status": "REMOVED"},
            "campaignBudget": {"totalAmountMicros": "900000000", "period": "CUSTOM_PERIOD"},
        },
        "USD",
    )
    assert (lifetime.status, lifetime.budget_amount, lifetime.budget_type) == (
        "deleted", Decimal("900"), "lifetime",
    )  # fmt: skip
