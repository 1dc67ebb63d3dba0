"""Classification of Reddit's error answers and parsing of its IETF rate-limit headers."""

from __future__ import annotations

from typing import Any

import pytest

from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    PlatformError,
    RateLimitedError,
    RefreshTokenInvalid,
    RetryableError,
    classify_reddit_error,
    classify_reddit_oauth_error,
    parse_ratelimit_headers,
    ratelimit_retry_after,
)

SPEC_EXAMPLE = {
    "RateLimit-Policy": '"custom-audience-ingestion";q=3000;w=900,'
    '"custom-audience-ingestion-burst";q=500;w=60',
    "RateLimit": '"custom-audience-ingestion";r=0;t=42,"custom-audience-ingestion-burst";r=0;t=5',
}


def test_parses_the_specs_example() -> None:
    policies = parse_ratelimit_headers(SPEC_EXAMPLE)
    assert set(policies) == {"custom-audience-ingestion", "custom-audience-ingestion-burst"}
    main = policies["custom-audience-ingestion"]
    assert (main.quota, main.window, main.remaining, main.reset) == (3000, 900, 0, 42)
    assert ratelimit_retry_after(SPEC_EXAMPLE) == 42, "wait for the latest exhausted policy"


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"ratelimit": '"a";r=0;t=9, "b";r=5;t=50'}, 9),  # only exhausted policies count
        ({"RateLimit": '"a";r=3;t=9, "b";r=5;t=50'}, 50),  # none exhausted: the latest reset
        ({"RateLimit": "default;r=0;t=7"}, 7),  # a token instead of a quoted name
        ({"RateLimit-Remaining": "0", "RateLimit-Reset": "12"}, 12),  # the older draft
        ({"Retry-After": "3"}, 3),
        ({"RateLimit": "garbage", "Retry-After": "2"}, 2),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], retry_after: float | None) -> None:
    assert ratelimit_retry_after(headers) == retry_after


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, **extra}}


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, NonRetryableError),
        (401, AuthExpiredError),
        (403, NonRetryableError),
        (404, NonRetryableError),
        (408, RetryableError),
        (410, NonRetryableError),
        (429, RateLimitedError),
        (500, RetryableError),
        (503, RetryableError),
    ],
)
def test_reddit_statuses(status: int, kind: type[PlatformError]) -> None:
    error = classify_reddit_error(status, error_body(status, "x"), {}, request="GET /me")
    assert type(error) is kind and error.status_code == status and error.code == status


def test_400_names_every_field() -> None:
    body = error_body(
        400,
        "Bad Request",
        fields=[
            {"field": "data/name", "message": "'ab' is too short"},
            {"field": "data/goal_value", "message": "is required"},
        ],
    )
    error = classify_reddit_error(400, body, {}, request="POST /ad_accounts/a2_1/ad_groups")
    assert error.message == (
        "Bad Request: data/name: 'ab' is too short; data/goal_value: is required"
    )
    assert error.details["fields"][1]["field"] == "data/goal_value"


def test_429_takes_its_wait_from_the_ratelimit_header() -> None:
    error = classify_reddit_error(429, error_body(429, "Too Many Requests"), SPEC_EXAMPLE)
    assert isinstance(error, RateLimitedError) and error.retry_after == 42


def test_bodies_that_are_not_reddits() -> None:
    assert classify_reddit_error(502, "<html>bad gateway</html>", {}).message.startswith("<html>")
    assert classify_reddit_error(500, None, {}).message == "HTTP 500"


@pytest.mark.parametrize(
    ("status", "body", "refreshing", "kind"),
    [
        (400, {"error": "invalid_grant"}, True, RefreshTokenInvalid),
        (401, {"error": "invalid_grant"}, True, RefreshTokenInvalid),
        (400, {"error": "invalid_grant"}, False, AuthExpiredError),
        (401, {"message": "Unauthorized", "error": 401}, True, NonRetryableError),
        (400, {"error": "unsupported_grant_type"}, False, NonRetryableError),
        (429, {"error": 429}, True, RateLimitedError),
        (503, "down", True, RetryableError),
    ],
)
def test_token_endpoint_answers(
    status: int, body: Any, refreshing: bool, kind: type[PlatformError]
) -> None:
    error = classify_reddit_oauth_error(status, body, {}, refreshing=refreshing)
    assert type(error) is kind and error.platform == "reddit"
