"""Meta Insights through the Graph simulator (metrics-and-review.md §1, §5), on the seeded
series of `performance.py`:

    GET  /{act_X | campaign | adset | ad}/insights      synchronous rows
    POST /{same}/insights                                an async report run: {report_run_id}
    GET  /{report_run_id}                                its AdReportRun (async_status, %)
    GET  /{report_run_id}/insights?limit&after           its rows, once "Job Completed"
    POST /  batch=[{"method": "GET", "relative_url": "<run id>"}]   (meta_graph.py)

Parameters: `fields`, `level` (ad|adset|campaign|account), `time_range` {since, until}
(inclusive, the account's calendar) or `date_preset` (default last_30d), `time_increment`
(1..90, monthly, all_days — the default), `action_attribution_windows`, `limit`/`after`.
Every value is a string; `spend` a major-unit decimal, `ctr` a percentage, `cpc`/`cpm` derived.
`actions` and `action_values` list the same purchase under `offsite_conversion.fb_pixel_purchase`,
`purchase` and `omni_purchase` (overlapping: never sum them), with a key per requested window
that has data. Days without delivery have no row (UNCONFIRMED for Meta).

Every answer carries `x-fb-ads-insights-throttle`; at 100 % a call is refused (code 4 /
1504022, or 80000 with `estimated_time_to_regain_access`). A synchronous request over the row
cap fails with code 100 / 1487534 ("reduce the amount of data"); ranges older than 37 months
with 3018.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flightdeck.domain.meta_rules import minor_units
from flightdeck.simulators import performance_sources as sources
from flightdeck.simulators.graph_errors import graph_error, invalid_parameter, nonexistent_object
from flightdeck.simulators.performance import MICROS, DayValues, split

if TYPE_CHECKING:
    from flightdeck.simulators.meta_graph import GraphCall

THROTTLE_HEADER = "x-fb-ads-insights-throttle"
LEVELS = ("ad", "adset", "campaign", "account")
PURCHASE_TYPES = ("offsite_conversion.fb_pixel_purchase", "purchase", "omni_purchase")
WINDOWS = ("1d_view", "7d_view", "28d_view", "1d_click", "7d_click", "28d_click", "1d_ev")
DEFAULT_WINDOWS = ("7d_click", "1d_view")
FIELDS = frozenset(
    {
        "account_id", "account_name", "account_currency", "campaign_id", "campaign_name",
        "adset_id", "adset_name", "ad_id", "ad_name", "objective", "impressions", "clicks",
        "spend", "cpc", "cpm", "ctr", "reach", "frequency", "actions", "action_values",
        "purchase_roas", "date_start", "date_stop",
    }
)  # fmt: skip
# date_preset -> (first day, last day) as days before today
PRESETS = {
    "today": (0, 0), "yesterday": (1, 1), "last_3d": (3, 1), "last_7d": (7, 1),
    "last_14d": (14, 1), "last_28d": (28, 1), "last_30d": (30, 1), "last_90d": (90, 1),
}  # fmt: skip
DEFAULT_LIMIT = 25  # Meta's default page size is UNCONFIRMED
MAX_LIMIT = 5000
RETENTION_MONTHS = 37
RUN_STATES = ("Job Not Started", "Job Started", "Job Running")
RUN_ID = re.compile(r"^\d{15,}$")


@dataclass(frozen=True)
class Query:
    level: str
    fields: tuple[str, ...]
    since: date
    until: date
    increment: str  # "1".."90", "monthly", "all_days"
    windows: tuple[str, ...]


# -- entry points (meta_graph.py routes here) ----------------------------------------------------


def is_report_run(call: GraphCall, node_id: str) -> bool:
    return RUN_ID.match(node_id) is not None and node_id in call.state.performance.report_runs


def insights(call: GraphCall, method: str, node_id: str) -> dict[str, Any]:
    """`/{node}/insights`: rows now (GET) or an async report run (POST)."""
    call.caller.require("ads_management", "ads_read")
    account, scope = _scope(call, node_id)
    _throttle(call, account)
    query = _query(call, account)
    if method == "POST":
        return _start_run(call, account, scope, query)
    rows = _rows(call, account, scope, query)
    if len(rows) > call.state.performance.sync_row_cap:
        raise graph_error(
            400,
            "Please reduce the amount of data you're asking for, then retry your request",
            code=100,
            subcode=1487534,
            headers=call.headers,
        )
    return _page(rows, call.params.values)


def report_run(call: GraphCall, run_id: str, edge: str | None) -> dict[str, Any]:
    """`GET /{report_run_id}` (the AdReportRun) or `/{report_run_id}/insights` (its rows)."""
    run = call.state.performance.report_runs[run_id]
    account = call.objects.accounts.get(run["account"])
    if account is None:
        raise nonexistent_object(run_id, method="get")
    view = _run_view(call, run)
    if edge is None:
        return view
    if edge != "insights":
        raise nonexistent_object(f"{run_id}/{edge}", method="get")
    _throttle(call, account)
    if view["async_status"] != "Job Completed":
        raise graph_error(
            400,
            f"(#100) Report run {run_id} is {view['async_status']}: results are available once "
            "it is Job Completed",
            code=100,
        )
    if run.get("rows") is None:  # the results as of completion, kept
        stored = run["query"]
        query = Query(
            **{
                **stored,
                "since": date.fromisoformat(stored["since"]),
                "until": date.fromisoformat(stored["until"]),
            }
        )
        run["rows"] = _rows(call, account, run["scope"], query)
    return _page(run["rows"], call.params.values)


# -- scope, parameters ---------------------------------------------------------------------------


def _scope(call: GraphCall, node_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The ad account the node belongs to, and which object the rows are limited to."""
    if node_id.startswith("act_"):
        return call.objects.account(node_id), {}
    found = call.objects.find(node_id)
    if found is None or found[0] == "adcreatives":
        raise nonexistent_object(node_id, method="get")
    kind, obj = found
    account = call.objects.accounts[f"act_{obj['account_id']}"]
    return account, {
        {"campaigns": "campaign_id", "adsets": "adset_id", "ads": "ad_id"}[kind]: node_id
    }


