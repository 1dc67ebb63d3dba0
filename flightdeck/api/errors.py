"""One error shape for the whole API: `{"error": <type>, "detail": ...}`, from one set of
handlers installed on the app, and declared in the OpenAPI document (`ERROR_RESPONSES`).

- `ApiError` is what routes raise for an expected failure (not found, conflict, forbidden …).
- Failures that come back from Temporal (an update's validator, a workflow's result) carry a
  `flightdeck.failures.Failure` type; `FAILURE_STATUS` maps each to one HTTP status.
- Temporal or Postgres unreachable → 503 with `Retry-After`; anything unexpected → 500, JSON,
  with no internals in the body.

Validation errors name the field path in the request's own (camelCase) vocabulary, e.g.
`adSets.0.dailyBudget`, and never echo secrets.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from flightdeck.db.repositories.pagination import InvalidCursor
from flightdeck.db.unavailable import database_down, why_down
from flightdeck.failures import Failure, failure_message, failure_type
from flightdeck.temporal import temporal_unreachable

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class ErrorBody(BaseModel):
    error: str
    detail: Any


class ApiError(Exception):
    """Raised by routes for an expected failure (not found, conflict, unavailable …)."""

    def __init__(
        self, status_code: int, error: str, detail: Any, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error
        self.detail = detail
        self.headers = headers


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def field_error(field: str, message: str, status_code: int = 422) -> ApiError:
    """A validation error about one request field (`field` spelled as the client sent it)."""
    return ApiError(status_code, "validation_error", [{"field": field, "message": message}])


def invalid_json(document: str | bytes, position: int, problem: str) -> ApiError:
    """400: the body is not JSON, saying what is wrong and where (line, column, character)."""
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    where = f"line {line}, column {column} (character {position})"
    message = f"the body is not valid JSON: {problem} at {where}"
    detail = {"field": "body", "message": message, "line": line, "column": column, "char": position}
    return ApiError(400, "invalid_json", [detail])


def unavailable(service: str, detail: str) -> ApiError:
    return ApiError(
        503, f"{service}_unavailable", detail, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


# Failure type (from a workflow, activity or update validator) → HTTP status and error code.
FAILURE_STATUS: dict[str, tuple[int, str]] = {
    Failure.STALE: (409, "stale_request"),
    Failure.INVALID_REQUEST: (422, "invalid_request"),
    Failure.FORBIDDEN: (403, "forbidden"),
    Failure.NOT_FOUND: (404, "not_found"),
    Failure.INVALID_STATE: (409, "conflict"),
    Failure.REAUTH_REQUIRED: (409, "reauth_required"),
    Failure.PLATFORM_REJECTED: (422, "platform_rejected"),
    Failure.RATE_LIMITED: (503, "rate_limited"),
    Failure.PLATFORM_UNAVAILABLE: (503, "platform_unavailable"),
}


def from_failure(err: BaseException, default: tuple[int, str] = (409, "rejected")) -> ApiError:
    """The API's answer for a failure Temporal handed back (e.g. an update's validator)."""
    status, code = FAILURE_STATUS.get(failure_type(err) or "", default)
    return ApiError(status, code, failure_message(err))


def _described(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _described("Malformed request body (e.g. invalid JSON), naming the problem"),
    401: _described("Missing or invalid API key"),
    403: _described("The API key's role may not do this"),
    404: _described("Not found (or owned by another tenant)"),
    409: _described("Conflicts with the current state (e.g. a stale resolution)"),
    413: _described("Request body too large"),
    422: _described("Validation error naming the field path"),
    500: _described("Unexpected error (details are in the server log, never in the body)"),
    503: _described("Temporal, Postgres or the platform unavailable; see Retry-After"),
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    return ".".join(parts)


def _message(error: Any) -> str:
    """Pydantic's message without its "Value error, " prefix (the rule's own words stay)."""
    message = str(error.get("msg", ""))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def validation_detail(errors: list[Any]) -> list[dict[str, str]]:
    """`{field, message}` per error; `field` is the path as the client wrote it, dotted
    (`campaigns.0.adGroups.1.bidAmount`), or `body` for a rule about the whole body."""
    return [{"field": _field_path(tuple(e.get("loc", ()))), "message": _message(e)} for e in errors]


def _json(status_code: int, error: str, detail: Any, headers: dict[str, str] | None = None) -> Any:
    body = ErrorBody(error=error, detail=detail).model_dump()
    return JSONResponse(body, status_code=status_code, headers=headers)


def _allowed_methods(app: FastAPI, scope: Any) -> list[str]:
    """Every method some route serves at this path (Starlette's own 405 names only the first
    route's, and FastAPI makes one route per method)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**scope, "method": "GET"})
        route_methods = getattr(route, "methods", None)
        if match != Match.NONE and route_methods:
            methods |= set(route_methods)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status_code, exc.error, exc.detail, exc.headers)

    @app.exception_handler(InvalidCursor)
    async def _invalid_cursor(_: Request, exc: InvalidCursor) -> JSONResponse:
        message = "is not a nextCursor this list returned"
        return _json(422, "validation_error", [{"field": "cursor", "message": message}])

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        broken = [e for e in errors if e.get("type") == "json_invalid"]
        if broken:
            reason = (broken[0].get("ctx") or {}).get("error") or broken[0].get("msg")
            loc = tuple(broken[0].get("loc", ()))
            position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
            err = invalid_json(exc.body if isinstance(exc.body, str | bytes) else "", position,
                               str(reason))  # fmt: skip
            return _json(err.status_code, err.error, err.detail)
        return _json(422, "validation_error", validation_detail(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI's "There was an error parsing the body": a JSON body that is not UTF-8.
            cause = exc.__cause__
            problem = f"byte 0x{cause.object[cause.start]:02x} is not UTF-8 text"
            before = bytes(cause.object[: cause.start]).decode("utf-8", "replace")
            err = invalid_json(before, len(before), problem)
            return _json(err.status_code, err.error, err.detail)
        error = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(app, request.scope))
        return _json(exc.status_code, error, exc.detail, headers or None)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _update_rejected(_: Request, exc: WorkflowUpdateFailedError) -> JSONResponse:
        err = from_failure(exc)
        return _json(err.status_code, err.error, err.detail)

    @app.exception_handler(RPCError)
    async def _temporal(_: Request, exc: RPCError) -> JSONResponse:
        if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
            return _json(404, "not_found", "the workflow run was not found")
        logger.warning("Temporal unreachable: %s", getattr(exc, "status", type(exc).__name__))
        err = unavailable("temporal", "Temporal is unreachable; nothing was changed, retry")
        return _json(err.status_code, err.error, err.detail, err.headers)

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if not database_down(exc):
            return await _unexpected(request, exc)
        logger.warning("Postgres unreachable on %s: %s", request.url.path, why_down(exc))
        err = unavailable("database", "the database is unreachable; retry")
        return _json(err.status_code, err.error, err.detail, err.headers)

    # Registered per class (not only under `Exception`) so they answer without re-raising.
    for database_error in (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError):
        app.add_exception_handler(database_error, _database)  # type: ignore[arg-type]

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if temporal_unreachable(exc):
            return await _temporal(request, exc)  # type: ignore[arg-type]
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return _json(500, "internal_error", "unexpected error; it has been logged")
