"""The metrics cycle end to end: the real worker on a Temporal dev server, Postgres, the Graph and
Reddit simulators over HTTP, the API in process. Every campaign on the connected accounts is
registered, daily rows arrive converted exactly to major units, the lookback window is re-read
(and nothing older), large Meta accounts go through async report runs (a failed one is run
again), the insights throttle slows reads, and one account's failure spares the others."""

from __future__ import annotations

from decimal import Decimal

from flightdeck.domain.metrics import derive
from tests.e2e.conftest import System, make_plan
from tests.e2e.meta_support import connect_meta
from tests.e2e.metrics_support import (
    META_TZ,
    REDDIT_TZ,
    days_ago,
    get,
    platform_campaign,
    registry,
    series,
    set_day,
    sync_metrics,
)
from tests.e2e.test_set_sync import campaign as set_campaign


async def test_every_campaign_is_registered_with_its_origin(rig: System) -> None:
    connection = await connect_meta(rig)
    reddit_account = await rig.connect_reddit()
    meta_elsewhere = await platform_campaign(rig, "meta", "Made in Ads Manager")
    reddit_elsewhere = await platform_campaign(rig, "reddit", "Made in Reddit Ads")
    created = await rig.create_set([set_campaign(1)], reddit_account)
    assert (await rig.sync(created["id"]))["status"] == "completed"
    plan = await rig.publish(make_plan())
    assert (await rig.wait_job(plan["workflowId"]))["status"] == "completed"

    await sync_metrics(rig)
    found = await registry(rig)

    assert found[meta_elsewhere]["origin"] == "discovered"
    assert found[meta_elsewhere]["connectionId"] == connection["id"]
    assert found[meta_elsewhere]["budgetAmount"] == "100.000000"
    assert found[meta_elsewhere]["budgetType"] == "daily"
    assert (
        found[meta_elsewhere]["status"] == "active" and found[meta_elsewhere]["currency"] == "USD"
    )
    assert found[reddit_elsewhere]["origin"] == "discovered"
    assert found[reddit_elsewhere]["accountId"] == "a2_fd0001"
    synced = next(c for c in found.values() if c["origin"] == "campaign_set")
    assert synced["generatedCampaignId"] and synced["platform"] == "reddit"
    assert synced["budgetAmount"] == "50.000000" and synced["budgetOwner"] == "ad_set"
    relay = next(c for c in found.values() if c["origin"] == "relay")
    assert relay["campaignPlanId"] == plan["id"] and relay["connectionId"] is None
    assert relay["accountId"] == plan_ad_account()
    # One row per campaign, whatever was run again.
    await sync_metrics(rig)
    assert sorted(await registry(rig)) == sorted(found)


def plan_ad_account() -> str:
    return str(make_plan()["adAccountId"])


