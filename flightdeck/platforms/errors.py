"""Platform errors, classified once for every caller (activities turn them into Temporal
retry decisions in `activities/errors.py`).

    PlatformError                  any failed platform call
     ├── RetryableError            try again: 5xx, timeouts, transient Graph codes
     │    └── RateLimitedError     try again after `retry_after` seconds (when known)
     ├── NonRetryableError         the same request will fail again: validation, permission
     └── AuthExpiredError          the platform refused the credentials (Graph code 190)

Every error carries `platform`, `status_code`, `message` (the platform's own words), `code`,
`subcode` and `details` (the rest of the error body). `str(error)` adds the method, path and
status. Neither ever holds a credential: clients send them in headers, which no error reads.

A transport error (timeout, dropped connection) is retryable, but the outcome of the request
is unknown: a create may have happened. Callers retry creates only where the platform dedups
(the relay's clientRequestKey) or after looking the object up (Strategis, by name).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

# Graph codes (../shared/platforms/meta-marketing-api.md §4).
GRAPH_TRANSIENT_CODES = frozenset({1, 2})
GRAPH_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80007), 80008})
GRAPH_AUTH_CODE = 190
GRAPH_RETRYABLE_SUBCODES = frozenset({1487390})  # "AdCreative Create Failed": flaky, retried


class PlatformError(Exception):
    """A failed call to an external platform."""

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        status_code: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        details: Mapping[str, Any] | None = None,
        request: str | None = None,
    ) -> None:
        self.platform = platform
        self.status_code = status_code
        self.message = message
        self.code = code
        self.subcode = subcode
        self.details: dict[str, Any] = dict(details or {})
        self.request = request
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f" {self.request}" if self.request else ""
        status = f" -> HTTP {self.status_code}" if self.status_code is not None else ""
        codes = [f"code {self.code}"] if self.code is not None else []
        codes += [f"subcode {self.subcode}"] if self.subcode is not None else []
        suffix = f" ({', '.join(codes)})" if codes else ""
        return f"{self.platform}{where}{status}: {self.message}{suffix}"

    def redact(self, secret: str) -> None:
        """Scrub `secret` from everything the error shows, in case a server echoed it back."""
        if not secret:
            return
        self.message = self.message.replace(secret, "[redacted]")
        self.details = json.loads(
            json.dumps(self.details, default=str).replace(secret, "[redacted]")
        )
        self.args = (self._describe(),)


class RetryableError(PlatformError):
    """The call may succeed if repeated (server error, timeout, transient flag)."""


class RateLimitedError(RetryableError):
    """The platform throttled the caller; `retry_after` is the wait it asked for, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        retry_after: float | None = None,
        status_code: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        details: Mapping[str, Any] | None = None,
        request: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            message,
            platform=platform,
            status_code=status_code,
            code=code,
            subcode=subcode,
            details=details,
            request=request,
        )


class NonRetryableError(PlatformError):
    """Repeating the same call fails the same way (invalid field, permission, conflict)."""


class AuthExpiredError(PlatformError):
    """The platform refused the credentials; someone must reconnect the account."""


# -- Retry-After -------------------------------------------------------------------------------


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that also works on plain dicts."""
    if isinstance(headers, httpx.Headers):
        return headers.get(name)
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` in seconds: delta-seconds (decimals allowed) or an HTTP-date."""
    value = _header(headers, "Retry-After")
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    value = _header(headers, name)
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def _graph_retry_after(headers: Mapping[str, str]) -> float | None:
    """Retry-After, else Graph's usage headers: BUC regain time (minutes), ad-account reset."""
    seconds = parse_retry_after(headers)
    if seconds is not None:
        return seconds
    buc = _json_header(headers, "X-Business-Use-Case-Usage")
    if isinstance(buc, dict):
        minutes = [
            entry.get("estimated_time_to_regain_access")
            for entries in buc.values()
            if isinstance(entries, list)
            for entry in entries
            if isinstance(entry, dict)
        ]
        waits = [float(m) for m in minutes if isinstance(m, int | float) and m > 0]
        if waits:
            return max(waits) * 60
    account = _json_header(headers, "X-Ad-Account-Usage")
    if isinstance(account, dict):
        reset = account.get("reset_time_duration")
        if isinstance(reset, int | float) and reset > 0:
            return float(reset)
    return None


# -- classifiers -------------------------------------------------------------------------------


