"""Driving the Meta features through the API like a user would: connect through Facebook Login
(the simulator's dialog), build a campaign section by section, publish and wait."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.e2e.conftest import System
from tests.platforms.meta_support import INSTAGRAM_ID, MAIN_ACCOUNT, PAGE_ID, SECTIONS


async def connect_meta(
    rig: System,
    headers: dict[str, str] | None = None,
    *,
    account: str | None = MAIN_ACCOUNT,
    decline: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Facebook Login through the API and the simulator's dialog, then select the account."""
    headers = headers or rig.headers
    start = await rig.api.get("/api/v1/meta/connect", headers=headers)
    assert start.status_code == 200, start.text
    url = start.json()["authorizeUrl"]
    if decline:
        url += "&" + urlencode({"sim_decline": ",".join(decline)})
    consent = await rig.sim.get(url, follow_redirects=False)
    assert consent.status_code == 302, consent.text
    query = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["location"]).query).items()}
    callback = await rig.api.get("/api/v1/meta/callback", params=query)
    assert callback.status_code == 200, callback.text
    connection: dict[str, Any] = callback.json()
    if account is None:
        return connection
    selection = {"adAccountId": account, "pageId": PAGE_ID, "instagramUserId": INSTAGRAM_ID,
                 "businessId": "200000000000001"}  # fmt: skip
    selected = await rig.api.put(
        f"/api/v1/meta/connections/{connection['id']}/selection", json=selection, headers=headers
    )
    assert selected.status_code == 200, selected.text
    chosen: dict[str, Any] = selected.json()
    return chosen


def image_url(rig: System, name: str, seed: int | None = None) -> str:
    base = str(rig.sim.base_url).rstrip("/")
    return f"{base}/images/{name}.png" + (f"?seed={seed}" if seed is not None else "")


def preview(rig: System, ads: int, images: list[str] | None = None) -> dict[str, Any]:
    images = images or [image_url(rig, f"ad-{i}") for i in range(ads)]
    return {
        "ads": [
            {
                "name": f"Coffee ad {i + 1}",
                "copyVariation": i % 2,
                "imageUrl": images[i % len(images)],
                "destination": {"type": "website", "url": f"https://shop.example.com/p/{i}"},
            }
            for i in range(ads)
        ]
    }


async def create_campaign(
    rig: System,
    connection_id: str | None,
    headers: dict[str, str] | None = None,
    *,
    ads: int = 2,
    images: list[str] | None = None,
    name: str | None = None,
    **sections: Any,
) -> str:
    headers = headers or rig.headers
    created = await rig.api.post(
        "/api/v1/meta/campaigns",
        json={"name": name or f"Coffee {uuid.uuid4().hex[:6]}", "initialGoal": "website-visits"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    campaign_id: str = created.json()["id"]
    data = copy.deepcopy(SECTIONS)
    data["adPreview"] = preview(rig, ads, images)
    data.pop("metaConnection")
    if connection_id is not None:
        data["metaConnection"] = {"connectionId": connection_id}
    data.update(sections)
    for section, body in data.items():
        response = await rig.api.put(
            f"/api/v1/meta/campaigns/{campaign_id}/sections/{section}", json=body, headers=headers
        )
        assert response.status_code == 200, (section, response.text)
    return campaign_id


async def publish(rig: System, campaign_id: str, headers: dict[str, str] | None = None) -> str:
    response = await rig.api.post(
        f"/api/v1/meta/campaigns/{campaign_id}/publish", headers=headers or rig.headers
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["jobId"]
    return job_id


async def campaign(rig: System, campaign_id: str, headers: dict[str, str] | None = None) -> Any:
    response = await rig.api.get(
        f"/api/v1/meta/campaigns/{campaign_id}", headers=headers or rig.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def graph_requests(rig: System, method: str | None = None, path: str | None = None) -> Any:
    params = {"platform": "meta"}
    if method:
        params["method"] = method
    if path:
        params["path"] = path
    return (await rig.sim.get("/_sim/requests", params=params)).json()


async def facebook_counts(rig: System) -> dict[str, int]:
    counts = await rig.sim_counts()
    return {**counts["facebook"], "adimages": counts["meta"]["adimages"]}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)
