"""The API's operational endpoints: `/metrics` (Prometheus) and the request metrics/trace
middleware, plus `/codec/encode|decode` for the Temporal Web UI when payloads are encrypted."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from flightdeck.observability.metrics import REGISTRY, RequestMetrics
from flightdeck.settings import Settings


def install_observability(app: FastAPI, settings: Settings) -> None:
    if settings.temporal_payload_key is not None:
        from flightdeck.api.routes import codec

        codec.install(app, settings)
    if not settings.api_metrics_enabled:
        return
    app.add_middleware(RequestMetrics)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
