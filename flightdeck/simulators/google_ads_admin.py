"""Admin surface of the Google Ads simulator, under `/_sim/google` (camelCase JSON). What a test
needs that Google does with people, consoles or clocks:

    POST /oauth/apps     {clientId, clientSecret, redirectUri, accessLevel="BASIC",
                          accessTokenTtlSeconds=3599}: a Cloud project's OAuth client
    GET  /oauth          apps (without secrets) and live token counts
    POST /oauth/codes    {clientId, email?, codeChallenge?, offline=true} -> {code}: consent
    POST /oauth/tokens   {clientId, email?} -> a token response with a refresh token
    POST /oauth/expire   {accessToken?}  expire one access token, or all -> {expired: n}
    POST /oauth/revoke   {refreshToken?} revoke one refresh token, or all -> {revoked: n}
    POST /users          {email, customerIds: [...]}: grant a user direct access
    GET/POST /quotas     {operationsPerMinute?: n|null, pageSize?: n, rateWindowSeconds?: 60}:
                         the per-customer rate (429 RESOURCE_TEMPORARILY_EXHAUSTED beyond it,
                         counted over the window; shorten it to test) and GAQL's page size
                         (fixed at 10,000 by Google; lower it to test paging); usage per project
    POST /rejections     {contains, errorCode: {family: code}, message?, remaining?}: Google
                         refuses every create (in any mutate) whose JSON contains `contains`
                         with that error, as its policy checks do: an atomic request then
                         creates nothing. `{"rejections": []}` at /rejections/clear removes them
    POST /ui-edit        {resourceName, fields: {...}, userEmail?}: an edit in the Google Ads
                         UI: applied with the API's rules, recorded as a change_event with
                         client type GOOGLE_ADS_WEB_CLIENT
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from flightdeck.simulators import performance_sources
from flightdeck.simulators.google_ads_mutate import KINDS, Mutator, OperationFailed
from flightdeck.simulators.google_ads_state import (
    ACCESS_LEVELS,
    ACCESS_TOKEN_TTL,
    AGENCY_USER,
    CODE_TTL,
    SCOPE,
    UI_USER,
    GoogleApp,
    GoogleGrant,
    Rejection,
)
from flightdeck.simulators.state import SimulatorState, StateDep

DEFAULT_USER = AGENCY_USER

router = APIRouter()


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class AppIn(_Body):
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    redirect_uri: str = Field(min_length=1)
    access_level: str = "BASIC"
    access_token_ttl_seconds: float = Field(default=ACCESS_TOKEN_TTL, gt=0)


class GrantIn(_Body):
    client_id: str
    email: str = DEFAULT_USER
    scope: str = SCOPE


class CodeIn(GrantIn):
    code_challenge: str | None = None
    offline: bool = True


class ExpireIn(_Body):
    access_token: str | None = None


class RevokeIn(_Body):
    refresh_token: str | None = None


class UserIn(_Body):
    email: str = Field(min_length=1)
    customer_ids: list[str]


class QuotasIn(_Body):
    operations_per_minute: int | None = Field(default=None, ge=1)
    page_size: int = Field(default=10_000, ge=1, le=10_000)
    rate_window_seconds: float = Field(default=60.0, gt=0, le=3600)


class RejectionIn(_Body):
    contains: str = Field(min_length=1)
    error_code: dict[str, str] = Field(min_length=1, max_length=1)
    message: str = (
        "The resource has been disapproved since its policy summary includes policy topics "
        "of type PROHIBITED."
    )
    remaining: int | None = Field(default=None, ge=1)


class UiEditIn(_Body):
    resource_name: str
    fields: dict[str, Any]
    user_email: str = UI_USER


@router.post("/rejections", status_code=201)
async def add_rejection(body: RejectionIn, state: StateDep) -> dict[str, Any]:
    ((family, code),) = body.error_code.items()
    state.google.rejections.append(
        Rejection(body.contains, family, code, body.message, body.remaining)
    )
    return {"rejections": len(state.google.rejections)}


@router.post("/rejections/clear")
async def clear_rejections(state: StateDep) -> dict[str, Any]:
    state.google.rejections.clear()
    return {"rejections": 0}


@router.post("/oauth/apps", status_code=201)
async def register_app(body: AppIn, state: StateDep) -> dict[str, Any]:
    if body.access_level not in ACCESS_LEVELS:
        raise HTTPException(422, f"accessLevel must be one of {sorted(ACCESS_LEVELS)}")
    app = GoogleApp(
        body.client_id,
        body.client_secret,
        body.redirect_uri,
        body.access_level,
        body.access_token_ttl_seconds,
    )
    state.google.oauth.apps[app.client_id] = app
    return app.to_json()


@router.get("/oauth")
async def read_oauth(state: StateDep) -> dict[str, Any]:
    return state.google.oauth.summary()


@router.post("/oauth/codes")
async def mint_code(body: CodeIn, state: StateDep) -> dict[str, Any]:
    """A code as if `email` had clicked "Allow" on the consent screen."""
    app = _app(state, body.client_id)
    grant = GoogleGrant(app.client_id, body.email, frozenset(body.scope.split()))
    code = state.google.oauth.mint_code(
        grant, app.redirect_uri, body.code_challenge, offline=body.offline
    )
    return {"code": code, "expiresIn": CODE_TTL}


@router.post("/oauth/tokens")
async def mint_tokens(body: GrantIn, state: StateDep) -> dict[str, Any]:
    """Tokens without the consent flow, for tests that are not about OAuth."""
    app = _app(state, body.client_id)
    grant = GoogleGrant(app.client_id, body.email, frozenset(body.scope.split()))
    oauth = state.google.oauth
    return {**oauth.issue(app, grant), "refresh_token": oauth.new_refresh_token(grant)}


@router.post("/oauth/expire")
async def expire(body: ExpireIn, state: StateDep) -> dict[str, Any]:
    return {"expired": state.google.oauth.expire(body.access_token)}


@router.post("/oauth/revoke")
async def revoke(body: RevokeIn, state: StateDep) -> dict[str, Any]:
    return {"revoked": state.google.oauth.revoke(body.refresh_token)}


@router.post("/users")
async def grant_user(body: UserIn, state: StateDep) -> dict[str, Any]:
    unknown = [c for c in body.customer_ids if c not in state.objects["google"]["customers"]]
    if unknown:
        raise HTTPException(422, f"unknown customers {unknown}")
    state.google.users.setdefault(body.email, set()).update(body.customer_ids)
    return {"email": body.email, "customerIds": sorted(state.google.users[body.email])}


@router.get("/quotas")
async def read_quotas(state: StateDep) -> dict[str, Any]:
    return _quotas(state)


@router.post("/quotas")
async def set_quotas(body: QuotasIn, state: StateDep) -> dict[str, Any]:
    state.google.operations_per_minute = body.operations_per_minute
    state.google.page_size = body.page_size
    state.google.rate_window_seconds = body.rate_window_seconds
    state.google.minute_windows.clear()
    return _quotas(state)


def _quotas(state: SimulatorState) -> dict[str, Any]:
    google = state.google
    return {
        "operationsPerMinute": google.operations_per_minute,
        "pageSize": google.page_size,
        "rateWindowSeconds": google.rate_window_seconds,
        "dailyOperations": {
            client: sum(count for _, count in window)
            for client, window in google.daily_operations.items()
        },
    }


@router.post("/ui-edit")
async def ui_edit(body: UiEditIn, state: StateDep) -> dict[str, Any]:
    parts = body.resource_name.split("/")
    if len(parts) != 4 or parts[0] != "customers" or parts[2] not in KINDS:
        raise HTTPException(422, "resourceName must be customers/{id}/{collection}/{key}")
    kind = KINDS[parts[2]]
    async with state.lock:
        mutator = Mutator(
            state.google,
            state.objects["google"],
            parts[1],
            body.user_email,
            client_type="GOOGLE_ADS_WEB_CLIENT",
        )
        try:
            mutator.update(
                kind,
                {"resourceName": body.resource_name, **body.fields},
                ",".join(_paths(body.fields)),
            )
        except OperationFailed as exc:
            mutator.tx.rollback()
            raise HTTPException(422, [e.to_json() for e in exc.errors]) from None
        mutator.commit()
        performance_sources.google_changed(state, mutator.tx.events)
        # An ad (`ads/{id}`) lives inside its ad group ad: no collection of its own to show.
        stored = state.objects["google"].get(kind.collection, {})
        return dict(stored.get(body.resource_name, {}))


def _paths(fields: dict[str, Any], prefix: str = "") -> list[str]:
    """Update-mask paths of an edit: nested objects name their leaves (networkSettings.x)."""
    paths: list[str] = []
    for key, value in fields.items():
        if isinstance(value, dict) and value:
            paths += _paths(value, f"{prefix}{key}.")
        else:
            paths.append(prefix + key)
    return paths


def _app(state: SimulatorState, client_id: str) -> GoogleApp:
    app = state.google.oauth.apps.get(client_id)
    if app is None:
        raise HTTPException(
            404, f"no Google OAuth client {client_id!r}; POST /_sim/google/oauth/apps"
        )
    return app
