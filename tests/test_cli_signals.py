"""`flightdeck dev` stops everything it started on SIGTERM, as on Ctrl-C (a supervisor or a
container runtime sends SIGTERM): the Temporal dev server it launched is gone afterwards."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.db.support import migrated_database


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
async def dev_database() -> AsyncIterator[str]:
    async with migrated_database() as url:
        yield url


def test_sigterm_stops_flightdeck_dev_and_its_temporal_server(
    dev_database: str, tmp_path: Path
) -> None:
    temporal_port = free_port()
    env = {
        **os.environ,
        "FLIGHTDECK_DATA_DIR": str(tmp_path / "data"),
        "FLIGHTDECK_DATABASE_URL": dev_database,
        "FLIGHTDECK_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "FLIGHTDECK_API_PORT": str(free_port()),
        "FLIGHTDECK_SIMULATORS_PORT": str(free_port()),
    }
    log = open(tmp_path / "dev.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "flightdeck.cli", "dev"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while b"Running." not in (tmp_path / "dev.log").read_bytes():
            assert proc.poll() is None, (tmp_path / "dev.log").read_text()
            assert time.monotonic() < deadline, "dev did not come up"
            time.sleep(0.2)
        assert port_open(temporal_port)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, (tmp_path / "dev.log").read_text()
        assert not port_open(temporal_port), "the Temporal dev server was left running"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()