def _query(call: GraphCall, account: dict[str, Any]) -> Query:
    params = call.params
    level = params.get("level") or "account"
    if level not in LEVELS:
        raise invalid_parameter("level", f"must be one of {', '.join(LEVELS)}; got {level!r}")
    fields = _fields(params.get("fields"))
    today = _today(call, account)
    since, until = _range(params.get("time_range"), params.get("date_preset"), today)
    if since < _months_before(today, RETENTION_MONTHS):
        raise graph_error(
            400,
            f"(#3018) The start date of the time range cannot be beyond {RETENTION_MONTHS} "
            "months from the current date",
            code=3018,
        )
    increment = str(params.get("time_increment") or "all_days")
    if increment not in ("monthly", "all_days") and not (
        increment.isdigit() and 1 <= int(increment) <= 90
    ):
        raise invalid_parameter(
            "time_increment", f"must be 1-90, monthly or all_days; got {increment!r}"
        )
    windows = params.get("action_attribution_windows")
    if windows is None:
        windows = list(DEFAULT_WINDOWS)
    if not isinstance(windows, list) or any(w not in (*WINDOWS, "default") for w in windows):
        raise invalid_parameter("action_attribution_windows", f"has unknown windows {windows!r}")
    chosen = tuple(DEFAULT_WINDOWS if w == "default" else (w,) for w in windows)
    flat = tuple(dict.fromkeys(w for group in chosen for w in group))
    return Query(level, fields, since, until, increment, flat)


def _fields(value: Any) -> tuple[str, ...]:
    names = value if isinstance(value, list) else str(value or "").split(",")
    names = [str(n).strip() for n in names if str(n).strip()]
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise graph_error(400, f"(#100) {unknown[0]} is not valid for fields param.", code=100)
    return tuple(names) or ("impressions", "spend")


def _range(time_range: Any, preset: Any, today: date) -> tuple[date, date]:
    if time_range is not None:
        if not isinstance(time_range, dict):
            raise invalid_parameter("time_range", 'must be {"since": …, "until": …}')
        since, until = _day(time_range.get("since")), _day(time_range.get("until"))
        if since is None or until is None:
            raise invalid_parameter("time_range", "needs since and until as YYYY-MM-DD")
        if since > until:
            raise invalid_parameter("time_range", "since must not be after until")
        return since, until
    back, last = PRESETS.get(str(preset or "last_30d"), (None, None))
    if back is None or last is None:
        raise invalid_parameter("date_preset", f"{preset!r} is not a supported preset")
    return today - timedelta(days=back), today - timedelta(days=last)


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _today(call: GraphCall, account: dict[str, Any]) -> date:
    zone = ZoneInfo(str(account.get("timezone_name") or "UTC"))
    return datetime.fromtimestamp(call.state.performance.now(), zone).date()


def _months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, 1)


# -- throttling ----------------------------------------------------------------------------------


