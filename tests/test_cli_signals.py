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
        while b"Flightdeck is running:" not in (tmp_path / "dev.log").read_bytes():
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


def test_ctrl_c_stops_dev_quietly_after_saying_where_everything_is(
    dev_database: str, tmp_path: Path
) -> None:
    """Ctrl-C at a terminal signals the whole foreground process group: the Temporal dev server
    (its own session) keeps answering while the workers drain, so nothing complains."""
    temporal_port, api_port = free_port(), free_port()
    env = {
        **os.environ,
        "FLIGHTDECK_DATA_DIR": str(tmp_path / "data"),
        "FLIGHTDECK_DATABASE_URL": dev_database,
        "FLIGHTDECK_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "FLIGHTDECK_API_PORT": str(api_port),
        "FLIGHTDECK_SIMULATORS_PORT": str(free_port()),
    }
    log_path = tmp_path / "dev.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "flightdeck.cli", "dev"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while b"Ctrl-C stops everything." not in log_path.read_bytes():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "dev did not come up"
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        assert proc.wait(timeout=60) == 0, log_path.read_text()
        output = log_path.read_text()
        assert f"Console     http://127.0.0.1:{api_port}/console" in output
        assert f"API         http://127.0.0.1:{api_port}" in output
        assert "Simulators  http://127.0.0.1:" in output and "Web UI " in output
        after = output.split("Ctrl-C stops everything.", 1)[1]
        assert after.strip().splitlines() == [
            "Stopping: workers drain, then the API, the simulators and Temporal stop.",
            "Stopped.",
        ], after
        assert "Traceback" not in output and "HTTP Request:" not in output
        assert not port_open(temporal_port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def test_api_workers_serve_one_port_and_stop_together(dev_database: str, tmp_path: Path) -> None:
    """FLIGHTDECK_API_WORKERS=3: three processes share the port; SIGTERM stops all of them."""
    port = free_port()
    env = {
        **os.environ,
        "FLIGHTDECK_DATABASE_URL": dev_database,
        "FLIGHTDECK_API_PORT": str(port),
        "FLIGHTDECK_API_WORKERS": "3",
    }
    log = open(tmp_path / "api.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "flightdeck.cli", "api"], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 60
        while not (port_open(port) and len(children_of(proc.pid)) == 2):
            assert proc.poll() is None, (tmp_path / "api.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "api.log").read_text()
            time.sleep(0.2)
        copies = children_of(proc.pid)
        # Every copy binds the port itself (SO_REUSEPORT): each has a listening socket.
        for pid in copies:
            deadline = time.monotonic() + 60
            while not _listens(pid, port):
                assert time.monotonic() < deadline, f"copy {pid} never listened"
                time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, (tmp_path / "api.log").read_text()
        assert [pid for pid in copies if Path(f"/proc/{pid}").exists()] == []
        assert not port_open(port)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` holds a socket listening on `port` (from /proc/net/tcp*)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port and inode in inodes:
                    return True
    return False
