"""Google Ads in the metrics cycle end to end: the real worker on a Temporal dev server,
Postgres, the Google Ads simulator over HTTP (GAQL `FROM campaign` by `segments.date`), the API
in process. Campaigns made in the Google Ads UI are registered; daily rows arrive converted
exactly (cost_micros → currency, conversions and conversions_value doubles); the 14-day
lookback is re-read and nothing older; a 429 RESOURCE_TEMPORARILY_EXHAUSTED is waited out;
one account's failure spares the others; tenants never see each other's campaigns; approved
actions change the Google campaign (its own budget, its status) and read it back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flightdeck.domain.metrics import derive
from flightdeck.simulators.google_ads_state import CLIENT_CUSTOMER_ID
from tests.e2e.conftest import System
from tests.e2e.metrics_support import (
    days_ago,
    get,
    platform_campaign,
    registry,
    series,
    set_day,
    sync_metrics,
)
from tests.e2e.test_actions import propose
from tests.e2e.test_alerts import user_headers

GOOGLE_TZ = "America/New_York"  # the seeded client customer's time zone


async def google_campaign(rig: System, name: str, budget: str = "100") -> str:
    """A Search campaign made in the Google Ads UI; its resource name."""
    return await platform_campaign(rig, "google", name, budget, account=CLIENT_CUSTOMER_ID)


async def test_a_google_cycle_stores_exact_values_in_major_units(rig: System) -> None:
    await rig.connect_google()
    campaign = await google_campaign(rig, "Exact Google")
    day = days_ago(GOOGLE_TZ, 2)
    # Google sends costMicros "12345678" (int64 string), conversions 3.0 and conversionsValue
    # 99.99 (doubles).
    await set_day(rig, "google", campaign, day, impressions=4000, clicks=80,
                  spend="12.345678", conversions=3, revenue="99.99")  # fmt: skip

    result = await sync_metrics(rig)

    assert result["accounts"] == 1 and result["failed_accounts"] == []
    found = await registry(rig)
    entry = found[campaign]
    assert entry["platform"] == "google" and entry["origin"] == "discovered"
    assert entry["accountId"] == CLIENT_CUSTOMER_ID and entry["name"] == "Exact Google"
    assert (entry["status"], entry["budgetAmount"], entry["budgetType"]) == (
        "active", "100.000000", "daily",
    )  # fmt: skip
    assert entry["budgetOwner"] == "campaign" and entry["currency"] == "USD"
    stored = (await series(rig, entry["id"], day, day))[day.isoformat()]
    assert (stored["impressions"], stored["clicks"], stored["conversions"]) == (4000, 80, 3)
    assert (stored["spend"], stored["revenue"]) == ("12.345678", "99.990000")
    ratios = derive(4000, 80, Decimal("12.345678"), 3, Decimal("99.99"))
    assert stored["roas"] == str(ratios.roas) and stored["cpm"] == "3.086420"
    (run,) = (await get(rig, "/metrics/sync-runs"))["items"]
    assert run["platform"] == "google" and run["status"] == "completed"
    # First read: the rig's initial backfill (30 days), in the customer's calendar.
    assert run["windowStart"] == days_ago(GOOGLE_TZ, 29).isoformat()
    # customer + campaigns + one metrics page: three GAQL searches.
    assert run["reportCalls"] == 3 and run["rowsUpserted"] > 0
    assert {p["platform"] for p in (await get(rig, "/metrics/platforms", days=30))["items"]} == {
        "google"
    }


async def test_late_google_conversions_land_inside_the_lookback_only(rig: System) -> None:
    await rig.connect_google()
    campaign = await google_campaign(rig, "Late Google conversions")
    inside, outside = days_ago(GOOGLE_TZ, 3), days_ago(GOOGLE_TZ, 20)
    for day in (inside, outside):
        await set_day(rig, "google", campaign, day, impressions=5000, clicks=100, spend="40",
                      conversions=2, revenue="50")  # fmt: skip
    await sync_metrics(rig)  # the first read backfills both days
    registry_id = (await registry(rig))[campaign]["id"]

    for day in (inside, outside):  # conversions attributed late
        await set_day(rig, "google", campaign, day, conversions=9, revenue="225")
    await sync_metrics(rig)

    days = await series(rig, registry_id, outside, inside)
    assert days[inside.isoformat()]["conversions"] == 9  # re-read: inside the 14-day lookback
    assert days[inside.isoformat()]["revenue"] == "225.000000"
    assert days[outside.isoformat()]["conversions"] == 2  # not re-read: outside it
    latest = (await get(rig, "/metrics/sync-runs"))["items"][0]
    assert latest["windowStart"] == days_ago(GOOGLE_TZ, 13).isoformat()


async def test_a_429_resource_temporarily_exhausted_is_waited_out(rig: System) -> None:
    await rig.connect_google()
    campaign = await google_campaign(rig, "Throttled Google")
    quotas = await rig.sim.post(
        "/_sim/google/quotas", json={"operationsPerMinute": 1, "rateWindowSeconds": 2}
    )
    assert quotas.status_code == 200, quotas.text
    try:
        result = await sync_metrics(rig)
    finally:
        await rig.sim.post("/_sim/google/quotas", json={})

    assert result["failed_accounts"] == []
    (run,) = (await get(rig, "/metrics/sync-runs"))["items"]
    assert run["status"] == "completed" and run["rowsUpserted"] > 0
    # Every search after the first met the rate: each waited the retryDelay (2 s) and was
    # asked again — more calls than searches, and the waits recorded.
    assert run["reportCalls"] > 3
    assert run["throttleWaitSeconds"] >= 2
    assert campaign in await registry(rig)


async def test_one_google_accounts_failure_does_not_stop_the_others(rig: System) -> None:
    await rig.connect_google()
    await rig.connect_reddit()
    await platform_campaign(rig, "reddit", "Still read")
    await google_campaign(rig, "Unreachable")
    # The user withdrew Flightdeck's access: every refresh token refused, tokens dead.
    await rig.sim.post("/_sim/google/oauth/revoke", json={})
    await rig.sim.post("/_sim/google/oauth/expire", json={})

    result = await sync_metrics(rig)

    assert result["failed_accounts"] == [f"google:{CLIENT_CUSTOMER_ID}"]
    runs = {r["platform"]: r for r in (await get(rig, "/metrics/sync-runs"))["items"]}
    assert runs["google"]["status"] == "failed" and runs["google"]["finishedAt"]
    assert "reconnect" in runs["google"]["error"].lower()
    assert runs["reddit"]["status"] == "completed" and runs["reddit"]["rowsUpserted"] > 0


async def test_tenants_reading_one_google_account_never_see_each_others_rows(
    rig: System,
) -> None:
    await rig.connect_google()
    campaign = await google_campaign(rig, "Shared customer")
    await sync_metrics(rig)
    mine = (await registry(rig))[campaign]["id"]

    other = await rig.new_tenant_headers()
    assert (await registry(rig, other)) == {}  # nothing connected, nothing read
    for path in (f"/api/v1/metrics/campaigns/{mine}", f"/api/v1/metrics/series?campaignId={mine}"):
        response = await rig.api.get(path, headers=other)
        assert response.status_code == 404, (path, response.text)
    # The other tenant connects the same customer: its own registry row, its own run.
    await rig.connect_google(other)
    await sync_metrics(rig, other)
    theirs = (await registry(rig, other))[campaign]["id"]
    assert theirs != mine
    runs = (await get(rig, "/metrics/sync-runs", other))["items"]
    assert [r["platform"] for r in runs] == ["google"]
    assert len((await get(rig, "/metrics/sync-runs"))["items"]) == 1
    response = await rig.api.get(f"/api/v1/metrics/campaigns/{theirs}", headers=rig.headers)
    assert response.status_code == 404


async def google_object(rig: System, collection: str, name: str) -> dict[str, Any]:
    items = (await rig.sim.get("/_sim/state")).json()["platforms"]["google"][collection]["items"]
    return next(i for i in items if i["resourceName"] == name)


async def test_approved_actions_change_the_google_campaign_and_read_it_back(rig: System) -> None:
    await rig.connect_google()
    platform_id = await google_campaign(rig, "Google budget up", budget="40")
    await sync_metrics(rig)
    campaign = (await registry(rig))[platform_id]["id"]
    approver = await user_headers(rig, "approver")

    started = await propose(
        rig, {"actionType": "BUDGET_CHANGE", "campaignId": campaign, "budgetAmount": "48.00"}
    )
    approved = await rig.api.post(
        f"/api/v1/actions/{started['actionId']}/approve", headers=approver
    )
    assert approved.status_code == 200, approved.text
    action = approved.json()
    assert action["status"] == "executed"
    assert Decimal(action["previousState"]["budgetAmount"]) == 40
    assert Decimal(action["newState"]["budgetAmount"]) == 48  # read back by GAQL
    budget = (await google_object(rig, "campaigns", platform_id))["campaignBudget"]
    assert (await google_object(rig, "campaignBudgets", budget))["amountMicros"] == "48000000"

    paused = await propose(rig, {"actionType": "PAUSE", "campaignId": campaign})
    done = await rig.api.post(f"/api/v1/actions/{paused['actionId']}/approve", headers=approver)
    assert done.status_code == 200, done.text
    assert done.json()["newState"]["status"] == "paused"
    assert (await google_object(rig, "campaigns", platform_id))["status"] == "PAUSED"