def _throttle(call: GraphCall, account: dict[str, Any]) -> None:
    """Count the call against the account's and the app's insights budget, put the throttle
    header on the answer; refuse it at 100 %."""
    perf = call.state.performance
    plan = perf.insights_throttle
    now = perf.now()
    key = account["id"]
    for name in (key, "*app*"):
        calls = perf.insights_calls.setdefault(name, [])
        while calls and calls[0] <= now - plan.window_seconds:
            calls.pop(0)
    account_pct = plan.account_pct
    if account_pct is None:
        account_pct = 100 * len(perf.insights_calls[key]) / max(plan.calls_per_window, 1)
    app_pct = plan.app_pct
    if app_pct is None:
        app_pct = 100 * len(perf.insights_calls["*app*"]) / max(plan.app_calls_per_window, 1)
    refused_until = perf.insights_refused_until.get(key, 0.0)
    if max(account_pct, app_pct) >= 100 and refused_until <= now:
        refused_until = perf.insights_refused_until[key] = now + plan.regain_seconds
    header = {
        "app_id_util_pct": round(min(app_pct, 100.0), 2),
        "acc_id_util_pct": round(min(account_pct, 100.0), 2),
        "ads_api_access_tier": call.state.meta.quota.tier,
    }
    call.headers[THROTTLE_HEADER] = json.dumps(header)
    if refused_until > now:
        raise _throttled(call, account, refused_until - now)
    perf.insights_calls[key].append(now)
    perf.insights_calls["*app*"].append(now)


def _throttled(call: GraphCall, account: dict[str, Any], wait: float) -> Exception:
    plan = call.state.performance.insights_throttle
    if plan.error == "code4":
        return graph_error(
            400,
            "(#4) Application request limit reached",
            code=4,
            subcode=1504022,
            is_transient=True,
            headers=call.headers,
        )
    minutes = max(1, math.ceil(wait / 60))
    buc = {
        account["business"]["id"]: [
            {"type": "ads_insights", "call_count": 100, "total_cputime": 100, "total_time": 100,
             "estimated_time_to_regain_access": minutes,
             "ads_api_access_tier": call.state.meta.quota.tier}
        ]
    }  # fmt: skip
    headers = {**call.headers, "X-Business-Use-Case-Usage": json.dumps(buc)}
    return graph_error(
        400,
        "(#80000) There have been too many calls from this ad-account. Wait a bit and try again.",
        code=80000,
        subcode=2446079,
        is_transient=True,
        headers=headers,
    )


# -- rows ----------------------------------------------------------------------------------------


def _rows(
    call: GraphCall, account: dict[str, Any], scope: dict[str, str], query: Query
) -> list[dict[str, Any]]:
    store = call.objects.store
    campaigns = [
        c
        for c in store.visible("campaigns")
        if str(c.get("account_id")) == account["account_id"]
        and scope.get("campaign_id") in (None, c["id"])
    ]
    tz = str(account.get("timezone_name") or "UTC")
    currency = str(account["currency"])
    found: list[tuple[dict[str, Any], _Unit, date, date, DayValues]] = []
    for campaign in campaigns:
        sources.observe_facebook(call.state, campaign)
        days = list(
            call.state.performance.days("meta", campaign["id"], query.since, query.until, tz)
        )
        for unit in _units(call, campaign, query.level, scope):
            series = [(day, _share(values, unit.weight, unit.total)) for day, values in days]
            for since, until, values in _buckets(series, query):
                if not values.empty:
                    found.append((campaign, unit, since, until, values))
    if query.level == "account":
        return _account_rows(found, account, query, currency)
    return [_row(account, c, u, a, b, v, query, currency) for c, u, a, b, v in found]


@dataclass(frozen=True)
class _Unit:
    """The object a row is about (campaign, ad set or ad) and its share of the campaign."""

    ids: dict[str, str]
    names: dict[str, str]
    weight: int
    total: int


def _units(
    call: GraphCall, campaign: dict[str, Any], level: str, scope: dict[str, str]
) -> list[_Unit]:
    base_ids = {"campaign_id": campaign["id"]}
    base_names = {"campaign_name": str(campaign.get("name", ""))}
    if level in ("campaign", "account"):
        if len(scope) == 1 and "campaign_id" not in scope:
            level = "adset" if "adset_id" in scope else "ad"
        else:
            return [_Unit(base_ids, base_names, 1, 1)]
    kind = "adsets" if level == "adset" else "ads"
    children = [
        c for c in call.objects.store.visible(kind) if c.get("campaign_id") == campaign["id"]
    ]
    weights = [1 + int(c["id"][-3:]) % 7 for c in children]
    total = sum(weights)
    units = []
    for child, weight in zip(children, weights, strict=True):
        ids = {**base_ids, "adset_id": str(child.get("adset_id", child["id"]))}
        names = {**base_names}
        if kind == "ads":
            ids["ad_id"] = child["id"]
            names["ad_name"] = str(child.get("name", ""))
        else:
            names["adset_name"] = str(child.get("name", ""))
        if all(scope.get(k) in (None, v) for k, v in ids.items()):
            units.append(_Unit(ids, names, weight, total))
    return units


