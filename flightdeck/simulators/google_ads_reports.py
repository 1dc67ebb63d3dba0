"""Google Ads metrics through GAQL (google-ads-api.md §4 "Metrics", §6 "Seeded daily
metrics"), on the seeded series of `performance.py`:

    SELECT campaign.resource_name, segments.date, metrics.impressions, metrics.clicks,
           metrics.cost_micros, metrics.conversions, metrics.conversions_value
    FROM campaign WHERE segments.date BETWEEN '2026-11-01' AND '2026-11-28'

- `segments.date` splits a campaign's row by day, in the customer's time zone (Google's zone
  for it is UNCONFIRMED; the account's is what the UI shows). Selecting it needs a finite
  range on it (`=`, `BETWEEN`, `IN`, `>=`/`<=` pairs, or `DURING` a named range such as
  LAST_7_DAYS: the last seven whole days, today excluded), else `queryError:
  EXPECTED_FILTERS_ON_DATE_RANGE`; an unknown range name is `INVALID_VALUE_WITH_DURING_OPERATOR`.
- Metrics without `segments.date` are the campaign's total over the range (all its days when
  there is none).
- impressions, clicks, cost_micros are int64 (strings); conversions and conversions_value
  doubles (JSON numbers); days without delivery have no row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flightdeck.simulators import performance_sources as sources
from flightdeck.simulators.google_ads_errors import AdsError
from flightdeck.simulators.google_ads_gaql import Condition, Query, QueryError, Row
from flightdeck.simulators.performance import MICROS, DayValues, day_of
from flightdeck.simulators.state import SimulatorState

DATE = "segments.date"
DURING_RANGES = (
    "TODAY",
    "YESTERDAY",
    "LAST_7_DAYS",
    "LAST_14_DAYS",
    "LAST_30_DAYS",
    "THIS_MONTH",
    "LAST_MONTH",
)


def wants_metrics(query: Query) -> bool:
    names = [*query.fields, *(c.field for c in query.conditions), *(o[0] for o in query.order)]
    return any(n.startswith(("metrics.", "segments.")) for n in names)


def metric_rows(
    state: SimulatorState, customer: dict[str, Any], query: Query, campaigns: list[Row]
) -> list[Row]:
    """The campaign rows of `query` with their metrics (by day when segments.date is in it)."""
    tz = sources.google_timezone(state, str(customer["id"]))
    today = day_of(state.performance.now(), tz)
    query.conditions = [_resolved(c, today) for c in query.conditions]
    since, until = _range(query.conditions)
    by_day = DATE in query.fields or any(o[0] == DATE for o in query.order)
    if by_day and (since is None or until is None):
        raise QueryError(
            AdsError(
                "queryError",
                "EXPECTED_FILTERS_ON_DATE_RANGE",
                "Selecting segments.date needs a finite date range on it in WHERE.",
            )
        )
    if not by_day:  # a total over the range: the range is not a row filter
        query.conditions = [c for c in query.conditions if c.field != DATE]
    rows: list[Row] = []
    for row in campaigns:
        campaign = row["campaign"]
        sources.observe_google(state, campaign)
        name = str(campaign["resourceName"])
        first = since or _first_day(state, name, tz, today)
        last = min(until or today, today)
        days = list(state.performance.days("google", name, first, last, tz)) if first else []
        if by_day:
            for day, values in days:
                if not values.empty:
                    rows.append({**row, "metrics": _metrics(values), "segments": _date(day)})
        elif days:
            total = _sum(values for _, values in days)
            rows.append({**row, "metrics": _metrics(total)})
    return rows


def _resolved(condition: Condition, today: date) -> Condition:
    """`segments.date DURING X` as the BETWEEN it stands for."""
    if condition.op != "DURING":
        return condition
    if condition.field != DATE:
        raise _during_error(f"DURING applies to {DATE} only.")
    name = str(condition.values[0]).upper()
    yesterday = today - timedelta(days=1)
    if name == "TODAY":
        low, high = today, today
    elif name == "YESTERDAY":
        low, high = yesterday, yesterday
    elif name in ("LAST_7_DAYS", "LAST_14_DAYS", "LAST_30_DAYS"):
        low, high = today - timedelta(days=int(name.split("_")[1])), yesterday
    elif name == "THIS_MONTH":
        low, high = today.replace(day=1), today
    elif name == "LAST_MONTH":
        high = today.replace(day=1) - timedelta(days=1)
        low = high.replace(day=1)
    else:
        raise _during_error(f"Unknown date range {name}; use one of {', '.join(DURING_RANGES)}.")
    return Condition(DATE, "BETWEEN", [low.isoformat(), high.isoformat()])


def _during_error(message: str) -> QueryError:
    return QueryError(AdsError("queryError", "INVALID_VALUE_WITH_DURING_OPERATOR", message))


def _range(conditions: list[Condition]) -> tuple[date | None, date | None]:
    low: date | None = None
    high: date | None = None

    def parsed(value: Any) -> date:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise QueryError(
                AdsError("queryError", "INVALID_DATE_FORMAT", "Dates are yyyy-MM-dd.")
            ) from None

    for c in conditions:
        if c.field != DATE:
            continue
        values = [parsed(v) for v in c.values]
        lows: list[date] = []
        highs: list[date] = []
        if c.op in ("=", "IN", "BETWEEN"):
            lows, highs = [min(values)], [max(values)]
        elif c.op in (">=", ">"):
            lows = [values[0] + timedelta(days=1 if c.op == ">" else 0)]
        elif c.op in ("<=", "<"):
            highs = [values[0] - timedelta(days=1 if c.op == "<" else 0)]
        low = max([*lows, *([low] if low else [])]) if lows else low
        high = min([*highs, *([high] if high else [])]) if highs else high
    return low, high


def _first_day(state: SimulatorState, name: str, tz: str, today: date) -> date | None:
    timeline = state.performance.timelines.get(("google", name))
    if not timeline:
        return None
    return min(today, datetime.fromtimestamp(timeline[0][0], UTC).astimezone(ZoneInfo(tz)).date())


def _sum(days: Any) -> DayValues:
    total = [0, 0, 0, 0, 0]
    for values in days:
        for index, part in enumerate(
            (
                values.impressions,
                values.clicks,
                values.spend_micros,
                values.conversions,
                values.revenue_micros,
            )  # fmt: skip
        ):
            total[index] += part
    return DayValues(*total)


def _metrics(values: DayValues) -> dict[str, Any]:
    return {
        "impressions": str(values.impressions),
        "clicks": str(values.clicks),
        "costMicros": str(values.spend_micros),
        "conversions": float(values.conversions),
        "conversionsValue": float(Decimal(values.revenue_micros) / MICROS),
    }


def _date(day: date) -> dict[str, Any]:
    return {"date": day.isoformat()}
