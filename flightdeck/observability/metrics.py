"""The Prometheus metrics Flightdeck's own code records (the Temporal SDK's come from its
runtime, see `worker_metrics.py`). Counters are per process — Prometheus sums them over
replicas; the gauges that describe shared state are read from Postgres at scrape time
(`gauges.py`), so every replica reports the same truth."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "flightdeck_http_requests",
    "API requests by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
# Fine enough below 100 ms (the API's p99 goal) to tell a 30 ms answer from a 90 ms one.
HTTP_LATENCY_BUCKETS = (
    0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
HTTP_LATENCY = Histogram(
    "flightdeck_http_request_duration_seconds",
    "API request latency by method and route template.",
    ["method", "route"],
    buckets=HTTP_LATENCY_BUCKETS,
    registry=REGISTRY,
)
PUBLISHES = Counter(
    "flightdeck_publishes",
    "Publish runs that ended, by kind (plan, meta) and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
SYNCS = Counter(
    "flightdeck_syncs",
    "Campaign-set syncs (push, pause, resume) that ended, by operation and outcome.",
    ["operation", "outcome"],
    registry=REGISTRY,
)
PLATFORM_CALLS = Counter(
    "flightdeck_platform_calls",
    "HTTP calls to ad platforms by platform and status code (`error` when no answer came).",
    ["platform", "status"],
    registry=REGISTRY,
)
PLATFORM_RATE_LIMITED = Counter(
    "flightdeck_platform_rate_limited",
    "Platform answers 429 Too Many Requests, by platform.",
    ["platform"],
    registry=REGISTRY,
)
PLATFORM_LATENCY = Histogram(
    "flightdeck_platform_call_duration_seconds",
    "Platform HTTP call latency by platform.",
    ["platform"],
    registry=REGISTRY,
)

UNMATCHED_ROUTE = "unmatched"


class RequestMetrics:
    """ASGI middleware: counts every HTTP request by its route *template* (`/api/v1/conflicts/
    {conflict_id}`, never the id: bounded label values) and times it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        method = scope.get("method", "GET")
        try:
            await self.app(scope, receive, sending)
        finally:
            route = _route_template(scope)
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    """The matched route's template with its routers' prefixes. Included routers hand their
    route on without the prefix, so the prefix is the request path's leading segments beyond
    the template's own (path parameters never span a `/` here)."""
    route: Any = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if route is None or template is None:
        return UNMATCHED_ROUTE
    own = [part for part in str(template).split("/") if part]
    actual = [part for part in scope.get("path", "").split("/") if part]
    prefix = actual[: max(0, len(actual) - len(own))]
    return "/" + "/".join([*prefix, *own])


def record_publish(kind: str, outcome: str) -> None:
    PUBLISHES.labels(kind, outcome).inc()


def record_sync(operation: str, outcome: str) -> None:
    SYNCS.labels(operation, outcome).inc()


# A plan's publish ended well when its status becomes one of these (failures and cancellations
# are recorded with their reason by `record_failure`).
TERMINAL_PLAN_STATUSES = frozenset({"active", "paused"})
