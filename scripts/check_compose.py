"""Check docker-compose.yml without a Docker engine: structure, references, commands, settings.

- every `depends_on` names a service of the file;
- every image is pinned to a version tag (no `latest`);
- every FLIGHTDECK_* variable is a real setting of flightdeck.settings.Settings;
- every Flightdeck service runs a real `flightdeck` subcommand.
"""

from __future__ import annotations

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
    for required in ("app-db", "temporal", "temporal-ui", "api", "worker", "simulators"):
        if required not in services:
            found.append(f"missing service {required!r}")
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
