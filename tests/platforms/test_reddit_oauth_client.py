"""RedditOAuthClient against the simulator's OAuth endpoints: the authorize URL, the PKCE code
exchange, refresh with rotation, the distinct error for a dead refresh token, and no secret
in any error. Ends with a token provider built on it, driving the Ads client through expiry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    RefreshTokenInvalid,
    RetryableError,
)
from flightdeck.platforms.reddit import (
    RedditAdsClient,
    RedditOAuthClient,
    TokenSet,
    code_challenge,
    new_code_verifier,
    reddit_user_agent,
)
from tests.simulators.test_sim_reddit_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    RedditSim,
)


@pytest.fixture
async def sim(sim_app: FastAPI) -> AsyncIterator[RedditSim]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        sim = RedditSim(http)
        await sim.register_app()
        yield sim


@pytest.fixture
async def oauth(sim_app: FastAPI) -> AsyncIterator[RedditOAuthClient]:
    transport = httpx.ASGITransport(app=sim_app)
    async with RedditOAuthClient(
        "http://sim/reddit", CLIENT_ID, CLIENT_SECRET, transport=transport
    ) as client:
        yield client


async def consent(sim: RedditSim, url: str) -> dict[str, str]:
    """The user clicks "Allow": the redirect's query."""
    response = await sim.http.get(url)
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def connect(sim: RedditSim, oauth: RedditOAuthClient) -> TokenSet:
    verifier = new_code_verifier()
    url = oauth.authorize_url("state-42", code_challenge(verifier), REDIRECT_URI)
    answer = await consent(sim, url)
    assert answer["state"] == "state-42"
    return await oauth.exchange_code(answer["code"], verifier, REDIRECT_URI)


def test_authorize_url(oauth: RedditOAuthClient) -> None:
    url = oauth.authorize_url("s", "challenge", REDIRECT_URI, ["adsread", "adsedit", "history"])
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://sim/reddit/api/v1/authorize"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "state": "s",
        "redirect_uri": REDIRECT_URI,
        "duration": "permanent",
        "scope": "adsread adsedit history",
        "code_challenge": "challenge",
        "code_challenge_method": "S256",
    }


async def test_code_exchange(sim: RedditSim, oauth: RedditOAuthClient) -> None:
    tokens = await connect(sim, oauth)
    assert tokens.scopes == {"adsread", "adsedit"} and tokens.refresh_token
    assert not tokens.expires_within(3500) and tokens.expires_within(3700)
    assert tokens.access_token not in repr(tokens) and str(tokens.refresh_token) not in repr(tokens)


async def test_wrong_verifier_is_auth_expired(sim: RedditSim, oauth: RedditOAuthClient) -> None:
    verifier = new_code_verifier()
    answer = await consent(sim, oauth.authorize_url("s", code_challenge(verifier), REDIRECT_URI))
    with pytest.raises(AuthExpiredError) as caught:
        await oauth.exchange_code(answer["code"], new_code_verifier(), REDIRECT_URI)
    assert not isinstance(caught.value, RefreshTokenInvalid)
    assert answer["code"] not in str(caught.value)


async def test_refresh_rotates_and_the_old_token_dies(
    sim: RedditSim, oauth: RedditOAuthClient
) -> None:
    first = await connect(sim, oauth)
    assert first.refresh_token is not None
    second = await oauth.refresh(first.refresh_token)
    assert second.refresh_token not in (None, first.refresh_token)
    with pytest.raises(RefreshTokenInvalid) as caught:
        await oauth.refresh(first.refresh_token)
    error = caught.value
    assert error.status_code == 400 and "invalid_grant" in str(error)
    assert first.refresh_token not in str(error) + repr(error.details)


async def test_refused_client_is_non_retryable_and_hides_the_secret(sim_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=sim_app)
    async with RedditOAuthClient(
        "http://sim/reddit", CLIENT_ID, "not-the-secret-9876", transport=transport
    ) as client:
        with pytest.raises(NonRetryableError) as caught:
            await client.refresh("some-refresh-token")
    assert caught.value.status_code == 401
    assert "not-the-secret-9876" not in str(caught.value) + repr(caught.value.details)


async def test_token_endpoint_outage_is_retryable(sim: RedditSim, oauth: RedditOAuthClient) -> None:
    await sim.faults(
        {"platform": "reddit", "path": "^/api/v1/access_token$", "errorRate": 1.0, "status": 502}
    )
    with pytest.raises(RetryableError):
        await oauth.refresh("anything")


async def test_invalid_grant_in_a_200_is_still_a_dead_refresh_token() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"error": "invalid_grant"}))
    async with RedditOAuthClient("https://www.reddit.com", "id", "sec", transport=transport) as c:
        with pytest.raises(RefreshTokenInvalid):
            await c.refresh("rt")


async def test_a_refresh_without_rotation_keeps_the_refresh_token() -> None:
    answer = {"access_token": "at", "token_type": "bearer", "expires_in": 3600, "scope": "adsread"}
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json=answer))
    async with RedditOAuthClient("https://www.reddit.com", "id", "sec", transport=transport) as c:
        tokens = await c.refresh("keep-me")
    assert tokens.refresh_token == "keep-me" and tokens.scopes == {"adsread"}


class StoredTokens:
    """What an activity's token provider does: refresh when asked, keep the rotated token."""

    def __init__(self, oauth: RedditOAuthClient, tokens: TokenSet) -> None:
        self.oauth, self.tokens = oauth, tokens

    async def __call__(self, *, force_refresh: bool = False) -> str:
        if force_refresh or self.tokens.expires_within(60):
            assert self.tokens.refresh_token is not None
            self.tokens = await self.oauth.refresh(self.tokens.refresh_token)
        return self.tokens.access_token


async def test_ads_client_survives_expiry_until_the_refresh_token_dies(
    sim: RedditSim, oauth: RedditOAuthClient, sim_app: FastAPI
) -> None:
    provider = StoredTokens(oauth, await connect(sim, oauth))
    first_refresh_token = provider.tokens.refresh_token
    async with RedditAdsClient(
        "http://sim/reddit/api/v3",
        token_provider=provider,
        user_agent=reddit_user_agent("flightdeck-tests", "0.1.0", "flightdeck_ops"),
        transport=httpx.ASGITransport(app=sim_app),
    ) as ads:
        await sim.http.post("/_sim/reddit/oauth/expire", json={})
        assert (await ads.get_me())["reddit_username"] == "flightdeck_test"
        assert provider.tokens.refresh_token != first_refresh_token, "kept the rotated token"
        await sim.http.post("/_sim/reddit/oauth/expire", json={})
        await sim.http.post("/_sim/reddit/oauth/revoke", json={})
        with pytest.raises(RefreshTokenInvalid):
            await ads.get_me()
