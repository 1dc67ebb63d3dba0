"""Performance alert rules (seed 004): `ROAS_DROP`, `CPA_SPIKE`, `ZERO_CONVERSIONS`, evaluated
on one campaign's daily series — pure functions, so every rule is tested on a fixed series.

Each rule compares the *recent* window (the last `recent_days` complete days, ending
yesterday) with the campaign's own *baseline* (the `baseline_days` before it):

    ROAS_DROP         recent ROAS at least `roas_drop_ratio` below the baseline ROAS
    CPA_SPIKE         recent CPA at least `cpa_spike_ratio` above the baseline CPA
    ZERO_CONVERSIONS  at least `zero_conversions_spend_floor` spent recently, no conversion

No crying wolf:
- a rule may only speak with enough data (`evaluable`): recent spend ≥ `min_spend`, recent
  clicks ≥ `min_clicks`, a baseline of ≥ `min_baseline_days` days with spend;
- severity grows with the deviation, in multiples of the threshold (1× LOW, 1.5× MEDIUM,
  2× HIGH, 3× CRITICAL);
- a rule that stops firing `recovered` only once the deviation is under `recovery_share` of
  the threshold (hysteresis), so a metric hovering at the line does not flap;
- one open alert per campaign and type, and the cooldown after resolution, are kept by the
  repository (`db/repositories/alerts.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from flightdeck.domain.performance_settings import AlertThresholds

AlertType = Literal["ROAS_DROP", "CPA_SPIKE", "ZERO_CONVERSIONS"]
ALERT_TYPES: tuple[AlertType, ...] = ("ROAS_DROP", "CPA_SPIKE", "ZERO_CONVERSIONS")
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
# Deviation / threshold at which each severity starts.
SEVERITY_BANDS = ((Decimal(3), "CRITICAL"), (Decimal(2), "HIGH"), (Decimal("1.5"), "MEDIUM"))
FOUR = Decimal("0.0001")


@dataclass(frozen=True)
class DayTotals:
    day: date
    impressions: int
    clicks: int
    spend: Decimal
    conversions: int
    revenue: Decimal


@dataclass(frozen=True)
class Window:
    days: int  # days with spend
    clicks: int
    spend: Decimal
    conversions: int
    revenue: Decimal

    @property
    def roas(self) -> Decimal | None:
        return self.revenue / self.spend if self.spend else None

    @property
    def cpa(self) -> Decimal | None:
        return self.spend / self.conversions if self.conversions else None

    def as_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "clicks": self.clicks,
            "spend": str(self.spend),
            "conversions": self.conversions,
            "revenue": str(self.revenue),
            "roas": _text(self.roas),
            "cpa": _text(self.cpa),
        }


@dataclass(frozen=True)
class Evaluation:
    alert_type: AlertType
    evaluable: bool
    firing: bool
    recovered: bool
    severity: str | None = None
    metric_name: str = ""
    metric_value: Decimal | None = None
    threshold_value: Decimal | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def window(rows: Iterable[DayTotals], first: date, last: date) -> Window:
    days = [r for r in rows if first <= r.day <= last]
    return Window(
        days=sum(1 for r in days if r.spend > 0),
        clicks=sum(r.clicks for r in days),
        spend=sum((r.spend for r in days), Decimal(0)),
        conversions=sum(r.conversions for r in days),
        revenue=sum((r.revenue for r in days), Decimal(0)),
    )


def windows(rows: list[DayTotals], today: date, t: AlertThresholds) -> tuple[Window, Window]:
    """(recent, baseline) — complete days only: today is still being counted."""
    recent_last = today - timedelta(days=1)
    recent_first = today - timedelta(days=t.recent_days)
    base_last = recent_first - timedelta(days=1)
    base_first = recent_first - timedelta(days=t.baseline_days)
    return window(rows, recent_first, recent_last), window(rows, base_first, base_last)


def evaluate(
    rows: list[DayTotals], today: date, thresholds: AlertThresholds, currency: str = ""
) -> list[Evaluation]:
    recent, baseline = windows(rows, today, thresholds)
    return [
        roas_drop(recent, baseline, thresholds),
        cpa_spike(recent, baseline, thresholds),
        zero_conversions(recent, thresholds, currency),
    ]


def roas_drop(recent: Window, baseline: Window, t: AlertThresholds) -> Evaluation:
    base_roas, recent_roas = baseline.roas, recent.roas
    if not _enough(recent, baseline, t) or not base_roas or recent_roas is None:
        return Evaluation("ROAS_DROP", evaluable=False, firing=False, recovered=False)
    drop = 1 - recent_roas / base_roas
    firing = drop >= t.roas_drop_ratio
    threshold = _q(base_roas * (1 - t.roas_drop_ratio))
    return Evaluation(
        "ROAS_DROP",
        evaluable=True,
        firing=firing,
        recovered=drop < t.roas_drop_ratio * t.recovery_share,
        severity=severity(drop / t.roas_drop_ratio) if firing else None,
        metric_name="roas",
        metric_value=_q(recent_roas),
        threshold_value=threshold,
        message=(
            f"ROAS fell {_pct(drop)} to {_q(recent_roas)} over the last {t.recent_days} days "
            f"(baseline {_q(base_roas)} over {t.baseline_days} days; alert below {threshold})"
        ),
        details={"recent": recent.as_json(), "baseline": baseline.as_json(), "drop": _text(drop)},
    )


def cpa_spike(recent: Window, baseline: Window, t: AlertThresholds) -> Evaluation:
    base_cpa, recent_cpa = baseline.cpa, recent.cpa
    if not _enough(recent, baseline, t) or base_cpa is None or recent_cpa is None:
        return Evaluation("CPA_SPIKE", evaluable=False, firing=False, recovered=False)
    spike = recent_cpa / base_cpa - 1
    firing = spike >= t.cpa_spike_ratio
    threshold = _q(base_cpa * (1 + t.cpa_spike_ratio))
    return Evaluation(
        "CPA_SPIKE",
        evaluable=True,
        firing=firing,
        recovered=spike < t.cpa_spike_ratio * t.recovery_share,
        severity=severity(spike / t.cpa_spike_ratio) if firing else None,
        metric_name="cpa",
        metric_value=_q(recent_cpa),
        threshold_value=threshold,
        message=(
            f"CPA rose {_pct(spike)} to {_q(recent_cpa)} over the last {t.recent_days} days "
            f"(baseline {_q(base_cpa)}; alert above {threshold})"
        ),
        details={"recent": recent.as_json(), "baseline": baseline.as_json(), "spike": _text(spike)},
    )


def zero_conversions(recent: Window, t: AlertThresholds, currency: str = "") -> Evaluation:
    floor = t.zero_conversions_spend_floor
    if recent.clicks < t.min_clicks and recent.spend < floor:
        # Too little traffic to call zero conversions news; but once spend stopped, it is over.
        return Evaluation(
            "ZERO_CONVERSIONS",
            evaluable=False,
            firing=False,
            recovered=recent.spend < floor * t.recovery_share,
        )
    firing = recent.conversions == 0 and recent.spend >= floor and recent.clicks >= t.min_clicks
    money = f"{_q(recent.spend)} {currency}".strip()
    return Evaluation(
        "ZERO_CONVERSIONS",
        evaluable=True,
        firing=firing,
        recovered=recent.conversions > 0 or recent.spend < floor * t.recovery_share,
        severity=severity(recent.spend / floor) if firing else None,
        metric_name="spend",
        metric_value=_q(recent.spend),
        threshold_value=_q(floor),
        message=(
            f"{money} spent and {recent.clicks} clicks over the last {t.recent_days} days "
            f"without a single conversion (alert from {_q(floor)})"
        ),
        details={"recent": recent.as_json()},
    )


def severity(multiple: Decimal) -> str:
    """How far past its threshold a metric is, as LOW (1×) to CRITICAL (3×)."""
    for start, name in SEVERITY_BANDS:
        if multiple >= start:
            return name
    return "LOW"


def _enough(recent: Window, baseline: Window, t: AlertThresholds) -> bool:
    return (
        recent.spend >= t.min_spend
        and recent.clicks >= t.min_clicks
        and baseline.days >= t.min_baseline_days
        and baseline.spend > 0
    )


def _q(value: Decimal) -> Decimal:
    return value.quantize(FOUR, ROUND_HALF_EVEN)


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).quantize(Decimal('0.1'), ROUND_HALF_EVEN)}%"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(_q(value))
