"""Check docker-compose.yml without a Docker engine: structure, references, commands, settings.

- every `depends_on` names a service of the file;
- every image is pinned to a version tag (no `latest`);
- every FLIGHTDECK_* variable is a real setting of flightdeck.settings.Settings;
- every Flightdeck service runs a real `flightdeck` subcommand;
- every file a service mounts from the repo exists; Prometheus scrapes the API and the workers
  on the ports they serve metrics on; the Grafana dashboard is valid JSON and plots only metrics
  Flightdeck or the Temporal SDK export.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

from flightdeck.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SUBCOMMANDS = {"dev", "api", "worker", "migrate", "simulators", "tenant"}


def problems(compose: dict) -> list[str]:
    found: list[str] = []
    services: dict = compose.get("services", {})
    settings_fields = {f"FLIGHTDECK_{name.upper()}" for name in Settings.model_fields}
    for name, service in services.items():
        for dep in service.get("depends_on", {}) or {}:
            if dep not in services:
                found.append(f"{name}: depends_on unknown service {dep!r}")
        image = service.get("image")
        if image and (":" not in image or image.endswith(":latest")):
            found.append(f"{name}: image {image!r} is not pinned")
        if not image and "build" not in service:
            found.append(f"{name}: neither image nor build")
        for var in service.get("environment", {}) or {}:
            if var.startswith("FLIGHTDECK_") and var not in settings_fields:
                found.append(f"{name}: {var} is not a Flightdeck setting")
        if "build" in service:
            command = service.get("command") or ["api"]
            if command[0] not in SUBCOMMANDS:
                found.append(f"{name}: `flightdeck {command[0]}` is not a subcommand")
    found += mount_problems(services) + observability_problems(compose)
    for required in (
        "app-db",
        "temporal",
        "temporal-ui",
        "api",
        "worker",
        "simulators",
        "prometheus",
        "grafana",
    ):
        if required not in services:
            found.append(f"missing service {required!r}")
    return found


def mount_problems(services: dict) -> list[str]:
    found: list[str] = []
    for name, service in services.items():
        for volume in service.get("volumes", []) or []:
            source = str(volume).split(":", 1)[0]
            if source.startswith("./") and not (ROOT / source).exists():
                found.append(f"{name}: mounts {source}, which is not in the repo")
    return found


def observability_problems(compose: dict) -> list[str]:
    found: list[str] = []
    services: dict = compose.get("services", {})
    env = services.get("worker", {}).get("environment") or {}
    worker_port = str(env.get("FLIGHTDECK_WORKER_METRICS_PORT", ""))
    if not worker_port:
        found.append("worker: FLIGHTDECK_WORKER_METRICS_PORT is not set (nothing to scrape)")
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = json.dumps(prometheus.get("scrape_configs", []))
    api_port = str(services.get("api", {}).get("command", ["", "", "", "", "8000"])[-1])
    if f"api:{api_port}" not in targets:
        found.append(f"prometheus: does not scrape the API on api:{api_port}")
    if '"worker"' not in targets or f'"port": {worker_port}' not in targets:
        found.append(f"prometheus: does not scrape the workers on port {worker_port}")
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/flightdeck.json").read_text())
    ours = set(re.findall(r'"(flightdeck_[a-z_]+)"', (ROOT / "flightdeck/observability/metrics.py")
                          .read_text() + (ROOT / "flightdeck/observability/worker_metrics.py")
                          .read_text()))  # fmt: skip
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            for metric in re.findall(r"\b(flightdeck_[a-z_]+)", target.get("expr", "")):
                if re.sub(r"_(total|bucket|count|sum)$", "", metric) not in ours:
                    found.append(f"grafana: panel {panel['title']!r} plots unknown {metric}")
    return found


def main() -> int:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found = problems(compose)
    for problem in found:
        print(f"docker-compose.yml: {problem}", file=sys.stderr)
    if not found:
        print(f"docker-compose.yml: {len(compose['services'])} services check out")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
