#!/usr/bin/env bash
# Run the whole system on this machine (Temporal dev server + UI, Postgres, simulators, worker,
# API), publish the example plan and print the API key, docs URL, Web UI link and ID mapping.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv ""
exec .venv/bin/flightdeck dev "$@"
