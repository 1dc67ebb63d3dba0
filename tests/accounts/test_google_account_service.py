"""GoogleAccountService against a real Postgres (row-level security on) and the Google Ads
simulator over real HTTP: the PKCE connect flow (adwords scope, offline access), an account
reached through its manager (`login-customer-id`) or directly, encrypted tokens, single-use
states, refresh before expiry and after a 401 (refresh token kept: Google does not rotate it),
a refused refresh → reauth_required (once, no retry loop), and the connect routes."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.accounts import ConnectError, ReauthRequired
from flightdeck.accounts.google import GoogleAccountService, google_account_service
from flightdeck.api.app import create_app
from flightdeck.api.routes.ad_accounts import get_google_accounts
from flightdeck.crypto import TokenCipher
from flightdeck.db.models import AdAccount, Tenant
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.settings import Settings
from flightdeck.simulators.google_ads_state import (
    CLIENT_CUSTOMER_ID,
    MANAGER_CUSTOMER_ID,
    OWNER_USER,
)
from tests.accounts.support import (
    new_tenant,
    new_tenant_with_key,
    plaintext_tokens,
    set_expiry,
    stored_row,
)

CLIENT_ID = "flightdeck-google-accounts.apps.googleusercontent.com"
CLIENT_SECRET = "google-client-secret-do-not-leak"
REDIRECT_URI = "http://testserver/api/v1/ad-accounts/google/callback"
TOKEN_PATH = "/google/oauth2/v3/token"
Sessions = async_sessionmaker[AsyncSession]


class CountingTransport(httpx.AsyncBaseTransport):
    """Real HTTP, counting the token endpoint's grants on the way."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.grants: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            form = parse_qs((await request.aread()).decode())
            self.grants.append(form.get("grant_type", ["?"])[0])
        return await self.inner.handle_async_request(request)

    @property
    def refreshes(self) -> int:
        return self.grants.count("refresh_token")


@pytest.fixture
def google_settings(simulator_url: str) -> Settings:
    return Settings(
        environment="test",
        encryption_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
        google_ads_base_url=f"{simulator_url}/google",
        google_oauth_authorize_url=f"{simulator_url}/google/o/oauth2/v2/auth",
        google_oauth_token_url=f"{simulator_url}{TOKEN_PATH}",
        google_client_id=CLIENT_ID,
        google_client_secret=SecretStr(CLIENT_SECRET),
        google_redirect_uri=REDIRECT_URI,
    )


@pytest.fixture
async def sim(simulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=simulator_url, timeout=30) as http:
        await http.post("/_sim/reset")
        app = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "redirectUri": REDIRECT_URI}
        assert (await http.post("/_sim/google/oauth/apps", json=app)).status_code == 201
        yield http


@pytest.fixture
def counting() -> CountingTransport:
    return CountingTransport()


@pytest.fixture
async def service(
    sessions: Sessions,
    google_settings: Settings,
    sim: httpx.AsyncClient,
    counting: CountingTransport,
) -> AsyncIterator[GoogleAccountService]:
    async with google_account_service(sessions, google_settings, transport=counting) as accounts:
        yield accounts


@pytest.fixture
def google_cipher(google_settings: Settings) -> TokenCipher:
    return TokenCipher.from_settings(google_settings)


async def consent(sim: httpx.AsyncClient, url: str, user: str | None = None) -> dict[str, str]:
    """The user clicks "Allow" on Google's consent screen (as `user`, via login_hint)."""
    response = await sim.get(url + (f"&login_hint={user}" if user else ""))
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def connect(
    service: GoogleAccountService, sim: httpx.AsyncClient, tenant: Tenant, user: str | None = None
) -> AdAccount:
    start = await service.start_connect(tenant.id)
    answer = await consent(sim, start.authorize_url, user)
    return await service.complete_connect(answer["state"], answer["code"])


