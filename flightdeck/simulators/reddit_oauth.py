"""Reddit's OAuth2 endpoints (www.reddit.com in production; here under `/reddit`):

    GET  /api/v1/authorize      consent: redirects to the app's redirect_uri with code & state
    POST /api/v1/access_token   form-encoded, HTTP Basic client_id:secret;
                                grant_type=authorization_code (code, redirect_uri[,
                                code_verifier]) or grant_type=refresh_token (refresh_token)

The simulated consent screen approves at once, as the user named by the extra `username`
query parameter (default `flightdeck_test`). Token errors are OAuth's `{"error": "…"}`:
400 `invalid_grant` for a used, expired or revoked code or refresh token (what Airbyte treats
as a dead refresh token), 401 `{"message": "Unauthorized", "error": 401}` for a bad client.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

from flightdeck.simulators.reddit_auth import Grant, GrantError, OAuthApp, parse_scopes
from flightdeck.simulators.reddit_errors import oauth_error
from flightdeck.simulators.routing import SimulatorError, SimulatorRoute
from flightdeck.simulators.state import SimulatorState, StateDep

DEFAULT_USERNAME = "flightdeck_test"
GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})

router = APIRouter(route_class=SimulatorRoute)


@router.get("/api/v1/authorize")
async def authorize(request: Request, state: StateDep) -> RedirectResponse:
    """Approve at once; problems with the client or redirect URI are not redirected (the
    URI cannot be trusted), the others are, as `?error=…&state=…`."""
    query = request.query_params
    app = state.reddit.oauth.apps.get(query.get("client_id", ""))
    if app is None or query.get("redirect_uri") != app.redirect_uri:
        raise oauth_error(400, "invalid_request")
    back: dict[str, str] = {"state": query.get("state", "")}
    try:
        if query.get("response_type") != "code":
            raise GrantError("unsupported_response_type")
        grant = Grant(
            client_id=app.client_id,
            username=query.get("username", DEFAULT_USERNAME),
            scopes=parse_scopes(query.get("scope", "")),
            permanent=query.get("duration", "temporary") == "permanent",
        )
        back["code"] = state.reddit.oauth.mint_code(
            grant,
            redirect_uri=app.redirect_uri,
            challenge=query.get("code_challenge"),
            method=query.get("code_challenge_method", "S256"),
        )
    except GrantError as exc:
        back["error"] = exc.error
    return RedirectResponse(f"{app.redirect_uri}?{urlencode(back)}", status_code=302)


@router.post("/api/v1/access_token")
async def access_token(request: Request, state: StateDep) -> JSONResponse:
    app = _client(request, state)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("latin-1")).items()}
    try:
        return JSONResponse(_grant(state, app, form))
    except GrantError as exc:
        raise oauth_error(exc.status, exc.error) from None


def _grant(state: SimulatorState, app: OAuthApp, form: dict[str, str]) -> dict[str, Any]:
    grant_type = form.get("grant_type")
    if grant_type not in GRANT_TYPES:
        raise GrantError("unsupported_grant_type")
    if grant_type == "refresh_token":
        return state.reddit.oauth.refresh(app, _required(form, "refresh_token"))
    return state.reddit.oauth.exchange_code(
        app, _required(form, "code"), form.get("redirect_uri"), form.get("code_verifier")
    )


def _client(request: Request, state: StateDep) -> OAuthApp:
    """The app authenticated by HTTP Basic, else Reddit's 401."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        client_id, secret = "", ""
    app = state.reddit.oauth.authenticate(client_id, secret) if scheme.lower() == "basic" else None
    if app is None:
        raise SimulatorError(401, {"message": "Unauthorized", "error": 401})
    return app


def _required(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise GrantError("invalid_request")
    return value
