"""Facebook Login for the Graph simulator (metrics-and-review.md §3):

    GET /facebook/{v}/dialog/oauth   the consent dialog (www.facebook.com in production):
                                     redirects to redirect_uri with `code` & `state`
    GET /graph/{v}/oauth/access_token
        ?client_id&redirect_uri&client_secret&code        code -> short-lived user token
        ?grant_type=fb_exchange_token&client_id&client_secret&fb_exchange_token
                                                          short -> long-lived (~60 days)
    GET /graph/{v}/debug_token?input_token=&access_token=<app_id>|<app_secret>

The simulated dialog consents at once, as the user named by the extra `sim_user` query
parameter (default: the seeded user). `sim_decline=a,b` unticks those permissions (Facebook
lets a user decline single permissions) and `sim_deny=1` cancels the dialog, which redirects
with `error=access_denied&error_reason=user_denied`. Token errors use Graph's envelope.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

from flightdeck.simulators.graph_errors import graph_error
from flightdeck.simulators.meta_state import (
    DATA_ACCESS_SECONDS,
    DEFAULT_USER,
    SHORT_LIVED_SECONDS,
    AuthCode,
    MetaApp,
    MetaRuntime,
    Token,
)
from flightdeck.simulators.routing import SimulatorError, SimulatorRoute
from flightdeck.simulators.state import StateDep

CODE_TTL_SECONDS = 600
SUPPORTED_VERSIONS = frozenset({"v19.0", "v20.0", "v21.0", "v22.0", "v23.0"})

dialog_router = APIRouter(route_class=SimulatorRoute)
token_router = APIRouter(route_class=SimulatorRoute)


def check_version(version: str) -> None:
    """Graph v19.0-v23.0 (meta-marketing-api.md); anything else as Graph answers it."""
    if version in SUPPORTED_VERSIONS:
        return
    raise graph_error(
        400,
        f"(#2635) You are calling a deprecated or unknown version of the Ads API ({version}). "
        "Please update to the latest version: v23.0.",
        code=2635,
    )


@dialog_router.get("/{version}/dialog/oauth")
async def dialog(version: str, request: Request, state: StateDep) -> RedirectResponse:
    check_version(version)
    query = request.query_params
    app = state.meta.apps.get(query.get("client_id", ""))
    if app is None or query.get("redirect_uri") != app.redirect_uri:
        # Facebook shows an error page rather than redirecting to an untrusted URI.
        raise graph_error(400, "Invalid redirect_uri or app id for this app", code=191)
    back: dict[str, str] = {"state": query.get("state", "")}
    if query.get("sim_deny"):
        back |= {
            "error": "access_denied",
            "error_code": "200",
            "error_description": "Permissions error",
            "error_reason": "user_denied",
        }
        return RedirectResponse(f"{app.redirect_uri}?{urlencode(back)}", status_code=302)
    user_id = query.get("sim_user", DEFAULT_USER)
    if user_id not in state.objects["meta"]["users"]:
        raise graph_error(400, f"unknown simulated user {user_id}", code=100)
    requested = tuple(s for s in query.get("scope", "").replace(" ", ",").split(",") if s)
    declined = tuple(s for s in query.get("sim_decline", "").split(",") if s in requested)
    code = secrets.token_urlsafe(32)
    state.meta.codes[code] = AuthCode(
        app_id=app.app_id,
        user_id=user_id,
        redirect_uri=app.redirect_uri,
        scopes=tuple(s for s in requested if s not in declined),
        declined=declined,
        expires_at=time.time() + CODE_TTL_SECONDS,
    )
    back["code"] = code
    return RedirectResponse(f"{app.redirect_uri}?{urlencode(back)}", status_code=302)


@token_router.get("/{version}/oauth/access_token")
async def access_token(version: str, request: Request, state: StateDep) -> JSONResponse:
    check_version(version)
    query = dict(request.query_params)
    async with state.lock:
        app = _app(state.meta, query)
        if query.get("grant_type") == "fb_exchange_token":
            return JSONResponse(_exchange(state.meta, app, query.get("fb_exchange_token", "")))
        return JSONResponse(_redeem(state.meta, app, query))


@token_router.get("/{version}/debug_token")
async def debug_token(version: str, request: Request, state: StateDep) -> JSONResponse:
    check_version(version)
    query = request.query_params
    app_id, _, secret = query.get("access_token", "").partition("|")
    app = state.meta.apps.get(app_id)
    if app is None or not secrets.compare_digest(secret.encode(), app.app_secret.encode()):
        raise graph_error(400, "Invalid OAuth access token signature.", code=190)
    token = state.meta.tokens.get(query.get("input_token", ""))
    if token is None:
        raise graph_error(400, "Invalid OAuth access token - Cannot parse access token", code=190)
    return JSONResponse({"data": describe(token, app)})


def describe(token: Token, app: MetaApp) -> dict[str, Any]:
    """`debug_token`'s data for a token (an expired one is `is_valid: false` with its error)."""
    data: dict[str, Any] = {
        "app_id": token.app_id,
        "type": token.kind,
        "application": "Flightdeck",
        "data_access_expires_at": int(token.issued_at + DATA_ACCESS_SECONDS),
        "expires_at": int(token.expires_at),
        "is_valid": not token.expired(time.time()),
        "scopes": list(token.scopes),
        "granular_scopes": [{"scope": s} for s in token.scopes],
        "user_id": token.user_id,
    }
    if token.long_lived:
        data["issued_at"] = int(token.issued_at)
    if token.page_id:
        data["profile_id"] = token.page_id
    if not data["is_valid"]:
        data["error"] = {
            "code": 190,
            "message": "Error validating access token: Session has expired.",
            "subcode": 460 if token.revoked else 463,
        }
    return data


