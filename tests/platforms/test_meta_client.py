"""The Graph client against the Graph simulator (in process): Facebook Login and discovery,
creating and reading ad objects, validate_only, image dedup, ad review, error classification,
and every request checked against the official SDK's parameter types."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.domain.images import png_bytes
from flightdeck.domain.meta_publish import creative_params
from flightdeck.platforms.errors import NonRetryableError, RateLimitedError
from flightdeck.platforms.meta import MetaGraphClient
from flightdeck.platforms.meta_errors import MetaReauthRequired, MetaValidationError
from flightdeck.simulators.app import create_simulator_app
from tests.platforms.meta_support import (
    APP_ID,
    APP_SECRET,
    INSTAGRAM_ID,
    MAIN_ACCOUNT,
    PAGE_ID,
    SdkRecorder,
    login,
    prepared,
    register_app,
    sections,
)


@pytest.fixture
def app() -> FastAPI:
    return create_simulator_app()


@pytest.fixture
async def sim(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sim"
    ) as c:
        await register_app(c)
        yield c


@pytest.fixture
def recorder() -> SdkRecorder:
    return SdkRecorder()


@pytest.fixture
async def graph(app: FastAPI, recorder: SdkRecorder) -> AsyncIterator[MetaGraphClient]:
    transport = httpx.ASGITransport(app=app)
    async with MetaGraphClient(
        "http://sim/graph", "v23.0", APP_ID, APP_SECRET, transport=transport, on_request=recorder
    ) as client:
        yield client


async def publish_objects(graph: MetaGraphClient, token: str) -> dict[str, Any]:
    data = prepared().publish_data
    assert data is not None
    image = await graph.upload_image(MAIN_ACCOUNT, token, png_bytes(4, 3, seed=1))
    campaign = await graph.post(f"{MAIN_ACCOUNT}/campaigns", token, data["campaign"])
    adset = await graph.post(
        f"{MAIN_ACCOUNT}/adsets", token, {**data["adset"], "campaign_id": campaign["id"]}
    )
    creative = await graph.post(
        f"{MAIN_ACCOUNT}/adcreatives",
        token,
        creative_params(data["creatives"][0], image["hash"], "creative 0"),
    )
    ad = await graph.post(
        f"{MAIN_ACCOUNT}/ads",
        token,
        {**data["ads"][0], "adset_id": adset["id"], "creative": {"creative_id": creative["id"]}},
    )
    return {"campaign": campaign["id"], "adset": adset["id"], "ad": ad["id"], "image": image}


async def test_login_exchanges_tokens_and_discovers_the_world(
    sim: httpx.AsyncClient, graph: MetaGraphClient
) -> None:
    token = await login(sim, graph)
    info = await graph.debug_token(token)
    assert info["is_valid"] and info["type"] == "USER"
    assert {"ads_management", "pages_show_list"} <= set(info["scopes"])
    assert info["expires_at"] - info["issued_at"] == 5_184_000  # ~60 days
    accounts = await graph.get_all(
        "me/adaccounts", token, {"fields": "id,name,currency,account_status,funding_source_details"}
    )
    by_id = {a["id"]: a for a in accounts}
    assert by_id[MAIN_ACCOUNT]["currency"] == "USD" and by_id[MAIN_ACCOUNT]["account_status"] == 1
    assert by_id["act_300000000000003"]["account_status"] == 2
    assert "funding_source_details" not in by_id["act_300000000000004"]
    pages = await graph.get_all("me/accounts", token, {"fields": "id,name,access_token"})
    assert {p["id"] for p in pages} == {PAGE_ID, "400000000000002"}
    assert all(p["access_token"].startswith("EAA") for p in pages)
    page = await graph.get(PAGE_ID, token, {"fields": "instagram_business_account"})
    assert page["instagram_business_account"] == {"id": INSTAGRAM_ID}


async def test_declined_scope_is_missing_from_the_token(
    sim: httpx.AsyncClient, graph: MetaGraphClient
) -> None:
    token = await login(sim, graph, decline=("ads_management",))
    info = await graph.debug_token(token)
    assert "ads_management" not in info["scopes"]
    with pytest.raises(NonRetryableError) as caught:
        await graph.post(f"{MAIN_ACCOUNT}/campaigns", token, prepared().publish_data["campaign"])  # type: ignore[index]
    assert caught.value.code == 200 and "ads_management" in str(caught.value)


async def test_objects_are_created_read_back_and_reviewed(
    sim: httpx.AsyncClient, graph: MetaGraphClient, recorder: SdkRecorder
) -> None:
    token = await login(sim, graph)
    created = await publish_objects(graph, token)
    read = await graph.get(
        "", token, {"ids": ",".join([created["campaign"], created["adset"], created["ad"]]),
                    "fields": "name,status,effective_status,daily_budget,objective"},
    )  # fmt: skip
    assert read[created["campaign"]]["objective"] == "OUTCOME_TRAFFIC"
    assert read[created["campaign"]]["status"] == "PAUSED"
    assert read[created["adset"]]["daily_budget"] == "2500"  # Graph reads budgets as strings
    assert read[created["ad"]]["effective_status"] == "PENDING_REVIEW"
    assert (await sim.post(f"/_sim/meta/ads/{created['ad']}/review", json={})).status_code == 200
    ad = await graph.get(created["ad"], token, {"fields": "effective_status"})
    assert ad["effective_status"] == "CAMPAIGN_PAUSED"  # approved; its campaign is paused
    assert recorder.checked >= 5 and recorder.problems == []
    assert (await sim.get("/_sim/meta/sdk-problems")).json() == []


async def test_rejected_ad_carries_feedback(sim: httpx.AsyncClient, graph: MetaGraphClient) -> None:
    rules = [{"outcome": "disapprove", "feedback": {"ADULT_CONTENT": "No adult content."}}]
    assert (await sim.post("/_sim/meta/review", json={"rules": rules})).status_code == 200
    token = await login(sim, graph)
    created = await publish_objects(graph, token)
    ad = await graph.get(
        created["ad"], token, {"fields": "effective_status,ad_review_feedback,issues_info"}
    )
    assert ad["effective_status"] == "DISAPPROVED"
    assert ad["ad_review_feedback"] == {"global": {"ADULT_CONTENT": "No adult content."}}
    assert ad["issues_info"][0]["error_message"] == "No adult content."


async def test_same_bytes_give_the_same_hash_once(
    sim: httpx.AsyncClient, graph: MetaGraphClient
) -> None:
    token = await login(sim, graph)
    first = await graph.upload_image(MAIN_ACCOUNT, token, png_bytes(8, 8, seed=3))
    again = await graph.upload_image(MAIN_ACCOUNT, token, png_bytes(8, 8, seed=3))
    other = await graph.upload_image(MAIN_ACCOUNT, token, png_bytes(8, 8, seed=4))
    assert first["hash"] == again["hash"] != other["hash"]
    assert (first["width"], first["height"]) == (8, 8)
    state = (await sim.get("/_sim/state")).json()["platforms"]["meta"]
    assert state["adimages"]["count"] == 2
    multipart = await sim.post(
        f"/graph/v23.0/{MAIN_ACCOUNT}/adimages",
        params={"access_token": token, "appsecret_proof": _proof(token)},
        files={"filename": ("coffee.png", png_bytes(8, 8, seed=3), "image/png")},
    )
    assert multipart.json()["images"]["coffee.png"]["hash"] == first["hash"]
    assert base64.b64encode(b"x")  # bytes are sent base64-encoded (checked by the recorder)


async def test_validate_only_checks_without_creating(
    sim: httpx.AsyncClient, graph: MetaGraphClient
) -> None:
    token = await login(sim, graph)
    campaign = {**prepared().publish_data["campaign"], "execution_options": ["validate_only"]}  # type: ignore[index]
    assert await graph.post(f"{MAIN_ACCOUNT}/campaigns", token, campaign) == {"success": True}
    with pytest.raises(MetaValidationError) as caught:
        await graph.post(
            f"{MAIN_ACCOUNT}/campaigns", token, {**campaign, "objective": "CONVERSIONS"}
        )
    assert caught.value.blame_fields == ["objective"]
    counts = (await sim.get("/_sim/state")).json()["platforms"]["facebook"]
    assert counts["campaigns"]["count"] == 0


async def test_graph_rules_blame_the_field(sim: httpx.AsyncClient, graph: MetaGraphClient) -> None:
    token = await login(sim, graph)
    data = prepared().publish_data
    assert data is not None
    campaign = await graph.post(f"{MAIN_ACCOUNT}/campaigns", token, data["campaign"])
    adset = {**data["adset"], "campaign_id": campaign["id"]}
    cases = [
        ({"optimization_goal": "THRUPLAY"}, "optimization_goal"),
        ({"daily_budget": 300}, "daily_budget"),
        ({"targeting": {**adset["targeting"], "geo_locations": {"countries": ["DE"]}}},
         "dsa_beneficiary"),
        ({"daily_budget": "12.5"}, "daily_budget"),
    ]  # fmt: skip
    for change, blamed in cases:
        with pytest.raises(MetaValidationError) as caught:
            await graph.post(f"{MAIN_ACCOUNT}/adsets", token, {**adset, **change})
        assert caught.value.blame_fields == [blamed], (change, caught.value)


async def test_token_errors_ask_to_reconnect_and_never_show_secrets(
    sim: httpx.AsyncClient, graph: MetaGraphClient
) -> None:
    token = await login(sim, graph)
    await sim.post("/_sim/meta/users/10000000000001/expire-tokens")
    with pytest.raises(MetaReauthRequired) as caught:
        await graph.get("me/adaccounts", token, {"fields": "id"})
    assert caught.value.subcode == 463 and "reconnect" in str(caught.value)
    for secret in (token, APP_SECRET):
        assert secret not in str(caught.value) and secret not in repr(caught.value.details)


async def test_wrong_app_secret_fails_the_appsecret_proof(
    app: FastAPI, sim: httpx.AsyncClient, graph: MetaGraphClient
) -> None:
    token = await login(sim, graph)
    transport = httpx.ASGITransport(app=app)
    async with MetaGraphClient(
        "http://sim/graph", "v23.0", APP_ID, "not-the-secret", transport=transport
    ) as wrong:
        with pytest.raises(MetaValidationError, match="appsecret_proof"):
            await wrong.get("me", token)


async def test_quota_throttles_with_code_80004_and_usage_headers(
    sim: httpx.AsyncClient, graph: MetaGraphClient
) -> None:
    token = await login(sim, graph)
    await sim.post("/_sim/meta/quota", json={"callsPerWindow": 3, "windowSeconds": 30})
    for _ in range(3):
        await graph.get(MAIN_ACCOUNT, token, {"fields": "currency"}, account=MAIN_ACCOUNT)
    assert graph.usage.wait_seconds(MAIN_ACCOUNT) > 0  # at 100 %: hold off before Meta throttles
    with pytest.raises(RateLimitedError) as caught:
        await graph.get(MAIN_ACCOUNT, token, {"fields": "currency"}, account=MAIN_ACCOUNT)
    assert caught.value.status_code == 400 and caught.value.code == 80004
    assert 0 < (caught.value.retry_after or 0) <= 30


async def test_marker_lookup_by_name_filtering(
    sim: httpx.AsyncClient, graph: MetaGraphClient
) -> None:
    token = await login(sim, graph)
    data = prepared().publish_data
    assert data is not None
    await graph.post(
        f"{MAIN_ACCOUNT}/campaigns", token, {**data["campaign"], "name": "C [fd:abc123]"}
    )
    await graph.post(f"{MAIN_ACCOUNT}/campaigns", token, {**data["campaign"], "name": "Other"})
    found = await graph.get_all(
        f"{MAIN_ACCOUNT}/campaigns",
        token,
        {"fields": "id,name",
         "filtering": [{"field": "name", "operator": "CONTAIN", "value": "[fd:abc123]"}]},
    )  # fmt: skip
    assert [c["name"] for c in found] == ["C [fd:abc123]"]


def _proof(token: str) -> str:
    from flightdeck.platforms.meta import appsecret_proof

    return appsecret_proof(APP_SECRET, token)


def test_sections_fixture_prepares_cleanly() -> None:
    result = prepared(sections())
    assert result.problems == [] and result.ready
