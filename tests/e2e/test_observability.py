"""Observability and remote-Temporal features end to end, on a second set of workers whose
client comes from `flightdeck.temporal.connect` with everything on: payload encryption, the
tracing interceptor (an in-memory exporter), the log-context interceptor and a runtime that
exports the Temporal SDK's metrics to Prometheus."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

from flightdeck.api.app import create_app
from flightdeck.db.models import Alert, CircuitBreaker, MetricsSyncRun
from flightdeck.db.tenancy import system_session
from flightdeck.db.tenants import create_tenant_with_key
from flightdeck.observability import tracing
from flightdeck.observability.logs import JsonFormatter, configure_logging
from flightdeck.observability.worker_metrics import (
    free_loopback_address,
    prometheus_runtime,
    worker_metrics_app,
)
from flightdeck.settings import Settings
from flightdeck.temporal import TENANT_ID, connect
from flightdeck.worker import running_workers
from tests.e2e.conftest import System, make_plan
from tests.e2e.logging_workflow import (
    FailuresWorkflow,
    Greeting,
    LoggingWorkflow,
    crash,
    log_something,
    refuse_input,
)

EXPORTER = InMemorySpanExporter()
ROOT = Path(__file__).resolve().parents[2]
PAYLOAD_KEY = base64.b64encode(os.urandom(32)).decode()


@dataclass
class Observed:
    api: httpx.AsyncClient
    client: Client
    settings: Settings
    sdk_metrics: str
    logs: list[dict[str, Any]]


class _JsonLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture(scope="module")
async def observed(system: System) -> AsyncIterator[Observed]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)
    tracing.mark_configured()
    suffix = uuid.uuid4().hex[:8]
    queues = {
        name: f"obs-{name}-{suffix}"
        for name in Settings.model_fields
        if name == "task_queue" or name.endswith("_task_queue")
    }
    settings = system.settings.model_copy(
        update={**queues, "temporal_payload_key": SecretStr(PAYLOAD_KEY)}
    )
    address = free_loopback_address()
    client = await connect(settings, runtime=prometheus_runtime(address))
    app = create_app(settings, sessions=system.sessions, temporal=client)
    handler = _JsonLines()
    logging.getLogger().addHandler(handler)
    try:
        async with (
            running_workers(client, system.sessions, settings),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://api", timeout=60
            ) as api,
        ):
            yield Observed(api, client, settings, address, handler.lines)
    finally:
        logging.getLogger().removeHandler(handler)


async def publish(rig: System, observed: Observed) -> dict[str, Any]:
    plan = make_plan(hookSetId=f"hookset_secret_{uuid.uuid4().hex[:6]}")
    response = await observed.api.post("/api/v1/campaign-plans", json=plan, headers=rig.headers)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    await observed.client.get_workflow_handle(accepted["workflowId"]).result()
    return accepted | {"hookSetId": plan["hookSetId"]}


def samples(text: str, name: str) -> dict[str, float]:
    """`{labels: value}` of one metric in a Prometheus text exposition."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            labels, _, value = line.rpartition(" ")
            found[labels[len(name) :]] = float(value)
    return found


async def test_api_metrics_count_requests_by_route_template_and_status(
    rig: System, observed: Observed
) -> None:
    before = samples((await observed.api.get("/metrics")).text, "flightdeck_http_requests_total")
    accepted = await publish(rig, observed)
    missing = await observed.api.get(f"/api/v1/campaign-plans/{uuid.uuid4()}", headers=rig.headers)
    assert missing.status_code == 404
    await observed.api.get(f"/api/v1/campaign-plans/{accepted['id']}", headers=rig.headers)
    text = (await observed.api.get("/metrics")).text
    after = samples(text, "flightdeck_http_requests_total")

    def delta(route: str, method: str, status: int) -> float:
        key = f'{{method="{method}",route="{route}",status="{status}"}}'
        return after.get(key, 0) - before.get(key, 0)

    assert delta("/api/v1/campaign-plans", "POST", 202) == 1, after
    # One label per route template, never per id: the 404 and the 200 share it.
    assert delta("/api/v1/campaign-plans/{plan_id}", "GET", 404) == 1
    assert delta("/api/v1/campaign-plans/{plan_id}", "GET", 200) == 1
    assert not any(accepted["id"] in key for key in after)
    latency = samples(text, "flightdeck_http_request_duration_seconds_count")
    assert latency['{method="POST",route="/api/v1/campaign-plans"}'] >= 1


