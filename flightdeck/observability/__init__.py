"""Observability: Prometheus metrics (API and worker), OpenTelemetry traces, JSON logs."""
