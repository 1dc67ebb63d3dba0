"""Meta Graph errors, classified once (meta-marketing-api.md §4), on the hierarchy of
`platforms/errors.py`:

    RateLimitedError       HTTP 400 (Graph throttles with 400, not 429) with code 4, 17, 32,
                           613 or 80000-80008, or an HTTP 429: retry after the delay the usage
                           headers imply (`usage_retry_after`)
    MetaReauthRequired     code 190 (any subcode: 458, 459, 460, 463 expired, 467 invalid):
                           the connection must be made again; never retried
    MetaValidationError    code 100: the request is wrong; `blame_fields` are Graph's
                           `blame_field_specs`, as dotted paths into what we sent
    RetryableError         codes 1/2, `is_transient`, HTTP 5xx, subcode 1487390
    NonRetryableError      the rest (10, 200-299 permissions, 194, 2635 …)

`is_ambiguous(error)` tells whether a failed create may nevertheless have happened: a transport
error after the request left, or a 5xx (Graph documents none of them as "not applied"). Only
then may a retry look the object up before creating it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    PlatformError,
    RateLimitedError,
    RetryableError,
)
from flightdeck.platforms.meta_usage import usage_retry_after

PLATFORM = "meta"
# 80007 is not in the public lists (Airbyte retries 80000-80006 and 80008); the brief's range
# includes it and a throttling code is safest treated as throttling: UNCONFIRMED.
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80009)})
TRANSIENT_CODES = frozenset({1, 2})
RETRYABLE_SUBCODES = frozenset({1487390})  # "AdCreative Create Failed": flaky, retried
AUTH_CODE = 190
VALIDATION_CODE = 100


class MetaReauthRequired(AuthExpiredError):
    """Meta refused the access token (code 190): expired, invalidated or revoked. Someone must
    connect the Meta account again; retrying cannot help."""


class MetaValidationError(NonRetryableError):
    """Graph refused a parameter (code 100); `blame_fields` name the offending paths."""

    @property
    def blame_fields(self) -> list[str]:
        fields: list[str] = self.details.get("blame_fields", [])
        return fields


def classify_meta_error(
    status_code: int, body: Any, headers: Mapping[str, str], *, request: str | None = None
) -> PlatformError:
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    details = {k: v for k, v in error.items() if k not in ("message", "code", "error_data")}
    blame = blame_fields(error.get("error_data"))
    if blame:
        details["blame_fields"] = blame
    fields: dict[str, Any] = {
        "platform": PLATFORM,
        "status_code": status_code,
        "code": code,
        "subcode": subcode,
        "details": details,
        "request": request,
    }
    message = _message(error, body, status_code)
    if status_code == 429 or code in THROTTLE_CODES:
        return RateLimitedError(message, retry_after=usage_retry_after(headers), **fields)
    if code == AUTH_CODE:
        return MetaReauthRequired(f"{message}; reconnect the Meta account", **fields)
    if code == VALIDATION_CODE and status_code < 500 and subcode not in RETRYABLE_SUBCODES:
        return MetaValidationError(message, **fields)
    if (
        code in TRANSIENT_CODES
        or error.get("is_transient") is True
        or status_code >= 500
        or subcode in RETRYABLE_SUBCODES
    ):
        return RetryableError(message, **fields)
    return NonRetryableError(message, **fields)


def is_ambiguous(error: PlatformError) -> bool:
    """Whether the request may have been applied although it failed (see the module doc)."""
    if isinstance(error, RateLimitedError) or not isinstance(error, RetryableError):
        return False
    if error.status_code is None:
        return not error.details.get("outcome_known", False)
    return error.status_code >= 500


def blame_fields(error_data: Any) -> list[str]:
    """`error_data.blame_field_specs` (a JSON string in Graph's answers) as dotted paths."""
    if isinstance(error_data, str):
        try:
            error_data = json.loads(error_data)
        except ValueError:
            return []
    specs = error_data.get("blame_field_specs") if isinstance(error_data, dict) else None
    if not isinstance(specs, list):
        return []
    paths = []
    for spec in specs:
        parts = spec if isinstance(spec, list) else [spec]
        paths.append(".".join(str(p) for p in parts))
    return paths


def _message(error: Mapping[str, Any], body: Any, status_code: int) -> str:
    message = error.get("message")
    user_msg = error.get("error_user_msg")
    if isinstance(message, str) and message:
        if isinstance(user_msg, str) and user_msg and user_msg not in message:
            return f"{message}: {user_msg}"
        return message
    text = body if isinstance(body, str) else json.dumps(body, default=str)
    return text[:500] if body not in (None, "") else f"HTTP {status_code}"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
