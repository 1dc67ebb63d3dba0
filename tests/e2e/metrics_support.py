"""Driving seed 004 like a user and a platform would: campaigns made in the platforms' own UIs
(simulator admin), shaped series, a metrics cycle through the API, and reads of the results."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import WorkflowHandle

from tests.e2e.conftest import System
from tests.platforms.meta_support import MAIN_ACCOUNT

META_TZ = "America/Los_Angeles"  # the seeded Meta ad accounts' time zone
REDDIT_TZ = "America/New_York"  # the seeded Reddit ad account's
REDDIT_ACCOUNT = "a2_fd0001"


def today_in(tz: str) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(tz)).date()


async def platform_campaign(
    rig: System,
    platform: str,
    name: str,
    budget: str = "100",
    *,
    running_days: float = 25,
    account: str | None = None,
    status: str = "ACTIVE",
) -> str:
    """A campaign someone made in the platform's own UI `running_days` ago; its platform id."""
    body = {
        "platform": platform,
        "accountId": account or (MAIN_ACCOUNT if platform == "meta" else REDDIT_ACCOUNT),
        "name": name,
        "dailyBudget": budget,
        "runningDays": running_days,
        "status": status,
    }
    response = await rig.sim.post("/_sim/performance/campaigns", json=body)
    assert response.status_code == 201, response.text
    campaign_id: str = response.json()["id"]
    return campaign_id


async def set_day(rig: System, platform: str, campaign_id: str, day: date, **values: Any) -> None:
    body = {"platform": platform, "campaignId": campaign_id, "day": day.isoformat(),
            "values": {k: str(v) for k, v in values.items()}}  # fmt: skip
    response = await rig.sim.post("/_sim/performance/days", json=body)
    assert response.status_code == 200, response.text


async def shape(rig: System, *rules: dict[str, Any]) -> None:
    response = await rig.sim.put("/_sim/performance/shapes", json={"rules": list(rules)})
    assert response.status_code == 200, response.text


async def sync_metrics(
    rig: System, headers: dict[str, str] | None = None, *, record: str | None = None
) -> dict[str, Any]:
    """Run a metrics cycle for the tenant through the API and wait for it; its result (and its
    history kept as `record` for the replay test, when recording)."""
    response = await rig.api.post("/api/v1/metrics/sync", headers=headers or rig.headers)
    assert response.status_code == 202, response.text
    handle: WorkflowHandle[Any, Any] = rig.client.get_workflow_handle(response.json()["jobId"])
    async with asyncio.timeout(120):
        result = await handle.result()
    if record:
        await rig.record_history(handle.id, record)
    return result.model_dump(by_alias=False) if hasattr(result, "model_dump") else dict(result)


async def get(rig: System, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    response = await rig.api.get(f"/api/v1{path}", params=params, headers=headers or rig.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def registry(rig: System, headers: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The tenant's registry by platform campaign id (every page)."""
    items: list[dict[str, Any]] = []
    page = await get(rig, "/metrics/campaigns", headers, limit=200)
    items += page["items"]
    while page["nextCursor"]:
        page = await get(rig, "/metrics/campaigns", headers, limit=200, cursor=page["nextCursor"])
        items += page["items"]
    return {c["platformCampaignId"]: c for c in items}


async def series(
    rig: System, campaign_id: str, since: date, until: date, headers: dict[str, str] | None = None
) -> dict[str, dict[str, Any]]:
    """A registry campaign's days, by ISO date."""
    body = await get(
        rig, "/metrics/series", headers, campaignId=campaign_id, since=since.isoformat(),
        until=until.isoformat(),
    )  # fmt: skip
    return {d["day"]: d for d in body["items"][0]["days"]}


def days_ago(tz: str, n: int) -> date:
    return today_in(tz) - timedelta(days=n)
