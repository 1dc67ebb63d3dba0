"""Google Ads accounts (issue 14, google-ads-api.md §1): connect one with OAuth 2.0
(authorization code + PKCE, scope `adwords`, offline access for a refresh token), keep its
tokens encrypted (AES-256-GCM, `crypto.TokenCipher`) and fresh, and hand out API clients that
act for it — through its manager account (`login-customer-id`) when that is how the user
reaches it.

    start = await service.start_connect(tenant_id)        # send the user to start.authorize_url
    account = await service.complete_connect(state, code)  # the OAuth callback
    async with service.ads_client(tenant_id, account.id) as google:
        await google.search(account.platform_account_id, "SELECT campaign.id FROM campaign")

Which account: the callback asks `customers:listAccessibleCustomers` for the customers the
user was granted directly; a client account among them is connected as is, otherwise the
first client (level 1, not a manager) of a manager is connected with that manager as its
`login_customer_id`.

Refresh: like Reddit's (accounts/reddit.py), the access token is renewed when it expires
within 60 s or the API answered 401, one refresh at a time per account (row lock), and a
refused refresh token marks the account `reauth_required` and raises `ReauthRequired`.
Google does not rotate refresh tokens: the stored one stays.

This is the only code that decrypts Google tokens; nothing it returns, logs or raises shows one.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.accounts import AccountNotFound, ConnectError, ReauthRequired
from flightdeck.accounts.reads import forget, kept_ad_account
from flightdeck.crypto import DecryptionError, TokenCipher
from flightdeck.db.models import AdAccount, OAuthState
from flightdeck.db.models.ad_accounts import AccountPlatform
from flightdeck.db.repositories.ad_accounts import AdAccountRepository, OAuthStateRepository
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.observability.http import instrumented
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.errors import AuthExpiredError, NonRetryableError, RefreshTokenInvalid
from flightdeck.platforms.google_ads import (
    ADWORDS_SCOPE,
    GoogleAdsClient,
    GoogleOAuthClient,
    TokenProvider,
    TokenSet,
)
from flightdeck.platforms.reddit_oauth import code_challenge, new_code_verifier
from flightdeck.settings import Settings

PLATFORM: AccountPlatform = "google"
STATE_TTL = timedelta(minutes=10)
REFRESH_MARGIN = timedelta(seconds=60)
ENTITY_TYPE = "ad_account"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthorizeRequest:
    authorize_url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class DiscoveredCustomer:
    """The Google Ads client account to connect, and the manager it is reached through."""

    customer_id: str
    name: str | None
    currency_code: str | None
    login_customer_id: str | None


class GoogleAccountService:
    """Connects Google Ads accounts and hands out fresh access tokens and API clients."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        oauth: GoogleOAuthClient,
        cipher: TokenCipher,
        settings: Settings,
        *,
        ads_http: httpx.AsyncClient,
    ) -> None:
        self._sessions = sessions
        self._oauth = oauth
        self._cipher = cipher
        self._settings = settings
        self._ads_http = ads_http  # shared by every account's client; auth goes per request

    def __repr__(self) -> str:
        return f"GoogleAccountService(client_id={self._settings.google_client_id!r})"

    # -- connecting --

    async def start_connect(self, tenant_id: uuid.UUID) -> AuthorizeRequest:
        state, verifier = secrets.token_urlsafe(32), new_code_verifier()
        expires_at = datetime.now(UTC) + STATE_TTL
        redirect_uri = self._settings.google_redirect_uri
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            await OAuthStateRepository(session).create(
                tenant_id,
                platform=PLATFORM,
                state=state,
                code_verifier_encrypted=self._cipher.encrypt(verifier, _verifier_context(state)),
                redirect_uri=redirect_uri,
                expires_at=expires_at,
            )
        url = self._oauth.authorize_url(state, code_challenge(verifier), redirect_uri)
        return AuthorizeRequest(url, state, expires_at)

    async def complete_connect(self, state: str, code: str) -> AdAccount:
        handshake = await self._consume(state)
        verifier = self._decrypt(handshake.code_verifier_encrypted, _verifier_context(state))
        try:
            tokens = await self._oauth.exchange_code(code, verifier, handshake.redirect_uri)
        except AuthExpiredError as exc:
            raise ConnectError(
                "invalid_grant", "Google refused the authorization code; connect again"
            ) from exc
        if tokens.refresh_token is None:
            raise ConnectError(
                "no_refresh_token", "Google granted no refresh token (offline access refused)"
            )
        if ADWORDS_SCOPE not in tokens.scopes:
            raise ConnectError("missing_scope", "the user did not grant the adwords scope")
        found = await self._discover(tokens)
        return await self._store_connection(handshake.tenant_id, tokens, found)

    async def cancel_connect(self, state: str) -> None:
        async with system_session(self._sessions, "api.oauth_callback") as session, session.begin():
            await OAuthStateRepository(session).consume(state)

    # -- using a connected account --

    def token_provider(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> GoogleTokenProvider:
        return GoogleTokenProvider(self, tenant_id, account_id)

    def ads_client(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> GoogleAdsClient:
        """A client acting for the account (through its manager when it has one: read with the
        account on its first request), on the service's shared HTTP client; closing it leaves
        the shared client open (`registry.PlatformAccounts`)."""

        async def login() -> str | None:
            account = await self._load(tenant_id, account_id)
            _ensure_usable(account)
            return account.login_customer_id

        return self._client(self.token_provider(tenant_id, account_id), None, login)

    async def account_context(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AccountContext:
        account = await self._load(tenant_id, account_id)
        _ensure_usable(account)
        assert account.platform_account_id is not None
        return AccountContext(account_id=account.platform_account_id)

    async def access_token(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID, *, refused: str | None = None
    ) -> str:
        if refused is None:
            token = self._fresh_token(await self._load(tenant_id, account_id))
            if token is not None:
                return token
        return await self._renew(tenant_id, account_id, refused)

    # -- internals: connect --

    async def _consume(self, state: str) -> OAuthState:
        async with system_session(self._sessions, "api.oauth_callback") as session, session.begin():
            handshake = await OAuthStateRepository(session).consume(state)
        if handshake is None or handshake.platform != PLATFORM:
            raise ConnectError(
                "invalid_state",
                "unknown, expired or already used state; start the connection again",
            )
        return handshake

    async def _discover(self, tokens: TokenSet) -> DiscoveredCustomer:
        async def fresh(*, force_refresh: bool = False) -> str:
            return tokens.access_token

        direct = await self._client(fresh, None).list_accessible_customers()
        managers: list[str] = []
        for customer_id in direct:
            rows = await self._client(fresh, None).search(customer_id, CUSTOMER_QUERY)
            customer = rows[0].get("customer", {}) if rows else {}
            if customer.get("manager"):
                managers.append(customer_id)
            elif customer:
                return DiscoveredCustomer(customer_id, customer.get("descriptiveName"),
                                          customer.get("currencyCode"), None)  # fmt: skip
        for manager in managers:
            rows = await self._client(fresh, manager).search(manager, CLIENTS_QUERY)
            for row in rows:
                client = row.get("customerClient", {})
                if client.get("id"):
                    if len(rows) > 1:
                        logger.info("manager %s has %d clients; connecting the first",
                                    manager, len(rows))  # fmt: skip
                    return DiscoveredCustomer(str(client["id"]), client.get("descriptiveName"),
                                              client.get("currencyCode"), manager)  # fmt: skip
        raise ConnectError("no_ad_account", "the Google user reaches no Google Ads client account")

    async def _store_connection(
        self, tenant_id: uuid.UUID, tokens: TokenSet, found: DiscoveredCustomer
    ) -> AdAccount:
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            accounts = AdAccountRepository(session)
            account = await accounts.get_by_platform_account(tenant_id, PLATFORM, found.customer_id)
            action = "ad_account.reconnected" if account else "ad_account.connected"
            if account is None:
                account = await accounts.create(
                    tenant_id, platform=PLATFORM, platform_account_id=found.customer_id
                )
            await self._save_tokens(accounts, account, tokens, rotated=True)
            await accounts.update_details(tenant_id, account.id, name=found.name)
            await session.execute(  # None clears it: a direct grant replaces a manager's
                update(AdAccount)
                .where(AdAccount.id == account.id, AdAccount.tenant_id == tenant_id)
                .values(login_customer_id=found.login_customer_id)
            )
            account = await accounts.mark_connected(tenant_id, account.id)
            if account is None:
                raise AccountNotFound(found.customer_id)
            await self._audit(session, account, "api", action, scopes=account.scopes,
                              currencyCode=found.currency_code)  # fmt: skip
        logger.info("Google Ads customer %s connected (through manager %s)",
                    found.customer_id, found.login_customer_id)  # fmt: skip
        return account

    # -- internals: tokens --

    async def _renew(self, tenant_id: uuid.UUID, account_id: uuid.UUID, refused: str | None) -> str:
        forget()  # the row kept for this push carries the token being replaced
        dead: RefreshTokenInvalid | None = None
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            account = await _locked(session, tenant_id, account_id)
            current = self._fresh_token(account)
            if current is not None and current != refused:
                return current
            assert account.refresh_token_encrypted is not None
            old_refresh = self._decrypt(
                account.refresh_token_encrypted, _context(account, "refresh")
            )
            try:
                tokens = await self._oauth.refresh(old_refresh)
            except RefreshTokenInvalid as exc:
                dead = exc
                await AdAccountRepository(session).set_status(
                    account.tenant_id, account.id, "reauth_required"
                )
                await self._audit(session, account, "token-refresh",
                                  "ad_account.reauth_required", reason=exc.message)  # fmt: skip
                logger.warning("Google refused the refresh token of customer %s: "
                               "marked reauth_required", account.platform_account_id)  # fmt: skip
            else:
                rotated = tokens.refresh_token not in (None, old_refresh)
                await self._save_tokens(AdAccountRepository(session), account, tokens, rotated)
                logger.info("refreshed the Google token of customer %s",
                            account.platform_account_id)  # fmt: skip
                return tokens.access_token
        raise ReauthRequired(
            PLATFORM, _label(account), "Google refused its refresh token"
        ) from dead

    async def _save_tokens(
        self, accounts: AdAccountRepository, account: AdAccount, tokens: TokenSet, rotated: bool
    ) -> None:
        refresh = tokens.refresh_token if rotated else None
        await accounts.update_tokens(
            account.tenant_id,
            account.id,
            access_token_encrypted=self._cipher.encrypt(
                tokens.access_token, _context(account, "access")
            ),
            token_expires_at=tokens.expires_at,
            refresh_token_encrypted=(
                self._cipher.encrypt(refresh, _context(account, "refresh")) if refresh else None
            ),
            scopes=" ".join(sorted(tokens.scopes)) or None,
        )

    def _fresh_token(self, account: AdAccount) -> str | None:
        _ensure_usable(account)
        expires_at = account.token_expires_at
        if account.access_token_encrypted is None or expires_at is None:
            return None
        if expires_at - REFRESH_MARGIN <= datetime.now(UTC):
            return None
        return self._decrypt(account.access_token_encrypted, _context(account, "access"))

    def _decrypt(self, blob: bytes, context: str) -> str:
        try:
            return self._cipher.decrypt(blob, context)
        except DecryptionError as exc:
            raise NonRetryableError(
                f"cannot decrypt the stored {context}: was FLIGHTDECK_ENCRYPTION_KEY changed? "
                "Restore the key or connect the account again",
                platform=PLATFORM,
            ) from exc

    async def _load(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AdAccount:
        account = await kept_ad_account(self._sessions, tenant_id, account_id)
        if account is None or account.platform != PLATFORM:
            raise AccountNotFound(account_id)
        return account

    def _client(
        self,
        tokens: TokenProvider,
        login_customer_id: str | None,
        login: Callable[[], Awaitable[str | None]] | None = None,
    ) -> GoogleAdsClient:
        developer_token = self._settings.google_developer_token
        return GoogleAdsClient(
            self._settings.google_ads_base_url,
            token_provider=tokens,
            login_customer_id=login_customer_id,
            login_provider=login,
            developer_token=developer_token.get_secret_value() if developer_token else None,
            version=self._settings.google_ads_api_version,
            http=self._ads_http,
        )

    @staticmethod
    async def _audit(
        session: AsyncSession, account: AdAccount, actor: str, action: str, **details: Any
    ) -> None:
        await AuditLogRepository(session).add(
            tenant_id=account.tenant_id,
            actor=actor,
            action=action,
            entity_type=ENTITY_TYPE,
            entity_id=str(account.id),
            details={
                "platform": account.platform,
                "platformAccountId": account.platform_account_id,
                "loginCustomerId": account.login_customer_id,
                **details,
            },
        )


CUSTOMER_QUERY = (
    "SELECT customer.id, customer.descriptive_name, customer.manager, customer.currency_code "
    "FROM customer"
)
CLIENTS_QUERY = (
    "SELECT customer_client.id, customer_client.descriptive_name, customer_client.currency_code, "
    "customer_client.manager, customer_client.level FROM customer_client "
    "WHERE customer_client.level = 1 AND customer_client.manager = FALSE "
    "AND customer_client.status = 'ENABLED' ORDER BY customer_client.id"
)


class GoogleTokenProvider:
    """`GoogleAdsClient`'s token source for one account (see `RedditTokenProvider`)."""

    def __init__(
        self, service: GoogleAccountService, tenant_id: uuid.UUID, account_id: uuid.UUID
    ) -> None:
        self._service = service
        self._tenant_id = tenant_id
        self._account_id = account_id
        self._given: str | None = None

    def __repr__(self) -> str:
        return f"GoogleTokenProvider(ad_account={self._account_id})"

    async def __call__(self, *, force_refresh: bool = False) -> str:
        refused = self._given if force_refresh else None
        self._given = await self._service.access_token(
            self._tenant_id, self._account_id, refused=refused
        )
        return self._given


@contextlib.asynccontextmanager
async def google_account_service(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[GoogleAccountService]:
    """A service with its own OAuth client and shared Ads API HTTP client (closed on exit)."""
    async with (
        GoogleOAuthClient(
            settings.google_oauth_authorize_url,
            settings.google_oauth_token_url,
            settings.google_client_id,
            settings.google_client_secret.get_secret_value(),
            transport=transport,
            timeout=settings.http_timeout_seconds,
        ) as oauth,
        httpx.AsyncClient(
            headers={"Accept": "application/json"},
            timeout=settings.http_timeout_seconds,
            transport=instrumented("google-ads", transport),
        ) as ads_http,
    ):
        cipher = TokenCipher.from_settings(settings)
        yield GoogleAccountService(sessions, oauth, cipher, settings, ads_http=ads_http)


async def _locked(session: AsyncSession, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AdAccount:
    account = await session.get(AdAccount, account_id, with_for_update=True, populate_existing=True)
    if account is None or account.tenant_id != tenant_id or account.platform != PLATFORM:
        raise AccountNotFound(account_id)
    return account


def _ensure_usable(account: AdAccount) -> None:
    if account.status == "disconnected" or account.refresh_token_encrypted is None:
        raise ReauthRequired(PLATFORM, _label(account), "it was disconnected")
    if account.status == "reauth_required":
        raise ReauthRequired(PLATFORM, _label(account), "Google refused its refresh token")


def _label(account: AdAccount) -> str:
    return account.platform_account_id or str(account.id)


def _context(account: AdAccount, purpose: str) -> str:
    return f"ad_account:{account.id}:{purpose}"


def _verifier_context(state: str) -> str:
    return f"oauth_state:{state}:code_verifier"
