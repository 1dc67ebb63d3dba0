"""How simulated campaigns perform (metrics-and-review.md §5): a deterministic daily series per
campaign, made from the simulator's own objects, that Meta Insights (`meta_insights.py`), Reddit
reports (`reddit_reports.py`) and Google Ads GAQL metrics (`google_ads_reports.py`) render in
their platform's units.

- **Spend follows status and budget.** Each campaign keeps a timeline of (time, active,
  daily budget) observed from its platform object — on every create and update through the
  APIs, and before every report (so platform-side edits count from then on). A day's spend is
  its budget integrated over the time the campaign was active that day (in the account's time
  zone), times a seeded pacing factor; today is a partial day.
- **Seeded.** CPM, CTR, conversion rate and order value come from a hash of (seed, platform,
  campaign, day): the same campaign and day give the same numbers in every run.
- **Late conversions.** A day's conversions (and revenue) are reported at a maturity that grows
  from 55 % at the day's end to 100 % after the platform's attribution window
  (`maturity_days`, at most 28), so the last days keep changing between polls; older days are
  frozen. Delivery (impressions, clicks, spend) is final once the day is over.
- **Shaped by tests.** `/_sim/performance` (admin) backdates a campaign's start, multiplies
  fields over a date range (e.g. collapse conversions), replaces a day's numbers outright, and
  moves the simulators' clock.

Values are computed in integers of the finest unit: micros of the currency for money, so both
platforms' renderings of one day agree exactly.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

FIELDS = ("impressions", "clicks", "spend", "conversions", "revenue")
MAX_MATURITY_DAYS = 28
FIRST_REPORT_MATURITY = Decimal("0.55")
MICROS = 1_000_000


@dataclass
class Shape:
    """Multiply `multipliers` fields of matching days (e.g. {"conversions": 0}: a collapse)."""

    platform: str
    campaign_id: str | None  # None: every campaign of the platform
    since: date | None
    until: date | None
    multipliers: dict[str, Decimal]

    def applies(self, platform: str, campaign_id: str, day: date) -> bool:
        return (
            self.platform == platform
            and self.campaign_id in (None, campaign_id)
            and (self.since is None or day >= self.since)
            and (self.until is None or day <= self.until)
        )


@dataclass(frozen=True)
class DayValues:
    """One campaign's day, in integers: money in micros of the account currency."""

    impressions: int
    clicks: int
    spend_micros: int
    conversions: int
    revenue_micros: int

    @property
    def empty(self) -> bool:
        return not (self.impressions or self.clicks or self.spend_micros or self.conversions)


@dataclass
class InsightsThrottle:
    """Meta's insights throttle as the simulator plays it: calls per ad account (and for the
    whole app) in a sliding window give `acc_id_util_pct` / `app_id_util_pct`; fixed
    percentages (admin) override them. At 100 % a call is refused with `error` ("code4": code 4
    subcode 1504022, or "code80000": the ads_insights business-use-case limit) for
    `regain_seconds`."""

    calls_per_window: int = 600
    app_calls_per_window: int = 5000
    window_seconds: float = 300.0
    account_pct: float | None = None
    app_pct: float | None = None
    error: str = "code80000"
    regain_seconds: float = 60.0


@dataclass
class AsyncJobPlan:
    """How Meta's async report runs go: they take `duration_seconds` (Not Started → Started →
    Running → the outcome); the next `fail_next` runs end "Job Failed", the next `skip_next`
    "Job Skipped"."""

    duration_seconds: float = 0.5
    fail_next: int = 0
    skip_next: int = 0


