"""StrategisRelayClient against the relay simulator: every method, idempotency, and each
error class."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    RateLimitedError,
    RetryableError,
)
from flightdeck.platforms.strategis import StrategisRelayClient

ORG = "Interlincx"
CAMPAIGN = {
    "adAccountId": "act_1234567890",
    "name": "BrandX_OUTCOME_SALES",
    "objective": "OUTCOME_SALES",
    "status": "ACTIVE",
    "special_ad_categories": [],
}


def adset(campaign_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "campaign_id": campaign_id,
        "name": "women2545_feeds_PURCHASE_ABO_v1",
        "targeting": {"geo_locations": {"countries": ["US"]}},
        "billing_event": "IMPRESSIONS",
        "optimization_goal": "OFFSITE_CONVERSIONS",
        "promoted_object": {"pixel_id": "998877665544", "custom_event_type": "PURCHASE"},
        "daily_budget": 5000,
        "bid_strategy": "LOWEST_COST_WITHOUT_CAP",
        "status": "ACTIVE",
        **changes,
    }


CREATIVE = {
    "adAccountId": "act_1234567890",
    "name": "hook01_0-0",
    "object_story_spec": {
        "page_id": "100200300400500",
        "link_data": {
            "link": "https://r.strateg.is/route?campaignId=stg_000001&fbclid={{fbclid}}",
            "message": "Book a consult today.",
            "image_hash": "a1b2c3d4e5f6",
            "call_to_action": {"type": "LEARN_MORE"},
        },
    },
}


async def create_campaign(relay: StrategisRelayClient, key: str = "campaign-req-1") -> str:
    return await relay.create("campaigns", organization=ORG, client_request_key=key, body=CAMPAIGN)


async def faults(sim_admin: httpx.AsyncClient, **rule: Any) -> None:
    response = await sim_admin.post("/_sim/faults", json={"rules": [rule]})
    assert response.status_code == 200, response.text


async def test_create_chain_update_and_get(relay: StrategisRelayClient) -> None:
    campaign_id = await create_campaign(relay)
    adset_id = await relay.create(
        "adsets", organization=ORG, client_request_key="adset-req-1-0", body=adset(campaign_id)
    )
    creative_id = await relay.create(
        "adcreatives", organization=ORG, client_request_key="creative-req-1-0-0", body=CREATIVE
    )
    ad_body = {"adset_id": adset_id, "name": "ad", "creative": {"creative_id": creative_id},
               "status": "PAUSED"}  # fmt: skip
    ad_id = await relay.create("ads", organization=ORG, client_request_key="ad-r-0-0", body=ad_body)
    assert all(i.isdigit() for i in (campaign_id, adset_id, creative_id, ad_id))

    got = await relay.get("ads", ad_id, organization=ORG)
    assert got["id"] == ad_id and got["adset_id"] == adset_id and got["status"] == "PAUSED"
    assert (await relay.get("adcreatives", creative_id, organization=ORG))["id"] == creative_id
    assert await relay.update("campaigns", campaign_id, organization=ORG,
                              fields={"status": "PAUSED"}) is None  # fmt: skip
    assert (await relay.get("campaigns", campaign_id, organization=ORG))["status"] == "PAUSED"
    assert (await relay.get("adsets", adset_id, organization=ORG))[
        "effective_status"
    ] == "CAMPAIGN_PAUSED"


async def test_create_is_idempotent_by_key(relay: StrategisRelayClient) -> None:
    assert await create_campaign(relay) == await create_campaign(relay)


async def test_reused_key_with_another_body_is_non_retryable(relay: StrategisRelayClient) -> None:
    await create_campaign(relay)
    with pytest.raises(NonRetryableError) as caught:
        await relay.create("campaigns", organization=ORG, client_request_key="campaign-req-1",
                           body={**CAMPAIGN, "name": "changed"})  # fmt: skip
    assert caught.value.status_code == 409 and "clientRequestKey" in str(caught.value)


async def test_validation_error_names_the_field(relay: StrategisRelayClient) -> None:
    campaign_id = await create_campaign(relay)
    with pytest.raises(NonRetryableError) as caught:
        await relay.create("adsets", organization=ORG, client_request_key="adset-req-1-1",
                           body=adset(campaign_id, daily_budget=50))  # fmt: skip
    error = caught.value
    assert error.code == 100 and error.subcode is not None and error.status_code == 400
    assert "daily_budget" in str(error) and "POST /api/facebook/adsets/create" in str(error)
    assert error.details["fbtrace_id"]


async def test_deleted_object_update_is_subcode_33(relay: StrategisRelayClient) -> None:
    campaign_id = await create_campaign(relay)
    await relay.update("campaigns", campaign_id, organization=ORG, fields={"status": "DELETED"})
    with pytest.raises(NonRetryableError) as caught:
        await relay.update("campaigns", campaign_id, organization=ORG, fields={"status": "DELETED"})
    assert caught.value.subcode == 33


async def test_server_error_is_retryable(
    relay: StrategisRelayClient, sim_admin: httpx.AsyncClient
) -> None:
    await faults(sim_admin, platform="relay", errorRate=1.0, status=500)
    with pytest.raises(RetryableError) as caught:
        await create_campaign(relay)
    assert type(caught.value) is RetryableError and caught.value.code == 2


async def test_rate_limit_carries_retry_after(
    relay: StrategisRelayClient, sim_admin: httpx.AsyncClient
) -> None:
    await faults(sim_admin, platform="relay", errorRate=1.0, status=429, retryAfterSeconds=1.5)
    with pytest.raises(RateLimitedError) as caught:
        await relay.get("campaigns", "1", organization=ORG)
    assert caught.value.retry_after == 1.5 and caught.value.code == 80004


async def test_lost_create_is_retryable_and_the_retry_adopts_it(
    relay: StrategisRelayClient, sim_admin: httpx.AsyncClient
) -> None:
    await faults(sim_admin, platform="relay", lostResponseRate=1.0, remaining=1)
    with pytest.raises(RetryableError):
        await create_campaign(relay)
    campaign_id = await create_campaign(relay)
    state = (await sim_admin.get("/_sim/state")).json()["platforms"]["facebook"]
    assert [c["id"] for c in state["campaigns"]["items"]] == [campaign_id]


async def test_missing_credentials_is_auth_expired(
    relay: StrategisRelayClient, sim_admin: httpx.AsyncClient
) -> None:
    await sim_admin.post(f"/_sim/relay/organizations/{ORG}/disable-credentials")
    with pytest.raises(AuthExpiredError) as caught:
        await create_campaign(relay)
    assert caught.value.code == 190 and ORG in caught.value.message


async def test_wrong_key_is_auth_expired_and_never_shown(sim_app: FastAPI, api_key: str) -> None:
    transport = httpx.ASGITransport(app=sim_app)
    wrong_key = "sk-wrong-relay-key-must-not-leak"
    async with StrategisRelayClient("http://sim/relay", wrong_key, transport=transport) as client:
        with pytest.raises(AuthExpiredError) as caught:
            await client.get("campaigns", "1", organization=ORG)
        shown = f"{caught.value} {caught.value!r} {caught.value.details} {client!r}"
    assert caught.value.status_code == 401
    assert wrong_key not in shown and api_key not in shown


async def test_error_body_with_2xx_status_is_still_an_error(api_key: str) -> None:
    body = {"error": {"message": "Invalid parameter", "code": 100, "is_transient": False}}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    async with StrategisRelayClient("http://sim/relay", api_key, transport=transport) as client:
        with pytest.raises(NonRetryableError):
            await client.get("ads", "1", organization=ORG)


async def test_unknown_object_type_is_a_programming_error(relay: StrategisRelayClient) -> None:
    with pytest.raises(ValueError):
        await relay.update("adcreatives", "1", organization=ORG, fields={})  # type: ignore[arg-type]
