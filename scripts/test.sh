#!/usr/bin/env bash
# Lint, type-check, check migrations against the models, and run every test.
# Needs only Python and pip (Postgres: 127.0.0.1:5432 if running, else an embedded one).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv "test"
# The console's browser tests drive Debian's Chromium with Playwright (never a browser that
# Playwright downloads).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  fi
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy flightdeck
.venv/bin/python scripts/check_compose.py
# Two pytest processes (pytest-xdist), each taking whole files: each has its own Temporal dev
# server, simulators and databases. FLIGHTDECK_TEST_WORKERS=0 runs everything in this process.
exec .venv/bin/python -m pytest -n "${FLIGHTDECK_TEST_WORKERS:-2}" --dist loadfile "$@"
