"""What every Reddit Ads API request goes through before its handler, driven by the spec entry
of the matched route: bearer token (401), the operation's scope (403), its rate-limit policies
(429), then its query parameters and request body (400). Also the `pagination` envelope.

The order matters: a refused token is not counted against any quota, while a request that
fails validation is (it reached the API).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response

from flightdeck.simulators.reddit_auth import Grant
from flightdeck.simulators.reddit_errors import bad_request, reddit_error
from flightdeck.simulators.reddit_spec import Operation, reddit_spec
from flightdeck.simulators.routing import SimulatorRoute
from flightdeck.simulators.state import SimulatorState, get_state

API_PREFIX = "/api/v3"
DEFAULT_PAGE_SIZE = 100  # Reddit's default is UNCONFIRMED; every page.size maximum allows 100
RATE_LIMIT_HEADERS_KEY = "reddit_rate_limit_headers"


@dataclass(frozen=True)
class Call:
    """An authenticated, counted and validated Ads API request."""

    grant: Grant
    operation: Operation
    query: dict[str, Any]
    data: dict[str, Any]
    request: Request

    def writable(self) -> dict[str, Any]:
        """The body's fields the operation lets a client set."""
        return self.operation.writable(self.data)


class RedditRoute(SimulatorRoute):
    """Puts the caller's `RateLimit` / `RateLimit-Policy` state on every answer, errors too."""

    async def finalize(self, request: Request, response: Response) -> None:
        headers = getattr(request.state, RATE_LIMIT_HEADERS_KEY, None)
        if headers:
            response.headers.update(headers)


async def reddit_call(
    request: Request, state: Annotated[SimulatorState, Depends(get_state)]
) -> Call:
    operation = _operation(request)
    grant = _caller(request, state)
    missing = operation.scopes - grant.scopes
    if missing:
        raise reddit_error(403, f"Insufficient scope: requires {', '.join(sorted(missing))}")
    verdict = state.reddit.limits.take(grant.client_id, operation.policies)
    setattr(request.state, RATE_LIMIT_HEADERS_KEY, verdict.headers)
    if not verdict.allowed:
        raise reddit_error(429, "Too Many Requests", headers=verdict.headers)
    query, problems = operation.decode_query(request.query_params)
    body = await _body(request) if operation.body_schema is not None else None
    if body is None and operation.body_schema is not None:
        # What Reddit says when a report's next page is requested without its body again.
        raise bad_request([{"field": "body", "message": "request body is required"}])
    problems += operation.body_errors(body)
    if problems:
        raise bad_request(problems)
    data = body.get("data") if isinstance(body, dict) else None
    return Call(grant, operation, query, data if isinstance(data, dict) else {}, request)


CallDep = Annotated[Call, Depends(reddit_call)]


def page(
    call: Call,
    items: Sequence[dict[str, Any]],
    view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One page of `items` in Reddit's list envelope; the URLs are absolute, to follow as is.
    `view` (the object as the API shows it) is applied to the page's items only."""
    size = call.query.get("page.size") or DEFAULT_PAGE_SIZE
    size = size if size > 0 else DEFAULT_PAGE_SIZE  # ASSUMED: page.size=0 means the default
    start = _offset(call.query.get("page.token"))
    end = start + size
    chosen = items[start:end]
    return {
        "data": [view(item) for item in chosen] if view is not None else list(chosen),
        "pagination": {
            "next_url": _page_url(call.request, end) if end < len(items) else None,
            "previous_url": _page_url(call.request, max(0, start - size)) if start else None,
        },
    }


def _operation(request: Request) -> Operation:
    template: str = request.scope["route"].path_format
    path = template[template.index(API_PREFIX) + len(API_PREFIX) :]
    operation = reddit_spec().operation(request.method, path)
    if operation is None:  # a route the spec does not have: a bug in the simulator
        raise RuntimeError(f"{request.method} {path} is not in the Reddit spec extract")
    return operation


def _caller(request: Request, state: SimulatorState) -> Grant:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    grant = state.reddit.oauth.caller(token.strip()) if scheme.lower() == "bearer" else None
    if grant is None:  # unknown, expired or missing: the spec's one 401
        raise reddit_error(401, "Bad bearer token provided.")
    return grant


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError):
        raise bad_request([{"field": "body", "message": "is not valid JSON"}]) from None


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise bad_request([{"field": "page.token", "message": "is not a valid page token"}])


def _page_url(request: Request, offset: int) -> str:
    token = base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()
    return str(request.url.include_query_params(**{"page.token": token}))
