"""Choosing a database: the configured URL, else the local server, else an embedded one."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from flightdeck.db.bootstrap import (
    embedded_url,
    resolve_database_url,
    to_asyncpg_dsn,
    to_sqlalchemy_url,
)
from flightdeck.db.migrate import upgrade_to_head
from flightdeck.db.tenancy import APP_ROLE
from tests.db.support import admin_dsn, drop_database, unique_database_name

CLOSED_PORT_DSN = "postgresql://postgres@127.0.0.1:1/postgres"


async def database_exists(name: str) -> bool:
    admin = await asyncpg.connect(await admin_dsn())
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


async def test_a_configured_url_wins_and_nothing_is_probed(tmp_path: Path) -> None:
    configured = "postgresql+asyncpg://app:secret@db.internal:5432/flightdeck"
    url, server = await resolve_database_url(
        configured, tmp_path / "data", local_admin_dsn=CLOSED_PORT_DSN
    )

    assert (url, server) == (configured, None)
    assert not (tmp_path / "data").exists()  # no embedded server was started


async def test_a_plain_postgres_url_gets_the_asyncpg_driver(tmp_path: Path) -> None:
    url, _ = await resolve_database_url("postgres://u@h/db", tmp_path)
    assert url == "postgresql+asyncpg://u@h/db"


async def test_the_local_server_is_used_and_the_database_created(tmp_path: Path) -> None:
    name = unique_database_name()
    try:
        local = await admin_dsn()  # 127.0.0.1:5432, or the suite's embedded server without one
        url, server = await resolve_database_url(
            None, tmp_path, database=name, local_admin_dsn=local
        )
        again, _ = await resolve_database_url(None, tmp_path, database=name, local_admin_dsn=local)

        assert url == again and make_url(url).database == name
        assert make_url(url).drivername == "postgresql+asyncpg"
        assert server is None
        assert await database_exists(name)
        connection = await asyncpg.connect(to_asyncpg_dsn(url))
        assert await connection.fetchval("SELECT current_database()") == name
        await connection.close()
        assert not (tmp_path / "pgdata").exists()
    finally:
        await drop_database(name)


def test_url_conversions_keep_the_socket_directory() -> None:
    url = "postgresql+asyncpg://postgres@/flightdeck?host=/tmp/pg"
    assert to_asyncpg_dsn(url) == "postgresql://postgres@/flightdeck?host=/tmp/pg"
    assert to_sqlalchemy_url(to_asyncpg_dsn(url)) == url
    assert to_sqlalchemy_url(url) == url


def fake_server(**info: Any) -> Any:
    return SimpleNamespace(get_postmaster_info=lambda: SimpleNamespace(**info))


def test_embedded_url_prefers_the_unix_socket() -> None:
    on_socket = fake_server(socket_dir=Path("/run/pg"), hostname=None, port=None)
    on_tcp = fake_server(socket_dir=None, hostname="127.0.0.1", port=54321)

    assert embedded_url(on_socket, "fd") == "postgresql+asyncpg://postgres@/fd?host=/run/pg"
    assert embedded_url(on_tcp, "fd") == "postgresql+asyncpg://postgres@127.0.0.1:54321/fd"


async def test_without_a_local_server_an_embedded_one_starts(tmp_path: Path) -> None:
    """The last resort of `flightdeck dev` on a machine without Postgres: the `pgserver` wheel's
    own server (as root, pgserver runs it as a 'pgserver' system user it adds), migrated to
    head, row-level security included."""
    url, server = await resolve_database_url(
        None, tmp_path, database="flightdeck", local_admin_dsn=CLOSED_PORT_DSN
    )
    try:
        assert server is not None
        assert url.startswith("postgresql+asyncpg://postgres@/flightdeck?host=")
        await upgrade_to_head(url)
        connection = await asyncpg.connect(to_asyncpg_dsn(url), server_settings={"role": APP_ROLE})
        assert await connection.fetchval("SELECT current_database()") == "flightdeck"
        assert await connection.fetchval("SELECT current_user") == APP_ROLE
        assert await connection.fetchval("SELECT count(*) FROM tenants") == 0
        await connection.close()
    finally:
        cast(Any, server).cleanup()


def test_to_asyncpg_dsn_refuses_other_databases() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        to_asyncpg_dsn("sqlite:///flightdeck.db")
