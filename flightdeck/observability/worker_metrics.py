"""The worker's Prometheus endpoint (`FLIGHTDECK_WORKER_METRICS_PORT`): one scrape target per
worker process serving

- the Temporal SDK's metrics (task slots, poll latency, activity and workflow outcomes …): the
  SDK's Rust core exports them on a loopback port of its own, and this endpoint relays them;
- Flightdeck's counters (publishes, syncs, platform calls, 429s; `metrics.py`);
- gauges read from Postgres on every scrape (conflicts and alerts open, circuit breakers,
  metrics lag per account): shared state, so every worker reports the same values and none
  depends on what happened in its own process.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from flightdeck.db.models.sync import CIRCUIT_STATES
from flightdeck.db.repositories.operational_state import OperationalState, read_operational_state
from flightdeck.db.tenancy import system_session
from flightdeck.observability.metrics import REGISTRY

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def free_loopback_address() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


def prometheus_runtime(bind_address: str) -> Runtime:
    """A Temporal runtime exporting the SDK's metrics in Prometheus format on `bind_address`."""
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind_address)))


class _Snapshot:
    """A collector over one Postgres read (a fresh one per scrape)."""

    def __init__(self, state: OperationalState, now: datetime) -> None:
        self.state, self.now = state, now

    def collect(self) -> Iterator[Metric]:
        conflicts = GaugeMetricFamily(
            "flightdeck_conflicts_open",
            "Open sync-back conflicts, by platform.",
            labels=["platform"],
        )
        for platform, count in sorted(self.state.conflicts_open.items()):
            conflicts.add_metric([platform], count)
        alerts = GaugeMetricFamily(
            "flightdeck_alerts_open",
            "Unresolved alerts, by type and severity.",
            labels=["alert_type", "severity"],
        )
        for (kind, severity), count in sorted(self.state.alerts_open.items()):
            alerts.add_metric([kind, severity], count)
        breakers = GaugeMetricFamily(
            "flightdeck_circuit_breaker_state",
            "1 for each platform's current circuit-breaker state (closed, open, half_open).",
            labels=["platform", "state"],
        )
        for platform, current in sorted(self.state.breakers.items()):
            for state in CIRCUIT_STATES:
                breakers.add_metric([platform, state], 1 if state == current else 0)
        lag = GaugeMetricFamily(
            "flightdeck_metrics_lag_seconds",
            "Seconds since an account's last completed metrics sync, by platform and account.",
            labels=["platform", "account"],
        )
        for (platform, account), at in sorted(self.state.metrics_synced_at.items()):
            lag.add_metric([platform, account], max(0.0, (self.now - at).total_seconds()))
        yield from (conflicts, alerts, breakers, lag)


def worker_metrics_app(
    sessions: async_sessionmaker[AsyncSession], temporal_metrics_address: str | None
) -> Starlette:
    async def metrics(request: Request) -> Response:
        async with system_session(sessions, "metrics.scrape") as session, session.begin():
            state = await read_operational_state(session)
        shared = CollectorRegistry(auto_describe=False)
        shared.register(_Snapshot(state, datetime.now(UTC)))
        body = generate_latest(REGISTRY) + generate_latest(shared)
        if temporal_metrics_address:
            body += await _temporal_sdk_metrics(temporal_metrics_address)
        return Response(body, media_type=CONTENT_TYPE)

    return Starlette(routes=[Route("/metrics", metrics)])


async def _temporal_sdk_metrics(address: str) -> bytes:
    async with httpx.AsyncClient(timeout=5) as http:
        try:
            answer = await http.get(f"http://{address}/metrics")
        except httpx.TransportError:
            return b"# the Temporal SDK's exporter did not answer\n"
    return answer.content
