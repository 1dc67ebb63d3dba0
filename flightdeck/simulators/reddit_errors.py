"""Reddit Ads API v3 error bodies (reddit-ads-api.md §5; the spec's 400–429 responses):

    {"error": {"code": 400, "message": "Bad Request",
               "fields": [{"field": "data/name", "message": "'ab' is too short"}]}}

`fields` only on 400. A 429 carries the IETF `RateLimit` / `RateLimit-Policy` headers. The
OAuth endpoints (www.reddit.com) answer in OAuth's own shape, `{"error": "invalid_grant"}`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from flightdeck.simulators.routing import SimulatorError

# The name an injected 429 reports: a fault rule does not know which policy the route uses.
INJECTED_POLICY = "simulated-fault"
DEFAULT_INJECTED_WAIT = 60.0  # the window of every campaign-management policy


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name, e.g. 599
        return "Error"


def reddit_error(
    status: int,
    message: str | None = None,
    *,
    fields: Sequence[Mapping[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> SimulatorError:
    error: dict[str, Any] = {"code": status, "message": message or phrase(status)}
    if fields:
        error["fields"] = [dict(entry) for entry in fields]
    return SimulatorError(status, {"error": error}, headers)


def bad_request(fields: Sequence[Mapping[str, str]]) -> SimulatorError:
    return reddit_error(400, "Bad Request", fields=fields)


def field_error(field: str, message: str) -> SimulatorError:
    return bad_request([{"field": field, "message": message}])


def not_found(what: str) -> SimulatorError:
    return reddit_error(404, f"{what} not found")


def oauth_error(status: int, error: str) -> SimulatorError:
    """The token endpoint's error: `{"error": "invalid_grant"}` and the like."""
    return SimulatorError(status, {"error": error})


def render_reddit_fault(
    status: int, retry_after: float | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """An injected failure in Reddit's envelope; a 429 says when to come back in `RateLimit`."""
    body = {"error": {"code": status, "message": phrase(status)}}
    if status != 429:
        return body, {}
    wait = math.ceil(retry_after if retry_after is not None else DEFAULT_INJECTED_WAIT)
    headers = {
        "RateLimit-Policy": f'"{INJECTED_POLICY}";q=0;w={wait}',
        "RateLimit": f'"{INJECTED_POLICY}";r=0;t={wait}',
    }
    return body, headers
