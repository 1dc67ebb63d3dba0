"""The Strategis Facebook relay simulator (mounted at `/relay`): creates, updates and reads
Facebook objects with an organization's stored credentials (../shared/platforms/strategis.md).

- Auth: `Authorization: Bearer <key>`; a wrong key is Graph's 401 with code 190.
- Idempotency: creates are cached by (organization, clientRequestKey). The same key with the
  same body (canonical JSON, all fields) replays the first answer and creates nothing; with a
  different body it is a 409. Only successful creates are cached, so a request that failed
  validation can be corrected and resent under the same key.
- `GET /api/facebook/requests/{clientRequestKey}?organization=` (ASSUMED, like the other
  lookups in strategis.md): what the idempotency cache holds for a key — `{clientRequestKey,
  objectType, id}`, or Graph's 404 when no create under that key succeeded. It lets a caller
  whose answer was lost find the object without creating anything.
- Errors are Graph's envelope (`graph_errors.py`); relay-level failures (missing Facebook
  credentials, idempotency conflicts) use the same envelope with `type: "RelayError"`.
- Every answer carries Graph's `X-Business-Use-Case-Usage` header, keyed by organization (the
  relay hides the ad account's business id), counting the organization's calls in the last hour
  against the development tier's 300 ads_management calls per hour. It is informative only.
"""

from __future__ import annotations

import json
import time
from collections import deque
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from flightdeck.simulators.facebook import FacebookObjects, graph_view
from flightdeck.simulators.graph import (
    validate_ad,
    validate_adcreative,
    validate_adset,
    validate_campaign,
    validate_update,
)
from flightdeck.simulators.graph_errors import (
    Subcode,
    graph_error,
    invalid_parameter,
    nonexistent_object,
)
from flightdeck.simulators.routing import (
    SimulatorError,
    SimulatorRoute,
    bearer_matches,
    read_json_object,
    record_created,
    record_replayed,
)
from flightdeck.simulators.state import CachedCreate, SimulatorState, StateDep, state_of

PLATFORM = "relay"
CREATABLE = frozenset({"campaigns", "adsets", "adcreatives", "ads"})
UPDATABLE = frozenset({"campaigns", "adsets", "ads"})
CALLS_PER_HOUR = 300  # ads_management quota of a development-tier ad account (Graph §4)
USAGE_WINDOW_SECONDS = 3600.0


class RelayRoute(SimulatorRoute):
    """Adds Graph's business-use-case usage header to every relay answer."""

    async def finalize(self, request: Request, response: Response) -> None:
        organization = request.query_params.get("organization") or await _body_organization(request)
        if organization:
            usage = _usage(state_of(request), organization)
            response.headers["X-Business-Use-Case-Usage"] = json.dumps(usage)


async def require_api_key(request: Request, state: StateDep) -> None:
    if not bearer_matches(request, state.api_key):
        raise graph_error(401, "Invalid OAuth access token - Cannot parse access token", code=190)


router = APIRouter(route_class=RelayRoute, dependencies=[Depends(require_api_key)])
admin_router = APIRouter()


@router.post("/api/facebook/{object_type}/create")
async def create_object(object_type: str, request: Request, state: StateDep) -> JSONResponse:
    _check_path(object_type, CREATABLE, request)
    body = await read_json_object(request, _bad_body)
    organization = _organization(state, body.get("organization"))
    key = body.get("clientRequestKey")
    if not isinstance(key, str) or not key:
        raise invalid_parameter("clientRequestKey", "is required", Subcode.MISSING_PARAMETER)
    fingerprint = json.dumps([object_type, body], sort_keys=True, separators=(",", ":"))
    async with state.lock:
        cached = state.relay_idempotency.get((organization, key))
        if cached is not None:
            return _replay(request, cached, fingerprint, key)
        objects = FacebookObjects(state, organization)
        _validate(object_type, body, objects)
        created = objects.create(object_type, body, key)
        answer = {"id": created["id"]}
        state.relay_idempotency[(organization, key)] = CachedCreate(fingerprint, 200, answer)
    record_created(request, created["id"])
    return JSONResponse(answer)


