"""Input guards in front of every route, so bad input is a clear 4xx before it can reach
Postgres or Temporal (which refuse NUL characters, and large payloads, in their own ways):

- a JSON body larger than `api_max_body_bytes` → 413 (multipart uploads have their own limit,
  enforced by the upload route while it streams);
- a NUL character anywhere in the path, a query parameter or a JSON string → 422 naming the
  parameter or the field path (`adSets.0.ads.1.headline`), as the client spelled it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flightdeck.asgi import read_body, replaying

NUL_MESSAGE = "must not contain NUL characters"


class RequestGuard:
    """ASGI middleware: body size and NUL characters, checked once for every route."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = _nul_in_url(scope)
        if field is not None:
            await _refuse(scope, send, 422, "validation_error", [_nul(field)])
            return
        if not _is_json(scope) or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _refuse(scope, send, 413, "payload_too_large", self._too_large())
            return
        body = await read_body(receive, self.max_body_bytes)
        if body is None:
            await _refuse(scope, send, 413, "payload_too_large", self._too_large())
            return
        if b"\\u0000" in body:
            path = _nul_in_json(body)
            if path is not None:
                await _refuse(scope, send, 422, "validation_error", [_nul(path)])
                return
        await self.app(scope, replaying(body, receive), send)

    def _too_large(self) -> str:
        return f"the request body is larger than {self.max_body_bytes} bytes"


def _nul(field: str) -> dict[str, str]:
    return {"field": field, "message": NUL_MESSAGE}


def _nul_in_url(scope: Scope) -> str | None:
    raw_path = scope.get("raw_path") or scope["path"].encode()
    if b"%00" in raw_path or "\x00" in scope["path"]:
        return "path"
    query = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return unquote(name).replace("\x00", "") or "query"
    return "query"


def _nul_in_json(body: bytes) -> str | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None  # malformed JSON: the route's own parser answers 400 naming the problem
    return _walk(value, [])


def _walk(value: Any, path: list[str]) -> str | None:
    if isinstance(value, str):
        return ".".join(path) or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return ".".join([*path, key.replace("\x00", "")]) or "body"
            found = _walk(item, [*path, key])
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _walk(item, [*path, str(index)])
            if found is not None:
                return found
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return True  # no content type: FastAPI reads JSON bodies anyway


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, send: Send, status: int, error: str, detail: Any) -> None:
    response = JSONResponse({"error": error, "detail": detail}, status_code=status)
    await response(scope, _disconnect, send)


async def _disconnect() -> Message:
    return {"type": "http.disconnect"}