async def test_worker_metrics_hold_sdk_metrics_business_counters_and_postgres_gauges(
    rig: System, observed: Observed
) -> None:
    await publish(rig, observed)
    async with system_session(rig.sessions, "cli") as session:
        tenant, _ = await create_tenant_with_key(session, f"gauges-{uuid.uuid4().hex[:6]}")
    async with system_session(rig.sessions, "cli") as session, session.begin():
        session.add(
            Alert(
                tenant_id=tenant.id, alert_type="GAUGE_TEST", severity="HIGH",
                entity_type="campaign", entity_id="c1", message="look",
            )
        )  # fmt: skip
        session.add(CircuitBreaker(platform="gaugetest", state="open"))
        session.add(
            MetricsSyncRun(
                tenant_id=tenant.id, cycle_id="c", trigger="manual", platform="meta",
                connection_id=uuid.uuid4(), account_id="act_gauge", status="completed",
                finished_at=datetime.now(UTC) - timedelta(hours=2),
            )
        )  # fmt: skip
    app = worker_metrics_app(rig.sessions, observed.sdk_metrics)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://worker"
    ) as worker:
        text = (await worker.get("/metrics")).text

    # The Temporal SDK's own metrics, relayed from its exporter.
    assert samples(text, "temporal_workflow_completed") or "temporal_workflow_completed" in text
    assert "temporal_activity_execution_latency" in text
    # Business counters.
    assert samples(text, "flightdeck_publishes_total")['{kind="plan",outcome="active"}'] >= 1
    calls = samples(text, "flightdeck_platform_calls_total")
    assert calls.get('{platform="strategis",status="200"}', 0) >= 1
    assert any(key.startswith('{platform="strategis-relay"') for key in calls)
    # Gauges read from Postgres at scrape time (a second worker reports the same).
    alerts = samples(text, "flightdeck_alerts_open")
    assert alerts['{alert_type="GAUGE_TEST",severity="HIGH"}'] == 1
    breaker = samples(text, "flightdeck_circuit_breaker_state")
    assert breaker['{platform="gaugetest",state="open"}'] == 1
    assert breaker['{platform="gaugetest",state="closed"}'] == 0
    lag = samples(text, "flightdeck_metrics_lag_seconds")['{account="act_gauge",platform="meta"}']
    assert 7100 < lag < 7300
    assert "flightdeck_conflicts_open" in text
    # Every metric the Grafana dashboard in deploy/ plots is one this endpoint serves.
    dashboard = (ROOT / "deploy/grafana/dashboards/flightdeck.json").read_text()
    plotted = {
        re.sub(r"_(bucket|total)$", "", name)
        for name in re.findall(r"\b((?:flightdeck|temporal)_[a-z_]+)", dashboard)
    }
    served = {re.sub(r"_total$", "", n) for n in re.findall(r"^# TYPE (\S+)", text, re.M)}
    assert plotted - served == set()


async def test_one_trace_runs_from_the_api_through_the_workflow_to_platform_calls(
    rig: System, observed: Observed
) -> None:
    EXPORTER.clear()
    accepted = await publish(rig, observed)
    spans: list[ReadableSpan] = list(EXPORTER.get_finished_spans())
    start = next(s for s in spans if s.name == "StartWorkflow:PublishPlanWorkflow")
    assert start.context is not None
    in_trace = [s for s in spans if s.context and s.context.trace_id == start.context.trace_id]
    names = {s.name for s in in_trace}
    # FastAPI's request span is the root; the SDK's interceptor carries it into the workflow.
    (root,) = [s for s in in_trace if s.parent is None]
    assert root.name == "POST /api/v1/campaign-plans"
    assert "RunWorkflow:PublishPlanWorkflow" in names
    assert "RunActivity:strategis.create_relay_object" in names
    # The platform calls are children of their activity's span.
    assert "POST strategis" in names and "POST strategis-relay" in names
    activity_ids = {s.context.span_id for s in in_trace if s.name.startswith("RunActivity:")}  # type: ignore[union-attr]
    platform = [s for s in in_trace if s.name.endswith((" strategis", " strategis-relay"))]
    assert len(platform) >= 3
    assert all(s.parent and s.parent.span_id in activity_ids for s in platform)
    assert accepted["workflowId"]


