"""Reddit ad accounts (seed 002 "OAuth for Reddit", reddit-ads-api.md §1): connect one with
OAuth2 + PKCE, keep its tokens encrypted (AES-256-GCM, `crypto.TokenCipher`) and fresh, and
hand the API and the activities what they need to call the Ads API for it.

    start = await service.start_connect(tenant_id)        # send the user to start.authorize_url
    account = await service.complete_connect(state, code)  # the OAuth callback
    async with service.ads_client(tenant_id, account.id) as reddit:
        await reddit.list_campaigns(account.platform_account_id)

This is the only code that decrypts Reddit tokens; nothing it returns, logs or raises shows
one. It owns its transactions, each in the tenant's row-level-security scope, because a
consumed `state` and a rotated refresh token must stay committed whatever happens next.

Refresh: the access token is renewed when it expires within 60 s or the API answered 401.
Refreshes of one account, in any process, queue on its row (`SELECT … FOR UPDATE`); whoever
comes second re-reads the row and takes the first one's token, so Reddit sees one refresh (it
rotates refresh tokens: a second refresh with the old one would be refused). A refused refresh
token marks the account `reauth_required` and raises `ReauthRequired`, which nothing retries.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.accounts import AccountNotFound, ConnectError, ReauthRequired
from flightdeck.accounts.reads import forget, kept_ad_account
from flightdeck.crypto import DecryptionError, TokenCipher
from flightdeck.db.models import AdAccount, OAuthState
from flightdeck.db.repositories.ad_accounts import AdAccountRepository, OAuthStateRepository
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.campaign_sets import Platform
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.errors import AuthExpiredError, NonRetryableError, RefreshTokenInvalid
from flightdeck.platforms.reddit import RedditAdsClient, TokenProvider, shared_http_client
from flightdeck.platforms.reddit_oauth import (
    DEFAULT_SCOPES,
    RedditOAuthClient,
    TokenSet,
    code_challenge,
    new_code_verifier,
)
from flightdeck.settings import Settings

PLATFORM: Platform = "reddit"
STATE_TTL = timedelta(minutes=10)
REFRESH_MARGIN = timedelta(seconds=60)  # [CAM] refreshes 60 s before expiry
ENTITY_TYPE = "ad_account"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthorizeRequest:
    """Where to send the user, and the `state` that will come back with the code."""

    authorize_url: str
    state: str
    expires_at: datetime


@dataclass(frozen=True)
class DiscoveredAccount:
    """What the freshly authorized Reddit user gives Flightdeck access to."""

    platform_account_id: str
    name: str | None
    username: str | None
    funding_instrument_id: str | None
    profile_id: str | None


class RedditAccountService:
    """Connects Reddit ad accounts and hands out fresh access tokens for them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        oauth: RedditOAuthClient,
        cipher: TokenCipher,
        settings: Settings,
        *,
        ads_transport: httpx.AsyncBaseTransport | None = None,
        scopes: Sequence[str] = DEFAULT_SCOPES,
    ) -> None:
        self._sessions = sessions
        self._oauth = oauth
        self._cipher = cipher
        self._settings = settings
        self._ads_transport = ads_transport
        self._scopes = tuple(scopes)
        # One connection pool for every account's Ads API calls; each client made from it
        # carries only its account's token provider.
        self._http: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def __repr__(self) -> str:
        return f"RedditAccountService(client_id={self._settings.reddit_client_id!r})"

    # -- connecting --

    async def start_connect(self, tenant_id: uuid.UUID) -> AuthorizeRequest:
        """Remember a new `state` with its (encrypted) PKCE verifier for 10 minutes."""
        state, verifier = secrets.token_urlsafe(32), new_code_verifier()
        expires_at = datetime.now(UTC) + STATE_TTL
        redirect_uri = self._settings.reddit_redirect_uri
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            await OAuthStateRepository(session).create(
                tenant_id,
                platform=PLATFORM,
                state=state,
                code_verifier_encrypted=self._cipher.encrypt(verifier, _verifier_context(state)),
                redirect_uri=redirect_uri,
                expires_at=expires_at,
            )
        url = self._oauth.authorize_url(state, code_challenge(verifier), redirect_uri, self._scopes)
        return AuthorizeRequest(url, state, expires_at)

    async def complete_connect(self, state: str, code: str) -> AdAccount:
        """Redeem the code of the callback that `state` names (once), find the user's ad
        account and its defaults, and store the account with its tokens encrypted."""
        handshake = await self._consume(state)
        verifier = self._decrypt(handshake.code_verifier_encrypted, _verifier_context(state))
        try:
            tokens = await self._oauth.exchange_code(code, verifier, handshake.redirect_uri)
        except AuthExpiredError as exc:
            raise ConnectError(
                "invalid_grant", "Reddit refused the authorization code; connect again"
            ) from exc
        if tokens.refresh_token is None:
            raise ConnectError("no_refresh_token", "Reddit granted no refresh token")
        found = await self._discover(tokens)
        return await self._store_connection(handshake.tenant_id, tokens, found)

    async def cancel_connect(self, state: str) -> None:
        """The user declined: burn the `state` so the handshake cannot be completed later."""
        async with system_session(self._sessions, "api.oauth_callback") as session, session.begin():
            await OAuthStateRepository(session).consume(state)

    async def disconnect(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AdAccount:
        """Wipe the account's tokens; it stays listed as `disconnected` until reconnected."""
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            account = await AdAccountRepository(session).disconnect(tenant_id, account_id)
            if account is None:
                raise AccountNotFound(account_id)
            await self._audit(session, account, "api", "ad_account.disconnected")
        logger.info("Reddit ad account %s disconnected", account.platform_account_id)
        return account

    # -- using a connected account --

    def token_provider(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> RedditTokenProvider:
        return RedditTokenProvider(self, tenant_id, account_id)

    def ads_client(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> RedditAdsClient:
        """An Ads API client acting for the account; the caller closes it (`async with`)."""
        return self._ads_client(self.token_provider(tenant_id, account_id))

    async def account_context(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AccountContext:
        """The account's Reddit id and defaults, for the campaign-set adapter (no secrets)."""
        account = await self._load(tenant_id, account_id)
        _ensure_usable(account)
        assert account.platform_account_id is not None  # set by every completed connect
        return AccountContext(
            account_id=account.platform_account_id,
            funding_instrument_id=account.funding_instrument_id,
            profile_id=account.profile_id,
        )

    async def access_token(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID, *, refused: str | None = None
    ) -> str:
        """A usable access token. `refused` is the one the API just answered 401 to: it gets
        replaced, by a refresh unless another caller has already replaced it."""
        if refused is None:
            token = self._fresh_token(await self._load(tenant_id, account_id))
            if token is not None:
                return token
        return await self._renew(tenant_id, account_id, refused)

    # -- internals: connect --

    async def _consume(self, state: str) -> OAuthState:
        # System scope: the callback carries no API key; the state itself names the tenant.
        async with system_session(self._sessions, "api.oauth_callback") as session, session.begin():
            handshake = await OAuthStateRepository(session).consume(state)
        if handshake is None or handshake.platform != PLATFORM:
            raise ConnectError(
                "invalid_state",
                "unknown, expired or already used state; start the connection again",
            )
        return handshake

    async def _discover(self, tokens: TokenSet) -> DiscoveredAccount:
        async def fresh_token(*, force_refresh: bool = False) -> str:
            return tokens.access_token  # seconds old: a 401 now is not cured by a refresh

        async with self._ads_client(fresh_token) as reddit:
            me = await reddit.get_me()
            account = await _first_ad_account(reddit, me.get("reddit_username"))
            account_id = str(account["id"])
            instruments = await reddit.list_funding_instruments(account_id, mode="ACTIVE")
            profiles = await reddit.list_profiles(account_id)
        return DiscoveredAccount(
            platform_account_id=account_id,
            name=account.get("name"),
            username=me.get("reddit_username"),
            funding_instrument_id=next(
                (str(fi["id"]) for fi in instruments if fi.get("is_servable")), None
            ),
            profile_id=next((str(p["id"]) for p in profiles), None),
        )

    async def _store_connection(
        self, tenant_id: uuid.UUID, tokens: TokenSet, found: DiscoveredAccount
    ) -> AdAccount:
        """Insert or update the tenant's row for the account; re-connecting makes it active."""
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            accounts = AdAccountRepository(session)
            account = await accounts.get_by_platform_account(
                tenant_id, PLATFORM, found.platform_account_id
            )
            action = "ad_account.reconnected" if account else "ad_account.connected"
            if account is None:
                account = await accounts.create(
                    tenant_id, platform=PLATFORM, platform_account_id=found.platform_account_id
                )
            await self._save_tokens(accounts, account, tokens, rotated=True)
            await accounts.update_details(
                tenant_id,
                account.id,
                name=found.name,
                username=found.username,
                funding_instrument_id=found.funding_instrument_id,
                profile_id=found.profile_id,
            )
            account = _found(await accounts.mark_connected(tenant_id, account.id), account.id)
            await self._audit(session, account, "api", action, scopes=account.scopes)
        logger.info(
            "Reddit ad account %s connected (funding instrument %s, profile %s)",
            found.platform_account_id,
            found.funding_instrument_id,
            found.profile_id,
        )
        return account

    # -- internals: tokens --

    async def _renew(self, tenant_id: uuid.UUID, account_id: uuid.UUID, refused: str | None) -> str:
        forget()  # the row kept for this push carries the token being replaced
        dead: RefreshTokenInvalid | None = None
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            account = await _locked(session, tenant_id, account_id)
            current = self._fresh_token(account)
            if current is not None and current != refused:
                return current  # renewed by another caller while we waited for the lock
            assert account.refresh_token_encrypted is not None  # _ensure_usable checked it
            old_refresh = self._decrypt(
                account.refresh_token_encrypted, _context(account, "refresh")
            )
            try:
                tokens = await self._oauth.refresh(old_refresh)
            except RefreshTokenInvalid as exc:
                dead = exc
                await self._mark_reauth_required(session, account, exc)
            else:
                rotated = tokens.refresh_token not in (None, old_refresh)
                await self._save_tokens(AdAccountRepository(session), account, tokens, rotated)
                logger.info(
                    "refreshed the Reddit token of ad account %s (refresh token rotated: %s)",
                    account.platform_account_id,
                    rotated,
                )
                return tokens.access_token
        # Committed above: the account stays `reauth_required`, and no caller refreshes again.
        raise ReauthRequired(
            PLATFORM, _label(account), "Reddit refused its refresh token"
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

    async def _mark_reauth_required(
        self, session: AsyncSession, account: AdAccount, error: RefreshTokenInvalid
    ) -> None:
        await AdAccountRepository(session).set_status(
            account.tenant_id, account.id, "reauth_required"
        )
        await self._audit(
            session, account, "token-refresh", "ad_account.reauth_required", reason=error.message
        )
        logger.warning(
            "Reddit refused the refresh token of ad account %s: marked reauth_required",
            account.platform_account_id,
        )

    def _fresh_token(self, account: AdAccount) -> str | None:
        """The stored access token unless it expires within the margin."""
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

    def _ads_client(self, tokens: TokenProvider) -> RedditAdsClient:
        if self._http is None:
            self._http = shared_http_client(
                self._settings.reddit_user_agent,
                timeout=self._settings.http_timeout_seconds,
                transport=self._ads_transport,
            )
        return RedditAdsClient(
            self._settings.reddit_ads_base_url,
            token_provider=tokens,
            user_agent=self._settings.reddit_user_agent,
            http=self._http,
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
                "fundingInstrumentId": account.funding_instrument_id,
                "profileId": account.profile_id,
                **details,
            },
        )


class RedditTokenProvider:
    """`RedditAdsClient`'s token source for one account: the stored token while it is fresh,
    a renewed one when it expires or when the API refused the token this provider gave out."""

    def __init__(
        self, service: RedditAccountService, tenant_id: uuid.UUID, account_id: uuid.UUID
    ) -> None:
        self._service = service
        self._tenant_id = tenant_id
        self._account_id = account_id
        self._given: str | None = None

    def __repr__(self) -> str:
        return f"RedditTokenProvider(ad_account={self._account_id})"

    async def __call__(self, *, force_refresh: bool = False) -> str:
        refused = self._given if force_refresh else None
        self._given = await self._service.access_token(
            self._tenant_id, self._account_id, refused=refused
        )
        return self._given


@contextlib.asynccontextmanager
async def reddit_account_service(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[RedditAccountService]:
    """A service with its own OAuth client (closed on exit), configured from settings."""
    async with RedditOAuthClient(
        settings.reddit_oauth_base_url,
        settings.reddit_client_id,
        settings.reddit_client_secret.get_secret_value(),
        transport=transport,
        timeout=settings.http_timeout_seconds,
        user_agent=settings.reddit_user_agent,
    ) as oauth:
        cipher = TokenCipher.from_settings(settings)
        service = RedditAccountService(sessions, oauth, cipher, settings, ads_transport=transport)
        try:
            yield service
        finally:
            await service.aclose()


async def _first_ad_account(reddit: RedditAdsClient, username: Any) -> dict[str, Any]:
    """The first ad account of the user's businesses (Reddit lists accounts per business)."""
    for business in await reddit.list_businesses():
        accounts = await reddit.list_ad_accounts(str(business["id"]))
        if accounts:
            if len(accounts) > 1:
                logger.info("Reddit user has %d ad accounts; connecting the first", len(accounts))
            return accounts[0]
    raise ConnectError("no_ad_account", f"the Reddit user {username} has no ad account")


async def _locked(session: AsyncSession, tenant_id: uuid.UUID, account_id: uuid.UUID) -> AdAccount:
    """The account row, locked until the transaction ends and re-read from the database (so a
    caller that waited sees what the one before it committed)."""
    account = await session.get(AdAccount, account_id, with_for_update=True, populate_existing=True)
    if account is None or account.tenant_id != tenant_id or account.platform != PLATFORM:
        raise AccountNotFound(account_id)
    return account


def _ensure_usable(account: AdAccount) -> None:
    if account.status == "disconnected" or account.refresh_token_encrypted is None:
        raise ReauthRequired(PLATFORM, _label(account), "it was disconnected")
    if account.status == "reauth_required":
        raise ReauthRequired(PLATFORM, _label(account), "Reddit refused its refresh token")


def _found(account: AdAccount | None, account_id: uuid.UUID) -> AdAccount:
    if account is None:
        raise AccountNotFound(account_id)
    return account


def _label(account: AdAccount) -> str:
    return account.platform_account_id or str(account.id)


def _context(account: AdAccount, purpose: str) -> str:
    """Associated data binding a token ciphertext to its row and column."""
    return f"ad_account:{account.id}:{purpose}"


def _verifier_context(state: str) -> str:
    return f"oauth_state:{state}:code_verifier"
