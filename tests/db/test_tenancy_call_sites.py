"""System work is an explicit, reviewed decision: every place in the product that opens a
system session (which sees every tenant's rows) is listed here by file and purpose. A new call
site fails this test until someone adds it below — and says why in `db/tenancy.py`."""

from __future__ import annotations

import ast
from pathlib import Path

from flightdeck.db.tenancy import SYSTEM_PURPOSES

PACKAGE = Path(__file__).resolve().parents[2] / "flightdeck"
OPENERS = {"system_session", "scope_to_system"}

ALLOWED = {
    ("accounts/google.py", "api.oauth_callback"),
    ("accounts/meta.py", "api.oauth_callback"),
    ("accounts/reddit.py", "api.oauth_callback"),
    ("activities/meta_ops.py", "sweep.meta_maintenance"),
    ("activities/metrics.py", "sweep.metrics_accounts"),
    ("activities/housekeeping.py", "sweep.pending_plans"),
    ("activities/sync.py", "sweep.retry_failed_syncs"),
    ("activities/sync.py", "sync.post_adoption"),
    ("activities/sync_back.py", "sweep.sync_back_accounts"),
    ("api/deps.py", "api.authenticate"),
    ("cli.py", "cli"),
    ("db/circuit_breaker.py", "circuit_breaker"),
    ("dev.py", "dev.bootstrap"),
    ("observability/worker_metrics.py", "metrics.scrape"),
}


def system_call_sites() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "tenancy.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in OPENERS:
                continue
            purpose = node.args[1] if len(node.args) > 1 else None
            assert isinstance(purpose, ast.Constant), (
                f"{path}: {name} must name its purpose as a literal"
            )
            found.add((path.relative_to(PACKAGE).as_posix(), str(purpose.value)))
    return found


def test_system_sessions_are_opened_only_at_the_reviewed_call_sites() -> None:
    assert system_call_sites() == ALLOWED


def test_every_purpose_is_declared() -> None:
    assert {purpose for _, purpose in ALLOWED} <= set(SYSTEM_PURPOSES)