async def test_a_cycle_stores_exact_values_in_major_units(rig: System) -> None:
    await connect_meta(rig)
    await rig.connect_reddit()
    meta_id = await platform_campaign(rig, "meta", "Exact Meta")
    reddit_id = await platform_campaign(rig, "reddit", "Exact Reddit")
    meta_day, reddit_day = days_ago(META_TZ, 2), days_ago(REDDIT_TZ, 2)
    # Meta sends "12.34" (a decimal string), Reddit 12345678 micros and 12345 cents.
    await set_day(rig, "meta", meta_id, meta_day, impressions=1000, clicks=50, spend="12.34",
                  conversions=3, revenue="99.99")  # fmt: skip
    await set_day(rig, "reddit", reddit_id, reddit_day, impressions=4000, clicks=80,
                  spend="12.345678", conversions=5, revenue="123.45")  # fmt: skip

    space = await rig.api.post(
        "/api/v1/campaign-spaces",
        json={
            "campaignName": "Exact Reddit",
            "platform": "reddit",
            "externalCampaignId": reddit_id,
        },
        headers=rig.headers,
    )
    assert space.status_code == 201, space.text

    result = await sync_metrics(rig, record="metrics_sync_cycle")

    assert result["accounts"] == 2 and result["failed_accounts"] == []
    found = await registry(rig)
    meta = (await series(rig, found[meta_id]["id"], meta_day, meta_day))[meta_day.isoformat()]
    assert (meta["impressions"], meta["clicks"], meta["conversions"]) == (1000, 50, 3)
    assert (meta["spend"], meta["revenue"]) == ("12.340000", "99.990000")
    ratios = derive(1000, 50, Decimal("12.34"), 3, Decimal("99.99"))
    assert meta["roas"] == str(ratios.roas) == "8.102917"
    assert meta["cpc"] == "0.246800" and meta["ctr"] == "0.05000000" and meta["cpa"] == "4.113333"
    reddit_id_registry = found[reddit_id]["id"]
    reddit = (await series(rig, reddit_id_registry, reddit_day, reddit_day))[reddit_day.isoformat()]
    assert (reddit["spend"], reddit["revenue"], reddit["conversions"]) == (
        "12.345678", "123.450000", 5,
    )  # fmt: skip
    assert reddit["cpm"] == "3.086420"  # 1000 × 12.345678 / 4000, six decimals
    # The campaign space linked to the Reddit campaign (seed 003) gets its lifetime totals.
    linked = await get(rig, f"/campaign-spaces/{space.json()['id']}")
    lifetime = await get(rig, "/metrics/performance", days=60, platform="reddit")
    (totals,) = [p for p in lifetime["items"] if p["campaignId"] == reddit_id_registry]
    assert Decimal(str(linked["totalSpend"])) == Decimal(totals["spend"])
    assert linked["totalConversions"] == totals["conversions"]
    assert linked["performanceSource"] == "metrics_sync"
    runs = (await get(rig, "/metrics/sync-runs"))["items"]
    assert sorted(r["platform"] for r in runs) == ["meta", "reddit"]
    assert all(r["status"] == "completed" and r["finishedAt"] for r in runs)
    reddit_run = next(r for r in runs if r["platform"] == "reddit")
    # First read of the account: the initial backfill (30 days in the rig), not just 7.
    assert reddit_run["windowStart"] == (days_ago(REDDIT_TZ, 29)).isoformat()
    assert reddit_run["reportCalls"] >= 1 and reddit_run["rowsUpserted"] > 0
    performance = await get(rig, "/metrics/performance", days=30, sort="spend")
    assert [p["campaignId"] for p in performance["items"]][:2] != []
    by_platform = (await get(rig, "/metrics/platforms", days=30))["items"]
    assert {p["platform"] for p in by_platform} == {"meta", "reddit"}


async def test_late_conversions_land_inside_the_lookback_and_nothing_older_is_read(
    rig: System,
) -> None:
    await rig.connect_reddit()
    campaign = await platform_campaign(rig, "reddit", "Late conversions")
    inside, outside = days_ago(REDDIT_TZ, 3), days_ago(REDDIT_TZ, 20)
    for day in (inside, outside):
        await set_day(rig, "reddit", campaign, day, impressions=5000, clicks=100, spend="40",
                      conversions=2, revenue="50")  # fmt: skip
    await sync_metrics(rig)  # the first read backfills both days
    registry_id = (await registry(rig))[campaign]["id"]

    # Conversions attributed late: the platform's numbers for both days grow.
    for day in (inside, outside):
        await set_day(rig, "reddit", campaign, day, conversions=9, revenue="225")
    await sync_metrics(rig)

    days = await series(rig, registry_id, outside, inside)
    assert days[inside.isoformat()]["conversions"] == 9  # re-read: inside the 7-day lookback
    assert days[inside.isoformat()]["revenue"] == "225.000000"
    assert days[outside.isoformat()]["conversions"] == 2  # not re-read: outside it
    runs = (await get(rig, "/metrics/sync-runs"))["items"]
    assert runs[0]["windowStart"] == days_ago(REDDIT_TZ, 6).isoformat()


