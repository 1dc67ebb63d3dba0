"""Meta Graph's error envelope, as the Strategis relay passes it through (and as a future Meta
Graph simulator will send it): `{"error": {message, type, code, error_subcode, is_transient,
error_data, error_user_title, error_user_msg, fbtrace_id}}` (meta-marketing-api.md §4).

Subcodes: 33 (object missing or not visible) and 2490408 (optimization goal not allowed for
the objective) are Graph's documented values. Meta documents none for the simulator's other
checks, so the other `Subcode` values are the simulator's own: clients branch on `code`, and
on 33, never on them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from flightdeck.simulators.routing import SimulatorError


class Subcode(IntEnum):
    NONEXISTENT_OBJECT = 33  # Graph's
    GOAL_NOT_ALLOWED_FOR_OBJECTIVE = 2490408  # Graph's
    LEGACY_OBJECTIVE = 2490487
    MISSING_PARAMETER = 1885001
    INVALID_VALUE = 1885002
    BUDGET_TOO_LOW = 1885003
    BUDGET_PLACEMENT = 1885004
    BID_AMOUNT_REQUIRED = 1885005
    PROMOTED_OBJECT_REQUIRED = 1885006
    STATUS_TRANSITION = 1885007


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


def graph_error(
    status_code: int,
    message: str,
    *,
    code: int,
    error_type: str = "OAuthException",
    subcode: int | None = None,
    is_transient: bool = False,
    user_title: str | None = None,
    user_msg: str | None = None,
    blame: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> SimulatorError:
    """Graph's `{"error": {...}}` body with the given HTTP status."""
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = int(subcode)
    error["is_transient"] = is_transient
    if blame is not None:
        # Graph sends error_data as a JSON *string*; blame paths are lists of path segments.
        error["error_data"] = json.dumps({"blame_field_specs": [blame.split(".")]})
    if user_title is not None:
        error["error_user_title"] = user_title
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    error["fbtrace_id"] = fbtrace_id()
    return SimulatorError(status_code, {"error": error}, headers)


def invalid_parameter(
    field: str, problem: str, subcode: Subcode = Subcode.INVALID_VALUE
) -> SimulatorError:
    """Graph's code-100 validation error, blaming `field` (a dotted path)."""
    return graph_error(
        400,
        "Invalid parameter",
        code=100,
        subcode=subcode,
        user_title=f"Invalid {field}",
        user_msg=f"{field} {problem}",
        blame=field,
    )


def nonexistent_object(
    object_id: str, *, method: str = "post", field: str | None = None
) -> SimulatorError:
    """Graph's subcode-33 error: the id is unknown, deleted, or not visible to the caller."""
    return graph_error(
        400,
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        code=100,
        error_type="GraphMethodException",
        subcode=Subcode.NONEXISTENT_OBJECT,
        user_msg=f"{field} {object_id} does not exist" if field else None,
        blame=field,
    )


def render_graph_fault(
    status: int, retry_after: float | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """An injected failure, shaped as Graph would send it (429 = ads-management throttling)."""
    headers: dict[str, str] = {}
    if status == 429:
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        error = graph_error(
            status,
            "There have been too many calls to this ad-account. Wait a bit and try again. For "
            "more info, please refer to "
            "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
            code=80004,
            is_transient=True,
            headers=headers,
        )
    elif status >= 500:
        error = graph_error(
            status,
            "An unexpected error has occurred. Please retry your request later.",
            code=2,
            is_transient=True,
        )
    elif status in (401, 403):
        code, message = (
            (190, "Invalid OAuth access token.")
            if status == 401
            else (
                200,
                "(#200) Permissions error",
            )
        )
        error = graph_error(status, message, code=code)
    else:
        error = graph_error(status, "Invalid parameter", code=100, user_msg="injected fault")
    return error.body, error.headers