@dataclass
class PerformanceRuntime:
    seed: int = 0
    # Seconds added to the wall clock (tests move "now" forward to watch conversions mature),
    # or a frozen "now" (nothing changes between two reads: idempotency checks).
    clock_offset_seconds: float = 0.0
    frozen_at: float | None = None
    maturity_days: dict[str, int] = field(
        default_factory=lambda: {"meta": 7, "reddit": 7, "google": 7}
    )
    # (platform, campaign id) -> [(unix time, active, daily budget in micros)]
    timelines: dict[tuple[str, str], list[tuple[float, bool, int]]] = field(default_factory=dict)
    shapes: list[Shape] = field(default_factory=list)
    # (platform, campaign id, ISO day) -> DayValues reported as they are
    overrides: dict[tuple[str, str, str], DayValues] = field(default_factory=dict)
    # Meta Insights: throttle, async report runs (id -> run), and the most rows a synchronous
    # request may return before Graph asks to reduce the data (code 100, subcode 1487534).
    insights_throttle: InsightsThrottle = field(default_factory=InsightsThrottle)
    async_jobs: AsyncJobPlan = field(default_factory=AsyncJobPlan)
    report_runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    insights_calls: dict[str, list[float]] = field(default_factory=dict)
    insights_refused_until: dict[str, float] = field(default_factory=dict)
    sync_row_cap: int = 5000
    # A Reddit report's rows, kept while its pages are read (key: account + the body).
    report_cache: dict[str, tuple[float, list[dict[str, Any]]]] = field(default_factory=dict)

    def now(self) -> float:
        if self.frozen_at is not None:
            return self.frozen_at + self.clock_offset_seconds
        return time.time() + self.clock_offset_seconds

    def reset(self) -> None:
        self.seed = 0
        self.clock_offset_seconds = 0.0
        self.frozen_at = None
        self.maturity_days = {"meta": 7, "reddit": 7, "google": 7}
        self.timelines.clear()
        self.shapes.clear()
        self.overrides.clear()
        self.insights_throttle = InsightsThrottle()
        self.async_jobs = AsyncJobPlan()
        self.report_runs.clear()
        self.insights_calls.clear()
        self.insights_refused_until.clear()
        self.sync_row_cap = 5000
        self.report_cache.clear()

    # -- the timeline ----------------------------------------------------------------------

    def observe(
        self, platform: str, campaign_id: str, active: bool, daily_budget_micros: int
    ) -> None:
        """Record the campaign's status and budget from now on, if they changed."""
        timeline = self.timelines.setdefault((platform, campaign_id), [])
        if timeline and timeline[-1][1:] == (active, daily_budget_micros):
            return
        timeline.append((self.now(), active, daily_budget_micros))

    def backdate(self, platform: str, campaign_id: str, days: float) -> None:
        """The campaign has run as it is now for `days` already (history to report on)."""
        timeline = self.timelines.get((platform, campaign_id))
        if not timeline:
            raise KeyError(campaign_id)
        _, active, budget = timeline[0]
        start = self.now() - days * 86_400
        later = [entry for entry in timeline if entry[0] > start and entry[1:] != (active, budget)]
        self.timelines[(platform, campaign_id)] = [(start, active, budget), *later]

    # -- the series ------------------------------------------------------------------------

    def day(self, platform: str, campaign_id: str, day: date, tz: str) -> DayValues:
        """What the platform reports now for the campaign's `day` (account time zone `tz`)."""
        override = self.overrides.get((platform, campaign_id, day.isoformat()))
        if override is not None:
            return override
        values = self._generated(platform, campaign_id, day, ZoneInfo(tz))
        for shape in self.shapes:
            if shape.applies(platform, campaign_id, day):
                values = _multiplied(values, shape.multipliers)
        return values

    def days(
        self, platform: str, campaign_id: str, since: date, until: date, tz: str
    ) -> Iterable[tuple[date, DayValues]]:
        current = since
        while current <= until:
            yield current, self.day(platform, campaign_id, current, tz)
            current += timedelta(days=1)

    def _generated(self, platform: str, campaign_id: str, day: date, tz: ZoneInfo) -> DayValues:
        start = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        end = start + 86_400
        now = self.now()
        budget_seconds = self._budget_seconds(platform, campaign_id, start, min(end, now))
        if budget_seconds <= 0:
            return DayValues(0, 0, 0, 0, 0)
        seeded = _Seeded(self.seed, platform, campaign_id)
        pacing = Decimal("0.80") + Decimal("0.20") * seeded.daily(day, "pacing")
        spend = int(Decimal(budget_seconds) / 86_400 * pacing)
        cpm = (Decimal(4) + 12 * seeded.fixed("cpm")) * (
            Decimal("0.9") + Decimal("0.2") * seeded.daily(day, "cpm")
        )
        impressions = int(Decimal(spend) / MICROS / cpm * 1000)
        ctr = Decimal("0.006") + Decimal("0.02") * seeded.fixed("ctr")
        clicks = int(
            impressions * ctr * (Decimal("0.8") + Decimal("0.4") * seeded.daily(day, "ctr"))
        )
        cvr = Decimal("0.01") + Decimal("0.07") * seeded.fixed("cvr")
        final = int(clicks * cvr * (Decimal("0.7") + Decimal("0.6") * seeded.daily(day, "cvr")))
        maturity = self._maturity(platform, end, now)
        conversions = int((final * maturity).to_integral_value(ROUND_HALF_EVEN))
        # Order value in whole cents, so every platform's rendering of revenue is exact.
        order_cents = int(2000 + 10_000 * seeded.fixed("aov") * (1 + seeded.daily(day, "aov")) / 2)
        return DayValues(
            impressions, clicks, spend, conversions, conversions * order_cents * 10_000
        )

    def _maturity(self, platform: str, day_end: float, now: float) -> Decimal:
        days = min(MAX_MATURITY_DAYS, max(1, self.maturity_days.get(platform, 7)))
        age = Decimal(max(0.0, now - day_end)) / 86_400
        grown = FIRST_REPORT_MATURITY + (1 - FIRST_REPORT_MATURITY) * min(Decimal(1), age / days)
        return grown

    def _budget_seconds(self, platform: str, campaign_id: str, start: float, end: float) -> int:
        """∫ daily budget (micros) over the active time in [start, end)."""
        timeline = self.timelines.get((platform, campaign_id), [])
        total = 0
        for index, (since, active, budget) in enumerate(timeline):
            until = timeline[index + 1][0] if index + 1 < len(timeline) else end
            overlap = min(until, end) - max(since, start)
            if active and overlap > 0:
                total += int(budget * overlap)
        return total

    # -- admin -----------------------------------------------------------------------------

    def override(
        self, platform: str, campaign_id: str, day: date, values: Mapping[str, Decimal | int]
    ) -> DayValues:
        """Report exactly these numbers for the day (money in major units)."""
        current = self.overrides.get((platform, campaign_id, day.isoformat())) or DayValues(
            0, 0, 0, 0, 0
        )
        merged = DayValues(
            impressions=int(values.get("impressions", current.impressions)),
            clicks=int(values.get("clicks", current.clicks)),
            spend_micros=_micros(values["spend"]) if "spend" in values else current.spend_micros,
            conversions=int(values.get("conversions", current.conversions)),
            revenue_micros=(
                _micros(values["revenue"]) if "revenue" in values else current.revenue_micros
            ),
        )
        self.overrides[(platform, campaign_id, day.isoformat())] = merged
        return merged


