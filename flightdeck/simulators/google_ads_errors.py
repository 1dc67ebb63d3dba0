"""Google Ads API error bodies (google-ads-api.md §5): the Google REST error model with a
`GoogleAdsFailure` in `details`, every error an `errorCode` oneof plus its location:

    HTTP 400 {"error": {"code": 400, "message": "…", "status": "INVALID_ARGUMENT", "details": [
      {"@type": "type.googleapis.com/google.ads.googleads.v25.errors.GoogleAdsFailure",
       "errors": [{"errorCode": {"campaignError": "DUPLICATE_CAMPAIGN_NAME"}, "message": "…",
                   "trigger": {"stringValue": "…"}, "location": {"fieldPathElements": [
                     {"fieldName": "operations", "index": 0}, {"fieldName": "create"},
                     {"fieldName": "name"}]}}],
       "requestId": "…"}]}}

Location field names are proto (snake_case) names. Quota errors carry
`details.quotaErrorDetails {rateScope, rateName, retryDelay}` (a Duration, "10s").
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flightdeck.simulators.routing import SimulatorError

FAILURE_TYPE = "type.googleapis.com/google.ads.googleads.v25.errors.GoogleAdsFailure"
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_RETRY_DELAY = 10.0  # what the official example waits first


def request_id() -> str:
    return secrets.token_urlsafe(16)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass
class AdsError:
    """One `GoogleAdsError`: `family` is the errorCode oneof key (`campaignError`), `code` its
    enum value; `path` the field path inside the operation (camelCase, converted on output)."""

    family: str
    code: str
    message: str
    path: Sequence[str] = ()
    trigger: str | None = None
    operation: int | None = None
    operation_prefix: Sequence[str] = ()
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self, operations_field: str = "operations") -> dict[str, Any]:
        body: dict[str, Any] = {"errorCode": {self.family: self.code}, "message": self.message}
        if self.trigger is not None:
            body["trigger"] = {"stringValue": self.trigger}
        elements: list[dict[str, Any]] = []
        if self.operation is not None:
            elements.append({"fieldName": operations_field, "index": self.operation})
        for name in (*self.operation_prefix, *self.path):
            if name.isdigit() and elements:
                elements[-1]["index"] = int(name)
            else:
                elements.append({"fieldName": snake(name)})
        if elements:
            body["location"] = {"fieldPathElements": elements}
        if self.details:
            body["details"] = self.details
        return body


def failure(errors: Sequence[AdsError], operations_field: str, rid: str) -> dict[str, Any]:
    return {
        "@type": FAILURE_TYPE,
        "errors": [error.to_json(operations_field) for error in errors],
        "requestId": rid,
    }


def ads_error_response(
    status: int,
    errors: Sequence[AdsError],
    *,
    operations_field: str = "operations",
    message: str | None = None,
    headers: dict[str, str] | None = None,
) -> SimulatorError:
    rid = request_id()
    text = message or _message(status, errors)
    body = {
        "error": {
            "code": status,
            "message": text,
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
            "details": [failure(errors, operations_field, rid)],
        }
    }
    return SimulatorError(status, body, {"request-id": rid, **(headers or {})})


def plain_error(status: int, message: str) -> SimulatorError:
    """A Google RPC error without a GoogleAdsFailure (not routed to Google Ads at all)."""
    body = {
        "error": {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
    }
    return SimulatorError(status, body)


def single(status: int, family: str, code: str, message: str, **kwargs: Any) -> SimulatorError:
    return ads_error_response(status, [AdsError(family, code, message, **kwargs)])


def quota_error(
    code: str, message: str, *, scope: str, rate_name: str, retry_delay: float | None
) -> SimulatorError:
    details: dict[str, Any] = {"rateScope": scope, "rateName": rate_name}
    if retry_delay is not None:
        details["retryDelay"] = (
            f"{int(retry_delay) if retry_delay == int(retry_delay) else retry_delay}s"
        )
    error = AdsError("quotaError", code, message, details={"quotaErrorDetails": details})
    return ads_error_response(429, [error])


def _message(status: int, errors: Sequence[AdsError]) -> str:
    if status == 400:
        return "Request contains an invalid argument."
    return errors[0].message if errors else "Error"


def render_google_fault(
    status: int, retry_after: float | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """An injected failure as Google Ads would send it (google-ads-api.md §6 "Faults")."""
    error: SimulatorError
    if status == 429:
        error = quota_error(
            "RESOURCE_TEMPORARILY_EXHAUSTED",
            "Too many requests. Retry in the time given.",
            scope="ACCOUNT",
            rate_name="Operations per minute per customer (simulated fault)",
            retry_delay=retry_after if retry_after is not None else DEFAULT_RETRY_DELAY,
        )
    elif status == 401:
        error = single(
            401,
            "authenticationError",
            "OAUTH_TOKEN_EXPIRED",
            "Authentication of the request failed.",
        )
    elif status == 403:
        error = single(
            403,
            "authorizationError",
            "USER_PERMISSION_DENIED",
            "User doesn't have permission to access customer.",
        )
    elif status == 409:
        error = single(
            409,
            "databaseError",
            "CONCURRENT_MODIFICATION",
            "Multiple requests were attempting to modify the same resource at once.",
        )
    elif status == 500:
        error = single(
            500,
            "internalError",
            "TRANSIENT_ERROR",
            "The request failed due to a transient error; retry.",
        )
    elif status == 504:
        error = single(
            504, "internalError", "DEADLINE_EXCEEDED", "The request took too long to respond."
        )
    elif status in (502, 503):
        error = plain_error(status, "The service is currently unavailable.")
    else:
        error = single(status, "requestError", "UNKNOWN", "Simulated failure.")
    return error.body, error.headers
