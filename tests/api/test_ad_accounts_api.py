"""Connecting a Reddit ad account over HTTP: the authorize URL, the callback (consent declined,
unknown or reused state), listing, reading and disconnecting, tenant isolation, and no token
in any response or log line."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.accounts.reddit import RedditAccountService
from flightdeck.api.app import create_app
from flightdeck.api.routes.ad_accounts import get_reddit_accounts
from flightdeck.crypto import TokenCipher
from flightdeck.settings import Settings
from flightdeck.simulators.reddit_state import AD_ACCOUNT_ID, FUNDING_INSTRUMENT_ID, PROFILE_ID
from tests.accounts import support
from tests.accounts.support import REDIRECT_URI, consent, plaintext_tokens, stored_row

# The Reddit fixtures the service tests use (sessions, tenants and keys come from conftest.py).
settings = support.settings
cipher = support.cipher
sim_app = support.sim_app
reddit_sim = support.reddit_sim
token_calls = support.token_calls
service = support.service

ACCOUNTS = "/api/v1/ad-accounts"
CALLBACK = urlsplit(REDIRECT_URI).path
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def api(
    settings: Settings, sessions: Sessions, service: RedditAccountService
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its Reddit account service pointed at the in-process simulator."""
    app = create_app(settings, sessions=sessions, temporal=None)
    app.dependency_overrides[get_reddit_accounts] = lambda: service
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def start(api: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await api.get(f"{ACCOUNTS}/reddit/connect", headers=headers)
    assert response.status_code == 200, response.text
    started: dict[str, Any] = response.json()
    return started


async def connect(
    api: httpx.AsyncClient, reddit_sim: httpx.AsyncClient, headers: dict[str, str]
) -> dict[str, Any]:
    answer = await consent(reddit_sim, (await start(api, headers))["authorizeUrl"])
    response = await api.get(CALLBACK, params=answer)  # the browser follows Reddit's redirect
    assert response.status_code == 200, response.text
    account: dict[str, Any] = response.json()
    return account


async def test_connect_needs_an_api_key(api: httpx.AsyncClient) -> None:
    response = await api.get(f"{ACCOUNTS}/reddit/connect")
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


async def test_connect_flow(
    api: httpx.AsyncClient,
    reddit_sim: httpx.AsyncClient,
    sessions: Sessions,
    cipher: TokenCipher,
    headers: dict[str, str],
) -> None:
    started = await start(api, headers)
    query = parse_qs(urlsplit(started["authorizeUrl"]).query)
    assert query["state"] == [started["state"]] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == [REDIRECT_URI]

    answer = await consent(reddit_sim, started["authorizeUrl"])
    callback = await api.get(CALLBACK, params=answer)
    assert callback.status_code == 200, callback.text
    account = callback.json()
    assert account["platform"] == "reddit" and account["status"] == "active"
    assert account["platformAccountId"] == AD_ACCOUNT_ID
    assert account["fundingInstrumentId"] == FUNDING_INSTRUMENT_ID
    assert account["profileId"] == PROFILE_ID
    assert set(account["scopes"]) == {"adsread", "adsedit"}

    access, refresh = await plaintext_tokens(cipher, sessions, uuid.UUID(account["id"]))
    listed = await api.get(ACCOUNTS, headers=headers)
    read = await api.get(f"{ACCOUNTS}/{account['id']}", headers=headers)
    assert [a["id"] for a in listed.json()["items"]] == [account["id"]]
    assert read.json() == account
    for response in (callback, listed, read):
        assert access not in response.text and refresh not in response.text
        assert "token" not in response.text.lower()


async def test_a_reused_state_is_refused(
    api: httpx.AsyncClient, reddit_sim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    started = await start(api, headers)
    first = await consent(reddit_sim, started["authorizeUrl"])
    assert (await api.get(CALLBACK, params=first)).status_code == 200
    second = await consent(reddit_sim, started["authorizeUrl"])
    response = await api.get(CALLBACK, params=second)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_state"


@pytest.mark.parametrize(
    "params",
    [
        {"state": "never-issued", "code": "abc"},
        {"code": "abc"},
        {"state": "never-issued"},
    ],
)
async def test_a_bad_callback_is_a_400(api: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await api.get(CALLBACK, params=params)
    assert response.status_code == 400
    assert set(response.json()) == {"error", "detail"}


async def test_declined_consent_burns_the_state(
    api: httpx.AsyncClient, reddit_sim: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    started = await start(api, headers)
    declined = await api.get(CALLBACK, params={"error": "access_denied", "state": started["state"]})
    assert declined.status_code == 400
    assert declined.json() == {
        "error": "access_denied",
        "detail": "Reddit did not authorize the connection (access_denied)",
    }
    late = await consent(reddit_sim, started["authorizeUrl"])
    response = await api.get(CALLBACK, params=late)
    assert response.status_code == 400 and response.json()["error"] == "invalid_state"

    odd = await api.get(CALLBACK, params={"error": "<script>", "state": "x"})
    assert odd.status_code == 400 and odd.json()["error"] == "oauth_error"


async def test_accounts_are_tenant_scoped(
    api: httpx.AsyncClient,
    reddit_sim: httpx.AsyncClient,
    headers: dict[str, str],
    other_headers: dict[str, str],
) -> None:
    account = await connect(api, reddit_sim, headers)
    url = f"{ACCOUNTS}/{account['id']}"
    assert (await api.get(url, headers=other_headers)).status_code == 404
    assert (await api.delete(url, headers=other_headers)).status_code == 404
    assert (await api.get(ACCOUNTS, headers=other_headers)).json()["items"] == []
    assert (await api.get(url, headers=headers)).json()["status"] == "active"
    assert (await api.get(f"{ACCOUNTS}/not-a-uuid", headers=headers)).status_code == 404


async def test_disconnect(
    api: httpx.AsyncClient,
    reddit_sim: httpx.AsyncClient,
    sessions: Sessions,
    headers: dict[str, str],
) -> None:
    account = await connect(api, reddit_sim, headers)
    url = f"{ACCOUNTS}/{account['id']}"
    response = await api.delete(url, headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "disconnected"
    row = await stored_row(sessions, uuid.UUID(account["id"]))
    assert row["access_token_encrypted"] is None and row["refresh_token_encrypted"] is None
    assert (await api.get(url, headers=headers)).json()["status"] == "disconnected"
    assert (await api.delete(f"{ACCOUNTS}/{uuid.uuid4()}", headers=headers)).status_code == 404

    again = await connect(api, reddit_sim, headers)  # reconnecting revives the same account
    assert again["id"] == account["id"] and again["status"] == "active"


async def test_no_token_in_log_output(
    api: httpx.AsyncClient,
    reddit_sim: httpx.AsyncClient,
    sessions: Sessions,
    cipher: TokenCipher,
    service: RedditAccountService,
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    account = await connect(api, reddit_sim, headers)
    account_id = uuid.UUID(account["id"])
    tenant_id = uuid.UUID(str((await stored_row(sessions, account_id))["tenant_id"]))
    tokens = list(await plaintext_tokens(cipher, sessions, account_id))
    await service.token_provider(tenant_id, account_id)(force_refresh=True)
    tokens += await plaintext_tokens(cipher, sessions, account_id)
    assert "connected" in caplog.text
    for token in tokens:
        assert token not in caplog.text