def _app(meta: MetaRuntime, query: dict[str, str]) -> MetaApp:
    app = meta.apps.get(query.get("client_id", ""))
    secret = query.get("client_secret", "")
    if app is None or not secrets.compare_digest(secret.encode(), app.app_secret.encode()):
        raise graph_error(
            400, "Error validating client secret.", code=1, error_type="OAuthException"
        )
    return app


def _redeem(meta: MetaRuntime, app: MetaApp, query: dict[str, str]) -> dict[str, Any]:
    code = meta.codes.get(query.get("code", ""))
    if code is None or code.app_id != app.app_id or code.expires_at < time.time():
        raise _invalid_code("Invalid verification code format.")
    if code.used:
        raise _invalid_code("This authorization code has been used.")
    if query.get("redirect_uri") != code.redirect_uri:
        raise _invalid_code(
            "Error validating verification code. Please make sure your redirect_uri is "
            "identical to the one you used in the OAuth dialog request"
        )
    code.used = True
    issued = time.time()
    token = Token(
        kind="USER",
        user_id=code.user_id,
        app_id=app.app_id,
        scopes=code.scopes,
        expires_at=issued + SHORT_LIVED_SECONDS,
        issued_at=issued,
    )
    return {
        "access_token": meta.issue(token),
        "token_type": "bearer",
        "expires_in": SHORT_LIVED_SECONDS,
    }


def _exchange(meta: MetaRuntime, app: MetaApp, short: str) -> dict[str, Any]:
    token = meta.tokens.get(short)
    if token is None or token.app_id != app.app_id:
        raise graph_error(400, "Invalid OAuth access token - Cannot parse access token", code=190)
    if token.expired(time.time()):
        raise graph_error(
            400,
            "Error validating access token: Session has expired.",
            code=190,
            subcode=463,
        )
    issued = time.time()
    long_lived = Token(
        kind="USER",
        user_id=token.user_id,
        app_id=app.app_id,
        scopes=token.scopes,
        expires_at=issued + app.long_lived_seconds,
        issued_at=issued,
        long_lived=True,
    )
    return {
        "access_token": meta.issue(long_lived),
        "token_type": "bearer",
        "expires_in": app.long_lived_seconds,
    }


def _invalid_code(message: str) -> SimulatorError:
    return graph_error(400, message, code=100, subcode=36009)
