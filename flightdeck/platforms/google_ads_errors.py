"""Google Ads API errors (google-ads-api.md §5), classified into the project's platform errors:

    quotaError RESOURCE_TEMPORARILY_EXHAUSTED (429)  RateLimitedError, after `retryDelay`
    quotaError RESOURCE_EXHAUSTED (daily cap)         DailyQuotaExhausted (a RateLimitedError
                                                      asking for an hour: the 24 h window slides)
    authenticationError / HTTP 401                    AuthExpiredError (refresh once, retry)
    internalError, databaseError CONCURRENT_MODIFICATION, HTTP 5xx / 409 ABORTED
                                                      RetryableError
    everything else (fieldError, stringLengthError, DUPLICATE_*_NAME, requestError,
    authorizationError …)                             NonRetryableError

Every classified error keeps Google's own errors in `details["errors"]` as
`{"code": "campaignError.DUPLICATE_CAMPAIGN_NAME", "message", "trigger", "location",
"operation"}` (`location` dotted from `fieldPathElements`, `operation` its index), and the
`requestId`. `error_codes(error)` is the set of codes.

Applied or not: a mutate answered with a Google Ads error envelope (4xx, 429, an auth error)
was not applied — a request is one transaction, rolled back whole. A 5xx, a lost response or a
dropped connection is **ambiguous**: the change may have been committed (`is_ambiguous`); a
create must then be looked up by its unique name before it is sent again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    PlatformError,
    RateLimitedError,
    RetryableError,
)

PLATFORM = "google"
FAILURE_SUFFIX = ".errors.GoogleAdsFailure"
RETRYABLE_CODES = frozenset(
    {
        "internalError.INTERNAL_ERROR",
        "internalError.TRANSIENT_ERROR",
        "internalError.DEADLINE_EXCEEDED",
        "databaseError.CONCURRENT_MODIFICATION",
        "quotaError.RESOURCE_TEMPORARILY_EXHAUSTED",
    }
)
DAILY_QUOTA_WAIT = 3600.0  # seconds: the daily cap is a sliding 24 h window


class DailyQuotaExhausted(RateLimitedError):
    """The Cloud project's daily operations for its access level are used up."""


def google_errors(body: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The GoogleAdsFailure errors of an error body (or a partialFailureError), flattened,
    and the request id."""
    error = body.get("error", body) if isinstance(body, dict) else {}
    details = error.get("details") if isinstance(error, dict) else None
    flat: list[dict[str, Any]] = []
    request_id = None
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict) or not str(detail.get("@type", "")).endswith(
            FAILURE_SUFFIX
        ):
            continue
        request_id = detail.get("requestId") or request_id
        for item in detail.get("errors") or []:
            if isinstance(item, dict):
                flat.append(_flatten(item))
    return flat, request_id


def _flatten(item: Mapping[str, Any]) -> dict[str, Any]:
    raw_code = item.get("errorCode")
    code_map: Mapping[str, Any] = raw_code if isinstance(raw_code, dict) else {}
    code = ".".join(f"{k}.{v}" for k, v in code_map.items()) or "unknown"
    elements = (item.get("location") or {}).get("fieldPathElements") or []
    operation = None
    parts: list[str] = []
    for element in elements:
        name = str(element.get("fieldName", ""))
        index = element.get("index")
        if name in ("operations", "mutate_operations") and index is not None and not parts:
            operation = int(index)
        parts.append(f"{name}[{index}]" if index is not None else name)
    entry: dict[str, Any] = {
        "code": code,
        "message": item.get("message", ""),
        "location": ".".join(parts) or None,
        "operation": operation,
    }
    trigger = item.get("trigger")
    if isinstance(trigger, dict) and trigger:
        entry["trigger"] = next(iter(trigger.values()))
    details = item.get("details")
    if isinstance(details, dict) and details:
        entry["details"] = details
    return entry


def error_codes(error: PlatformError) -> set[str]:
    return {str(e.get("code")) for e in error.details.get("errors", [])}


def classify_google_ads_error(
    status_code: int, body: Any, *, request: str | None = None
) -> PlatformError:
    errors, request_id = google_errors(body)
    envelope = body.get("error") if isinstance(body, dict) else None
    envelope = envelope if isinstance(envelope, dict) else {}
    status = envelope.get("status")
    codes = [e["code"] for e in errors]
    message = _message(envelope, errors, body, status_code)
    fields: dict[str, Any] = {
        "platform": PLATFORM,
        "status_code": status_code,
        "details": {"errors": errors, "requestId": request_id, "status": status},
        "request": request,
    }
    if "quotaError.RESOURCE_EXHAUSTED" in codes:
        return DailyQuotaExhausted(message, retry_after=DAILY_QUOTA_WAIT, **fields)
    if status_code == 429 or "quotaError.RESOURCE_TEMPORARILY_EXHAUSTED" in codes:
        return RateLimitedError(message, retry_after=_retry_delay(errors), **fields)
    if status_code == 401 or any(c.startswith("authenticationError.") for c in codes):
        return AuthExpiredError(message, **fields)
    if status_code >= 500 or status_code in (408, 409) or RETRYABLE_CODES.intersection(codes):
        return RetryableError(message, **fields)
    return NonRetryableError(message, **fields)


def is_ambiguous(error: PlatformError) -> bool:
    """Whether a failed mutate may nevertheless have been applied."""
    if isinstance(error, RateLimitedError) or not isinstance(error, RetryableError):
        return False
    if error.status_code is None:  # transport: unknown unless never sent
        return not error.details.get("outcome_known", False)
    if error.details.get("errors") and error.status_code < 500:
        return False  # CONCURRENT_MODIFICATION and the like: refused whole
    return error.status_code >= 500


def _retry_delay(errors: list[dict[str, Any]]) -> float | None:
    """`quotaErrorDetails.retryDelay`, a protobuf Duration ("10s", "1.5s")."""
    for entry in errors:
        quota = (entry.get("details") or {}).get("quotaErrorDetails") or {}
        delay = quota.get("retryDelay")
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                continue
    return None


def _message(
    envelope: Mapping[str, Any], errors: list[dict[str, Any]], body: Any, status_code: int
) -> str:
    if errors:
        described = [
            f"{e['code']}: {e['message']}" + (f" (at {e['location']})" if e["location"] else "")
            for e in errors[:5]
        ]
        more = f" … and {len(errors) - 5} more" if len(errors) > 5 else ""
        return "; ".join(described) + more
    text = envelope.get("message")
    if isinstance(text, str) and text:
        return text
    return f"HTTP {status_code}" if body in (None, "") else str(body)[:500]
