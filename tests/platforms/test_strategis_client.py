"""StrategisClient against the Strategis simulator: every method, and each error class."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.platforms.errors import NonRetryableError, RateLimitedError, RetryableError
from flightdeck.platforms.strategis import StrategisClient

ORG = "Interlincx"


def campaign_body(template_id: str, **properties: Any) -> dict[str, Any]:
    return {
        "name": "BrandX - women2545",
        "category": "Health",
        "template": {"id": template_id},
        "properties": {"buyer": "BrandX", "networkName": "facebook", "destination": "S1",
                       "domain": "lander.example.com", "fbCampaignId": "1", "fbAdSetId": "2",
                       **properties},
        "organizations": [ORG],
    }  # fmt: skip


async def faults(sim_admin: httpx.AsyncClient, **rule: Any) -> None:
    response = await sim_admin.post("/_sim/faults", json={"rules": [rule]})
    assert response.status_code == 200, response.text


async def test_templates(strategis: StrategisClient) -> None:
    assert await strategis.find_template(ORG, "fb") is None
    created = await strategis.create_template(ORG, "fb", {"networkName": "facebook"})
    assert created["key"] == "fb" and created["organization"] == ORG
    assert await strategis.find_template(ORG, "fb") == created
    assert await strategis.find_template("Other", "fb") is None
    with pytest.raises(NonRetryableError) as caught:
        await strategis.create_template(ORG, "fb", "another value")
    assert caught.value.status_code == 409 and "already exists" in str(caught.value)


async def test_campaigns(strategis: StrategisClient) -> None:
    template = await strategis.create_template(ORG, "fb", "route")
    created = await strategis.create_campaign(campaign_body(template["id"]))
    assert created["id"].startswith("stg_") and created["status"] == "active"
    assert await strategis.find_campaigns(ORG, created["name"]) == [created]
    assert await strategis.find_campaigns(ORG, "BrandX") == []
    assert await strategis.get_campaign(created["id"]) == created
    paused = await strategis.update_campaign(created["id"], {"status": "paused"})
    assert paused["status"] == "paused"
    assert (await strategis.get_campaign(created["id"]))["status"] == "paused"


async def test_validation_error_is_non_retryable_and_names_the_field(
    strategis: StrategisClient,
) -> None:
    template = await strategis.create_template(ORG, "fb", "route")
    with pytest.raises(NonRetryableError) as caught:
        await strategis.create_campaign(campaign_body(template["id"], networkName="google"))
    error = caught.value
    assert error.status_code == 400 and "properties.networkName" in error.message
    assert str(error).startswith("strategis POST /api/campaigns -> HTTP 400: ")


async def test_unknown_campaign_is_non_retryable(strategis: StrategisClient) -> None:
    with pytest.raises(NonRetryableError) as caught:
        await strategis.get_campaign("stg_999999")
    assert caught.value.status_code == 404


async def test_server_error_is_retryable(
    strategis: StrategisClient, sim_admin: httpx.AsyncClient
) -> None:
    await faults(sim_admin, platform="strategis", errorRate=1.0, status=503)
    with pytest.raises(RetryableError) as caught:
        await strategis.find_template(ORG, "fb")
    assert type(caught.value) is RetryableError and caught.value.status_code == 503


async def test_lost_response_is_retryable(
    strategis: StrategisClient, sim_admin: httpx.AsyncClient
) -> None:
    await faults(sim_admin, platform="strategis", method="POST", lostResponseRate=1.0)
    with pytest.raises(RetryableError):
        await strategis.create_template(ORG, "fb", "route")
    await sim_admin.post("/_sim/faults", json={"rules": []})
    assert await strategis.find_template(ORG, "fb") is not None, "the create was committed"


async def test_rate_limit_carries_retry_after(
    strategis: StrategisClient, sim_admin: httpx.AsyncClient
) -> None:
    await faults(sim_admin, platform="strategis", errorRate=1.0, status=429, retryAfterSeconds=2.5)
    with pytest.raises(RateLimitedError) as caught:
        await strategis.find_campaigns(ORG, "x")
    assert caught.value.retry_after == 2.5 and caught.value.status_code == 429


async def test_wrong_key_is_non_retryable_and_never_shown(sim_app: FastAPI, api_key: str) -> None:
    transport = httpx.ASGITransport(app=sim_app)
    wrong_key = "sk-wrong-key-that-must-not-leak"
    async with StrategisClient("http://sim/strategis", wrong_key, transport=transport) as client:
        with pytest.raises(NonRetryableError) as caught:
            await client.find_template(ORG, "fb")
        shown = f"{caught.value} {caught.value!r} {caught.value.details} {client!r}"
    assert caught.value.status_code == 401
    assert wrong_key not in shown and api_key not in shown


async def test_echoed_key_is_redacted(api_key: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "unauthorized", "message": f"bad key {api_key}"})

    async with StrategisClient(
        "http://sim/strategis", api_key, transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(NonRetryableError) as caught:
            await client.get_campaign("stg_1")
    assert api_key not in str(caught.value) and api_key not in repr(caught.value)
    assert "[redacted]" in caught.value.message


async def test_transport_error_is_retryable_and_chained(api_key: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with StrategisClient(
        "http://sim/strategis", api_key, transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(RetryableError) as caught:
            await client.create_campaign({"name": "x"})
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert "POST /api/campaigns" in str(caught.value) and api_key not in repr(caught.value)


async def test_non_json_success_is_retryable(api_key: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>"))
    async with StrategisClient("http://sim/strategis", api_key, transport=transport) as client:
        with pytest.raises(RetryableError):
            await client.get_campaign("stg_1")


async def test_success_without_an_id_breaks_the_contract(api_key: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(201, json={"ok": True}))
    async with StrategisClient("http://sim/strategis", api_key, transport=transport) as client:
        with pytest.raises(NonRetryableError, match="unexpected response"):
            await client.create_template(ORG, "fb", "v")
