"""Alert rules on fixed series: each fires when it should, with a severity by the size of the
deviation, stays quiet below the data minimums, and recovers only clearly (hysteresis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flightdeck.domain.alerts import DayTotals, evaluate, severity
from flightdeck.domain.performance_settings import AlertThresholds

TODAY = date(2026, 5, 20)
T = AlertThresholds()


def series(
    recent: tuple[int, str, int, str], baseline: tuple[int, str, int, str], days: int = 14
) -> list[DayTotals]:
    """Daily (clicks, spend, conversions, revenue): the last 3 days `recent`, the 14 before
    `baseline`."""
    rows = []
    for back in range(1, 3 + days + 1):
        clicks, spend, conversions, revenue = recent if back <= 3 else baseline
        rows.append(
            DayTotals(TODAY - timedelta(days=back), clicks * 20, clicks, Decimal(spend),
                      conversions, Decimal(revenue))
        )  # fmt: skip
    return rows


def by_type(rows: list[DayTotals], thresholds: AlertThresholds = T) -> dict[str, object]:
    return {e.alert_type: e for e in evaluate(rows, TODAY, thresholds, "USD")}


BASE = (100, "100", 10, "400")  # ROAS 4, CPA 10


def test_roas_drop_fires_with_severity_by_the_size_of_the_drop() -> None:
    for revenue, expected in (("300", None), ("270", "LOW"), ("180", "MEDIUM"), ("100", "HIGH"),
                              ("0", "CRITICAL")):  # fmt: skip
        e = by_type(series((100, "100", 10, revenue), BASE))["ROAS_DROP"]
        assert e.evaluable and e.firing == (expected is not None), revenue  # type: ignore[attr-defined]
        assert e.severity == expected  # type: ignore[attr-defined]
    fired = by_type(series((100, "100", 10, "180"), BASE))["ROAS_DROP"]
    assert fired.metric_value == Decimal("1.8") and fired.threshold_value == Decimal("2.8")  # type: ignore[attr-defined]
    assert "fell 55.0%" in fired.message  # type: ignore[attr-defined]


def test_cpa_spike_fires_when_each_conversion_costs_much_more() -> None:
    e = by_type(series((100, "100", 5, "400"), BASE))["CPA_SPIKE"]  # CPA 20 vs 10: +100 %
    assert e.firing and e.severity == "HIGH" and e.metric_value == Decimal("20")  # type: ignore[attr-defined]
    calm = by_type(series((100, "100", 9, "360"), BASE))["CPA_SPIKE"]  # +11 %
    assert calm.evaluable and not calm.firing  # type: ignore[attr-defined]


def test_zero_conversions_fires_on_spend_above_the_floor() -> None:
    e = by_type(series((50, "40", 0, "0"), BASE))["ZERO_CONVERSIONS"]  # 120 spent, 150 clicks
    assert e.firing and e.severity == "LOW" and e.metric_value == Decimal("120")  # type: ignore[attr-defined]
    big = by_type(series((50, "110", 0, "0"), BASE))["ZERO_CONVERSIONS"]  # 330: 3.3× the floor
    assert big.severity == "CRITICAL"  # type: ignore[attr-defined]
    under = by_type(series((50, "30", 0, "0"), BASE))["ZERO_CONVERSIONS"]  # 90 < 100
    assert not under.firing  # type: ignore[attr-defined]


def test_nothing_fires_below_the_data_minimums() -> None:
    # Too few clicks recently (30 < 100), too little spend (15 < 50), too short a baseline.
    for rows in (
        series((10, "100", 0, "0"), BASE),
        series((100, "5", 0, "0"), BASE),
        series((100, "100", 1, "10"), BASE, days=5),
    ):
        found = by_type(rows)
        assert not any(e.firing for e in found.values())  # type: ignore[attr-defined]
    assert not by_type(series((10, "100", 0, "0"), BASE))["ROAS_DROP"].evaluable  # type: ignore[attr-defined]


def test_recovery_needs_the_metric_clearly_back() -> None:
    # A 28 % drop no longer fires (< 30 %) but is not recovered either (≥ 24 %).
    hovering = by_type(series((100, "100", 10, "288"), BASE))["ROAS_DROP"]
    assert not hovering.firing and not hovering.recovered  # type: ignore[attr-defined]
    back = by_type(series((100, "100", 10, "380"), BASE))["ROAS_DROP"]
    assert back.recovered  # type: ignore[attr-defined]
    paused = by_type(series((0, "0", 0, "0"), BASE))["ZERO_CONVERSIONS"]
    assert paused.recovered and not paused.firing  # type: ignore[attr-defined]


def test_thresholds_are_the_tenants() -> None:
    strict = AlertThresholds(roas_drop_ratio=Decimal("0.1"), min_clicks=10)
    e = by_type(series((100, "100", 10, "340"), BASE), strict)["ROAS_DROP"]  # 15 % drop
    assert e.firing and e.severity == "MEDIUM"  # type: ignore[attr-defined]
    assert severity(Decimal("0.99")) == "LOW" and severity(Decimal(3)) == "CRITICAL"
