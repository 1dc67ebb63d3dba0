"""Fixtures for the simulator tests: a fresh simulator app per test, an authorized client, and
a builder for valid Strategis and relay requests (tests change one field to break it)."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.settings import DEV_STRATEGIS_API_KEY
from flightdeck.simulators.app import create_simulator_app

AUTH = {"Authorization": f"Bearer {DEV_STRATEGIS_API_KEY}"}
ORG = "Interlincx"

CAMPAIGN = {
    "adAccountId": "act_1234567890",
    "name": "BrandX_OUTCOME_SALES_hookset_US_FB_2025-10-21_Health",
    "objective": "OUTCOME_SALES",
    "status": "ACTIVE",
    "special_ad_categories": [],
}
ADSET = {
    "name": "women2545_feeds_PURCHASE_ABO_v1",
    "targeting": {"geo_locations": {"countries": ["US"]}, "age_min": 25, "age_max": 45},
    "billing_event": "IMPRESSIONS",
    "optimization_goal": "OFFSITE_CONVERSIONS",
    "promoted_object": {"pixel_id": "998877665544", "custom_event_type": "PURCHASE"},
    "daily_budget": 5000,
    "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
    "status": "ACTIVE",
}
CREATIVE = {
    "adAccountId": "act_1234567890",
    "name": "hook01_0-0",
    "object_story_spec": {
        "page_id": "100200300400500",
        "link_data": {
            "link": "https://r.strateg.is/route?campaignId=stg_000001&fbclid={{fbclid}}",
            "message": "Book a consult today.",
            "name": "Smooth lines, naturally",
            "image_hash": "a1b2c3d4e5f6",
            "call_to_action": {"type": "LEARN_MORE"},
        },
    },
}


class Sim:
    """Drives the simulator app like a client would; every call returns the raw response."""

    org = ORG
    campaign_body = CAMPAIGN
    adset_body = ADSET
    creative_body = CREATIVE

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self._keys = 0

    def key(self, prefix: str = "req") -> str:
        self._keys += 1
        return f"{prefix}-{self._keys}"

    async def relay_create(
        self, object_type: str, body: dict[str, Any], *, key: str | None = None, org: str = ORG
    ) -> httpx.Response:
        payload = {**body, "organization": org, "clientRequestKey": key or self.key(object_type)}
        return await self.http.post(f"/relay/api/facebook/{object_type}/create", json=payload)

    async def relay_update(
        self, object_type: str, object_id: str, fields: dict[str, Any], org: str = ORG
    ) -> httpx.Response:
        return await self.http.post(
            f"/relay/api/facebook/{object_type}/{object_id}/update",
            json={**fields, "organization": org},
        )

    async def relay_get(self, object_type: str, object_id: str, org: str = ORG) -> httpx.Response:
        return await self.http.get(
            f"/relay/api/facebook/{object_type}/{object_id}", params={"organization": org}
        )

    async def created_id(self, object_type: str, body: dict[str, Any], **kwargs: Any) -> str:
        response = await self.relay_create(object_type, body, **kwargs)
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    async def campaign(self, **changes: Any) -> str:
        return await self.created_id("campaigns", {**copy.deepcopy(CAMPAIGN), **changes})

    async def adset(self, campaign_id: str, **changes: Any) -> str:
        body = {**copy.deepcopy(ADSET), "campaign_id": campaign_id, **changes}
        return await self.created_id("adsets", body)

    async def creative(self, **changes: Any) -> str:
        return await self.created_id("adcreatives", {**copy.deepcopy(CREATIVE), **changes})

    async def ad(self, adset_id: str, creative_id: str, **changes: Any) -> str:
        body = {
            "adset_id": adset_id,
            "name": "hook01_0-0",
            "creative": {"creative_id": creative_id},
            "status": "PAUSED",
            **changes,
        }
        return await self.created_id("ads", body)

    async def state(self) -> dict[str, Any]:
        platforms: dict[str, Any] = (await self.http.get("/_sim/state")).json()["platforms"]
        return platforms

    async def counts(self) -> dict[str, dict[str, int]]:
        return {
            platform: {kind: body["count"] for kind, body in kinds.items()}
            for platform, kinds in (await self.state()).items()
        }

    async def faults(self, *rules: dict[str, Any], seed: int = 0) -> None:
        response = await self.http.post("/_sim/faults", json={"seed": seed, "rules": list(rules)})
        assert response.status_code == 200, response.text

    async def requests(self, **filters: str) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (
            await self.http.get("/_sim/requests", params=filters)
        ).json()
        return entries


@pytest.fixture
def sim_app() -> FastAPI:
    return create_simulator_app()


@pytest.fixture
async def sim(sim_app: FastAPI) -> AsyncIterator[Sim]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", headers=AUTH) as http:
        yield Sim(http)
