"""RedditAdsClient against the Reddit simulator: every method, pagination, the one retry after
a 401 with a refreshed token, each error class, and — for every test — that each request the
client sends is valid under Reddit's OpenAPI spec (checked by a transport wrapper)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    RateLimitedError,
    RetryableError,
)
from flightdeck.platforms.reddit import RedditAdsClient, reddit_user_agent
from flightdeck.simulators.reddit_state import (
    AD_ACCOUNT_ID,
    BUSINESS_ID,
    FUNDING_INSTRUMENT_ID,
    PIXEL_ID,
    PROFILE_ID,
)
from tests.simulators.test_sim_reddit_support import (
    AD,
    AD_GROUP,
    CAMPAIGN,
    POST,
    RedditSim,
    body,
    request_problems,
)

BASE = "http://sim/reddit/api/v3"
USER_AGENT = reddit_user_agent("flightdeck-tests", "0.1.0", "flightdeck_ops")


class SpecCheckingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the simulator, noting any the spec would refuse."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[httpx.Request] = []
        self.problems: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/reddit/api/v3")
        payload = json.loads(request.content) if request.content else None
        problems = request_problems(request.method, path, payload)
        if request.headers.get("user-agent") != USER_AGENT:
            problems.append("no descriptive User-Agent")
        self.problems += [f"{request.method} {path}: {problem}" for problem in problems]
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


class Tokens:
    """A token provider backed by the simulator's admin surface, recording each call."""

    def __init__(self, sim: RedditSim) -> None:
        self.sim = sim
        self.current: str | None = None
        self.calls: list[bool] = []

    async def __call__(self, *, force_refresh: bool = False) -> str:
        self.calls.append(force_refresh)
        if force_refresh or self.current is None:
            self.current = (await self.sim.tokens())["access_token"]
        return self.current


@pytest.fixture
async def sim(sim_app: FastAPI) -> AsyncIterator[RedditSim]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        sim = RedditSim(http)
        await sim.register_app()
        yield sim


@pytest.fixture
def checked(sim_app: FastAPI) -> SpecCheckingTransport:
    return SpecCheckingTransport(httpx.ASGITransport(app=sim_app))


@pytest.fixture
def tokens(sim: RedditSim) -> Tokens:
    return Tokens(sim)


@pytest.fixture
async def reddit(checked: SpecCheckingTransport, tokens: Tokens) -> AsyncIterator[RedditAdsClient]:
    async with RedditAdsClient(
        BASE, token_provider=tokens, user_agent=USER_AGENT, transport=checked, page_size=2
    ) as client:
        yield client
    assert checked.problems == [], "the client sent requests Reddit's spec refuses"


async def test_account_reads(reddit: RedditAdsClient) -> None:
    assert (await reddit.get_me())["reddit_username"] == "flightdeck_test"
    assert [b["id"] for b in await reddit.list_businesses()] == [BUSINESS_ID]
    assert [a["id"] for a in await reddit.list_ad_accounts(BUSINESS_ID)] == [AD_ACCOUNT_ID]
    assert (await reddit.get_ad_account(AD_ACCOUNT_ID))["currency"] == "USD"
    selectable = await reddit.list_funding_instruments(AD_ACCOUNT_ID)
    assert FUNDING_INSTRUMENT_ID in {fi["id"] for fi in selectable} and len(selectable) == 2
    assert len(await reddit.list_funding_instruments(AD_ACCOUNT_ID, mode="ALL")) == 3
    assert [p["id"] for p in await reddit.list_pixels(AD_ACCOUNT_ID)] == [PIXEL_ID]
    assert [p["id"] for p in await reddit.list_profiles(AD_ACCOUNT_ID)] == [PROFILE_ID]


