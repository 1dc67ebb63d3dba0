"""Reddit's OAuth2 in the simulator: consent and code exchange with PKCE, refresh-token
rotation, invalid_grant for dead codes and refresh tokens, expiring access tokens (401 on the
Ads API), scopes (403), and a refused client (401)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.simulators.test_sim_reddit_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    RedditSim,
)

VERIFIER = "a-very-long-pkce-code-verifier-of-at-least-43-characters-0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=")
BASIC = (CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
async def reddit(sim_app: FastAPI) -> AsyncIterator[RedditSim]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        sim = RedditSim(http)
        await sim.register_app()
        yield sim


async def consent(reddit: RedditSim, **overrides: str) -> dict[str, list[str]]:
    """Follow the authorize URL as the user's browser would; the redirect's query."""
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "state": "st-1",
        "redirect_uri": REDIRECT_URI,
        "duration": "permanent",
        "scope": "adsread adsedit",
        "code_challenge": CHALLENGE.decode(),
        "code_challenge_method": "S256",
        **overrides,
    }
    response = await reddit.http.get("/reddit/api/v1/authorize", params=query)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)


async def token(reddit: RedditSim, auth: tuple[str, str] = BASIC, **form: str) -> httpx.Response:
    return await reddit.http.post("/reddit/api/v1/access_token", data=form, auth=auth)


async def exchange(reddit: RedditSim, code: str, verifier: str = VERIFIER) -> httpx.Response:
    return await token(
        reddit,
        grant_type="authorization_code",
        code=code,
        redirect_uri=REDIRECT_URI,
        code_verifier=verifier,
    )


async def me(reddit: RedditSim, access_token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {access_token}"}
    return await reddit.http.get("/reddit/api/v3/me", headers=headers)


async def test_code_flow_with_pkce(reddit: RedditSim) -> None:
    redirect = await consent(reddit, username="brand_admin")
    assert redirect["state"] == ["st-1"]
    response = await exchange(reddit, redirect["code"][0])
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == "adsedit adsread" and tokens["refresh_token"]
    assert (await me(reddit, tokens["access_token"])).json()["data"]["reddit_username"] == (
        "brand_admin"
    )


@pytest.mark.parametrize("verifier", ["", "the-wrong-verifier-" + "x" * 40])
async def test_code_needs_its_verifier_and_is_single_use(reddit: RedditSim, verifier: str) -> None:
    code = (await consent(reddit))["code"][0]
    refused = await exchange(reddit, code, verifier)
    assert (refused.status_code, refused.json()) == (400, {"error": "invalid_grant"})
    again = await exchange(reddit, code)
    assert again.json() == {"error": "invalid_grant"}, "a failed exchange burns the code"


async def test_code_cannot_be_used_twice(reddit: RedditSim) -> None:
    code = (await consent(reddit))["code"][0]
    assert (await exchange(reddit, code)).status_code == 200
    assert (await exchange(reddit, code)).json() == {"error": "invalid_grant"}


async def test_refresh_rotates_the_refresh_token(reddit: RedditSim) -> None:
    first = await reddit.tokens()
    refreshed = await token(
        reddit, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await me(reddit, second["access_token"])).status_code == 200
    old = await token(reddit, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert (old.status_code, old.json()) == (400, {"error": "invalid_grant"})
    newer = await token(reddit, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert newer.status_code == 200


async def test_revoked_refresh_token_is_invalid_grant(reddit: RedditSim) -> None:
    tokens = await reddit.tokens()
    revoked = await reddit.http.post(
        "/_sim/reddit/oauth/revoke", json={"refreshToken": tokens["refresh_token"]}
    )
    assert revoked.json() == {"revoked": 1}
    dead = await token(reddit, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert dead.json() == {"error": "invalid_grant"}


async def test_expired_access_token_is_401_until_refreshed(reddit: RedditSim) -> None:
    tokens = await reddit.tokens()
    assert (await me(reddit, tokens["access_token"])).status_code == 200
    expired = await reddit.http.post("/_sim/reddit/oauth/expire", json={})
    assert expired.json() == {"expired": 1}
    refused = await me(reddit, tokens["access_token"])
    assert refused.status_code == 401
    assert refused.json() == {"error": {"code": 401, "message": "Bad bearer token provided."}}
    fresh = await token(reddit, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert (await me(reddit, fresh.json()["access_token"])).status_code == 200


async def test_access_tokens_expire_by_themselves(reddit: RedditSim) -> None:
    await reddit.register_app(ttl=0.05)
    tokens = await reddit.tokens()
    assert tokens["expires_in"] == 0
    await asyncio.sleep(0.06)
    assert (await me(reddit, tokens["access_token"])).status_code == 401


async def test_temporary_grant_has_no_refresh_token(reddit: RedditSim) -> None:
    redirect = await consent(reddit, duration="temporary")
    tokens = (await exchange(reddit, redirect["code"][0])).json()
    assert "refresh_token" not in tokens and tokens["access_token"]


async def test_scopes_are_enforced_per_operation(reddit: RedditSim) -> None:
    await reddit.login(scope="adsread")
    assert (await reddit.get("/me")).status_code == 200
    refused = await reddit.post(f"/ad_accounts/{reddit.account}/campaigns", {})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "Insufficient scope: requires adsedit"


@pytest.mark.parametrize(
    ("auth", "form", "status", "answer"),
    [
        (
            (CLIENT_ID, "wrong"),
            {"grant_type": "refresh_token", "refresh_token": "x"},
            401,
            {"message": "Unauthorized", "error": 401},
        ),
        (BASIC, {"grant_type": "password"}, 400, {"error": "unsupported_grant_type"}),
        (BASIC, {"grant_type": "refresh_token"}, 400, {"error": "invalid_request"}),
    ],
)
async def test_token_endpoint_refusals(
    reddit: RedditSim, auth: tuple[str, str], form: dict[str, str], status: int, answer: Any
) -> None:
    response = await token(reddit, auth, **form)
    assert (response.status_code, response.json()) == (status, answer)


async def test_authorize_refusals(reddit: RedditSim) -> None:
    unknown = await reddit.http.get(
        "/reddit/api/v1/authorize", params={"client_id": "nope", "redirect_uri": REDIRECT_URI}
    )
    assert unknown.status_code == 400, "never redirect to an unverified URI"
    assert (await consent(reddit, scope="adsread everything"))["error"] == ["invalid_scope"]
    assert (await consent(reddit, response_type="token"))["error"] == ["unsupported_response_type"]


async def test_oauth_summary_never_shows_secrets(reddit: RedditSim) -> None:
    await reddit.tokens()
    summary = (await reddit.http.get("/_sim/reddit/oauth")).json()
    assert summary["liveAccessTokens"] == 1 and summary["liveRefreshTokens"] == 1
    assert CLIENT_SECRET not in str(summary)
