"""Admin surface of the Reddit simulator, under `/_sim/reddit` (camelCase JSON, like the
fault rules). What a test needs that Reddit does with people or clocks:

    POST /oauth/apps        {clientId, clientSecret, redirectUri, accessTokenTtlSeconds=3600}
    POST /oauth/codes       {clientId, username="flightdeck_test", scope="adsread adsedit",
                             codeChallenge?, codeChallengeMethod="S256",
                             duration="permanent"}                     -> {code, expiresIn}
    POST /oauth/tokens      {clientId, username, scope, duration}      -> a token response
    POST /oauth/expire      {accessToken?}   expire one access token, or all -> {expired: n}
    POST /oauth/revoke      {refreshToken?}  revoke one refresh token, or all -> {revoked: n}
    GET  /oauth             apps (without secrets) and live token counts
    GET  /rate-limits       {policies: {name: {quota, window}}, usage: [...]}
    POST /rate-limits       {policies: {"ads-campaign-management-write": {quota: 2,
                             window: 60}}}: override some policies (the rest take the spec's
                             limits; `{}` restores them all); every window restarts
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from flightdeck.simulators.reddit_auth import (
    ACCESS_TOKEN_TTL,
    CODE_TTL,
    Grant,
    GrantError,
    OAuthApp,
    parse_scopes,
)
from flightdeck.simulators.reddit_oauth import DEFAULT_USERNAME
from flightdeck.simulators.reddit_spec import RateLimitPolicy
from flightdeck.simulators.state import SimulatorState, StateDep

router = APIRouter()


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class AppIn(_Body):
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    redirect_uri: str = Field(min_length=1)
    access_token_ttl_seconds: float = Field(default=ACCESS_TOKEN_TTL, gt=0)


class GrantIn(_Body):
    client_id: str
    username: str = DEFAULT_USERNAME
    scope: str = "adsread adsedit"
    duration: Literal["permanent", "temporary"] = "permanent"


class CodeIn(GrantIn):
    code_challenge: str | None = None
    code_challenge_method: Literal["S256", "plain"] = "S256"


class ExpireIn(_Body):
    access_token: str | None = None


class RevokeIn(_Body):
    refresh_token: str | None = None


class PolicyLimitIn(_Body):
    quota: int = Field(ge=0)
    window: float = Field(gt=0, le=86_400)


class RateLimitsIn(_Body):
    policies: dict[str, PolicyLimitIn] = Field(default_factory=dict)


@router.post("/oauth/apps", status_code=201)
async def register_app(body: AppIn, state: StateDep) -> dict[str, Any]:
    app = OAuthApp(
        body.client_id, body.client_secret, body.redirect_uri, body.access_token_ttl_seconds
    )
    state.reddit.oauth.register(app)
    return app.to_json()


@router.get("/oauth")
async def read_oauth(state: StateDep) -> dict[str, Any]:
    return state.reddit.oauth.summary()


@router.post("/oauth/codes")
async def mint_code(body: CodeIn, state: StateDep) -> dict[str, Any]:
    """A code as if `username` had clicked "Allow" on the consent screen."""
    app = _app(state, body.client_id)
    code = state.reddit.oauth.mint_code(
        _grant(body),
        redirect_uri=app.redirect_uri,
        challenge=body.code_challenge,
        method=body.code_challenge_method,
    )
    return {"code": code, "expiresIn": CODE_TTL}


@router.post("/oauth/tokens")
async def mint_tokens(body: GrantIn, state: StateDep) -> dict[str, Any]:
    """Tokens without the code flow, for tests that are not about OAuth."""
    return state.reddit.oauth.issue(_app(state, body.client_id), _grant(body))


@router.post("/oauth/expire")
async def expire_tokens(body: ExpireIn, state: StateDep) -> dict[str, Any]:
    return {"expired": state.reddit.oauth.expire(body.access_token)}


@router.post("/oauth/revoke")
async def revoke_tokens(body: RevokeIn, state: StateDep) -> dict[str, Any]:
    return {"revoked": state.reddit.oauth.revoke(body.refresh_token)}


@router.get("/rate-limits")
async def read_rate_limits(state: StateDep) -> dict[str, Any]:
    return _rate_limits(state)


@router.post("/rate-limits")
async def set_rate_limits(body: RateLimitsIn, state: StateDep) -> dict[str, Any]:
    limiter = state.reddit.limits
    unknown = sorted(set(body.policies) - set(limiter.defaults))
    if unknown:
        raise HTTPException(422, f"unknown policies {unknown}; known: {sorted(limiter.defaults)}")
    limiter.configure(
        {name: RateLimitPolicy(name, p.quota, p.window) for name, p in body.policies.items()}
    )
    return _rate_limits(state)


def _rate_limits(state: SimulatorState) -> dict[str, Any]:
    limiter = state.reddit.limits
    return {
        "policies": {n: {"quota": p.quota, "window": p.window} for n, p in limiter.limits.items()},
        "usage": limiter.usage(),
    }


def _app(state: SimulatorState, client_id: str) -> OAuthApp:
    app = state.reddit.oauth.apps.get(client_id)
    if app is None:
        raise HTTPException(404, f"no Reddit app {client_id!r}; POST /_sim/reddit/oauth/apps")
    return app


def _grant(body: GrantIn) -> Grant:
    try:
        scopes = parse_scopes(body.scope)
    except GrantError:
        raise HTTPException(422, f"invalid scope {body.scope!r}") from None
    return Grant(body.client_id, body.username, scopes, body.duration == "permanent")
