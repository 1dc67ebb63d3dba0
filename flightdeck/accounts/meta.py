"""Meta connections (seed 001 `campaign_meta_connections`; metrics-and-review.md §3): Facebook
Login, the short- to long-lived token exchange, `debug_token`, discovering what the user can
advertise with, the user's selection, and handing a valid token to the activities.

    start = await service.start_connect(tenant_id)         # send the user to start.authorize_url
    connection = await service.complete_connect(state, code)   # the callback
    connection = await service.select(tenant_id, connection.id, Selection(...))
    token = await service.user_token(tenant_id, connection.id)  # activities; checks expiry

This is the only code that decrypts Meta tokens (AES-256-GCM, bound to row and column); nothing
it returns, logs or raises shows one. A connection's `connection_status` says whether it can
publish and, when not, `status_reason` says why (expired token, missing permission, disabled
account, no payment method).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.accounts import AccountNotFound, ConnectError
from flightdeck.accounts.reads import forget, kept_meta_connection
from flightdeck.crypto import DecryptionError, TokenCipher
from flightdeck.db.models import CampaignMetaConnection
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.meta import MetaConnectionRepository
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.meta_publish import ConnectionFacts
from flightdeck.domain.meta_rules import ACCOUNT_STATUSES, REQUESTED_SCOPES, REQUIRED_SCOPES
from flightdeck.platforms.errors import NonRetryableError, PlatformError
from flightdeck.platforms.meta import MetaGraphClient
from flightdeck.platforms.meta_errors import MetaReauthRequired
from flightdeck.settings import Settings

STATE_TTL = timedelta(minutes=10)
ENTITY_TYPE = "meta_connection"
AD_ACCOUNT_FIELDS = (
    "id,account_id,name,currency,timezone_name,account_status,disable_reason,"
    "funding_source_details,business"
)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuthorizeRequest:
    authorize_url: str
    state: str
    expires_at: datetime
    connection_id: uuid.UUID


@dataclass(frozen=True)
class Selection:
    ad_account_id: str
    page_id: str
    business_id: str | None = None
    instagram_user_id: str | None = None


class SelectionError(Exception):
    """A selection names something the connection cannot use; `field` says which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class MetaConnectionService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        graph: MetaGraphClient,
        cipher: TokenCipher,
        settings: Settings,
    ) -> None:
        self._sessions = sessions
        self._graph = graph
        self._cipher = cipher
        self._settings = settings

    def __repr__(self) -> str:
        return f"MetaConnectionService(app_id={self._settings.meta_app_id!r})"

    @property
    def graph(self) -> MetaGraphClient:
        return self._graph

    # -- connecting ------------------------------------------------------------------------

    async def start_connect(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID | None = None
    ) -> AuthorizeRequest:
        state = secrets.token_urlsafe(32)
        expires_at = datetime.now(UTC) + STATE_TTL
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            row = await MetaConnectionRepository(session).start(
                tenant_id, user_id=user_id, state=state, expires_at=expires_at
            )
        url = self._graph.dialog_url(
            self._settings.meta_dialog_base_url,
            self._settings.meta_redirect_uri,
            state,
            REQUESTED_SCOPES,
        )
        return AuthorizeRequest(url, state, expires_at, row.id)

    async def cancel_connect(self, state: str, reason: str) -> None:
        row = await self._consume(state)
        async with tenant_session(self._sessions, row.tenant_id) as session, session.begin():
            await MetaConnectionRepository(session).update(
                row.tenant_id, row.id, connection_status="declined", status_reason=reason
            )
            await _audit(session, row, "meta_connection.declined", reason=reason)

    async def complete_connect(self, state: str, code: str) -> CampaignMetaConnection:
        """Redeem the code (once), swap the short-lived token for a long-lived one, read its
        expiry and permissions, and list what the user can advertise with."""
        row = await self._consume(state)
        redirect = self._settings.meta_redirect_uri
        try:
            short = await self._graph.exchange_code(code, redirect)
            grant = await self._graph.exchange_long_lived(short.access_token)
            info = await self._graph.debug_token(grant.access_token)
            discovered = await self._discover(grant.access_token, set(info.get("scopes", [])))
        except MetaReauthRequired as exc:
            raise ConnectError("invalid_grant", "Meta refused the token; connect again") from exc
        except NonRetryableError as exc:
            if exc.code == 100:  # a used, expired or foreign authorization code
                raise ConnectError("invalid_grant", "Meta refused the authorization code") from exc
            raise
        return await self._store(row, grant.access_token, info, discovered)

    async def _consume(self, state: str) -> CampaignMetaConnection:
        # System scope: the callback carries no API key; the single-use state names the tenant.
        async with system_session(self._sessions, "api.oauth_callback") as session, session.begin():
            row = await MetaConnectionRepository(session).consume_state(state)
        if row is None:
            raise ConnectError(
                "invalid_state", "unknown, expired or already used state; connect again"
            )
        return row

    async def _discover(self, token: str, scopes: set[str]) -> dict[str, Any]:
        me = await self._graph.get("me", token, {"fields": "id,name"})
        businesses: list[dict[str, Any]] = []
        if "business_management" in scopes:
            businesses = await self._graph.get_all("me/businesses", token, {"fields": "id,name"})
        accounts: list[dict[str, Any]] = []
        if scopes & {"ads_management", "ads_read"}:
            accounts = await self._graph.get_all(
                "me/adaccounts", token, {"fields": AD_ACCOUNT_FIELDS}
            )
        pages: list[dict[str, Any]] = []
        if "pages_show_list" in scopes:
            pages = await self._graph.get_all(
                "me/accounts", token, {"fields": "id,name,tasks,instagram_business_account"}
            )
        instagram = []
        for page in pages:
            linked = page.get("instagram_business_account")
            if isinstance(linked, dict) and "instagram_basic" in scopes:
                ig = await self._graph.get(str(linked["id"]), token, {"fields": "id,username"})
                instagram.append(
                    {"id": ig["id"], "username": ig.get("username"), "pageId": page["id"]}
                )
        return {
            "user": {"id": me.get("id"), "name": me.get("name")},
            "businesses": [{"id": b["id"], "name": b.get("name")} for b in businesses],
            "adAccounts": [_account_summary(a) for a in accounts],
            "pages": [
                {"id": p["id"], "name": p.get("name"), "tasks": p.get("tasks", [])} for p in pages
            ],
            "instagramAccounts": instagram,
        }

    async def _store(
        self,
        row: CampaignMetaConnection,
        token: str,
        info: dict[str, Any],
        discovered: dict[str, Any],
    ) -> CampaignMetaConnection:
        scopes = sorted(str(s) for s in info.get("scopes", []))
        declined = sorted(set(REQUESTED_SCOPES) - set(scopes))
        missing = [s for s in REQUIRED_SCOPES if s not in scopes]
        status, reason = (
            ("missing_scopes", f"permissions not granted: {', '.join(missing)}")
            if missing
            else ("pending_selection", "choose the ad account and Page to publish with")
        )
        async with tenant_session(self._sessions, row.tenant_id) as session, session.begin():
            updated = await MetaConnectionRepository(session).update(
                row.tenant_id,
                row.id,
                fb_user_id=str(info.get("user_id") or discovered["user"]["id"]),
                fb_user_name=discovered["user"].get("name"),
                long_lived_user_token_encrypted=self._cipher.encrypt(token, _context(row, "user")),
                token_expires_at=_timestamp(info.get("expires_at")),
                data_access_expires_at=_timestamp(info.get("data_access_expires_at")),
                scopes=" ".join(scopes),
                declined_scopes=" ".join(declined) or None,
                user_app_connected=True,
                connection_status=status,
                status_reason=reason,
                discovered=discovered,
                connected_at=datetime.now(UTC),
            )
            assert updated is not None
            await _audit(
                session, updated, "meta_connection.connected", scopes=scopes, declined=declined
            )
        logger.info("Meta connection %s made (%s)", row.id, status)
        return updated

    # -- choosing what to publish with -----------------------------------------------------

    async def select(
        self,
        tenant_id: uuid.UUID,
        connection_id: uuid.UUID,
        selection: Selection,
        *,
        actor: str | None = None,
    ) -> CampaignMetaConnection:
        row = await self._load(tenant_id, connection_id)
        token = self._token(row)
        discovered = row.discovered or {}
        if selection.ad_account_id not in {a["id"] for a in discovered.get("adAccounts", [])}:
            raise SelectionError("adAccountId", "not an ad account of this connection")
        if selection.business_id is not None and selection.business_id not in {
            b["id"] for b in discovered.get("businesses", [])
        }:
            raise SelectionError("businessId", "not a business of this connection")
        try:
            account = await self._graph.get(
                selection.ad_account_id,
                token,
                {"fields": AD_ACCOUNT_FIELDS},
                account=selection.ad_account_id,
            )
            pages = await self._graph.get_all(
                "me/accounts", token, {"fields": "id,name,access_token,instagram_business_account"}
            )
        except MetaReauthRequired as exc:
            return await self._mark(row, "token_expired", f"{exc.message}; reconnect")
        page = next((p for p in pages if p["id"] == selection.page_id), None)
        if page is None:
            raise SelectionError("pageId", "not a Page this Meta user manages")
        linked = (page.get("instagram_business_account") or {}).get("id")
        if selection.instagram_user_id is not None and selection.instagram_user_id != linked:
            raise SelectionError("instagramUserId", "not the Instagram account of that Page")
        instagram = next(
            (
                i
                for i in discovered.get("instagramAccounts", [])
                if i["id"] == selection.instagram_user_id
            ),
            None,
        )
        business = next(
            (b for b in discovered.get("businesses", []) if b["id"] == selection.business_id), None
        )
        status, reason = account_status(row, account)
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            updated = await MetaConnectionRepository(session).update(
                tenant_id,
                connection_id,
                selected_business_id=selection.business_id,
                selected_business_name=business.get("name") if business else None,
                selected_page_id=page["id"],
                selected_page_name=page.get("name"),
                selected_page_access_token_encrypted=self._cipher.encrypt(
                    str(page["access_token"]), _context(row, "page")
                ),
                selected_ig_user_id=selection.instagram_user_id,
                selected_ig_username=instagram.get("username") if instagram else None,
                selected_ad_account_id=account["id"],
                selected_ad_account_name=account.get("name"),
                ad_account_currency_code=account.get("currency"),
                ad_account_status=account.get("account_status"),
                ad_account_payment_connected=bool(account.get("funding_source_details")),
                admin_connected="MANAGE" in (account.get("user_tasks") or ["MANAGE"]),
                connection_status=status,
                status_reason=reason,
            )
            assert updated is not None
            await _audit(
                session,
                updated,
                "meta_connection.selected",
                actor=actor,
                adAccountId=account["id"],
                pageId=page["id"],
                instagramUserId=selection.instagram_user_id,
                status=status,
            )
        return updated

    async def refresh(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID
    ) -> CampaignMetaConnection:
        """Ask Meta again: is the token valid, and is the ad account still usable?"""
        row = await self._load(tenant_id, connection_id)
        if row.long_lived_user_token_encrypted is None:
            return row
        token = self._cipher_decrypt(row.long_lived_user_token_encrypted, _context(row, "user"))
        info = await self._graph.debug_token(token)
        if not info.get("is_valid", False):
            return await self._mark(
                row, "token_expired", "Meta says the token is no longer valid; reconnect"
            )
        if row.selected_ad_account_id is None:
            return row
        try:
            account = await self._graph.get(
                row.selected_ad_account_id, token, {"fields": AD_ACCOUNT_FIELDS},
                account=row.selected_ad_account_id,
            )  # fmt: skip
        except MetaReauthRequired as exc:
            return await self._mark(row, "token_expired", f"{exc.message}; reconnect")
        status, reason = account_status(row, account)
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            updated = await MetaConnectionRepository(session).update(
                tenant_id,
                connection_id,
                ad_account_status=account.get("account_status"),
                ad_account_payment_connected=bool(account.get("funding_source_details")),
                ad_account_currency_code=account.get("currency"),
                connection_status=status,
                status_reason=reason,
            )
        assert updated is not None
        return updated

    async def disconnect(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, *, actor: str | None = None
    ) -> CampaignMetaConnection:
        row = await self._load(tenant_id, connection_id)
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            updated = await MetaConnectionRepository(session).update(
                tenant_id,
                connection_id,
                long_lived_user_token_encrypted=None,
                selected_page_access_token_encrypted=None,
                connection_status="disconnected",
                status_reason="disconnected by a user",
            )
            assert updated is not None
            await _audit(session, row, "meta_connection.disconnected", actor=actor)
        return updated

    # -- for the activities ----------------------------------------------------------------

    async def user_token(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, *, valid_for: timedelta = timedelta()
    ) -> str:
        """The connection's user token, if it stays valid `valid_for` longer; else
        `MetaReauthRequired` (which nothing retries) and the connection marked expired."""
        row = await self._load(tenant_id, connection_id)
        expires = row.token_expires_at
        if expires is not None and expires <= datetime.now(UTC) + valid_for:
            await self.mark_expired(tenant_id, connection_id, "the Meta token has expired")
            raise MetaReauthRequired(
                "the Meta token has expired; reconnect the Meta account", platform="meta"
            )
        return self._token(row)

    async def mark_expired(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, reason: str
    ) -> None:
        forget()
        async with tenant_session(self._sessions, tenant_id) as session, session.begin():
            await MetaConnectionRepository(session).update(
                tenant_id,
                connection_id,
                connection_status="token_expired",
                status_reason=f"{reason}; reconnect",
            )

    async def facts(self, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> ConnectionFacts:
        return connection_facts(await self._load(tenant_id, connection_id))

    # -- internals ---------------------------------------------------------------------------

    async def _load(self, tenant_id: uuid.UUID, connection_id: uuid.UUID) -> CampaignMetaConnection:
        row = await kept_meta_connection(self._sessions, tenant_id, connection_id)
        if row is None:
            raise AccountNotFound(connection_id)
        return row

    def _token(self, row: CampaignMetaConnection) -> str:
        if row.long_lived_user_token_encrypted is None or row.connection_status == "disconnected":
            raise MetaReauthRequired(
                "the Meta connection has no token; reconnect the Meta account", platform="meta"
            )
        return self._cipher_decrypt(row.long_lived_user_token_encrypted, _context(row, "user"))

    def _cipher_decrypt(self, blob: bytes, context: str) -> str:
        try:
            return self._cipher.decrypt(blob, context)
        except DecryptionError as exc:
            raise NonRetryableError(
                "cannot decrypt the stored Meta token: was FLIGHTDECK_ENCRYPTION_KEY changed? "
                "Restore the key or reconnect",
                platform="meta",
            ) from exc

    async def _mark(
        self, row: CampaignMetaConnection, status: str, reason: str
    ) -> CampaignMetaConnection:
        async with tenant_session(self._sessions, row.tenant_id) as session, session.begin():
            updated = await MetaConnectionRepository(session).update(
                row.tenant_id, row.id, connection_status=status, status_reason=reason
            )
        assert updated is not None
        return updated


def account_status(row: CampaignMetaConnection, account: dict[str, Any]) -> tuple[str, str | None]:
    """The connection's status once an ad account is chosen, and why it cannot publish."""
    missing = [s for s in REQUIRED_SCOPES if s not in (row.scopes or "").split()]
    if missing:
        return "missing_scopes", f"permissions not granted: {', '.join(missing)}"
    status = account.get("account_status")
    if status != 1:
        name = ACCOUNT_STATUSES.get(status or 0, f"status {status}")
        reason = f"ad account {account['id']} is {name}"
        if account.get("disable_reason"):
            reason += f" (disable_reason {account['disable_reason']})"
        return "account_disabled", reason
    if not account.get("funding_source_details"):
        return "no_payment_method", f"ad account {account['id']} has no payment method"
    return "connected", None


def connection_facts(row: CampaignMetaConnection) -> ConnectionFacts:
    return ConnectionFacts(
        connection_id=str(row.id),
        status=row.connection_status,
        status_reason=row.status_reason,
        token_expires_at=row.token_expires_at,
        scopes=frozenset((row.scopes or "").split()),
        ad_account_id=row.selected_ad_account_id,
        ad_account_status=row.ad_account_status,
        currency=row.ad_account_currency_code,
        payment_connected=row.ad_account_payment_connected,
        page_id=row.selected_page_id,
        instagram_user_id=row.selected_ig_user_id,
    )


@contextlib.asynccontextmanager
async def meta_connection_service(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, **graph_options: Any
) -> AsyncIterator[MetaConnectionService]:
    """A service with its own Graph client (closed on exit), configured from settings."""
    async with meta_graph_client(settings, **graph_options) as graph:
        yield MetaConnectionService(sessions, graph, TokenCipher.from_settings(settings), settings)


def meta_graph_client(settings: Settings, **options: Any) -> MetaGraphClient:
    return MetaGraphClient(
        settings.meta_graph_base_url,
        settings.meta_graph_version,
        settings.meta_app_id,
        settings.meta_app_secret.get_secret_value(),
        timeout=settings.http_timeout_seconds,
        **options,
    )


def _account_summary(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": account["id"],
        "name": account.get("name"),
        "currency": account.get("currency"),
        "accountStatus": account.get("account_status"),
        "disableReason": account.get("disable_reason"),
        "paymentConnected": bool(account.get("funding_source_details")),
        "businessId": (account.get("business") or {}).get("id"),
    }


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def _context(row: CampaignMetaConnection, purpose: str) -> str:
    """Associated data binding a token ciphertext to its row and column."""
    return f"campaign_meta_connection:{row.id}:{purpose}"


async def _audit(
    session: AsyncSession,
    row: CampaignMetaConnection,
    action: str,
    actor: str | None = None,
    **details: Any,
) -> None:
    """As the user who made the connection (the callback carries no API key)."""
    await AuditLogRepository(session).add(
        tenant_id=row.tenant_id,
        actor=actor or "meta-login",
        user_id=row.user_id,
        action=action,
        entity_type=ENTITY_TYPE,
        entity_id=str(row.id),
        details=details,
    )


__all__ = [
    "AuthorizeRequest",
    "MetaConnectionService",
    "PlatformError",
    "Selection",
    "SelectionError",
    "connection_facts",
    "meta_connection_service",
]
