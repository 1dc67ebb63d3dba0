"""Reddit's reports endpoint through the simulator (metrics-and-review.md §4, §5; the spec's
`POST /ad_accounts/{ad_account_id}/reports`), on the seeded series of `performance.py`:

- the body is validated against the spec (`reddit_call.py`: enums, `additionalProperties`),
  then: `starts_at` / `ends_at` hour-aligned UTC with a `Z` (`+00:00` is refused), ends after
  it starts, nothing older than 24 months, at most 3 breakdowns (4 with COUNTRY and REGION),
  KEYWORD only for about the last 10 days — each a 400 naming `data/<field>`;
- the range is [starts_at, ends_at) (whether Reddit's `ends_at` is inclusive is UNCONFIRMED),
  read in `time_zone_id` (default UTC): a DATE row is that calendar day, pro rata for hours of
  it outside the range;
- rows carry the requested fields lowercased: SPEND, CPC, ECPM in micros,
  CONVERSION_*_TOTAL_VALUE and *_AVG_VALUE in cents, counts as integers; purchases split into
  click-through (`_clicks`) and view-through (`_views`) conversions; days without delivery have
  no row (no delivery at all: `metrics: []`);
- `page.size` / `page.token`: `pagination.next_url` carries the token and the follow-up must
  POST the same body again (without one: 400 "request body is required");
- the `ads-reporting` policy (60 per 60 s) applies, with `RateLimit` headers on every answer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter

from flightdeck.simulators import performance_sources as sources
from flightdeck.simulators.performance import DayValues, split
from flightdeck.simulators.reddit_accounts import account_objects
from flightdeck.simulators.reddit_call import (
    DEFAULT_PAGE_SIZE,
    CallDep,
    RedditRoute,
    _offset,
    _page_url,
)
from flightdeck.simulators.reddit_errors import bad_request
from flightdeck.simulators.reddit_objects import RedditObjects
from flightdeck.simulators.state import SimulatorState, StateDep

router = APIRouter(route_class=RedditRoute)

HOUR_ALIGNED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$")
MAX_BREAKDOWNS = 3
RETENTION_DAYS = 730  # 24 months
KEYWORD_DAYS = 10
CACHE_SECONDS = 600.0
COUNTRIES = (("US", 7), ("GB", 2), ("CA", 1))
CONVERSION = re.compile(
    r"^CONVERSION_([A-Z0-9_]+?)_(CLICKS|VIEWS|TOTAL_VALUE|AVG_VALUE|ECPA|TOTAL_ITEMS)$"
)
COLUMNS = tuple(f.name for f in fields(DayValues))


@router.post("/api/v3/ad_accounts/{ad_account_id}/reports")
async def report(ad_account_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    token = call.query.get("page.token")
    async with state.lock:
        objects = account_objects(state, ad_account_id)
        request = _validated(call.data, state)
        key = f"{ad_account_id}:{json.dumps(call.data, sort_keys=True)}"
        cached = state.performance.report_cache.get(key)
        if token and cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            rows = cached[1]  # the next page of the report the first page computed
        else:
            currency = str(state.store("reddit", "ad_accounts")[ad_account_id].get("currency"))
            rows = _rows(state, objects, request, currency or "USD")
            cache, moment = state.performance.report_cache, time.monotonic()
            for old in [k for k, (at, _) in cache.items() if moment - at >= CACHE_SECONDS]:
                del cache[old]
            cache[key] = (moment, rows)
    size = call.query.get("page.size") or DEFAULT_PAGE_SIZE
    start = _offset(token)
    end = start + size
    now = datetime.fromtimestamp(state.performance.now(), UTC)
    return {
        "data": {
            "metrics": rows[start:end],
            "metrics_updated_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        },
        "pagination": {
            "next_url": _page_url(call.request, end) if end < len(rows) else None,
            "previous_url": _page_url(call.request, max(0, start - size)) if start else None,
            "page_index": start // size,
            "total_count": len(rows),
        },
    }


@dataclass(frozen=True)
class ReportRequest:
    starts_at: datetime
    ends_at: datetime
    fields: tuple[str, ...]
    breakdowns: tuple[str, ...]
    tz: ZoneInfo


def _validated(data: dict[str, Any], state: SimulatorState) -> ReportRequest:
    problems: list[dict[str, str]] = []
    moments: dict[str, datetime] = {}
    for name in ("starts_at", "ends_at"):
        value = str(data.get(name, ""))
        if not HOUR_ALIGNED.match(value):
            problems.append(
                {
                    "field": f"data/{name}",
                    "message": "must be an hour-aligned UTC time ending in Z, e.g. "
                    f"2026-01-01T00:00:00Z; got {value!r}",
                }
            )
        else:
            moments[name] = datetime.fromisoformat(value.replace("Z", "+00:00"))
    breakdowns = tuple(dict.fromkeys(str(b).upper() for b in data.get("breakdowns") or []))
    limit = MAX_BREAKDOWNS + int({"COUNTRY", "REGION"} <= set(breakdowns))
    if len(breakdowns) > limit:
        problems.append(
            {
                "field": "data/breakdowns",
                "message": f"at most {MAX_BREAKDOWNS} breakdowns (4 with COUNTRY and REGION)",
            }
        )
    now = datetime.fromtimestamp(state.performance.now(), UTC)
    if len(moments) == 2:
        if moments["ends_at"] <= moments["starts_at"]:
            problems.append({"field": "data/ends_at", "message": "must be after starts_at"})
        if moments["starts_at"] < now - timedelta(days=RETENTION_DAYS):
            problems.append(
                {"field": "data/starts_at", "message": "delivery data goes back 24 months"}
            )
        if "KEYWORD" in breakdowns and moments["starts_at"] < now - timedelta(days=KEYWORD_DAYS):
            problems.append(
                {
                    "field": "data/breakdowns",
                    "message": f"KEYWORD is available for the last {KEYWORD_DAYS} days only",
                }
            )
    if problems:
        raise bad_request(problems)
    return ReportRequest(
        starts_at=moments["starts_at"],
        ends_at=moments["ends_at"],
        fields=tuple(str(f).upper() for f in data["fields"]),
        breakdowns=breakdowns,
        tz=ZoneInfo(str(data.get("time_zone_id") or "UTC")),
    )


# -- rows ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slice:
    """One row's key values and its share of a campaign's day."""

    keys: dict[str, Any]
    values: DayValues


def _rows(
    state: SimulatorState, objects: RedditObjects, request: ReportRequest, currency: str
) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[DayValues]] = {}
    keys_of: dict[tuple[Any, ...], dict[str, Any]] = {}
    for campaign in objects.items("campaigns"):
        sources.observe_reddit(state, campaign)
        for day, fraction in _days(request):
            values = state.performance.day("reddit", campaign["id"], day, request.tz.key)
            values = _scaled(values, fraction)
            if values.empty:
                continue
            for part in _breakdown(objects, campaign, day, values, request):
                key = tuple(sorted(part.keys.items()))
                keys_of[key] = part.keys
                groups.setdefault(key, []).append(part.values)
    rows = []
    for key in sorted(groups, key=lambda k: tuple(str(v) for v in k)):
        totals = _sum(groups[key])
        if not totals.empty:
            rows.append({**keys_of[key], **_row(totals, request.fields, currency)})
    return rows


def _days(request: ReportRequest) -> Iterable[tuple[date, float]]:
    """Calendar days (in the report's time zone) the range covers, with the covered share."""
    first = request.starts_at.astimezone(request.tz).date()
    last = (request.ends_at - timedelta(seconds=1)).astimezone(request.tz).date()
    day = first
    while day <= last:
        start = datetime(day.year, day.month, day.day, tzinfo=request.tz)
        end = start + timedelta(days=1)
        covered = min(end, request.ends_at) - max(start, request.starts_at)
        yield day, max(0.0, covered.total_seconds() / 86_400)
        day += timedelta(days=1)


def _scaled(values: DayValues, fraction: float) -> DayValues:
    if fraction >= 1:
        return values
    hours = round(fraction * 24)
    return DayValues(*(split(getattr(values, name), [hours, 24 - hours])[0] for name in COLUMNS))


def _breakdown(
    objects: RedditObjects,
    campaign: dict[str, Any],
    day: date,
    values: DayValues,
    request: ReportRequest,
) -> list[_Slice]:
    slices = [_Slice({}, values)]
    for breakdown in request.breakdowns:
        slices = [piece for s in slices for piece in _split(objects, campaign, day, s, breakdown)]
    return slices


def _split(
    objects: RedditObjects, campaign: dict[str, Any], day: date, part: _Slice, breakdown: str
) -> list[_Slice]:
    keys = part.keys
    if breakdown == "CAMPAIGN_ID":
        return [_Slice({**keys, "campaign_id": campaign["id"]}, part.values)]
    if breakdown == "AD_ACCOUNT_ID":
        return [_Slice({**keys, "account_id": objects.ad_account_id}, part.values)]
    if breakdown == "DATE":
        return [_Slice({**keys, "date": day.isoformat()}, part.values)]
    if breakdown in ("AD_GROUP_ID", "AD_ID"):
        kind, key = ("ad_groups", "ad_group_id") if breakdown == "AD_GROUP_ID" else ("ads", "ad_id")
        group = keys.get("ad_group_id")
        children = [
            c
            for c in objects.items(kind)
            if c.get("campaign_id") == campaign["id"]
            and group in (None, c.get("ad_group_id", c["id"]))
        ]
        if not children:
            return []
        weights = [1 + int(c["id"][-3:]) % 7 for c in children]
        return [
            _Slice({**keys, key: c["id"]}, share)
            for c, share in zip(children, _shares(part.values, weights), strict=True)
        ]
    if breakdown == "HOUR":
        hours = [f"{day.isoformat()}T{h:02d}:00:00Z" for h in range(24)]
        return [
            _Slice({**keys, "hour": h}, share)
            for h, share in zip(hours, _shares(part.values, [1] * 24), strict=True)
        ]
    if breakdown == "COUNTRY":
        return [
            _Slice({**keys, "country": code}, share)
            for (code, _), share in zip(
                COUNTRIES, _shares(part.values, [w for _, w in COUNTRIES]), strict=True
            )
        ]
    # The simulator does not model the other dimensions: one bucket, named nothing.
    return [_Slice({**keys, breakdown.lower(): None}, part.values)]


def _shares(values: DayValues, weights: list[int]) -> list[DayValues]:
    columns = [split(getattr(values, name), weights) for name in COLUMNS]
    return [DayValues(*(column[i] for column in columns)) for i in range(len(weights))]


def _sum(values: list[DayValues]) -> DayValues:
    return DayValues(*(sum(getattr(v, name) for v in values) for name in COLUMNS))


def _row(values: DayValues, names: tuple[str, ...], currency: str) -> dict[str, Any]:
    viewed = values.conversions // 5
    clicked = values.conversions - viewed
    value_cents = values.revenue_micros // 10_000
    row: dict[str, Any] = {}
    for name in names:
        key = name.lower()
        if name == "IMPRESSIONS":
            row[key] = values.impressions
        elif name == "CLICKS":
            row[key] = values.clicks
        elif name == "SPEND":
            row[key] = values.spend_micros
        elif name == "CPC":
            row[key] = _per(values.spend_micros, values.clicks)
        elif name == "ECPM":
            row[key] = _per(values.spend_micros * 1000, values.impressions)
        elif name == "CTR":
            row[key] = _per(values.clicks * 100, values.impressions)
        elif name == "CURRENCY":
            row[key] = currency
        elif name in ("DATE", "HOUR"):
            continue  # breakdown keys, set by the breakdown
        else:
            row[key] = _conversion(name, values, clicked, viewed, value_cents)
    return row


def _conversion(
    name: str, values: DayValues, clicked: int, viewed: int, value_cents: int
) -> int | float | None:
    match = CONVERSION.match(name)
    if match is None:
        return None  # a field the simulator does not model
    event, metric = match.groups()
    if event != "PURCHASE":
        return 0
    return {
        "CLICKS": clicked,
        "VIEWS": viewed,
        "TOTAL_VALUE": value_cents,
        "AVG_VALUE": _per(value_cents, values.conversions),
        "ECPA": _per(values.spend_micros, values.conversions),
        "TOTAL_ITEMS": values.conversions,
    }[metric]


def _per(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 2) if denominator else None