async def test_seed_002_summer_sale_is_accepted(
    reddit: RedditAdsClient, checked: SpecCheckingTransport
) -> None:
    """Seed 002's example, `{name: "Summer Sale", budget: {type: daily, amount: 50, USD}}`,
    pushed through the vocabulary: budget and bidding on the ad group, copy on a post."""
    objective = vocab.reddit_objective("conversions")
    campaign = await reddit.create_campaign(
        AD_ACCOUNT_ID,
        {
            "name": "Summer Sale",
            "objective": objective,
            "configured_status": vocab.reddit_status("draft"),
            "funding_instrument_id": FUNDING_INSTRUMENT_ID,
        },
    )
    ad_group = await reddit.create_ad_group(
        AD_ACCOUNT_ID,
        {
            "campaign_id": campaign["id"],
            "name": "Summer Sale - deal hunters",
            "configured_status": vocab.reddit_status("draft"),
            **vocab.reddit_budget("daily", 50),
            **vocab.reddit_bidding("automatic", objective),
            "optimization_goal": vocab.optimization_goal(objective),
            "conversion_pixel_id": PIXEL_ID,
            "targeting": AD_GROUP["targeting"],
        },
    )
    post = await reddit.create_post(PROFILE_ID, body(POST))
    ad = await reddit.create_ad(
        AD_ACCOUNT_ID, body(AD, ad_group_id=ad_group["id"], post_id=post["id"])
    )
    assert ad_group["goal_type"] == "DAILY_SPEND" and ad_group["goal_value"] == 50_000_000
    assert ad_group["bid_strategy"] == "MAXIMIZE_VOLUME" and ad_group["bid_type"] == "CPM"
    assert ad["campaign_id"] == campaign["id"] and ad["post_url"] == post["post_url"]
    assert vocab.status_from_reddit(ad["configured_status"], ad["effective_status"]) == "paused"
    assert sum(r.method == "POST" for r in checked.sent) == 4


async def test_get_update_and_list(reddit: RedditAdsClient) -> None:
    campaign = await reddit.create_campaign(AD_ACCOUNT_ID, CAMPAIGN)
    assert await reddit.get_campaign(campaign["id"]) == campaign
    renamed = await reddit.update_campaign(campaign["id"], {"name": "Summer Sale 2"})
    assert renamed["name"] == "Summer Sale 2"
    ad_group = await reddit.create_ad_group(
        AD_ACCOUNT_ID, body(AD_GROUP, campaign_id=campaign["id"])
    )
    assert (await reddit.get_ad_group(ad_group["id"]))["targeting"]["keywords"] == [
        "summer sale",
        "discount code",
    ]
    raised = await reddit.update_ad_group(ad_group["id"], {"goal_value": 80_000_000})
    assert raised["goal_value"] == 80_000_000
    post = await reddit.create_post(PROFILE_ID, POST)
    assert (await reddit.get_post(post["id"]))["headline"] == POST["headline"]
    assert (await reddit.update_post(post["id"], allow_comments=True))["allow_comments"] is True
    ad = await reddit.create_ad(
        AD_ACCOUNT_ID, body(AD, ad_group_id=ad_group["id"], post_id=post["id"])
    )
    assert (await reddit.get_ad(ad["id"]))["post_id"] == post["id"]
    deleted = await reddit.update_ad(ad["id"], {"configured_status": "DELETED"})
    assert deleted["effective_status"] == "DELETED"
    assert [
        g["id"] for g in await reddit.list_ad_groups(AD_ACCOUNT_ID, campaign_id=campaign["id"])
    ] == [ad_group["id"]]
    assert [p["id"] for p in await reddit.list_posts(PROFILE_ID)] == [post["id"]]
    assert await reddit.list_ads(AD_ACCOUNT_ID, configured_statuses=["ACTIVE", "PAUSED"]) == []
    assert len(await reddit.list_ads(AD_ACCOUNT_ID, ad_group_ids=[ad_group["id"]])) == 1


async def test_lists_follow_next_url(
    reddit: RedditAdsClient, checked: SpecCheckingTransport
) -> None:
    created = [
        (await reddit.create_campaign(AD_ACCOUNT_ID, body(CAMPAIGN, name=f"Summer Sale {i}")))["id"]
        for i in range(5)
    ]
    before = len(checked.sent)
    assert [c["id"] for c in await reddit.list_campaigns(AD_ACCOUNT_ID)] == created
    assert len(checked.sent) - before == 3, "pages of 2: three requests"
    assert [
        c["id"] for c in await reddit.list_campaigns(AD_ACCOUNT_ID, ids=created[3:])
    ] == created[3:]


async def test_401_refreshes_the_token_once_and_retries(
    reddit: RedditAdsClient, tokens: Tokens, sim: RedditSim
) -> None:
    await reddit.get_me()
    assert (await sim.http.post("/_sim/reddit/oauth/expire", json={})).json() == {"expired": 1}
    tokens.calls.clear()
    assert (await reddit.get_me())["reddit_username"] == "flightdeck_test"
    assert tokens.calls == [False, True]