async def test_reading_a_window_again_changes_nothing(rig: System) -> None:
    await rig.connect_reddit()
    await platform_campaign(rig, "reddit", "Idempotent")
    await rig.sim.post("/_sim/performance/clock", json={"frozen": True})
    try:
        await sync_metrics(rig)
        again = await sync_metrics(rig)
    finally:
        await rig.sim.post("/_sim/performance/clock", json={"frozen": False})
    assert again["rows_upserted"] == 0
    runs = (await get(rig, "/metrics/sync-runs"))["items"]
    assert runs[0]["rowsFetched"] > 0 and runs[0]["rowsUpserted"] == 0


async def test_large_meta_accounts_use_async_report_runs_and_a_failed_run_is_retried(
    rig: System,
) -> None:
    await connect_meta(rig)
    campaign = await platform_campaign(rig, "meta", "Async")
    day = days_ago(META_TZ, 4)
    await set_day(rig, "meta", campaign, day, impressions=700, clicks=21, spend="7.77",
                  conversions=1, revenue="19.5")  # fmt: skip
    # Graph refuses the synchronous read ("reduce the amount of data"), and the first run fails.
    await rig.sim.post("/_sim/performance/settings", json={"syncRowCap": 1})
    await rig.sim.post("/_sim/performance/insights/jobs", json={"durationSeconds": 0.2,
                                                              "failNext": 1})  # fmt: skip

    await sync_metrics(rig)

    run = (await get(rig, "/metrics/sync-runs"))["items"][0]
    assert run["status"] == "completed", run
    assert run["details"]["mode"] == "async" and run["details"]["failedJobs"] == 1
    assert run["reportJobs"] >= 2  # the failed slice ran again (halved)
    found = await registry(rig)
    got = (await series(rig, found[campaign]["id"], day, day))[day.isoformat()]
    assert (got["spend"], got["revenue"], got["clicks"]) == ("7.770000", "19.500000", 21)


async def test_the_insights_throttle_slows_reads_before_meta_refuses(rig: System) -> None:
    await connect_meta(rig)
    await platform_campaign(rig, "meta", "Throttled")
    # Meta reports the account at 90 % of its insights budget on every answer.
    await rig.sim.post("/_sim/performance/insights/throttle", json={"accountPct": 90})

    await sync_metrics(rig)

    run = (await get(rig, "/metrics/sync-runs"))["items"][0]
    assert run["status"] == "completed"
    assert run["throttleWaitSeconds"] > 0


async def test_one_accounts_failure_does_not_stop_the_others(rig: System) -> None:
    connection = await connect_meta(rig)
    await rig.connect_reddit()
    await platform_campaign(rig, "reddit", "Still read")
    await rig.sim.post(f"/_sim/meta/users/{connection['fbUserId']}/revoke-tokens")

    result = await sync_metrics(rig, record="metrics_sync_account_failed")

    assert result["failed_accounts"] == ["meta:act_300000000000001"]
    runs = {r["platform"]: r for r in (await get(rig, "/metrics/sync-runs"))["items"]}
    assert runs["meta"]["status"] == "failed" and "reconnect" in runs["meta"]["error"]
    assert runs["reddit"]["status"] == "completed" and runs["reddit"]["rowsUpserted"] > 0


async def test_windows_and_bad_input_are_422s_naming_the_parameter(rig: System) -> None:
    for params, field in (
        ({"since": "2026-02-01", "until": "2026-01-01"}, "since"),
        ({"since": "2026-01-01", "days": 3}, "days"),
        ({"since": "not-a-date"}, "since"),
        ({"days": 0}, "days"),
    ):
        response = await rig.api.get("/api/v1/metrics/performance", params=params,
                                     headers=rig.headers)  # fmt: skip
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["field"] == field
    bad = await rig.api.get(
        "/api/v1/metrics/series", params={"campaignId": "nope"}, headers=rig.headers
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "campaignId"
