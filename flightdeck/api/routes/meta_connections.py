"""`/api/v1/meta/connect`, `/callback`, `/connections`: connecting Meta accounts through Facebook
Login, choosing the business, Page, Instagram account and ad account to publish with, and
seeing why a connection cannot publish. No response ever carries a token."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from flightdeck.accounts import AccountNotFound, ConnectError
from flightdeck.accounts.meta import (
    MetaConnectionService,
    Selection,
    SelectionError,
    connection_facts,
    meta_connection_service,
)
from flightdeck.accounts.meta_sets import MetaSelectionMissing, MetaSetAccounts
from flightdeck.api.deps import PrincipalDep, SessionDep, SettingsDep, TenantDep
from flightdeck.api.errors import ApiError, ErrorBody, not_found
from flightdeck.api.meta_models import (
    AuthorizeOut,
    ConnectionOut,
    ConnectionPage,
    SelectionIn,
    connection_out,
)
from flightdeck.api.paging import PageDep
from flightdeck.api.publishing import parse_uuid
from flightdeck.api.routes.ad_accounts import AdAccountOut, ad_account_out
from flightdeck.db.models import CampaignMetaConnection
from flightdeck.db.repositories.meta import MetaConnectionRepository
from flightdeck.domain.meta_publish import connection_problems
from flightdeck.platforms.errors import PlatformError
from flightdeck.settings import Settings

router = APIRouter(prefix="/meta", tags=["meta connections"])

CALLBACK_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Declined, or an unknown/expired/used state"},
    502: {"model": ErrorBody, "description": "Meta failed while completing the connection"},
}


async def get_meta_connections(
    request: Request, settings: SettingsDep
) -> AsyncIterator[MetaConnectionService]:
    async with meta_connection_service(request.app.state.sessions, settings) as service:
        yield service


MetaConnectionsDep = Annotated[MetaConnectionService, Depends(get_meta_connections)]


def out(row: CampaignMetaConnection, settings: Settings) -> ConnectionOut:
    validity = timedelta(seconds=settings.meta_token_min_validity_seconds)
    problems = connection_problems(connection_facts(row), datetime.now(UTC), validity)
    return connection_out(row, problems)


@router.get("/connect", response_model=AuthorizeOut)
async def connect_meta(principal: PrincipalDep, connections: MetaConnectionsDep) -> AuthorizeOut:
    """Start connecting: send the user to `authorizeUrl` (Facebook Login, valid 10 minutes).
    A GET that creates the pending connection: it needs the editor role too."""
    principal.require("editor")
    start = await connections.start_connect(principal.tenant_id, principal.user_id)
    return AuthorizeOut(
        authorize_url=start.authorize_url,
        state=start.state,
        expires_at=start.expires_at,
        connection_id=str(start.connection_id),
    )


@router.get("/callback", response_model=ConnectionOut, responses=CALLBACK_RESPONSES)
async def meta_callback(
    connections: MetaConnectionsDep,
    settings: SettingsDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_reason: str | None = None,
) -> ConnectionOut:
    """Facebook redirects the user here. No API key: the single-use `state` names the tenant."""
    if not state:
        raise ApiError(400, "invalid_request", "the callback has no state")
    if error is not None:
        reason = error_reason if error_reason in ("user_denied",) else "oauth_error"
        try:
            await connections.cancel_connect(state, reason)
        except ConnectError as exc:
            raise ApiError(400, exc.error, exc.detail) from exc
        raise ApiError(400, "access_denied", f"Meta did not authorize the connection ({reason})")
    if not code:
        raise ApiError(400, "invalid_request", "the callback has no code")
    try:
        row = await connections.complete_connect(state, code)
    except ConnectError as exc:
        raise ApiError(400, exc.error, exc.detail) from exc
    except PlatformError as exc:
        raise ApiError(502, "meta_error", f"Meta failed while connecting ({exc}); retry") from exc
    return out(row, settings)


@router.get("/connections", response_model=ConnectionPage)
async def list_connections(
    tenant: TenantDep, session: SessionDep, settings: SettingsDep, page: PageDep
) -> ConnectionPage:
    rows = await MetaConnectionRepository(session).list(
        tenant.id, limit=page.limit, cursor=page.cursor
    )
    return ConnectionPage(
        items=[out(r, settings) for r in rows.items], next_cursor=rows.next_cursor
    )


@router.get("/connections/{connection_id}", response_model=ConnectionOut)
async def get_connection(
    connection_id: str,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    connections: MetaConnectionsDep,
    refresh: bool = False,
) -> ConnectionOut:
    """The connection and why it cannot publish, if it cannot; `refresh=true` asks Meta again
    (token validity, ad account status and payment method)."""
    parsed = _uuid_or_404(connection_id)
    if refresh:
        try:
            return out(await connections.refresh(tenant.id, parsed), settings)
        except AccountNotFound:
            raise not_found("Meta connection") from None
        except PlatformError as exc:
            raise ApiError(502, "meta_error", f"Meta failed: {exc}") from exc
    row = await MetaConnectionRepository(session).get(tenant.id, parsed)
    if row is None or row.connection_status == "authorizing":
        raise not_found("Meta connection")
    return out(row, settings)


@router.put("/connections/{connection_id}/selection", response_model=ConnectionOut)
async def select(
    connection_id: str,
    body: SelectionIn,
    principal: PrincipalDep,
    settings: SettingsDep,
    connections: MetaConnectionsDep,
) -> ConnectionOut:
    """Choose the ad account and Page (and optionally business and Instagram account)."""
    tenant = principal.tenant
    parsed = _uuid_or_404(connection_id)
    selection = Selection(
        ad_account_id=body.ad_account_id,
        page_id=body.page_id,
        business_id=body.business_id,
        instagram_user_id=body.instagram_user_id,
    )
    try:
        row = await connections.select(tenant.id, parsed, selection, actor=principal.actor)
    except AccountNotFound:
        raise not_found("Meta connection") from None
    except SelectionError as exc:
        raise ApiError(
            422, "validation_error", [{"field": exc.field, "message": str(exc)}]
        ) from exc
    except PlatformError as exc:
        if exc.platform == "meta" and "reconnect" in str(exc):
            raise ApiError(409, "reconnect_required", str(exc)) from exc
        raise ApiError(502, "meta_error", f"Meta failed: {exc}") from exc
    return out(row, settings)


@router.post("/connections/{connection_id}/ad-account", response_model=AdAccountOut)
async def set_ad_account(
    connection_id: str,
    principal: PrincipalDep,
    request: Request,
    connections: MetaConnectionsDep,
) -> AdAccountOut:
    """The connection's selected ad account (and Page) as an ad account campaign sets can
    target (`platform: "meta"`, its `id` is a set's `adAccountId`); the same account on a
    repeat. Issue 14: sets sync to Meta through this connection's token."""
    principal.require("editor")
    parsed = _uuid_or_404(connection_id)
    accounts = MetaSetAccounts(request.app.state.sessions, connections)
    try:
        row = await accounts.register(principal.tenant.id, parsed)
    except AccountNotFound:
        raise not_found("Meta connection") from None
    except MetaSelectionMissing as exc:
        raise ApiError(
            422, "validation_error", [{"field": exc.field, "message": str(exc)}]
        ) from exc
    return ad_account_out(row)


@router.delete("/connections/{connection_id}", response_model=ConnectionOut)
async def disconnect(
    connection_id: str,
    principal: PrincipalDep,
    settings: SettingsDep,
    connections: MetaConnectionsDep,
) -> ConnectionOut:
    try:
        row = await connections.disconnect(
            principal.tenant_id, _uuid_or_404(connection_id), actor=principal.actor
        )
    except AccountNotFound:
        raise not_found("Meta connection") from None
    return out(row, settings)


def _uuid_or_404(value: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        raise not_found("Meta connection")
    return parsed
