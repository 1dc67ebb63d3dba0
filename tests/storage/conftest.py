"""An S3 emulator (moto's server, from PyPI) on a free local port, started by the tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import free_port

ACCESS_KEY = "test-access-key"
SECRET_KEY = "s3-secret-that-must-never-leak"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
