"""RedditAccountService against a real Postgres (row-level security on) and the Reddit
simulator: the PKCE connect flow, encrypted storage, single-use states, refresh before expiry
and after a 401, rotated refresh tokens, a dead refresh token (reauth_required, one refusal,
no retry loop), one refresh for concurrent callers, tenant isolation, and no token in logs."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.accounts import AccountNotFound, ConnectError, ReauthRequired
from flightdeck.accounts.reddit import RedditAccountService
from flightdeck.activities.errors import to_application_error
from flightdeck.crypto import TokenCipher
from flightdeck.db.models import OAuthState, Tenant
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.reddit_oauth import code_challenge
from flightdeck.simulators.reddit_state import (
    AD_ACCOUNT_ID,
    FUNDING_INSTRUMENT_ID,
    PROFILE_ID,
)
from tests.accounts.support import (
    CLIENT_ID,
    REDIRECT_URI,
    TokenCalls,
    connect,
    consent,
    new_tenant,
    plaintext_tokens,
    set_expiry,
    stored_row,
)

Sessions = async_sessionmaker[AsyncSession]


async def audit_actions(sessions: Sessions, tenant_id: uuid.UUID) -> list[str]:
    async with tenant_session(sessions, tenant_id) as session:
        entries = await AuditLogRepository(session).list(tenant_id, entity_type="ad_account")
    return [e.action for e in reversed(entries)]


async def test_connect_flow_stores_encrypted_tokens_and_defaults(
    service: RedditAccountService,
    reddit_sim: httpx.AsyncClient,
    sessions: Sessions,
    cipher: TokenCipher,
    tenant: Tenant,
) -> None:
    start = await service.start_connect(tenant.id)
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.authorize_url).query).items()}
    assert query["client_id"] == CLIENT_ID and query["redirect_uri"] == REDIRECT_URI
    assert query["state"] == start.state and len(start.state) >= 32
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["duration"] == "permanent" and query["scope"] == "adsread adsedit"
    assert timedelta(minutes=9) < start.expires_at - datetime.now(UTC) <= timedelta(minutes=10)

    async with system_session(sessions, "cli") as session:
        handshake = await session.scalar(
            text("SELECT code_verifier_encrypted FROM oauth_states WHERE state = :s"),
            {"s": start.state},
        )
    verifier = cipher.decrypt(handshake, f"oauth_state:{start.state}:code_verifier")
    assert code_challenge(verifier) == query["code_challenge"]
    assert verifier.encode() not in handshake

    answer = await consent(reddit_sim, start.authorize_url)
    account = await service.complete_connect(answer["state"], answer["code"])

    assert account.tenant_id == tenant.id and account.status == "active"
    assert account.platform_account_id == AD_ACCOUNT_ID
    assert account.funding_instrument_id == FUNDING_INSTRUMENT_ID  # the servable card
    assert account.profile_id == PROFILE_ID
    assert account.username == "flightdeck_test" and account.name == "Flightdeck Test Account"
    assert account.scopes == "adsedit adsread" and account.connected_at is not None

    row = await stored_row(sessions, account.id)
    access, refresh = await plaintext_tokens(cipher, sessions, account.id)
    for blob in (row["access_token_encrypted"], row["refresh_token_encrypted"]):
        assert isinstance(blob, bytes)
        assert access.encode() not in blob and refresh.encode() not in blob
    assert access not in repr(account) and refresh not in repr(account)
    assert await audit_actions(sessions, tenant.id) == ["ad_account.connected"]

    # The stored token works: the client acts for the account without refreshing.
    async with service.ads_client(tenant.id, account.id) as reddit:
        assert (await reddit.get_ad_account(AD_ACCOUNT_ID))["id"] == AD_ACCOUNT_ID


async def test_a_state_is_single_use(
    service: RedditAccountService, reddit_sim: httpx.AsyncClient, tenant: Tenant
) -> None:
    start = await service.start_connect(tenant.id)
    answer = await consent(reddit_sim, start.authorize_url)
    await service.complete_connect(answer["state"], answer["code"])
    again = await consent(reddit_sim, start.authorize_url)  # a fresh code, the same state
    with pytest.raises(ConnectError) as caught:
        await service.complete_connect(start.state, again["code"])
    assert caught.value.error == "invalid_state"
    with pytest.raises(ConnectError, match="invalid_state"):
        await service.complete_connect("never-issued", again["code"])


async def test_an_expired_state_is_refused(
    service: RedditAccountService, reddit_sim: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
) -> None:
    start = await service.start_connect(tenant.id)
    answer = await consent(reddit_sim, start.authorize_url)
    async with system_session(sessions, "cli") as session, session.begin():
        past = datetime.now(UTC) - timedelta(seconds=1)
        await session.execute(
            update(OAuthState).where(OAuthState.state == start.state).values(expires_at=past)
        )
    with pytest.raises(ConnectError, match="invalid_state"):
        await service.complete_connect(answer["state"], answer["code"])


async def test_a_refused_code_is_a_connect_error(
    service: RedditAccountService, reddit_sim: httpx.AsyncClient, tenant: Tenant
) -> None:
    start = await service.start_connect(tenant.id)
    await consent(reddit_sim, start.authorize_url)
    with pytest.raises(ConnectError) as caught:
        await service.complete_connect(start.state, "not-a-code-reddit-issued")
    assert caught.value.error == "invalid_grant"


async def test_reconnecting_updates_the_account_and_reactivates_it(
    service: RedditAccountService, reddit_sim: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
) -> None:
    first = await connect(service, reddit_sim, tenant.id)
    await service.disconnect(tenant.id, first.id)
    second = await connect(service, reddit_sim, tenant.id)
    assert second.id == first.id and second.status == "active"
    assert (await service.access_token(tenant.id, second.id)) is not None
    assert await audit_actions(sessions, tenant.id) == [
        "ad_account.connected",
        "ad_account.disconnected",
        "ad_account.reconnected",
    ]


async def test_refresh_before_expiry(
    service: RedditAccountService,
    reddit_sim: httpx.AsyncClient,
    sessions: Sessions,
    cipher: TokenCipher,
    token_calls: TokenCalls,
    tenant: Tenant,
) -> None:
    account = await connect(service, reddit_sim, tenant.id)
    original, _ = await plaintext_tokens(cipher, sessions, account.id)
    provider = service.token_provider(tenant.id, account.id)
    assert await provider() == original and token_calls.refreshes == 0

    await set_expiry(sessions, account.id, 30)  # inside the 60 s margin
    renewed = await provider()
    assert renewed != original and token_calls.refreshes == 1
    row = await stored_row(sessions, account.id)
    expires_at = row["token_expires_at"]
    assert isinstance(expires_at, datetime)
    assert expires_at - datetime.now(UTC) > timedelta(minutes=59)
    assert await provider() == renewed and token_calls.refreshes == 1


async def test_refresh_on_401_keeps_the_rotated_refresh_token(
    service: RedditAccountService,
    reddit_sim: httpx.AsyncClient,
    sessions: Sessions,
    cipher: TokenCipher,
    token_calls: TokenCalls,
    tenant: Tenant,
) -> None:
    account = await connect(service, reddit_sim, tenant.id)
    _, first_refresh = await plaintext_tokens(cipher, sessions, account.id)
    async with service.ads_client(tenant.id, account.id) as reddit:
        await reddit.list_campaigns(AD_ACCOUNT_ID)
        for round_ in (1, 2):  # the second works only if the rotated token was kept
            expired = await reddit_sim.post("/_sim/reddit/oauth/expire", json={})
            assert expired.json()["expired"] >= 1
            await reddit.list_campaigns(AD_ACCOUNT_ID)
            assert token_calls.refreshes == round_
    _, kept = await plaintext_tokens(cipher, sessions, account.id)
    assert kept != first_refresh
    revoked = await reddit_sim.post("/_sim/reddit/oauth/revoke", json={"refreshToken": kept})
    assert revoked.json() == {"revoked": 1}  # the stored one is the live one


async def test_a_dead_refresh_token_requires_reauth_without_a_retry_loop(
    service: RedditAccountService,
    reddit_sim: httpx.AsyncClient,
    sessions: Sessions,
    token_calls: TokenCalls,
    tenant: Tenant,
) -> None:
    account = await connect(service, reddit_sim, tenant.id)
    await reddit_sim.post("/_sim/reddit/oauth/revoke", json={})
    await reddit_sim.post("/_sim/reddit/oauth/expire", json={})

    async with service.ads_client(tenant.id, account.id) as reddit:
        with pytest.raises(ReauthRequired) as caught:
            await reddit.list_campaigns(AD_ACCOUNT_ID)
        error = caught.value
        assert "must be reconnected" in str(error) and AD_ACCOUNT_ID in str(error)
        assert to_application_error(error).non_retryable
        assert token_calls.refreshes == 1

        # Every later call fails at once, without asking Reddit again.
        with pytest.raises(ReauthRequired):
            await reddit.list_campaigns(AD_ACCOUNT_ID)
        with pytest.raises(ReauthRequired):
            await service.account_context(tenant.id, account.id)
        assert token_calls.refreshes == 1

    row = await stored_row(sessions, account.id)
    assert row["status"] == "reauth_required"
    assert (await audit_actions(sessions, tenant.id))[-1] == "ad_account.reauth_required"

    reconnected = await connect(service, reddit_sim, tenant.id)
    assert reconnected.id == account.id and reconnected.status == "active"
    assert await service.access_token(tenant.id, account.id)


async def test_concurrent_refreshes_make_one_call(
    service: RedditAccountService, reddit_sim: httpx.AsyncClient, sessions: Sessions,
    token_calls: TokenCalls, tenant: Tenant,
) -> None:  # fmt: skip
    account = await connect(service, reddit_sim, tenant.id)
    # Separate providers, as separate workers would have: the row lock is what serialises them.
    providers = [service.token_provider(tenant.id, account.id) for _ in range(4)]

    await set_expiry(sessions, account.id, 10)
    expiring = await asyncio.gather(*(p() for p in providers))
    assert len(set(expiring)) == 1 and token_calls.refreshes == 1

    # All of them were refused the same token (401): still one refresh.
    refreshed = await asyncio.gather(*(p(force_refresh=True) for p in providers))
    assert len(set(refreshed)) == 1 and refreshed[0] != expiring[0]
    assert token_calls.refreshes == 2


async def test_account_context_and_client(
    service: RedditAccountService, reddit_sim: httpx.AsyncClient, tenant: Tenant
) -> None:
    account = await connect(service, reddit_sim, tenant.id)
    assert await service.account_context(tenant.id, account.id) == AccountContext(
        account_id=AD_ACCOUNT_ID, funding_instrument_id=FUNDING_INSTRUMENT_ID, profile_id=PROFILE_ID
    )


async def test_another_tenant_cannot_use_the_account(
    service: RedditAccountService, reddit_sim: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
) -> None:
    account = await connect(service, reddit_sim, tenant.id)
    other = await new_tenant(sessions, "other")
    with pytest.raises(AccountNotFound):
        await service.account_context(other.id, account.id)
    with pytest.raises(AccountNotFound):
        await service.token_provider(other.id, account.id)(force_refresh=True)
    with pytest.raises(AccountNotFound):
        await service.disconnect(other.id, account.id)
    assert (await stored_row(sessions, account.id))["status"] == "active"


async def test_disconnect_wipes_the_tokens(
    service: RedditAccountService,
    reddit_sim: httpx.AsyncClient,
    sessions: Sessions,
    token_calls: TokenCalls,
    tenant: Tenant,
) -> None:
    account = await connect(service, reddit_sim, tenant.id)
    disconnected = await service.disconnect(tenant.id, account.id)
    assert disconnected.status == "disconnected"
    row = await stored_row(sessions, account.id)
    assert row["access_token_encrypted"] is None and row["refresh_token_encrypted"] is None
    with pytest.raises(ReauthRequired, match="disconnected"):
        await service.token_provider(tenant.id, account.id)(force_refresh=True)
    assert token_calls.refreshes == 0


async def test_no_token_in_logs_errors_or_reprs(
    service: RedditAccountService,
    reddit_sim: httpx.AsyncClient,
    sessions: Sessions,
    cipher: TokenCipher,
    tenant: Tenant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    account = await connect(service, reddit_sim, tenant.id)
    seen = list(await plaintext_tokens(cipher, sessions, account.id))
    await set_expiry(sessions, account.id, 0)
    provider = service.token_provider(tenant.id, account.id)
    await provider()
    seen += await plaintext_tokens(cipher, sessions, account.id)
    await reddit_sim.post("/_sim/reddit/oauth/revoke", json={})
    with pytest.raises(ReauthRequired) as caught:
        await provider(force_refresh=True)
    shown = [
        caplog.text,
        str(caught.value),
        repr(caught.value),
        repr(caught.value.details),
        repr(caught.value.__cause__),
        str(caught.value.__cause__),
        repr(service),
        repr(provider),
        repr(account),
    ]
    assert "refreshed the Reddit token" in caplog.text
    for token in seen:
        assert not any(token in text_ for text_ in shown)


async def test_unknown_account(service: RedditAccountService, tenant: Tenant) -> None:
    with pytest.raises(AccountNotFound):
        await service.access_token(tenant.id, uuid.uuid4())