async def test_connect_through_the_manager(
    service: GoogleAccountService,
    sim: httpx.AsyncClient,
    sessions: Sessions,
    google_cipher: TokenCipher,
    tenant: Tenant,
) -> None:
    start = await service.start_connect(tenant.id)
    query = {k: v[0] for k, v in parse_qs(urlsplit(start.authorize_url).query).items()}
    assert query["scope"] == "https://www.googleapis.com/auth/adwords"
    assert (query["access_type"], query["prompt"]) == ("offline", "consent")
    assert query["code_challenge_method"] == "S256" and query["redirect_uri"] == REDIRECT_URI

    answer = await consent(sim, start.authorize_url)
    account = await service.complete_connect(answer["state"], answer["code"])
    assert (account.platform, account.platform_account_id) == ("google", CLIENT_CUSTOMER_ID)
    assert account.login_customer_id == MANAGER_CUSTOMER_ID
    assert account.name == "Flightdeck Test Account" and account.status == "active"

    access, refresh = await plaintext_tokens(google_cipher, sessions, account.id)
    row = await stored_row(sessions, account.id)
    for secret in (access, refresh):
        assert secret.encode() not in bytes(row["access_token_encrypted"])  # type: ignore[arg-type]
        assert secret.encode() not in bytes(row["refresh_token_encrypted"])  # type: ignore[arg-type]

    with pytest.raises(ConnectError) as reused:
        await service.complete_connect(answer["state"], answer["code"])
    assert reused.value.error == "invalid_state"

    async with service.ads_client(tenant.id, account.id) as google:
        rows = await google.search(CLIENT_CUSTOMER_ID, "SELECT customer.id FROM customer")
    assert rows[0]["customer"]["id"] == CLIENT_CUSTOMER_ID
    context = await service.account_context(tenant.id, account.id)
    assert context.account_id == CLIENT_CUSTOMER_ID
    async with tenant_session(sessions, tenant.id) as session:
        entries = await AuditLogRepository(session).list(tenant.id, entity_type="ad_account")
    assert [e.action for e in entries] == ["ad_account.connected"]
    assert entries[0].details["loginCustomerId"] == MANAGER_CUSTOMER_ID


async def test_direct_access_has_no_manager_and_a_reconnect_updates_it(
    service: GoogleAccountService, sim: httpx.AsyncClient, tenant: Tenant
) -> None:
    via_manager = await connect(service, sim, tenant)
    direct = await connect(service, sim, tenant, user=OWNER_USER)
    assert direct.id == via_manager.id, "the same customer: one row, reconnected"
    assert direct.login_customer_id is None
    async with service.ads_client(tenant.id, direct.id) as google:
        assert await google.list_accessible_customers() == [CLIENT_CUSTOMER_ID]


async def test_a_user_without_client_accounts_cannot_connect(
    service: GoogleAccountService, sim: httpx.AsyncClient, tenant: Tenant
) -> None:
    await sim.post("/_sim/google/users", json={"email": "nobody@example.com", "customerIds": []})
    with pytest.raises(ConnectError) as refused:
        await connect(service, sim, tenant, user="nobody@example.com")
    assert refused.value.error == "no_ad_account"


async def test_refresh_before_expiry_and_after_a_401(
    service: GoogleAccountService,
    sim: httpx.AsyncClient,
    sessions: Sessions,
    google_cipher: TokenCipher,
    counting: CountingTransport,
    tenant: Tenant,
) -> None:
    account = await connect(service, sim, tenant)
    first_access, refresh = await plaintext_tokens(google_cipher, sessions, account.id)
    assert await service.access_token(tenant.id, account.id) == first_access
    assert counting.refreshes == 0

    await set_expiry(sessions, account.id, 30)  # inside the 60 s margin
    renewed = await service.access_token(tenant.id, account.id)
    assert renewed != first_access and counting.refreshes == 1
    assert (await plaintext_tokens(google_cipher, sessions, account.id)) == (renewed, refresh)

    await sim.post("/_sim/google/oauth/expire", json={})  # Google expired it early: a 401
    async with service.ads_client(tenant.id, account.id) as google:
        await google.search(CLIENT_CUSTOMER_ID, "SELECT campaign.id FROM campaign")
    assert counting.refreshes == 2