def classify_graph_error(
    status_code: int,
    body: Any,
    headers: Mapping[str, str],
    platform: str = "facebook",
    *,
    request: str | None = None,
) -> PlatformError:
    """Classify a Graph (or Graph-shaped relay) error response.

    Rate limited: HTTP 429 or codes 4, 17, 32, 613, 80000-80006, 80008 (Graph throttles with
    HTTP 400). Auth expired: code 190. Retryable: codes 1 and 2, `is_transient`, HTTP 5xx,
    subcode 1487390. Everything else (100, 10, 200-299, 194, other 4xx) is non-retryable.
    """
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    fields: dict[str, Any] = {
        "platform": platform,
        "status_code": status_code,
        "code": code,
        "subcode": subcode,
        "details": {k: v for k, v in error.items() if k not in ("message", "code")},
        "request": request,
    }
    message = _graph_message(error, body)
    if status_code == 429 or code in GRAPH_RATE_LIMIT_CODES:
        return RateLimitedError(message, retry_after=_graph_retry_after(headers), **fields)
    if code == GRAPH_AUTH_CODE:
        return AuthExpiredError(message, **fields)
    if (
        code in GRAPH_TRANSIENT_CODES
        or error.get("is_transient") is True
        or status_code >= 500
        or subcode in GRAPH_RETRYABLE_SUBCODES
    ):
        return RetryableError(message, **fields)
    return NonRetryableError(message, **fields)


def classify_strategis_error(
    status_code: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    request: str | None = None,
) -> PlatformError:
    """Classify a Strategis API error response.

    429 is rate limited (Retry-After honoured); 5xx and 408 are retryable. 401/403 are
    NON-retryable rather than auth-expired: the API key is static configuration, so nothing
    can refresh it and retrying would only repeat the refusal. Other 4xx are non-retryable
    (409 included: the caller decides whether to adopt the existing object).
    """
    details = body if isinstance(body, dict) else {"body": str(body)[:500]}
    message = _strategis_message(body, status_code)
    fields: dict[str, Any] = {
        "platform": "strategis",
        "status_code": status_code,
        "details": details,
        "request": request,
    }
    if status_code == 429:
        return RateLimitedError(message, retry_after=parse_retry_after(headers), **fields)
    if status_code >= 500 or status_code == 408:
        return RetryableError(message, **fields)
    return NonRetryableError(message, **fields)


def classify_transport_error(
    exc: httpx.TransportError, platform: str, *, request: str | None = None
) -> RetryableError:
    """Timeouts and connection failures are retryable; whether the request was applied is
    unknown unless the connection was never made."""
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
    outcome = (
        "the request was not sent"
        if never_sent
        else "the outcome is unknown: the request (a create, say) may have been applied"
    )
    return RetryableError(
        f"{type(exc).__name__}: {exc or 'no detail'}; {outcome}",
        platform=platform,
        details={"transport_error": type(exc).__name__, "outcome_known": never_sent},
        request=request,
    )


def _graph_message(error: Mapping[str, Any], body: Any) -> str:
    """Graph's message, plus the user message that names the offending field."""
    message = error.get("message")
    if not isinstance(message, str) or not message:
        return _snippet(body)
    user_msg = error.get("error_user_msg")
    if isinstance(user_msg, str) and user_msg and user_msg not in message:
        return f"{message}: {user_msg}"
    return message


def _strategis_message(body: Any, status_code: int) -> str:
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    return _snippet(body) if body not in (None, "") else f"HTTP {status_code}"


def _snippet(body: Any) -> str:
    text = body if isinstance(body, str) else json.dumps(body, default=str)
    return text[:500]


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# -- Reddit Ads API ----------------------------------------------------------------------------
# Reddit's error body is `{"error": {"code", "message", "fields": [{field, message}]}}` (fields
# on 400 only) and its 429 says when to come back in the IETF `RateLimit` header, not in
# Retry-After (../shared/platforms/reddit-ads-api.md §4-5). Its OAuth endpoints answer in
# OAuth's own shape, `{"error": "invalid_grant"}`.


class RefreshTokenInvalid(AuthExpiredError):
    """Reddit refused the refresh token (`invalid_grant`: used, revoked or expired). Only a
    new consent, with a new authorization code, can reconnect the account."""


@dataclass(frozen=True)
class RateLimitPolicyState:
    """One policy of the IETF `RateLimit-Policy` / `RateLimit` headers: `quota` requests per
    `window` seconds, `remaining` of them for `reset` more seconds (None where not sent)."""

    policy: str
    quota: int | None = None
    window: float | None = None
    remaining: int | None = None
    reset: float | None = None


# One item of a structured-field list: a quoted name or a token, then `;key=value` parameters.
_SF_ITEM = re.compile(
    r'\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<token>[A-Za-z*][\w:/.*+-]*))'
    r'(?P<params>(?:\s*;\s*[a-z*][a-z0-9_.*-]*(?:=(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)\s*(?:,|$)'
)
_SF_PARAM = re.compile(r';\s*([a-z*][a-z0-9_.*-]*)(?:=("(?:[^"\\]|\\.)*"|[^;,\s]*))?')