async def test_log_lines_carry_tenant_workflow_and_run(observed: Observed) -> None:
    tenant = str(uuid.uuid4())
    queue = f"obs-logs-{uuid.uuid4().hex[:6]}"
    async with Worker(
        observed.client, task_queue=queue, workflows=[LoggingWorkflow], activities=[log_something]
    ):
        handle = await observed.client.start_workflow(
            LoggingWorkflow.run,
            Greeting(tenant),
            id=f"obs-logs-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
            search_attributes=TypedSearchAttributes([SearchAttributePair(TENANT_ID, tenant)]),
        )
        async with asyncio.timeout(30):
            await handle.result()
    logging.getLogger("flightdeck.somewhere").warning("outside any run")
    ours = [line for line in observed.logs if line["workflowId"] == handle.id]
    by_message = {line["message"]: line for line in ours}
    for said in ("an activity speaks", "a workflow speaks"):
        line = by_message[next(m for m in by_message if m.startswith(said))]
        assert line["tenantId"] == tenant and line["runId"] == handle.result_run_id, line
    assert by_message["an activity speaks"]["logger"] == "flightdeck.somewhere"
    outside = observed.logs[-1]
    assert outside["message"] == "outside any run"
    assert (outside["workflowId"], outside["runId"], outside["tenantId"]) == (None, None, None)


async def test_payloads_are_encrypted_in_history_and_the_codec_endpoint_decodes_them(
    rig: System, observed: Observed
) -> None:
    accepted = await publish(rig, observed)
    job = await observed.api.get(f"/api/v1/jobs/{accepted['workflowId']}", headers=rig.headers)
    assert job.json()["status"] == "completed"  # the app reads its runs through the codec
    # A client without the key sees only ciphertext: the hook set id appears nowhere.
    history = await rig.client.get_workflow_handle(accepted["workflowId"]).fetch_history()
    raw = history.to_json()
    assert accepted["hookSetId"] not in raw
    started = history.events[0].workflow_execution_started_event_attributes
    (payload,) = started.input.payloads
    assert payload.metadata["encoding"] == b"binary/encrypted"

    body = {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
                "data": base64.b64encode(payload.data).decode(),
            }
        ]
    }
    origin = {"Origin": "http://localhost:8233"}
    anonymous = await observed.api.post("/codec/decode", json=body, headers=origin)
    assert anonymous.status_code == 401
    viewer = await rig.new_tenant_headers(role="viewer", user="viewer")
    decoded = await observed.api.post("/codec/decode", json=body, headers=viewer | origin)
    assert decoded.status_code == 200, decoded.text
    assert decoded.headers["access-control-allow-origin"] == "http://localhost:8233"
    plain = decoded.json()["payloads"][0]
    assert base64.b64decode(plain["metadata"]["encoding"]) == b"json/plain"
    assert accepted["hookSetId"] in base64.b64decode(plain["data"]).decode()
    preflight = await observed.api.options(
        "/codec/decode", headers=origin | {"Access-Control-Request-Method": "POST"}
    )
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    foreign = await observed.api.options(
        "/codec/decode", headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in foreign.headers
    tampered = Payload(metadata=dict(payload.metadata), data=payload.data[:-1] + b"x")
    body["payloads"][0]["data"] = base64.b64encode(tampered.data).decode()
    refused = await observed.api.post("/codec/decode", json=body, headers=viewer)
    assert refused.status_code == 422


async def test_an_expected_platform_error_is_one_line_a_bug_keeps_its_traceback(
    observed: Observed, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    level = root.level
    configure_logging("text")  # as every `flightdeck` command does (dev, worker …)
    try:
        queue = f"obs-fail-{uuid.uuid4().hex[:6]}"
        async with Worker(
            observed.client, task_queue=queue, workflows=[FailuresWorkflow],
            activities=[refuse_input, crash],
        ):  # fmt: skip
            handle = await observed.client.start_workflow(
                FailuresWorkflow.run, Greeting(str(uuid.uuid4())), id=queue, task_queue=queue
            )
            async with asyncio.timeout(30):
                assert await handle.result() == 2
    finally:
        for handler in list(root.handlers):
            if getattr(handler, "_flightdeck", False):
                root.removeHandler(handler)
        root.setLevel(level)
    err = capsys.readouterr().err
    refused = [line for line in err.splitlines() if "obs_test.refuse_input" in line]
    assert len(refused) == 1, err
    assert (
        f"obs_test.refuse_input failed in {queue}, attempt 1: NonRetryablePlatformError: "
        in (refused[0])
    )
    assert "daily_budget below the minimum (100)" in refused[0]
    # The unexpected one keeps everything a developer needs.
    bug = err.split("obs_test.crash", 1)[1]
    assert "Traceback" in bug and "RuntimeError: a bug nobody expected" in bug
    assert err.count("Traceback") == 1
