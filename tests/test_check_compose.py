"""scripts/check_compose.py: the compose file, Prometheus config and Grafana dashboard agree."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_compose", ROOT / "scripts/check_compose.py")
assert spec and spec.loader
check_compose = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_compose)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_repository_compose_file_checks_out() -> None:
    assert check_compose.problems(compose()) == []


def test_a_worker_without_a_metrics_port_or_a_missing_mount_is_reported() -> None:
    broken = copy.deepcopy(compose())
    broken["services"]["worker"]["environment"] = {
        k: v
        for k, v in broken["services"]["worker"]["environment"].items()
        if k != "FLIGHTDECK_WORKER_METRICS_PORT"
    }
    broken["services"]["grafana"]["volumes"].append("./deploy/missing.json:/x:ro")
    found = check_compose.problems(broken)
    assert any("FLIGHTDECK_WORKER_METRICS_PORT" in p for p in found)
    assert any("./deploy/missing.json" in p for p in found)


def test_prometheus_must_be_in_the_topology() -> None:
    broken = copy.deepcopy(compose())
    del broken["services"]["prometheus"]
    broken["services"]["grafana"]["depends_on"] = {}
    assert "missing service 'prometheus'" in check_compose.problems(broken)
