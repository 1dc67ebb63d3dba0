"""Performance metrics (seed 004): one daily row per platform campaign, money in one unit per
currency, and the ratios every query derives the same way.

Money is stored in the currency's *major* unit (dollars, euros) with six decimals, converted
exactly from what each platform sends (metrics-and-review.md §1.4, §4):

    Meta Insights    decimal strings in the account currency's major unit   "14.35" -> 14.35
    Reddit reports   SPEND, CPC, ECPM in micros                             14350000 -> 14.35
                     CONVERSION_*_TOTAL_VALUE in cents                      1435 -> 14.35

Six decimals because micros are the finest unit any platform reports: the seed's
DECIMAL(15,2) could not hold 0.123456 USD of Reddit spend exactly.

Ratios are derived from sums, never averaged, and never divided by zero (None instead):

    cpc = spend / clicks    cpm = 1000 * spend / impressions    ctr = clicks / impressions
    roas = revenue / spend  roi = (revenue - spend) / spend     cpa = spend / conversions
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Literal

MetricPlatform = Literal["meta", "reddit", "google"]
METRIC_PLATFORMS: tuple[str, ...] = ("meta", "reddit", "google")

MONEY_PLACES = Decimal("0.000001")
RATIO_PLACES = Decimal("0.000001")
CTR_PLACES = Decimal("0.00000001")
MICROS = Decimal(1_000_000)
CENTS = Decimal(100)


class UnitError(ValueError):
    """A platform sent a value that is not a number in the unit its contract promises."""


def from_decimal_string(value: object, field: str = "value") -> Decimal:
    """Meta's money: a decimal string in the major unit ("14.35"); a missing value is 0."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise UnitError(f"{field} must be a decimal string; got {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise UnitError(f"{field} must be a decimal string; got {value!r}") from None
    if not amount.is_finite():
        raise UnitError(f"{field} must be finite; got {value!r}")
    return amount


def from_micros(value: object, field: str = "value") -> Decimal:
    """Reddit's SPEND/CPC/ECPM: an integer number of millionths of the major unit."""
    return _integer(value, field) / MICROS


def from_cents(value: object, field: str = "value") -> Decimal:
    """Reddit's CONVERSION_*_TOTAL_VALUE: an integer number of hundredths of the major unit."""
    return _integer(value, field) / CENTS


def count(value: object, field: str = "value") -> int:
    """A count (impressions, clicks, conversions): an integer, or an integral decimal string.
    Fractional conversions (data-driven attribution) are rounded half-even: the seed stores
    conversions as an INTEGER."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise UnitError(f"{field} must be a number; got {value!r}")
    if isinstance(value, int):
        return value
    amount = from_decimal_string(value if isinstance(value, str) else str(value), field)
    return int(amount.to_integral_value(ROUND_HALF_EVEN))


def _integer(value: object, field: str) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, bool):
        raise UnitError(f"{field} must be an integer; got {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float) and value.is_integer():
        return Decimal(int(value))
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return Decimal(int(value))
    raise UnitError(f"{field} must be an integer in the platform's minor unit; got {value!r}")


def money(amount: Decimal) -> Decimal:
    return amount.quantize(MONEY_PLACES, ROUND_HALF_EVEN)


def divide(numerator: Decimal | int, denominator: Decimal | int, places: Decimal) -> Decimal | None:
    """numerator / denominator, or None when the denominator is zero."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Ratios:
    cpc: Decimal | None
    cpm: Decimal | None
    ctr: Decimal | None
    roas: Decimal | None
    roi: Decimal | None
    cpa: Decimal | None


def derive(
    impressions: int, clicks: int, spend: Decimal, conversions: int, revenue: Decimal
) -> Ratios:
    """Every ratio of one row or one sum of rows, the same way everywhere."""
    return Ratios(
        cpc=divide(spend, clicks, RATIO_PLACES),
        cpm=divide(spend * 1000, impressions, RATIO_PLACES),
        ctr=divide(clicks, impressions, CTR_PLACES),
        roas=divide(revenue, spend, RATIO_PLACES),
        roi=divide(revenue - spend, spend, RATIO_PLACES),
        cpa=divide(spend, conversions, RATIO_PLACES),
    )


@dataclass(frozen=True)
class MetricRow:
    """One campaign's delivery on one day (the account's own calendar day), in major units."""

    platform_campaign_id: str
    day: date
    impressions: int
    clicks: int
    spend: Decimal
    conversions: int
    revenue: Decimal
    currency: str
    campaign_name: str | None = None

    @property
    def time(self) -> datetime:
        return day_start(self.day)


def day_start(day: date) -> datetime:
    """How `campaign_metrics.time` labels a day: its midnight, as UTC. The day itself is the
    ad account's calendar day (both platforms report by the account's time zone)."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def lookback_window(
    today: date, lookback_days: int, *, backfill_days: int = 0
) -> tuple[date, date]:
    """The days a cycle re-reads: the attribution lookback ending today (late conversions
    land), or the initial backfill for an account never read before, whichever is longer."""
    days = max(lookback_days, backfill_days, 1)
    return today - timedelta(days=days - 1), today


def date_slices(since: date, until: date, days: int) -> list[tuple[date, date]]:
    """[since, until] cut into inclusive slices of at most `days` days, oldest first."""
    slices: list[tuple[date, date]] = []
    start = since
    while start <= until:
        end = min(until, start + timedelta(days=days - 1))
        slices.append((start, end))
        start = end + timedelta(days=1)
    return slices
