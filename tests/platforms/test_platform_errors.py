"""Error classification: the Graph and Strategis rules, Retry-After parsing, transport errors."""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    PlatformError,
    RateLimitedError,
    RetryableError,
    classify_graph_error,
    classify_strategis_error,
    classify_transport_error,
    parse_retry_after,
)


def graph_body(code: int | None = None, **fields: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": "boom", "type": "OAuthException", **fields}
    if code is not None:
        error["code"] = code
    return {"error": error}


GRAPH_CASES = [
    # (HTTP status, body, expected class)
    (500, graph_body(2, is_transient=True), RetryableError),
    (400, graph_body(1), RetryableError),
    (400, graph_body(2), RetryableError),
    (400, graph_body(100, is_transient=True), RetryableError),
    (503, "<html>Service Unavailable</html>", RetryableError),
    (502, None, RetryableError),
    (400, graph_body(100, error_subcode=1487390), RetryableError),
    *[(400, graph_body(code), RateLimitedError)
      for code in (4, 17, 32, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008)],
    (429, None, RateLimitedError),
    (429, graph_body(100), RateLimitedError),
    (400, graph_body(80007), NonRetryableError),
    (400, graph_body(190), AuthExpiredError),
    (401, graph_body(190, error_subcode=463), AuthExpiredError),
    (400, graph_body(100), NonRetryableError),
    (400, graph_body(100, error_subcode=33), NonRetryableError),
    (403, graph_body(10), NonRetryableError),
    (403, graph_body(200), NonRetryableError),
    (400, graph_body(294), NonRetryableError),
    (400, graph_body(194), NonRetryableError),
    (409, graph_body(100, type="RelayError"), NonRetryableError),
    (404, None, NonRetryableError),
    (200, graph_body(100), NonRetryableError),
]  # fmt: skip


@pytest.mark.parametrize(("status", "body", "expected"), GRAPH_CASES)
def test_graph_classification(status: int, body: Any, expected: type[PlatformError]) -> None:
    error = classify_graph_error(status, body, {})
    assert type(error) is expected
    assert error.platform == "facebook" and error.status_code == status


def test_graph_error_keeps_codes_details_and_the_field() -> None:
    body = graph_body(
        100,
        error_subcode=1885003,
        error_user_msg="daily_budget must be at least 100",
        error_data=json.dumps({"blame_field_specs": [["daily_budget"]]}),
        fbtrace_id="Abc",
    )
    error = classify_graph_error(400, body, {}, request="POST /api/facebook/adsets/create")
    assert (error.code, error.subcode) == (100, 1885003)
    assert error.message == "boom: daily_budget must be at least 100"
    assert error.details["fbtrace_id"] == "Abc"
    assert str(error) == (
        "facebook POST /api/facebook/adsets/create -> HTTP 400: "
        "boom: daily_budget must be at least 100 (code 100, subcode 1885003)"
    )


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"Retry-After": "30"}, 30.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"X-Business-Use-Case-Usage": json.dumps(
            {"123": [{"type": "ads_management", "call_count": 100,
                      "estimated_time_to_regain_access": 2}]})}, 120.0),
        ({"X-Ad-Account-Usage": json.dumps({"acc_id_util_pct": 100, "reset_time_duration": 90})},
         90.0),
        ({"Retry-After": "5", "X-Ad-Account-Usage": json.dumps({"reset_time_duration": 90})}, 5.0),
        ({"X-Business-Use-Case-Usage": json.dumps(
            {"123": [{"estimated_time_to_regain_access": 0}]})}, None),
        ({"X-Business-Use-Case-Usage": "not json"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_graph_retry_after_sources(headers: dict[str, str], retry_after: float | None) -> None:
    error = classify_graph_error(400, graph_body(80004), headers)
    assert isinstance(error, RateLimitedError) and error.retry_after == retry_after


STRATEGIS_CASES = [
    (429, RateLimitedError),
    (500, RetryableError),
    (502, RetryableError),
    (503, RetryableError),
    (504, RetryableError),
    (408, RetryableError),
    (401, NonRetryableError),  # a static API key cannot be refreshed: retrying cannot help
    (403, NonRetryableError),
    (400, NonRetryableError),
    (404, NonRetryableError),
    (409, NonRetryableError),
    (422, NonRetryableError),
]


@pytest.mark.parametrize(("status", "expected"), STRATEGIS_CASES)
def test_strategis_classification(status: int, expected: type[PlatformError]) -> None:
    body = {"error": "bad_request", "message": "name is required"}
    error = classify_strategis_error(status, body, {"Retry-After": "7"}, request="POST /api/x")
    assert type(error) is expected
    assert error.platform == "strategis" and error.status_code == status
    assert error.message == "name is required" and error.details == body
    assert str(error) == f"strategis POST /api/x -> HTTP {status}: name is required"
    if expected is RateLimitedError:
        assert isinstance(error, RateLimitedError) and error.retry_after == 7.0


def test_strategis_message_falls_back_to_the_body() -> None:
    assert classify_strategis_error(500, "upstream died", {}).message == "upstream died"
    assert classify_strategis_error(500, None, {}).message == "HTTP 500"
    assert classify_strategis_error(400, {"error": "bad"}, {}).message == "bad"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), ("1.5", 1.5), ("0", 0.0), ("-3", 0.0), ("soon", None), ("", None),
     ("inf", None), ("nan", None), (formatdate(0, usegmt=True), 0.0)],
)  # fmt: skip
def test_parse_retry_after(value: str, seconds: float | None) -> None:
    assert parse_retry_after({"Retry-After": value}) == seconds


def test_parse_retry_after_http_date_in_the_future() -> None:
    header = formatdate(time.time() + 60, usegmt=True)
    seconds = parse_retry_after(httpx.Headers({"retry-after": header}))
    assert seconds is not None and 55 <= seconds <= 60


def test_parse_retry_after_without_the_header() -> None:
    assert parse_retry_after({}) is None


def test_connection_failure_is_retryable_and_was_not_sent() -> None:
    error = classify_transport_error(httpx.ConnectError("refused"), "strategis", request="GET /a")
    assert isinstance(error, RetryableError) and error.details["outcome_known"] is True
    assert "not sent" in str(error) and error.status_code is None


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")])
def test_lost_connection_is_retryable_with_an_unknown_outcome(exc: httpx.TransportError) -> None:
    error = classify_transport_error(exc, "facebook", request="POST /api/facebook/ads/create")
    assert type(error) is RetryableError and error.details["outcome_known"] is False
    assert "outcome is unknown" in str(error) and "POST /api/facebook/ads/create" in str(error)


def test_redact_scrubs_a_secret_the_server_echoed() -> None:
    body = {"error": "unauthorized", "message": "key sk-abc is revoked", "key": "sk-abc"}
    error = classify_strategis_error(401, body, {})
    error.redact("sk-abc")
    assert "sk-abc" not in str(error) and "sk-abc" not in repr(error)
    assert "sk-abc" not in json.dumps(error.details)
