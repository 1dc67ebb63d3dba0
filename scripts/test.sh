#!/usr/bin/env bash
# Lint, type-check, check migrations against the models, and run every test.
# Needs only Python and pip (Postgres: 127.0.0.1:5432 if running, else an embedded one).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv "test"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy flightdeck
.venv/bin/python scripts/check_compose.py
exec .venv/bin/python -m pytest "$@"