async def test_401_after_refresh_is_auth_expired(checked: SpecCheckingTransport) -> None:
    calls: list[bool] = []

    async def dead_token(*, force_refresh: bool = False) -> str:
        calls.append(force_refresh)
        return "revoked-token-value-0123456789"

    async with RedditAdsClient(
        BASE, token_provider=dead_token, user_agent=USER_AGENT, transport=checked
    ) as client:
        with pytest.raises(AuthExpiredError) as caught:
            await client.get_me()
    assert calls == [False, True] and caught.value.status_code == 401
    assert "revoked-token-value" not in str(caught.value) + repr(caught.value.details)


async def test_429_is_rate_limited_with_the_reset_time(
    reddit: RedditAdsClient, sim: RedditSim
) -> None:
    await sim.rate_limits(ads_campaign_management_write=(1, 45))
    await reddit.create_campaign(AD_ACCOUNT_ID, CAMPAIGN)
    with pytest.raises(RateLimitedError) as caught:
        await reddit.create_campaign(AD_ACCOUNT_ID, CAMPAIGN)
    assert caught.value.retry_after == 45 and caught.value.status_code == 429


async def test_validation_error_names_the_field(
    reddit: RedditAdsClient, checked: SpecCheckingTransport
) -> None:
    with pytest.raises(NonRetryableError) as caught:
        await reddit.create_campaign(AD_ACCOUNT_ID, body(CAMPAIGN, objective="AWARENESS"))
    # The seed's objective word: the spec check flags it as well; this test sends it on purpose.
    assert [p.split(": ")[1] for p in checked.problems] == ["data/objective"]
    checked.problems.clear()
    error = caught.value
    assert error.status_code == 400 and error.platform == "reddit"
    assert "data/objective: 'AWARENESS' is not one of" in error.message
    assert error.details["fields"][0]["field"] == "data/objective"
    assert str(error).startswith("reddit POST /reddit/api/v3/ad_accounts/a2_fd0001/campaigns")


async def test_not_found_and_server_errors(reddit: RedditAdsClient, sim: RedditSim) -> None:
    with pytest.raises(NonRetryableError) as missing:
        await reddit.get_campaign("404404")
    assert missing.value.status_code == 404
    await sim.faults({"platform": "reddit", "errorRate": 1.0, "status": 503})
    with pytest.raises(RetryableError) as unavailable:
        await reddit.get_campaign("404404")
    assert unavailable.value.status_code == 503
    await sim.faults(
        {"platform": "reddit", "errorRate": 1.0, "status": 429, "retryAfterSeconds": 7}
    )
    with pytest.raises(RateLimitedError) as throttled:
        await reddit.get_me()
    assert throttled.value.retry_after == 7


def mock_client(handler: Any) -> RedditAdsClient:
    async def token(*, force_refresh: bool = False) -> str:
        return "secret-access-token-abcdef"

    transport = httpx.MockTransport(handler)
    return RedditAdsClient(BASE, token_provider=token, user_agent=USER_AGENT, transport=transport)


async def test_next_url_may_not_leave_the_api() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        page = {"data": [{"id": "1"}], "pagination": {"next_url": "https://evil.example/steal"}}
        return httpx.Response(200, json=page)

    async with mock_client(handler) as client:
        with pytest.raises(NonRetryableError, match="leaves the API's origin"):
            await client.list_campaigns(AD_ACCOUNT_ID)
    assert hosts == ["sim"], "the bearer token never goes elsewhere"


async def test_transport_failures_are_retryable_and_never_show_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out with {request.headers['authorization']}")

    async with mock_client(handler) as client:
        with pytest.raises(RetryableError) as caught:
            await client.create_campaign(AD_ACCOUNT_ID, CAMPAIGN)
    assert "outcome is unknown" in str(caught.value)
    assert "secret-access-token" not in str(caught.value)


async def test_non_json_success_is_retryable() -> None:
    async with mock_client(lambda request: httpx.Response(200, text="<html>")) as client:
        with pytest.raises(RetryableError, match="not JSON"):
            await client.get_me()


def test_user_agent_is_required() -> None:
    async def token(*, force_refresh: bool = False) -> str:
        return "t"

    with pytest.raises(ValueError, match="User-Agent"):
        RedditAdsClient(BASE, token_provider=token, user_agent=" ")
    assert USER_AGENT == "python:flightdeck-tests:0.1.0 (by /u/flightdeck_ops)"
