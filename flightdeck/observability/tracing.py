"""OpenTelemetry traces, off by default and configured by the standard `OTEL_*` variables:
setting `OTEL_TRACES_EXPORTER` (`otlp` or `console`) or an `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT`
turns them on (`OTEL_SDK_DISABLED=true` wins). The Temporal client then carries the SDK's
`TracingInterceptor`, so a trace runs API request → workflow → activities → platform calls
(`http.py`); the exporter reads its endpoint, headers and protocol from the same variables."""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace

_configured = False


def tracing_requested(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(
        exporter
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure_tracing(service_name: str) -> bool:
    """Install a tracer provider with the configured exporter (once per process); whether
    tracing is on."""
    global _configured
    if _configured:
        return True
    if not tracing_requested():
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    exporter: Any
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True
    return True


def mark_configured() -> None:
    """Tests install their own provider (an in-memory exporter) and say so here."""
    global _configured
    _configured = True


def temporal_interceptors() -> list[Any]:
    """The Temporal client's interceptors: the SDK's tracing interceptor when tracing is on."""
    if not _configured:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]