def parse_ratelimit_headers(headers: Mapping[str, str]) -> dict[str, RateLimitPolicyState]:
    """The policies in `RateLimit-Policy: "p";q=200;w=60` and `RateLimit: "p";r=0;t=42`,
    by name. The older draft's single-policy `RateLimit-Limit/-Remaining/-Reset` headers are
    read too, as policy `"default"`. Unparseable parts are skipped, never raised."""
    states: dict[str, dict[str, float]] = {}
    for name in ("RateLimit-Policy", "RateLimit"):
        for policy, params in _structured_list(_header(headers, name) or ""):
            states.setdefault(policy, {}).update(params)
    legacy = {
        key: _number(_header(headers, f"RateLimit-{header}"))
        for key, header in (("q", "Limit"), ("r", "Remaining"), ("t", "Reset"))
    }
    if not states and any(value is not None for value in legacy.values()):
        states["default"] = {k: v for k, v in legacy.items() if v is not None}
    return {
        policy: RateLimitPolicyState(
            policy,
            quota=_whole(params.get("q")),
            window=params.get("w"),
            remaining=_whole(params.get("r")),
            reset=params.get("t"),
        )
        for policy, params in states.items()
    }


def ratelimit_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds until the caller may try again: the latest reset among exhausted policies
    (all policies when none says r=0), else Retry-After, else None."""
    policies = list(parse_ratelimit_headers(headers).values())
    exhausted = [p for p in policies if p.remaining == 0] or policies
    resets = [p.reset for p in exhausted if p.reset is not None]
    return max(resets) if resets else parse_retry_after(headers)


def classify_reddit_error(
    status_code: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    request: str | None = None,
) -> PlatformError:
    """Classify a Reddit Ads API error response.

    429 is rate limited, waiting for the exhausted policy's reset (`RateLimit: …;t=`). 5xx
    and 408 are retryable. 401 is auth-expired (the caller refreshes the token once and
    retries). 400 validation, 403 scope or permission, 404 (also a wrong verb) and the other
    4xx are non-retryable; a 400's message names every failing field.
    """
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    fields: dict[str, Any] = {
        "platform": "reddit",
        "status_code": status_code,
        "code": _int(error.get("code")),
        "details": {k: v for k, v in error.items() if k not in ("code", "message")},
        "request": request,
    }
    message = _reddit_message(error, body, status_code)
    if status_code == 429:
        return RateLimitedError(message, retry_after=ratelimit_retry_after(headers), **fields)
    if status_code >= 500 or status_code == 408:
        return RetryableError(message, **fields)
    if status_code == 401:
        return AuthExpiredError(message, **fields)
    return NonRetryableError(message, **fields)


def classify_reddit_oauth_error(
    status_code: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    refreshing: bool,
    request: str | None = None,
) -> PlatformError:
    """Classify an answer of Reddit's token endpoint (`{"error": "invalid_grant"}`).

    `invalid_grant` while refreshing is `RefreshTokenInvalid`; for a code exchange it is
    auth-expired (the code was used or expired: the user must consent again). A refused
    client (401, `invalid_client`) or request is non-retryable configuration; 429 and 5xx
    are retryable.
    """
    error = body.get("error") if isinstance(body, dict) else None
    fields: dict[str, Any] = {
        "platform": "reddit",
        "status_code": status_code,
        "details": body if isinstance(body, dict) else {"body": _snippet(body)},
        "request": request,
    }
    message = f"token endpoint: {error}" if isinstance(error, str) else f"HTTP {status_code}"
    if status_code == 429:
        return RateLimitedError(message, retry_after=ratelimit_retry_after(headers), **fields)
    if status_code >= 500 or status_code == 408:
        return RetryableError(message, **fields)
    if error == "invalid_grant":
        return (RefreshTokenInvalid if refreshing else AuthExpiredError)(message, **fields)
    return NonRetryableError(message, **fields)


def _reddit_message(error: Mapping[str, Any], body: Any, status_code: int) -> str:
    """Reddit's message, then each failing field: `Bad Request: data/name: 'ab' is too short`."""
    message = error.get("message")
    text = message if isinstance(message, str) and message else None
    entries = error.get("fields")
    problems = [
        f"{entry.get('field')}: {entry.get('message')}"
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    ]
    if problems:
        return f"{text or 'Bad Request'}: {'; '.join(problems)}"
    if text:
        return text
    return _snippet(body) if body not in (None, "", {}) else f"HTTP {status_code}"


def _structured_list(value: str) -> list[tuple[str, dict[str, float]]]:
    items = []
    for match in _SF_ITEM.finditer(value):
        name = match.group("quoted") if match.group("quoted") is not None else match["token"]
        if not name:
            continue
        params = {
            key: number
            for key, raw in _SF_PARAM.findall(match.group("params") or "")
            if (number := _number(raw.strip('"'))) is not None
        }
        items.append((name, params))
    return items


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _whole(value: float | None) -> int | None:
    return int(value) if value is not None else None
