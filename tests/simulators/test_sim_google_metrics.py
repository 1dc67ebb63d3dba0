"""The Google Ads simulator's metrics over real HTTP (google-ads-api.md §4 "Metrics", §6): GAQL
`FROM campaign` with `segments.date` BETWEEN / DURING, int64 as strings and doubles as numbers,
the seeded series shared with Meta and Reddit (performance.py), spend following status and
budget, a finite date range required, and a 429 RESOURCE_TEMPORARILY_EXHAUSTED with a
retryDelay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.simulators.google_ads_support import CID, GoogleSim, errors_of

TZ = "America/New_York"  # the seeded client customer's time zone
METRICS = (
    "SELECT campaign.resource_name, segments.date, metrics.impressions, metrics.clicks, "
    "metrics.cost_micros, metrics.conversions, metrics.conversions_value FROM campaign "
)


@pytest.fixture
async def google(simulator_url: str) -> AsyncIterator[GoogleSim]:
    async with httpx.AsyncClient(base_url=simulator_url, timeout=30) as http:
        sim = GoogleSim(http)
        await sim.setup()
        yield sim
        await http.post("/_sim/google/quotas", json={})


async def ui_campaign(google: GoogleSim, name: str, budget: str = "80", days: float = 20) -> str:
    body = {"platform": "google", "accountId": CID, "name": name, "dailyBudget": budget,
            "runningDays": days}  # fmt: skip
    response = await google.http.post("/_sim/performance/campaigns", json=body)
    assert response.status_code == 201, response.text
    campaign_id: str = response.json()["id"]
    return campaign_id


async def series(google: GoogleSim, campaign: str, since: date, until: date) -> list[Any]:
    response = await google.http.get(
        "/_sim/performance/series",
        params={
            "platform": "google",
            "campaignId": campaign,
            "since": since.isoformat(),
            "until": until.isoformat(),
        },  # fmt: skip
    )
    assert response.status_code == 200, response.text
    days: list[Any] = response.json()
    return days


async def test_daily_rows_follow_the_seeded_series_in_googles_units(google: GoogleSim) -> None:
    campaign = await ui_campaign(google, "Seeded")
    today = datetime.now(ZoneInfo(TZ)).date()
    since, until = today - timedelta(days=10), today - timedelta(days=1)
    await google.http.post("/_sim/performance/clock", json={"frozen": True})
    try:
        rows = await google.rows(METRICS + f"WHERE segments.date BETWEEN '{since}' AND '{until}'")
        expected = await series(google, campaign, since, until)
    finally:
        await google.http.post("/_sim/performance/clock", json={"frozen": False})
    assert len(rows) == 10
    by_day = {r["segments"]["date"]: r for r in rows}
    for day in expected:
        row = by_day[day["day"]]
        assert row["campaign"]["resourceName"] == campaign
        metrics = row["metrics"]
        assert metrics["impressions"] == str(day["impressions"])  # int64: a string
        assert metrics["clicks"] == str(day["clicks"])
        assert int(metrics["costMicros"]) == int(float(day["spend"]) * 1_000_000 + 0.5)
        assert isinstance(metrics["conversions"], float)  # double: a number
        assert metrics["conversions"] == float(day["conversions"])
        assert metrics["conversionsValue"] == float(day["revenue"])
    # Spend follows the budget: about 80 a day (pacing 0.8–1.0).
    assert all(64_000_000 <= int(r["metrics"]["costMicros"]) <= 80_000_000 for r in rows)


async def test_during_names_a_range_and_a_date_range_is_required(google: GoogleSim) -> None:
    await ui_campaign(google, "During", days=40)
    week = await google.rows(METRICS + "WHERE segments.date DURING LAST_7_DAYS")
    assert len(week) == 7
    days = sorted(r["segments"]["date"] for r in week)
    assert date.fromisoformat(days[-1]) - date.fromisoformat(days[0]) == timedelta(days=6)
    unbounded = await google.search(METRICS)
    assert unbounded.status_code == 400
    assert errors_of(unbounded)[0]["errorCode"] == {"queryError": "EXPECTED_FILTERS_ON_DATE_RANGE"}
    unknown = await google.search(METRICS + "WHERE segments.date DURING LAST_9_DAYS")
    assert errors_of(unknown)[0]["errorCode"] == {
        "queryError": "INVALID_VALUE_WITH_DURING_OPERATOR"
    }


async def test_a_paused_campaign_spends_nothing_from_then_on(google: GoogleSim) -> None:
    campaign = await ui_campaign(google, "Paused later", days=5)
    edit = await google.http.post(
        "/_sim/google/ui-edit", json={"resourceName": campaign, "fields": {"status": "PAUSED"}}
    )
    assert edit.status_code == 200, edit.text
    await google.http.post("/_sim/performance/clock", json={"advanceSeconds": 3 * 86_400})
    try:
        rows = await google.rows(METRICS + "WHERE segments.date DURING LAST_14_DAYS")
        totals = await google.rows(
            "SELECT campaign.resource_name, metrics.cost_micros FROM campaign "
            "WHERE segments.date DURING LAST_14_DAYS"
        )
    finally:
        await google.http.post("/_sim/performance/clock", json={"offsetSeconds": 0})
    spent = sorted(r["segments"]["date"] for r in rows)
    # It ran 5 days until the pause (a partial first and last day), then nothing.
    assert 5 <= len(spent) <= 6
    paused_on = datetime.now(ZoneInfo(TZ)).date()  # the simulators' clock is 3 days ahead
    assert spent[-1] <= paused_on.isoformat()
    # Without segments.date: one row, the total over the range.
    assert len(totals) == 1
    assert int(totals[0]["metrics"]["costMicros"]) == sum(
        int(r["metrics"]["costMicros"]) for r in rows
    )


async def test_the_per_customer_rate_answers_429_with_a_retry_delay(google: GoogleSim) -> None:
    response = await google.http.post(
        "/_sim/google/quotas", json={"operationsPerMinute": 1, "rateWindowSeconds": 5}
    )
    assert response.status_code == 200, response.text
    first = await google.search(METRICS + "WHERE segments.date DURING YESTERDAY")
    assert first.status_code == 200, first.text
    second = await google.search(METRICS + "WHERE segments.date DURING YESTERDAY")
    assert second.status_code == 429
    (error,) = errors_of(second)
    assert error["errorCode"] == {"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"}
    assert error["details"]["quotaErrorDetails"]["retryDelay"] in ("4s", "5s")
    assert error["details"]["quotaErrorDetails"]["rateScope"] == "ACCOUNT"
