"""Fixtures for connecting Reddit ad accounts, shared by the service and API tests: a real
Postgres database (committed data: refreshes lock rows across connections), the Reddit
simulator in-process with Flightdeck's OAuth app registered, a transport that counts token
refreshes, and a helper that plays the user's browser through the consent redirect.

Tests import the fixtures they use from here (`from tests.accounts.support import …`)."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from flightdeck.accounts.reddit import RedditAccountService, reddit_account_service
from flightdeck.crypto import TokenCipher
from flightdeck.db.engine import create_engine, create_sessionmaker
from flightdeck.db.models import AdAccount, Tenant
from flightdeck.db.repositories.tenants import TenantRepository
from flightdeck.db.tenancy import system_session
from flightdeck.db.tenants import create_tenant_with_key
from flightdeck.settings import Settings
from flightdeck.simulators.app import create_simulator_app

CLIENT_ID = "flightdeck-accounts-test"
CLIENT_SECRET = "reddit-client-secret-do-not-leak"
REDIRECT_URI = "http://testserver/api/v1/ad-accounts/reddit/callback"
TOKEN_PATH = "/reddit/api/v1/access_token"


@dataclass
class TokenCalls:
    """What went to Reddit's token endpoint, by grant type."""

    grants: list[str] = field(default_factory=list)

    @property
    def refreshes(self) -> int:
        return self.grants.count("refresh_token")


class CountingTransport(httpx.AsyncBaseTransport):
    """The simulator in-process, counting token-endpoint calls on the way."""

    def __init__(self, app: FastAPI, calls: TokenCalls) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._calls = calls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            form = parse_qs((await request.aread()).decode())
            self._calls.grants.append(form.get("grant_type", ["?"])[0])
        return await self._inner.handle_async_request(request)


def accounts_settings() -> Settings:
    return Settings(
        environment="test",
        encryption_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
        reddit_ads_base_url="http://sim/reddit/api/v3",
        reddit_oauth_base_url="http://sim/reddit",
        reddit_client_id=CLIENT_ID,
        reddit_client_secret=SecretStr(CLIENT_SECRET),
        reddit_redirect_uri=REDIRECT_URI,
    )


@pytest.fixture(scope="session")
async def accounts_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """As the application connects: the `flightdeck_app` role, row-level security on."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(accounts_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(accounts_engine)


@pytest.fixture
def settings() -> Settings:
    return accounts_settings()


@pytest.fixture
def cipher(settings: Settings) -> TokenCipher:
    return TokenCipher.from_settings(settings)


@pytest.fixture
def sim_app() -> FastAPI:
    return create_simulator_app()


@pytest.fixture
def token_calls() -> TokenCalls:
    return TokenCalls()


@pytest.fixture
async def reddit_sim(sim_app: FastAPI, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The simulator's admin and browser-facing side, with our OAuth app registered."""
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        registered = await http.post(
            "/_sim/reddit/oauth/apps",
            json={
                "clientId": settings.reddit_client_id,
                "clientSecret": settings.reddit_client_secret.get_secret_value(),
                "redirectUri": settings.reddit_redirect_uri,
            },
        )
        assert registered.status_code == 201, registered.text
        yield http


@pytest.fixture
async def service(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sim_app: FastAPI,
    reddit_sim: httpx.AsyncClient,
    token_calls: TokenCalls,
) -> AsyncIterator[RedditAccountService]:
    transport = CountingTransport(sim_app, token_calls)
    async with reddit_account_service(sessions, settings, transport=transport) as accounts:
        yield accounts


async def new_tenant(sessions: async_sessionmaker[AsyncSession], prefix: str = "t") -> Tenant:
    async with system_session(sessions, "cli") as session, session.begin():
        return await TenantRepository(session).create(f"{prefix}-{uuid.uuid4().hex[:10]}")


async def new_tenant_with_key(
    sessions: async_sessionmaker[AsyncSession], prefix: str = "t"
) -> tuple[Tenant, str]:
    async with system_session(sessions, "cli") as session:
        return await create_tenant_with_key(session, f"{prefix}-{uuid.uuid4().hex[:10]}")


@pytest.fixture
async def tenant(sessions: async_sessionmaker[AsyncSession]) -> Tenant:
    return await new_tenant(sessions)


async def consent(reddit_sim: httpx.AsyncClient, authorize_url: str) -> dict[str, str]:
    """The user clicks "Allow" on Reddit: the query Reddit redirects back with."""
    response = await reddit_sim.get(authorize_url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def connect(
    service: RedditAccountService, reddit_sim: httpx.AsyncClient, tenant_id: uuid.UUID
) -> AdAccount:
    start = await service.start_connect(tenant_id)
    answer = await consent(reddit_sim, start.authorize_url)
    return await service.complete_connect(answer["state"], answer["code"])


async def stored_row(
    sessions: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> dict[str, object]:
    """The raw `ad_accounts` row, as the database holds it."""
    async with system_session(sessions, "cli") as session:
        result = await session.execute(
            text("SELECT * FROM ad_accounts WHERE id = :id"), {"id": account_id}
        )
        return dict(result.mappings().one())


async def plaintext_tokens(
    cipher: TokenCipher, sessions: async_sessionmaker[AsyncSession], account_id: uuid.UUID
) -> tuple[str, str]:
    """The stored access and refresh tokens, decrypted (what must never leak)."""
    row = await stored_row(sessions, account_id)
    access, refresh = row["access_token_encrypted"], row["refresh_token_encrypted"]
    assert isinstance(access, bytes) and isinstance(refresh, bytes)
    return (
        cipher.decrypt(access, f"ad_account:{account_id}:access"),
        cipher.decrypt(refresh, f"ad_account:{account_id}:refresh"),
    )


async def set_expiry(
    sessions: async_sessionmaker[AsyncSession], account_id: uuid.UUID, seconds: float
) -> None:
    """Move the stored token expiry to `seconds` from now (the simulator's token stays live)."""
    async with system_session(sessions, "cli") as session, session.begin():
        await session.execute(
            text(
                "UPDATE ad_accounts SET token_expires_at = now() + make_interval(secs => :s) "
                "WHERE id = :id"
            ),
            {"s": seconds, "id": account_id},
        )
