"""Logging setup: human-readable lines by default, one JSON object per line with
`FLIGHTDECK_LOG_FORMAT=json` — each carrying the tenant, workflow and run ids of whatever it is
about (an API request, an activity, a workflow), so a log store can follow one run or tenant."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from temporalio import workflow

from flightdeck.temporal import TENANT_ID

tenant_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "flightdeck_tenant_id", default=None
)
workflow_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "flightdeck_workflow_id", default=None
)
run_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "flightdeck_run_id", default=None
)


def _from_workflow(record: logging.LogRecord) -> dict[str, Any]:
    """Temporal's workflow and activity loggers put the run's identity on the record."""
    for extra in ("temporal_workflow", "temporal_activity"):
        found = getattr(record, extra, None)
        if isinstance(found, dict):
            return found
    return {}


def _workflow_tenant() -> str | None:
    """Inside workflow code, the run's `TenantId` search attribute."""
    if not workflow.in_workflow():
        return None
    try:
        return workflow.info().typed_search_attributes.get(TENANT_ID)
    except Exception:  # a log line must never fail a workflow task
        return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        temporal = _from_workflow(record)
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "tenantId": tenant_id_var.get() or _workflow_tenant(),
            "workflowId": temporal.get("workflow_id") or workflow_id_var.get(),
            "runId": temporal.get("run_id") or run_id_var.get(),
        }
        if "activity_type" in temporal:
            line["activity"] = temporal["activity_type"]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """Install one stderr handler on the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_flightdeck", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._flightdeck = True  # type: ignore[attr-defined]
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
