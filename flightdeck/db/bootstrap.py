"""Find a Postgres to use: the configured URL, else the local server on 127.0.0.1:5432, else an
embedded server from the `pgserver` wheel (data under the data dir).

`flightdeck dev` needs nothing but Python: this is what makes that true for the database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from pgserver import PostgresServer

LOCAL_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_NAME = "flightdeck"
PROBE_TIMEOUT_SECONDS = 2.0
_SQLALCHEMY_SCHEMES = ("postgresql://", "postgres://")


def to_asyncpg_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://…` (SQLAlchemy) → `postgresql://…` (asyncpg), the rest verbatim."""
    scheme, separator, rest = sqlalchemy_url.partition("://")
    if not separator or scheme.split("+")[0] not in ("postgresql", "postgres"):
        raise ValueError("not a PostgreSQL URL")
    return f"postgresql://{rest}"


def to_sqlalchemy_url(url: str) -> str:
    """A plain `postgresql://` (or `postgres://`) URL with the asyncpg driver named."""
    for scheme in _SQLALCHEMY_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url.removeprefix(scheme)
    return url


async def ensure_database(admin_dsn: str, name: str) -> None:
    """CREATE DATABASE `name` unless it exists (a concurrent creator is fine)."""
    connection = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            quoted = name.replace('"', '""')
            try:
                await connection.execute(f'CREATE DATABASE "{quoted}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await connection.close()


async def server_reachable(dsn: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """True if a Postgres answers at `dsn` and lets us in."""
    try:
        connection = await asyncpg.connect(dsn, timeout=timeout)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    await connection.close()
    return True


def embedded_url(server: PostgresServer, database: str) -> str:
    """SQLAlchemy URL of `database` on an embedded server (Unix socket, else host:port)."""
    info = server.get_postmaster_info()
    if info.socket_dir is not None:
        return f"postgresql+asyncpg://postgres@/{database}?host={info.socket_dir}"
    return f"postgresql+asyncpg://postgres@{info.hostname}:{info.port}/{database}"


async def start_embedded(data_dir: Path, database: str) -> tuple[str, PostgresServer]:
    """Start (or attach to) the embedded server under `data_dir/pgdata`; create `database`."""
    import pgserver  # its own Postgres binaries; only needed as the last resort

    data_dir.mkdir(parents=True, exist_ok=True)
    # get_server blocks (initdb, pg_ctl start): keep it off the event loop.
    server = await asyncio.to_thread(pgserver.get_server, data_dir / "pgdata")
    await ensure_database(server.get_uri("postgres"), database)
    return embedded_url(server, database), server


async def resolve_database_url(
    configured: str | None,
    data_dir: Path,
    *,
    database: str = DATABASE_NAME,
    local_admin_dsn: str = LOCAL_ADMIN_DSN,
) -> tuple[str, PostgresServer | None]:
    """The SQLAlchemy URL to use and, for an embedded server, its handle (keep it referenced
    while the database is in use; it stops the server at process exit)."""
    if configured:
        return to_sqlalchemy_url(configured), None
    if await server_reachable(local_admin_dsn):
        await ensure_database(local_admin_dsn, database)
        local = make_url(to_sqlalchemy_url(local_admin_dsn)).set(database=database)
        return local.render_as_string(hide_password=False), None
    return await start_embedded(data_dir, database)