def _share(values: DayValues, weight: int, total: int) -> DayValues:
    if weight == total:
        return values
    parts = {
        name: split(getattr(values, name), [weight, total - weight])[0]
        for name in ("impressions", "clicks", "spend_micros", "conversions", "revenue_micros")
    }
    return DayValues(**parts)


def _buckets(
    series: list[tuple[date, DayValues]], query: Query
) -> list[tuple[date, date, DayValues]]:
    if query.increment == "all_days":
        groups = [(query.since, query.until, [v for _, v in series])]
    elif query.increment == "monthly":
        by_month: dict[tuple[int, int], list[tuple[date, DayValues]]] = {}
        for day, values in series:
            by_month.setdefault((day.year, day.month), []).append((day, values))
        groups = [(g[0][0], g[-1][0], [v for _, v in g]) for g in by_month.values()]
    else:
        size = int(query.increment)
        groups = []
        for start in range(0, len(series), size):
            chunk = series[start : start + size]
            groups.append((chunk[0][0], chunk[-1][0], [v for _, v in chunk]))
    return [(since, until, _sum(values)) for since, until, values in groups if values]


def _sum(values: list[DayValues]) -> DayValues:
    return DayValues(
        impressions=sum(v.impressions for v in values),
        clicks=sum(v.clicks for v in values),
        spend_micros=sum(v.spend_micros for v in values),
        conversions=sum(v.conversions for v in values),
        revenue_micros=sum(v.revenue_micros for v in values),
    )


