"""The suite needs no Postgres at 127.0.0.1:5432: without one, it starts an embedded server from
the `pgserver` wheel. Proven by running the migration and row-level-security tests with the
local server ignored (`FLIGHTDECK_TEST_POSTGRES=embedded`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


PROBE = (
    "import asyncio; from tests.db.support import database_url; "
    "print(asyncio.run(database_url('probe')))"
)


def test_the_database_tests_pass_on_the_embedded_server() -> None:
    env = {**os.environ, "FLIGHTDECK_TEST_POSTGRES": "embedded"}
    where = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr[-2000:]
    assert "127.0.0.1:5432" not in where.stdout and "?host=" in where.stdout, where.stdout
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "tests/db/test_migrations.py", "tests/db/test_row_level_security.py",
            "tests/db/test_tenancy_call_sites.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
