"""The simulators' reporting contracts (metrics-and-review.md §5): Meta Insights (validation,
retention, row cap, async report runs and batch reads, the throttle header) and Reddit reports
(hour-aligned ranges, breakdown limits, KEYWORD and retention windows, pagination that needs the
body again, units, the ads-reporting policy), on a series that follows status and budget and
whose conversions mature over the attribution window."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.platforms.meta import MetaGraphClient
from flightdeck.simulators.reddit_state import AD_ACCOUNT_ID
from tests.platforms.meta_support import APP_ID, APP_SECRET, MAIN_ACCOUNT, login, register_app
from tests.simulators.test_sim_reddit_support import RedditSim

META_TZ = "America/Los_Angeles"
FIELDS = "campaign_id,impressions,clicks,spend,actions,action_values"
REDDIT_FIELDS = ["IMPRESSIONS", "CLICKS", "SPEND", "CONVERSION_PURCHASE_CLICKS",
                 "CONVERSION_PURCHASE_VIEWS", "CONVERSION_PURCHASE_TOTAL_VALUE"]  # fmt: skip


@pytest.fixture
async def http(sim_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        yield client


@pytest.fixture
async def graph(sim_app: FastAPI, http: httpx.AsyncClient) -> AsyncIterator[tuple[Any, str]]:
    await register_app(http)
    client = MetaGraphClient(
        "http://sim/graph", "v23.0", APP_ID, APP_SECRET, transport=httpx.ASGITransport(app=sim_app)
    )
    token = await login(http, client)
    yield client, token
    await client.aclose()


async def made(http: httpx.AsyncClient, platform: str, days: float = 30, budget: str = "50") -> str:
    account = MAIN_ACCOUNT if platform == "meta" else AD_ACCOUNT_ID
    response = await http.post("/_sim/performance/campaigns", json={
        "platform": platform, "accountId": account, "name": "C", "dailyBudget": budget,
        "runningDays": days})  # fmt: skip
    assert response.status_code == 201, response.text
    campaign_id: str = response.json()["id"]
    return campaign_id


async def raw(graph: tuple[Any, str], http: httpx.AsyncClient, method: str, path: str,
              **params: Any) -> httpx.Response:  # fmt: skip
    """A Graph call as it goes over the wire, with the token (our client raises on errors)."""
    client, token = graph
    from flightdeck.platforms.meta import appsecret_proof, encode_params

    auth = {"access_token": token, "appsecret_proof": appsecret_proof(APP_SECRET, token)}
    url = f"/graph/v23.0/{path}"
    if method == "GET":
        return await http.get(url, params={**encode_params(params), **auth})
    return await http.post(url, params=auth, data=encode_params(params))


def window(days_back: int, length: int = 1) -> dict[str, str]:
    until = datetime.now(UTC).date() - timedelta(days=days_back)
    return {"since": (until - timedelta(days=length - 1)).isoformat(), "until": until.isoformat()}


# -- Meta Insights ---------------------------------------------------------------------------------


async def test_insights_refuse_what_graph_refuses(graph: Any, http: httpx.AsyncClient) -> None:
    await made(http, "meta")
    cases = (
        ({"fields": "spend,nonsense"}, 100),
        ({"level": "keyword"}, 100),
        ({"time_increment": "weekly"}, 100),
        ({"time_range": {"since": "2026-01-02", "until": "2026-01-01"}}, 100),
        ({"time_range": window(38 * 31)}, 3018),  # beyond 37 months
    )
    for params, code in cases:
        response = await raw(graph, http, "GET", f"{MAIN_ACCOUNT}/insights", **params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"]["code"] == code, params
    await http.post("/_sim/performance/settings", json={"syncRowCap": 3})
    big = await raw(graph, http, "GET", f"{MAIN_ACCOUNT}/insights", level="campaign",
                    time_increment=1, time_range=window(1, 10))  # fmt: skip
    assert big.json()["error"]["error_subcode"] == 1487534  # "reduce the amount of data"


async def test_daily_rows_levels_and_overlapping_purchase_types(
    graph: Any, http: httpx.AsyncClient
) -> None:
    campaign = await made(http, "meta")
    response = await raw(graph, http, "GET", f"{MAIN_ACCOUNT}/insights", level="campaign",
                         time_increment=1, time_range=window(1, 5), fields=FIELDS,
                         action_attribution_windows=["7d_click", "1d_view"])  # fmt: skip
    assert response.status_code == 200, response.text
    assert json.loads(response.headers["x-fb-ads-insights-throttle"])["acc_id_util_pct"] == 0
    rows = response.json()["data"]
    assert len(rows) == 5 and all(r["date_start"] == r["date_stop"] for r in rows)
    assert all(r["campaign_id"] == campaign and isinstance(r["spend"], str) for r in rows)
    converting = next(r for r in rows if any("purchase" in a["action_type"] for a in r["actions"]))
    purchases = [a for a in converting["actions"] if "purchase" in a["action_type"]]
    assert {a["action_type"] for a in purchases} == {
        "offsite_conversion.fb_pixel_purchase", "purchase", "omni_purchase",
    }  # fmt: skip
    assert len({a["value"] for a in purchases}) == 1  # the same purchases three times
    total = await raw(graph, http, "GET", campaign + "/insights", time_range=window(1, 5),
                      fields="spend")  # fmt: skip
    (all_days,) = total.json()["data"]  # default time_increment: all_days, one row
    # Graph rounds each row to the cent from the exact spend, so the total of five rounded days
    # can differ from the rounded total by at most half a cent per day.
    days_total = sum(Decimal(r["spend"]) for r in rows)
    assert abs(Decimal(all_days["spend"]) - days_total) <= Decimal("0.005") * len(rows)


async def test_async_report_runs_move_through_their_states(
    graph: Any, http: httpx.AsyncClient
) -> None:
    await made(http, "meta")
    await http.post("/_sim/performance/clock", json={"frozen": True})
    await http.post("/_sim/performance/insights/jobs", json={"durationSeconds": 100,
                                                            "failNext": 1})  # fmt: skip
    params = {"level": "campaign", "time_increment": 1, "time_range": window(1, 3),
              "fields": FIELDS}  # fmt: skip
    failing = (await raw(graph, http, "POST", f"{MAIN_ACCOUNT}/insights", **params)).json()
    working = (await raw(graph, http, "POST", f"{MAIN_ACCOUNT}/insights", **params)).json()
    runs = [failing["report_run_id"], working["report_run_id"]]
    seen: list[list[str]] = []
    for _ in range(5):
        batch = await raw(graph, http, "POST", "", batch=[
            {"method": "GET", "relative_url": run} for run in runs])  # fmt: skip
        bodies = [json.loads(answer["body"]) for answer in batch.json()]
        seen.append([b["async_status"] for b in bodies])
        early = await raw(graph, http, "GET", f"{runs[1]}/insights")
        if bodies[1]["async_status"] != "Job Completed":
            assert early.status_code == 400  # results only once completed
        await http.post("/_sim/performance/clock", json={"advanceSeconds": 30})
    states = [pair[1] for pair in seen]
    assert list(dict.fromkeys(states)) == [
        "Job Not Started", "Job Started", "Job Running", "Job Completed",
    ]  # fmt: skip
    assert seen[-1] == ["Job Failed", "Job Completed"]
    failed = (await raw(graph, http, "GET", runs[0])).json()
    assert failed["error_message"] and failed["async_percent_completion"] < 100
    results = await raw(graph, http, "GET", f"{runs[1]}/insights", limit=2)
    assert len(results.json()["data"]) == 2 and results.json()["paging"]["next"]


async def test_spend_follows_status_and_conversions_mature(
    graph: Any, http: httpx.AsyncClient
) -> None:
    campaign = await made(http, "meta", days=20, budget="100")
    await http.post("/_sim/performance/clock", json={"frozen": True})
    await http.post("/_sim/performance/settings", json={"maturityDays": {"meta": 7}})
    day = datetime.now(UTC).date() - timedelta(days=3)

    async def series(d: date) -> dict[str, Any]:
        rows = (await http.get("/_sim/performance/series", params={
            "platform": "meta", "campaignId": campaign, "since": d.isoformat(),
            "until": d.isoformat()})).json()  # fmt: skip
        return dict(rows[0])

    young = await series(day)
    await http.post("/_sim/performance/clock", json={"advanceSeconds": 4 * 86_400})
    older = await series(day)
    await http.post("/_sim/performance/clock", json={"advanceSeconds": 10 * 86_400})
    settled = await series(day)
    await http.post("/_sim/performance/clock", json={"advanceSeconds": 10 * 86_400})
    assert young["spend"] == older["spend"] == settled["spend"]  # delivery is final
    assert young["conversions"] <= older["conversions"] <= settled["conversions"]
    assert young["conversions"] < settled["conversions"]
    assert await series(day) == settled  # frozen after the window

    client, token = graph
    await client.post(campaign, token, {"status": "PAUSED"})
    await http.post("/_sim/performance/clock", json={"advanceSeconds": 2 * 86_400})
    # The simulators' "today" is 26 days ahead, on the account's Pacific calendar.
    sim_today = (datetime.now(UTC) + timedelta(days=26)).astimezone(ZoneInfo(META_TZ)).date()
    before = await series(sim_today - timedelta(days=3))
    after = await series(sim_today - timedelta(days=1))  # the whole day paused
    assert float(before["spend"]) > 0 and float(after["spend"]) == 0


# -- Reddit reports --------------------------------------------------------------------------------


@pytest.fixture
async def reddit(http: httpx.AsyncClient) -> RedditSim:
    sim = RedditSim(http)
    await sim.register_app()
    await sim.login()
    return sim


async def report(reddit: RedditSim, data: dict[str, Any], **query: Any) -> httpx.Response:
    path = f"/reddit/api/v3/ad_accounts/{AD_ACCOUNT_ID}/reports"
    return await reddit.http.post(path, params=query, json={"data": data}, headers=reddit.headers)


def body(first: date, last: date, **extra: Any) -> dict[str, Any]:
    return {
        "starts_at": f"{first.isoformat()}T00:00:00Z",
        "ends_at": f"{(last + timedelta(days=1)).isoformat()}T00:00:00Z",
        "fields": REDDIT_FIELDS,
        "breakdowns": ["CAMPAIGN_ID", "DATE"],
        **extra,
    }


async def test_reports_validate_ranges_and_breakdowns(reddit: RedditSim, http: Any) -> None:
    today = datetime.now(UTC).date()
    recent = body(today - timedelta(days=3), today - timedelta(days=1))
    cases = [
        ({**recent, "starts_at": f"{today - timedelta(days=3)}T00:00:00+00:00"}, "data/starts_at"),
        ({**recent, "starts_at": f"{today - timedelta(days=3)}T00:30:00Z"}, "data/starts_at"),
        ({**recent, "ends_at": recent["starts_at"]}, "data/ends_at"),
        ({**recent, "breakdowns": ["CAMPAIGN_ID", "DATE", "AD_ID", "COUNTRY"]}, "data/breakdowns"),
        (
            {
                **body(today - timedelta(days=20), today - timedelta(days=1)),
                "breakdowns": ["KEYWORD"],
            },
            "data/breakdowns",
        ),  # fmt: skip
        (body(today - timedelta(days=800), today - timedelta(days=790)), "data/starts_at"),
        ({**recent, "fields": ["SPEND", "NOT_A_FIELD"]}, "data/fields/1"),
        ({**recent, "time_zone_id": "Mars/Olympus"}, "data/time_zone_id"),
    ]
    for data, field in cases:
        response = await report(reddit, data)
        assert response.status_code == 400, (data, response.text)
        assert field in {f["field"] for f in response.json()["error"]["fields"]}, response.text
    four = {**recent, "breakdowns": ["CAMPAIGN_ID", "DATE", "COUNTRY", "REGION"]}
    assert (await report(reddit, four)).status_code == 200  # 4 with COUNTRY and REGION


async def test_reports_page_with_the_body_again_in_micros_and_cents(
    reddit: RedditSim, http: httpx.AsyncClient
) -> None:
    today = datetime.now(UTC).date()
    empty = await report(reddit, body(today - timedelta(days=3), today - timedelta(days=1)))
    assert empty.json()["data"]["metrics"] == []  # no delivery
    campaign = await made(http, "reddit", days=10)
    day = today - timedelta(days=2)
    await http.post("/_sim/performance/days", json={"platform": "reddit", "campaignId": campaign,
                    "day": day.isoformat(), "values": {"spend": "12.345678", "revenue": "123.45",
                                                       "conversions": 5}})  # fmt: skip
    data = body(today - timedelta(days=6), today - timedelta(days=1), time_zone_id="UTC")
    first = await report(reddit, data, **{"page.size": 4})
    page = first.json()
    assert page["pagination"]["total_count"] == 6 and len(page["data"]["metrics"]) == 4
    assert first.headers["RateLimit-Policy"].startswith('"ads-reporting";q=60;w=60')
    next_url = page["pagination"]["next_url"]
    without_body = await reddit.http.post(next_url, headers=reddit.headers)
    assert without_body.status_code == 400
    assert without_body.json()["error"]["fields"][0]["message"] == "request body is required"
    second = await reddit.http.post(next_url, json={"data": data}, headers=reddit.headers)
    rows = page["data"]["metrics"] + second.json()["data"]["metrics"]
    assert len(rows) == 6 and second.json()["pagination"]["next_url"] is None
    shaped = next(r for r in rows if r["date"] == day.isoformat())
    assert shaped["spend"] == 12_345_678 and shaped["conversion_purchase_total_value"] == 12_345
    assert shaped["conversion_purchase_clicks"] + shaped["conversion_purchase_views"] == 5


async def test_reports_count_against_the_ads_reporting_policy(reddit: RedditSim) -> None:
    limits = {"policies": {"ads-reporting": {"quota": 2, "window": 60}}}
    await reddit.http.post("/_sim/reddit/rate-limits", json=limits)
    today = datetime.now(UTC).date()
    data = body(today - timedelta(days=2), today - timedelta(days=1))
    statuses = [(await report(reddit, data)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