class _Seeded:
    """Deterministic numbers in [0, 1) for one campaign."""

    def __init__(self, seed: int, platform: str, campaign_id: str) -> None:
        self._prefix = f"{seed}:{platform}:{campaign_id}"

    def fixed(self, key: str) -> Decimal:
        return self._unit(f"{self._prefix}:{key}")

    def daily(self, day: date, key: str) -> Decimal:
        return self._unit(f"{self._prefix}:{day.isoformat()}:{key}")

    @staticmethod
    def _unit(text: str) -> Decimal:
        digest = hashlib.sha256(text.encode()).digest()
        return Decimal(int.from_bytes(digest[:6], "big")) / Decimal(2**48)


def _micros(amount: Decimal | int) -> int:
    return int((Decimal(amount) * MICROS).to_integral_value(ROUND_HALF_EVEN))


def _multiplied(values: DayValues, multipliers: Mapping[str, Decimal]) -> DayValues:
    def scaled(name: str, value: int) -> int:
        factor = multipliers.get(name)
        return value if factor is None else int((value * factor).to_integral_value(ROUND_HALF_EVEN))

    conversions = scaled("conversions", values.conversions)
    revenue = values.revenue_micros
    if "revenue" in multipliers:
        revenue = scaled("revenue", revenue)
    elif values.conversions:  # fewer conversions, proportionally less revenue
        revenue = revenue * conversions // values.conversions
    return DayValues(
        impressions=scaled("impressions", values.impressions),
        clicks=scaled("clicks", values.clicks),
        spend_micros=scaled("spend", values.spend_micros),
        conversions=conversions,
        revenue_micros=revenue,
    )


def split(total: int, weights: list[int]) -> list[int]:
    """`total` cut in proportion to `weights`, the parts summing to it exactly (largest
    remainder): a campaign's day is the sum of its ads' days at every level."""
    if not weights or sum(weights) <= 0:
        return [total] + [0] * (len(weights) - 1) if weights else []
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for index in remainders[: total - sum(parts)]:
        parts[index] += 1
    return parts


def day_of(moment: float, tz: str) -> date:
    return datetime.fromtimestamp(moment, UTC).astimezone(ZoneInfo(tz)).date()


def as_json(values: DayValues) -> dict[str, Any]:
    return {
        "impressions": values.impressions,
        "clicks": values.clicks,
        "spend": str(Decimal(values.spend_micros) / MICROS),
        "conversions": values.conversions,
        "revenue": str(Decimal(values.revenue_micros) / MICROS),
    }
