"""An httpx transport wrapper every platform client goes through: counts each call by platform
and status (429s apart), times it, and — with tracing on — makes it a client span carrying the
W3C trace context, so a trace runs API → workflow → activity → platform call."""

from __future__ import annotations

import time

import httpx
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from flightdeck.observability.metrics import (
    PLATFORM_CALLS,
    PLATFORM_LATENCY,
    PLATFORM_RATE_LIMITED,
)
from flightdeck.platforms.http_pool import PooledTransport

_tracer = trace.get_tracer("flightdeck.platforms")


class InstrumentedTransport(httpx.AsyncBaseTransport):
    def __init__(self, platform: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.platform = platform
        self._inner = inner or PooledTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # The span is named by method and platform only: paths carry ids (unbounded names).
        with _tracer.start_as_current_span(
            f"{request.method} {self.platform}",
            kind=SpanKind.CLIENT,
            attributes={
                "http.request.method": request.method,
                "server.address": request.url.host,
                "url.path": request.url.path,
                "flightdeck.platform": self.platform,
            },
        ) as span:
            propagate.inject(request.headers)
            started = time.perf_counter()
            try:
                response = await self._inner.handle_async_request(request)
            except Exception as exc:
                PLATFORM_CALLS.labels(self.platform, "error").inc()
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise
            finally:
                PLATFORM_LATENCY.labels(self.platform).observe(time.perf_counter() - started)
            PLATFORM_CALLS.labels(self.platform, str(response.status_code)).inc()
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code == 429:
                PLATFORM_RATE_LIMITED.labels(self.platform).inc()
            if response.status_code >= 500:
                span.set_status(Status(StatusCode.ERROR))
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def instrumented(
    platform: str, transport: httpx.AsyncBaseTransport | None
) -> InstrumentedTransport:
    """`transport` (or a default HTTP transport) wrapped for metrics and traces."""
    return InstrumentedTransport(platform, transport)