@router.post("/api/facebook/{object_type}/{object_id}/update")
async def update_object(
    object_type: str, object_id: str, request: Request, state: StateDep
) -> JSONResponse:
    _check_path(object_type, UPDATABLE, request)
    body = await read_json_object(request, _bad_body)
    organization = _organization(state, body.get("organization"))
    fields = {k: v for k, v in body.items() if k not in ("organization", "clientRequestKey")}
    if not fields:
        raise invalid_parameter("status", "or another field to update is required")
    async with state.lock:
        objects = FacebookObjects(state, organization)
        current = objects.get(object_type, object_id)
        if current is None:
            raise nonexistent_object(object_id)
        validate_update(object_type, current, fields)
        objects.update(object_type, current, fields)
    return JSONResponse({"success": True})


@router.get("/api/facebook/requests/{client_request_key}")
async def find_by_request_key(
    client_request_key: str, state: StateDep, organization: str | None = None
) -> JSONResponse:
    key = (_organization(state, organization), client_request_key)
    cached = state.relay_idempotency.get(key)
    if cached is None:
        raise graph_error(
            404,
            f"No create succeeded under clientRequestKey {client_request_key!r}",
            code=100,
            error_type="RelayError",
            subcode=Subcode.NONEXISTENT_OBJECT,
        )
    object_type = json.loads(cached.fingerprint)[0]
    body = {"clientRequestKey": client_request_key, "objectType": object_type, **cached.body}
    return JSONResponse(body)


@router.get("/api/facebook/{object_type}/{object_id}")
async def read_object(
    object_type: str,
    object_id: str,
    request: Request,
    state: StateDep,
    organization: str | None = None,
    fields: str | None = None,
) -> JSONResponse:
    _check_path(object_type, CREATABLE, request)
    objects = FacebookObjects(state, _organization(state, organization))
    obj = objects.get(object_type, object_id)
    if obj is None:
        raise nonexistent_object(object_id, method="get")
    return JSONResponse(graph_view(obj, fields.split(",") if fields else None))


@admin_router.post("/organizations/{organization}/disable-credentials")
async def disable_credentials(organization: str, state: StateDep) -> dict[str, Any]:
    """From now on the relay answers this organization as if it had no Facebook token."""
    state.disabled_organizations.add(organization)
    return {"organization": organization, "credentials": "disabled"}


@admin_router.post("/organizations/{organization}/enable-credentials")
async def enable_credentials(organization: str, state: StateDep) -> dict[str, Any]:
    state.disabled_organizations.discard(organization)
    return {"organization": organization, "credentials": "enabled"}


def _validate(object_type: str, body: dict[str, Any], objects: FacebookObjects) -> None:
    if object_type == "campaigns":
        validate_campaign(body)
    elif object_type == "adsets":
        validate_adset(body, objects.find_live)
    elif object_type == "adcreatives":
        validate_adcreative(body)
    else:
        validate_ad(body, objects.find_live)


def _replay(request: Request, cached: CachedCreate, fingerprint: str, key: str) -> JSONResponse:
    if cached.fingerprint != fingerprint:
        raise graph_error(
            409,
            f"clientRequestKey {key!r} was already used with a different request body",
            code=100,
            error_type="RelayError",
            user_msg="clientRequestKey must be unique per request body",
            blame="clientRequestKey",
        )
    record_replayed(request)
    return JSONResponse(cached.body, status_code=cached.status_code)


def _organization(state: SimulatorState, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_parameter("organization", "is required", Subcode.MISSING_PARAMETER)
    if value in state.disabled_organizations:
        raise graph_error(
            400,
            f"No Facebook credentials for organization {value!r}",
            code=190,
            error_type="RelayError",
        )
    return value


def _check_path(object_type: str, allowed: frozenset[str], request: Request) -> None:
    if object_type not in allowed:
        raise graph_error(404, f"Unknown path components: {request.url.path}", code=2500)


def _bad_body(problem: str) -> SimulatorError:
    return graph_error(400, f"(#100) {problem}", code=100)


def _usage(state: SimulatorState, organization: str) -> dict[str, Any]:
    now = time.monotonic()
    calls = state.relay_calls.setdefault(organization, deque())
    calls.append(now)
    while calls and calls[0] < now - USAGE_WINDOW_SECONDS:
        calls.popleft()
    percent = min(100, round(100 * len(calls) / CALLS_PER_HOUR))
    entry = {
        "type": "ads_management",
        "call_count": percent,
        "total_cputime": percent,
        "total_time": percent,
        "estimated_time_to_regain_access": 0,
        "ads_api_access_tier": "development_access",
    }
    return {organization: [entry]}


async def _body_organization(request: Request) -> str | None:
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError, RuntimeError):
        return None
    organization = body.get("organization") if isinstance(body, dict) else None
    return organization if isinstance(organization, str) else None
