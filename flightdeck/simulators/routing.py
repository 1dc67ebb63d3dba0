"""HTTP plumbing shared by the simulated platforms: errors rendered in each platform's own
envelope, JSON body parsing, and a hook to note created objects in the request log."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

if TYPE_CHECKING:
    from flightdeck.simulators.state import RequestLogEntry

# The fault middleware puts the request's log entry in the ASGI scope under this key, so a
# handler can record what it created (a lost response must still show the committed id).
LOG_ENTRY_SCOPE_KEY = "flightdeck.simulator.log_entry"


class SimulatorError(Exception):
    """A platform error response: raised anywhere in a handler, rendered as is."""

    def __init__(
        self, status_code: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"HTTP {status_code}: {json.dumps(body)}")
        self.status_code = status_code
        self.body = body
        self.headers = dict(headers or {})

    def to_response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status_code, headers=self.headers)


class SimulatorRoute(APIRoute):
    """Renders `SimulatorError`s (from handlers and dependencies alike) as their response.

    A route class rather than an app exception handler keeps each router self-contained:
    it behaves the same whichever app includes it. Subclasses may decorate every response
    (the relay adds Graph's usage header) by overriding `finalize`.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except SimulatorError as exc:
                response = exc.to_response()
            await self.finalize(request, response)
            return response

        return handle

    async def finalize(self, request: Request, response: Response) -> None:
        """Hook for subclasses; the default leaves the response as is."""


async def read_json_object(
    request: Request, invalid: Callable[[str], SimulatorError]
) -> dict[str, Any]:
    """The request body as a JSON object, else the platform's error built by `invalid`."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise invalid("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("the request body must be a JSON object")
    return body


def bearer_matches(request: Request, api_key: str) -> bool:
    """Whether the request carries `Authorization: Bearer <api_key>` (constant-time compare)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(token.encode(), api_key.encode())


def record_created(request: Request, object_id: str) -> None:
    """Note in the request log that this request created `object_id`."""
    entry: RequestLogEntry | None = request.scope.get(LOG_ENTRY_SCOPE_KEY)
    if entry is not None:
        entry.created_object_id = object_id


def record_replayed(request: Request) -> None:
    """Note in the request log that this request was answered from the idempotency cache."""
    entry: RequestLogEntry | None = request.scope.get(LOG_ENTRY_SCOPE_KEY)
    if entry is not None:
        entry.replayed = True