async def test_a_refused_refresh_marks_the_account_reauth_required(
    service: GoogleAccountService,
    sim: httpx.AsyncClient,
    sessions: Sessions,
    google_cipher: TokenCipher,
    counting: CountingTransport,
    tenant: Tenant,
) -> None:
    account = await connect(service, sim, tenant)
    _, refresh = await plaintext_tokens(google_cipher, sessions, account.id)
    await sim.post("/_sim/google/oauth/revoke", json={})  # e.g. a "Testing" consent screen
    await set_expiry(sessions, account.id, -5)
    with pytest.raises(ReauthRequired) as dead:
        await service.access_token(tenant.id, account.id)
    assert "/api/v1/ad-accounts/google/connect" in str(dead.value)
    assert refresh not in str(dead.value) and CLIENT_SECRET not in str(dead.value)
    assert (await stored_row(sessions, account.id))["status"] == "reauth_required"
    with pytest.raises(ReauthRequired):
        await service.access_token(tenant.id, account.id)
    assert counting.refreshes == 1, "a dead refresh token is tried once, not in a loop"


async def test_connect_routes(
    sessions: Sessions,
    google_settings: Settings,
    service: GoogleAccountService,
    sim: httpx.AsyncClient,
) -> None:
    app = create_app(google_settings, sessions=sessions, temporal=None)
    app.dependency_overrides[get_google_accounts] = lambda: service
    tenant, key = await new_tenant_with_key(sessions)
    tenant_id = tenant.id
    headers = {"Authorization": f"Bearer {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as api:
        started = await api.get("/api/v1/ad-accounts/google/connect", headers=headers)
        assert started.status_code == 200, started.text
        answer = await consent(sim, started.json()["authorizeUrl"])
        callback = await api.get("/api/v1/ad-accounts/google/callback", params=answer)
        assert callback.status_code == 200, callback.text
        account = callback.json()
        assert account["platform"] == "google"
        assert account["platformAccountId"] == CLIENT_CUSTOMER_ID
        assert account["loginCustomerId"] == MANAGER_CUSTOMER_ID
        assert "token" not in callback.text.lower()

        declined = await service.start_connect(tenant_id)
        state = parse_qs(urlsplit(declined.authorize_url).query)["state"][0]
        refused = await api.get("/api/v1/ad-accounts/google/callback",
                                params={"state": state, "error": "access_denied"})  # fmt: skip
        assert (refused.status_code, refused.json()["error"]) == (400, "access_denied")
        again = await api.get("/api/v1/ad-accounts/google/callback",
                              params={"state": state, "code": "4/whatever"})  # fmt: skip
        assert again.json()["error"] == "invalid_state"
        listed = await api.get("/api/v1/ad-accounts", headers=headers)
        assert [a["platform"] for a in listed.json()["items"]] == ["google"]


@pytest.fixture
async def tenant(sessions: Sessions) -> Tenant:
    return await new_tenant(sessions)


async def test_the_registry_serves_google_accounts_on_one_shared_client(
    service: GoogleAccountService, sim: httpx.AsyncClient, sessions: Sessions, tenant: Tenant
) -> None:
    from flightdeck.activities.adapters import PlatformAdapters
    from flightdeck.platforms.google_adapter import GoogleCampaignSetAdapter
    from flightdeck.platforms.google_poller import GOOGLE_FIELDS, GooglePlatformPoller

    account = await connect(service, sim, tenant)
    adapters = PlatformAdapters(sessions, {"google": service})
    adapter, context = await adapters(tenant.id, account.id)
    again, _ = await adapters(tenant.id, account.id)
    assert isinstance(adapter, GoogleCampaignSetAdapter) and adapter is not again
    assert adapter._client._http is again._client._http, "one HTTP client for the platform"
    assert context.account_id == CLIENT_CUSTOMER_ID
    assert await adapter.find_campaign(context, "nothing yet", ref="0" * 12) is None  # manager
    assert adapter._client._login == MANAGER_CUSTOMER_ID
    poller, _ = await adapters.poller(tenant.id, account.id)
    # Sync-back reads Google with GAQL, comparing only the fields Google has.
    assert isinstance(poller, GooglePlatformPoller)
    snapshot = await poller.fetch_all(context)
    assert snapshot.campaigns == {} and snapshot.fields == GOOGLE_FIELDS
