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
from temporalio.exceptions import ApplicationError

from flightdeck.failures import Failure
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


# Failures the product expects and handles (the platform refused our input, asked us to slow
# down, was briefly unavailable, needs the user to reconnect): one line, never a traceback.
EXPECTED_FAILURES = frozenset(
    {
        Failure.PLATFORM_REJECTED,
        Failure.PLATFORM_UNAVAILABLE,
        Failure.RATE_LIMITED,
        Failure.REAUTH_REQUIRED,
        Failure.INVALID_STATE,
        Failure.STALE,
    }
)
# Chatty libraries: httpx logs every request URL (query strings may hold tokens), the SDK every
# worker's shutdown, Alembic every migration.
QUIET = {"httpx": logging.WARNING, "httpcore": logging.WARNING,
         "temporalio.worker._worker": logging.WARNING, "alembic": logging.WARNING}  # fmt: skip


class ExpectedFailureLine(logging.Filter):
    """Rewrites the SDK's "Completing activity as failed" + traceback, for an expected failure,
    as one line: which step (activity) of which run failed and why."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, ApplicationError) or error.type not in EXPECTED_FAILURES:
            return True
        info = getattr(record, "temporal_activity", None) or {}
        step = info.get("activity_type", "activity")
        run = info.get("workflow_id", "?")
        attempt = info.get("attempt")
        again = f", attempt {attempt}" if attempt else ""
        record.msg = "%s failed in %s%s: %s: %s"
        record.args = (step, run, again, error.type, error.message)
        record.exc_info, record.exc_text = None, None
        if error.type in (Failure.RATE_LIMITED, Failure.PLATFORM_UNAVAILABLE):
            record.levelno, record.levelname = logging.INFO, "INFO"  # retried by itself
        return True


def configure_logging(log_format: str, level: int | None = None) -> None:
    """Install one stderr handler on the root logger (idempotent): text at WARNING for people
    at a terminal, JSON at INFO for a log store."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_flightdeck", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._flightdeck = True  # type: ignore[attr-defined]
    handler.addFilter(ExpectedFailureLine())
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level or (logging.INFO if log_format == "json" else logging.WARNING))
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