def _row(
    account: dict[str, Any],
    campaign: dict[str, Any],
    unit: _Unit,
    since: date,
    until: date,
    values: DayValues,
    query: Query,
    currency: str,
) -> dict[str, Any]:
    spend = _money(values.spend_micros, currency)
    revenue = _money(values.revenue_micros, currency)
    full: dict[str, Any] = {
        "account_id": account["account_id"],
        "account_name": account["name"],
        "account_currency": currency,
        **unit.ids,
        **unit.names,
        "objective": campaign.get("objective"),
        "impressions": str(values.impressions),
        "clicks": str(values.clicks),
        "spend": _fmt(spend, currency),
        "reach": str(values.impressions * 7 // 10),
        "frequency": _ratio(Decimal(values.impressions), Decimal(values.impressions * 7 // 10)),
        "cpc": _ratio(spend, Decimal(values.clicks)),
        "cpm": _ratio(spend * 1000, Decimal(values.impressions)),
        "ctr": _ratio(Decimal(values.clicks) * 100, Decimal(values.impressions)),
        "actions": _actions(values.clicks, values.conversions, None, query.windows, currency),
        "action_values": _actions(0, values.conversions, revenue, query.windows, currency),
        "purchase_roas": (
            [{"action_type": "omni_purchase", "value": _ratio(revenue, spend)}] if spend else []
        ),
    }
    row = {k: v for k, v in full.items() if k in query.fields and v is not None}
    row.update(date_start=since.isoformat(), date_stop=until.isoformat())
    return row


def _account_rows(
    found: list[tuple[dict[str, Any], _Unit, date, date, DayValues]],
    account: dict[str, Any],
    query: Query,
    currency: str,
) -> list[dict[str, Any]]:
    by_period: dict[tuple[date, date], list[DayValues]] = {}
    for _, _, since, until, values in found:
        by_period.setdefault((since, until), []).append(values)
    unit = _Unit({}, {}, 1, 1)
    return [
        _row(account, {}, unit, since, until, _sum(values), query, currency)
        for (since, until), values in sorted(by_period.items())
    ]


def _actions(
    clicks: int, conversions: int, revenue: Decimal | None, windows: tuple[str, ...], currency: str
) -> list[dict[str, Any]]:
    """`actions` (revenue None) or `action_values`: the same purchase under three types, each
    with the requested windows that have data (view-through ≈ 20 % of conversions)."""
    entries: list[dict[str, Any]] = []
    if revenue is None and clicks:
        entries.append({"action_type": "link_click", "value": str(clicks)})
        entries.append({"action_type": "landing_page_view", "value": str(clicks * 4 // 5)})
    if not conversions:
        return entries
    viewed = conversions // 5
    clicked = conversions - viewed
    by_window = {
        "1d_view": viewed, "7d_view": viewed, "28d_view": viewed, "1d_ev": 0,
        "1d_click": clicked * 3 // 5, "7d_click": clicked, "28d_click": clicked,
    }  # fmt: skip
    for action_type in PURCHASE_TYPES:
        entry: dict[str, Any] = {"action_type": action_type}
        if revenue is None:
            entry["value"] = str(conversions)
            for window in windows:
                if by_window[window]:
                    entry[window] = str(by_window[window])
        else:
            entry["value"] = _fmt(revenue, currency)
            for window in windows:
                if by_window[window]:
                    share = revenue * by_window[window] / conversions
                    entry[window] = _fmt(_cents(share, currency), currency)
        entries.append(entry)
    return entries


def _money(micros: int, currency: str) -> Decimal:
    """Meta reports money in the account currency's minor-unit precision."""
    return _cents(Decimal(micros) / MICROS, currency)


def _cents(amount: Decimal, currency: str) -> Decimal:
    places = Decimal(1) / minor_units(currency)
    return amount.quantize(places, ROUND_HALF_UP)


def _fmt(amount: Decimal, currency: str) -> str:
    return str(_cents(amount, currency))


def _ratio(numerator: Decimal, denominator: Decimal) -> str | None:
    if not denominator:
        return None
    return str((numerator / denominator).quantize(Decimal("0.000001"), ROUND_HALF_EVEN))


def _page(rows: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    try:
        limit = min(MAX_LIMIT, max(1, int(params.get("limit") or DEFAULT_LIMIT)))
        start = int(base64.b64decode(str(params.get("after") or "MA==")).decode() or 0)
    except (ValueError, binascii.Error):
        raise invalid_parameter("after", "is not a valid cursor") from None
    chunk = rows[start : start + limit]
    cursors = {
        "before": base64.b64encode(str(start).encode()).decode(),
        "after": base64.b64encode(str(start + len(chunk)).encode()).decode(),
    }
    body: dict[str, Any] = {"data": chunk, "paging": {"cursors": cursors}}
    if start + len(chunk) < len(rows):
        body["paging"]["next"] = f"?limit={limit}&after={cursors['after']}"
    return body


# -- async report runs ---------------------------------------------------------------------------


def _start_run(
    call: GraphCall, account: dict[str, Any], scope: dict[str, str], query: Query
) -> dict[str, Any]:
    perf = call.state.performance
    plan = perf.async_jobs
    outcome = "Job Completed"
    if plan.fail_next > 0:
        plan.fail_next -= 1
        outcome = "Job Failed"
    elif plan.skip_next > 0:
        plan.skip_next -= 1
        outcome = "Job Skipped"
    run_id = call.state.meta.new_id()
    perf.report_runs[run_id] = {
        "id": run_id,
        "account": account["id"],
        "scope": scope,
        "query": {
            **query.__dict__,
            "since": query.since.isoformat(),
            "until": query.until.isoformat(),
        },
        "submitted": perf.now(),
        "duration": plan.duration_seconds,
        "outcome": outcome,
        "rows": None,
    }
    return {"report_run_id": run_id}


def _run_view(call: GraphCall, run: dict[str, Any]) -> dict[str, Any]:
    elapsed = call.state.performance.now() - run["submitted"]
    share = 1.0 if run["duration"] <= 0 else min(1.0, elapsed / run["duration"])
    view: dict[str, Any] = {
        "id": run["id"],
        "account_id": run["account"].removeprefix("act_"),
        "date_start": run["query"]["since"],
        "date_stop": run["query"]["until"],
        "time_ref": int(run["submitted"]),
        "is_running": share < 1.0,
    }
    if share < 1.0:
        state = RUN_STATES[min(2, int(share * 3))]  # each state a third of the run
        view.update(async_status=state, async_percent_completion=int(share * 100))
        return view
    completed = int(run["submitted"] + run["duration"])
    if run["outcome"] == "Job Completed":
        view.update(async_status="Job Completed", async_percent_completion=100)
        view["time_completed"] = completed
    else:
        view.update(async_status=run["outcome"], async_percent_completion=40)
        view.update(
            error_code=1,
            error_subcode=99,
            error_message="An unknown error occurred while running the report",
            error_user_title="Report failed",
            error_user_msg="The report could not be generated. Try again.",
        )
    return view
