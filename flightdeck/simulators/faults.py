"""Fault injection for the simulated platforms: errors, 429s with Retry-After, latency and lost
responses, chosen by the rules set through `POST /_sim/faults`.

A rule, as JSON (all keys optional):

    {"platform": "strategis" | "relay" | null,    # null = every platform
     "method": "POST" | null,
     "path": "^/api/facebook/ads/create$" | null, # regex, searched in the path under the prefix
     "bodyContains": "adset-…-0" | null,           # only requests whose body contains this
     "errorRate": 0.0,          # chance to answer with `status` instead of processing
     "status": 500,             # any 4xx/5xx; 429 means rate limited
     "retryAfterSeconds": null, # sent as `Retry-After` with a 429
     "latencyMs": 0,            # added before the request is handled
     "lostResponseRate": 0.0,   # chance to process (and commit) the request, then answer 502
     "remaining": null}         # the rule expires after having this many effects

Every rule matching a request applies, in order: latencies add up; the first rule whose error
fires answers (the request is not processed); otherwise a fired lost response means the request
IS processed and its create committed, then the client gets a 502, so it cannot know the id.
All randomness comes from one `random.Random(seed)` reseeded by each `POST /_sim/faults`, so a
given seed and request order injects the same faults every run.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flightdeck.asgi import read_body, replaying
from flightdeck.simulators.routing import LOG_ENTRY_SCOPE_KEY

if TYPE_CHECKING:
    from flightdeck.simulators.state import RequestLogEntry, SimulatorState

# (status, retry_after_seconds) -> (JSON body, headers) in the platform's own error envelope.
FaultRenderer = Callable[[int, float | None], tuple[dict[str, Any], dict[str, str]]]
LOST_RESPONSE_STATUS = 502
# What the request log says of a request whose client dropped the connection mid-body.
DROPPED_CONNECTION_STATUS = 500


class FaultRule(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    platform: str | None = None
    method: str | None = None
    path: str | None = None
    body_contains: str | None = None
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    status: int = Field(default=500, ge=400, le=599)
    retry_after_seconds: float | None = Field(default=None, ge=0.0)
    latency_ms: int = Field(default=0, ge=0, le=120_000)
    lost_response_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    remaining: int | None = Field(default=None, ge=0)

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @field_validator("path")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:  # a bad pattern is a 422 now, not a 500 on the next request
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regex: {exc}") from None
        return value

    def matches(self, platform: str, method: str, path: str, body: bytes = b"") -> bool:
        return (
            self.remaining != 0
            and self.platform in (None, platform)
            and self.method in (None, method)
            and (self.path is None or re.search(self.path, path) is not None)
            and (self.body_contains is None or self.body_contains.encode() in body)
        )

    def consume(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1


class FaultConfig(BaseModel):
    """The body of `POST /_sim/faults` (and the answer of `GET /_sim/faults`)."""

    seed: int = 0
    rules: list[FaultRule] = Field(default_factory=list)


@dataclass
class FaultDecision:
    latency_ms: int = 0
    error: FaultRule | None = None
    lose_response: bool = False


class FaultPlan:
    """The active rules and the seeded random source that decides when they fire."""

    def __init__(self) -> None:
        self.seed = 0
        self.rules: list[FaultRule] = []
        self._random = random.Random(0)

    def configure(self, seed: int, rules: Sequence[FaultRule]) -> None:
        self.seed = seed
        self.rules = [rule.model_copy() for rule in rules]
        self._random = random.Random(seed)

    def config(self) -> FaultConfig:
        return FaultConfig(seed=self.seed, rules=self.rules)

    def decide(self, platform: str, method: str, path: str, body: bytes = b"") -> FaultDecision:
        """What to do to this request. Synchronous, so concurrent requests draw in order."""
        decision = FaultDecision()
        for rule in self.rules:
            if not rule.matches(platform, method, path, body):
                continue
            error = self._fires(rule.error_rate)
            lost = self._fires(rule.lost_response_rate)
            if not (error or lost or rule.latency_ms):
                continue
            rule.consume()
            decision.latency_ms += rule.latency_ms
            if error and decision.error is None:
                decision.error = rule
            elif lost:
                decision.lose_response = True
        return decision

    def _fires(self, rate: float) -> bool:
        # Draw only for rules that can fire, so adding a latency-only rule keeps the sequence.
        return rate > 0 and self._random.random() < rate


@dataclass(frozen=True)
class FaultSurface:
    """A simulated platform as the fault middleware sees it: its name in rules and the request
    log, its URL prefix, and how it renders an injected error."""

    platform: str
    prefix: str
    render_error: FaultRenderer


class FaultInjectionMiddleware:
    """ASGI middleware: logs every platform request and applies the fault plan to it."""

    def __init__(
        self, app: ASGIApp, *, state: SimulatorState, surfaces: Sequence[FaultSurface]
    ) -> None:
        self.app = app
        self.state = state
        self.surfaces = tuple(surfaces)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        surface = self._surface(scope) if scope["type"] == "http" else None
        if surface is None:
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"][len(surface.prefix) :] or "/"
        dropped, receive = _watch_disconnect(receive)
        body = await read_body(receive) or b""
        entry = self.state.log_request(surface.platform, method, path)
        _describe(entry, body, scope)
        scope[LOG_ENTRY_SCOPE_KEY] = entry
        if dropped():
            # The client went away before its request was whole: nothing is processed (a
            # truncated body must never become a create), and the log counts a server error.
            entry.fault = "dropped_connection"
            entry.status = DROPPED_CONNECTION_STATUS
            return
        decision = self.state.faults.decide(surface.platform, method, path, body)
        if decision.latency_ms:
            await asyncio.sleep(decision.latency_ms / 1000)
        if decision.error is not None:
            entry.fault = "error"
            rule = decision.error
            await _send_error(surface, rule.status, rule.retry_after_seconds, entry, scope, send)
            return
        replay = replaying(body, receive)
        if decision.lose_response:
            entry.fault = "lost_response"
            await self._handle(scope, replay, _discard, entry)
            await _send_error(surface, LOST_RESPONSE_STATUS, None, entry, scope, send)
            return
        await self._handle(scope, replay, send, entry)

    def _surface(self, scope: Scope) -> FaultSurface | None:
        path: str = scope["path"]
        for surface in self.surfaces:
            if path == surface.prefix or path.startswith(surface.prefix + "/"):
                return surface
        return None

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, entry: RequestLogEntry
    ) -> None:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except BaseException:
            # An error, or the request task cancelled because the client dropped the connection:
            # either way a server error, never a request left without a status.
            entry.status = entry.status or 500
            raise


async def _send_error(
    surface: FaultSurface,
    status: int,
    retry_after: float | None,
    entry: RequestLogEntry,
    scope: Scope,
    send: Send,
) -> None:
    body, headers = surface.render_error(status, retry_after)
    entry.status = status
    response = JSONResponse(body, status_code=status, headers=headers)
    await response(scope, _no_receive, send)


def _describe(entry: RequestLogEntry, body: bytes, scope: Scope) -> None:
    """Copy the idempotency key and organization into the log (even for a failed request)."""
    try:
        payload = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict):
        key, organization = payload.get("clientRequestKey"), payload.get("organization")
        entry.client_request_key = key if isinstance(key, str) else None
        entry.organization = organization if isinstance(organization, str) else None
    if entry.organization is None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        entry.organization = query.get("organization", [None])[0]


def _watch_disconnect(receive: Receive) -> tuple[Callable[[], bool], Receive]:
    """`receive`, noting whether the client disconnected before the body was complete."""
    seen = {"dropped": False, "complete": False}

    async def watched() -> Message:
        message = await receive()
        if message["type"] == "http.disconnect" and not seen["complete"]:
            seen["dropped"] = True
        elif message["type"] == "http.request" and not message.get("more_body", False):
            seen["complete"] = True
        return message

    return (lambda: seen["dropped"]), watched


async def _discard(message: Message) -> None:
    """The send channel of a lost response: the answer goes nowhere."""


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
