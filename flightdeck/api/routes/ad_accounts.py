"""`/api/v1/ad-accounts`: connect a Reddit ad account or a Google Ads account (OAuth2 with
PKCE), list, read and disconnect the tenant's accounts. No response ever carries a token."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from flightdeck.accounts import AccountNotFound, ConnectError
from flightdeck.accounts.google import GoogleAccountService, google_account_service
from flightdeck.accounts.reddit import RedditAccountService, reddit_account_service
from flightdeck.api.deps import SessionDep, SettingsDep, TenantDep
from flightdeck.api.errors import ApiError, ErrorBody, not_found
from flightdeck.api.paging import PageDep
from flightdeck.api.publishing import parse_uuid
from flightdeck.db.models import AdAccount
from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.domain.plans import CamelModel
from flightdeck.platforms.errors import PlatformError

router = APIRouter(prefix="/ad-accounts", tags=["ad accounts"])

# OAuth's `error` values (RFC 6749 §4.1.2.1) a callback may carry; anything else is reported
# as `oauth_error`, so the response never echoes arbitrary input as an error type.
OAUTH_ERRORS = frozenset(
    {
        "access_denied",
        "invalid_request",
        "unauthorized_client",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
    }
)
CALLBACK_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Consent declined, or an unknown/expired/used state"},
    502: {"model": ErrorBody, "description": "The platform failed while completing the connection"},
}


class AuthorizeOut(CamelModel):
    authorize_url: str
    state: str
    expires_at: datetime


class AdAccountOut(CamelModel):
    id: str
    platform: str
    platform_account_id: str | None
    name: str | None
    username: str | None
    status: str
    funding_instrument_id: str | None
    profile_id: str | None
    # Google Ads: the manager account acting for this one (`login-customer-id`), if any.
    login_customer_id: str | None = None
    scopes: list[str]
    connected_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AdAccountPage(CamelModel):
    items: list[AdAccountOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


async def get_reddit_accounts(
    request: Request, settings: SettingsDep
) -> AsyncIterator[RedditAccountService]:
    async with reddit_account_service(request.app.state.sessions, settings) as service:
        yield service


RedditAccountsDep = Annotated[RedditAccountService, Depends(get_reddit_accounts)]


async def get_google_accounts(
    request: Request, settings: SettingsDep
) -> AsyncIterator[GoogleAccountService]:
    async with google_account_service(request.app.state.sessions, settings) as service:
        yield service


GoogleAccountsDep = Annotated[GoogleAccountService, Depends(get_google_accounts)]


def ad_account_out(account: AdAccount) -> AdAccountOut:
    return AdAccountOut(
        id=str(account.id),
        platform=account.platform,
        platform_account_id=account.platform_account_id,
        name=account.name,
        username=account.username,
        status=account.status,
        funding_instrument_id=account.funding_instrument_id,
        profile_id=account.profile_id,
        login_customer_id=account.login_customer_id,
        scopes=(account.scopes or "").split(),
        connected_at=account.connected_at,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


@router.get("/reddit/connect", response_model=AuthorizeOut)
async def connect_reddit(tenant: TenantDep, accounts: RedditAccountsDep) -> AuthorizeOut:
    """Start connecting: send the user to `authorizeUrl` (valid for 10 minutes)."""
    start = await accounts.start_connect(tenant.id)
    return AuthorizeOut(
        authorize_url=start.authorize_url, state=start.state, expires_at=start.expires_at
    )


@router.get(
    "/reddit/callback",
    response_model=AdAccountOut,
    responses=CALLBACK_RESPONSES,
)
async def reddit_callback(
    accounts: RedditAccountsDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> AdAccountOut:
    """Reddit redirects the user here. No API key: the single-use `state` names the tenant."""
    if not state:
        raise ApiError(400, "invalid_request", "the callback has no state")
    if error is not None:
        await accounts.cancel_connect(state)
        kind = error if error in OAUTH_ERRORS else "oauth_error"
        raise ApiError(400, kind, f"Reddit did not authorize the connection ({kind})")
    if not code:
        raise ApiError(400, "invalid_request", "the callback has no code")
    try:
        account = await accounts.complete_connect(state, code)
    except ConnectError as exc:
        raise ApiError(400, exc.error, exc.detail) from exc
    except PlatformError as exc:
        raise ApiError(
            502, "reddit_error", f"Reddit failed while connecting ({exc}); connect again"
        ) from exc
    return ad_account_out(account)


@router.get("/google/connect", response_model=AuthorizeOut)
async def connect_google(tenant: TenantDep, accounts: GoogleAccountsDep) -> AuthorizeOut:
    """Start connecting a Google Ads account: send the user to `authorizeUrl` (Google's
    consent for the `adwords` scope with offline access; `state` valid for 10 minutes)."""
    start = await accounts.start_connect(tenant.id)
    return AuthorizeOut(
        authorize_url=start.authorize_url, state=start.state, expires_at=start.expires_at
    )


@router.get("/google/callback", response_model=AdAccountOut, responses=CALLBACK_RESPONSES)
async def google_callback(
    accounts: GoogleAccountsDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> AdAccountOut:
    """Google redirects the user here. No API key: the single-use `state` names the tenant.
    The account connected is the user's client account, directly or through its manager."""
    if not state:
        raise ApiError(400, "invalid_request", "the callback has no state")
    if error is not None:
        await accounts.cancel_connect(state)
        kind = error if error in OAUTH_ERRORS else "oauth_error"
        raise ApiError(400, kind, f"Google did not authorize the connection ({kind})")
    if not code:
        raise ApiError(400, "invalid_request", "the callback has no code")
    try:
        account = await accounts.complete_connect(state, code)
    except ConnectError as exc:
        raise ApiError(400, exc.error, exc.detail) from exc
    except PlatformError as exc:
        raise ApiError(
            502, "google_error", f"Google failed while connecting ({exc}); connect again"
        ) from exc
    return ad_account_out(account)


@router.get("", response_model=AdAccountPage)
async def list_ad_accounts(tenant: TenantDep, session: SessionDep, page: PageDep) -> AdAccountPage:
    accounts = await AdAccountRepository(session).page(
        tenant.id, limit=page.limit, cursor=page.cursor
    )
    items = [ad_account_out(a) for a in accounts.items]
    return AdAccountPage(items=items, next_cursor=accounts.next_cursor)


@router.get("/{account_id}", response_model=AdAccountOut)
async def get_ad_account(account_id: str, tenant: TenantDep, session: SessionDep) -> AdAccountOut:
    account = await AdAccountRepository(session).get(tenant.id, _uuid_or_404(account_id))
    if account is None:
        raise not_found("ad account")
    return ad_account_out(account)


@router.delete("/{account_id}", response_model=AdAccountOut)
async def disconnect_ad_account(
    account_id: str, tenant: TenantDep, accounts: RedditAccountsDep
) -> AdAccountOut:
    """Forget the account's tokens; it stays listed as `disconnected` until reconnected."""
    parsed = _uuid_or_404(account_id)
    try:
        account = await accounts.disconnect(tenant.id, parsed)
    except AccountNotFound:
        raise not_found("ad account") from None
    return ad_account_out(account)


def _uuid_or_404(value: str) -> uuid.UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        raise not_found("ad account")
    return parsed
