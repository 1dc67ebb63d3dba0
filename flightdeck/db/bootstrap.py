"""Find a Postgres to use: the configured URL, else the local server on 127.0.0.1:5432, else an
embedded server from the `pgserver` wheel (data under the data dir)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg

LOCAL_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "flightdeck"


def to_asyncpg_dsn(sqlalchemy_url: str) -> str:
    """`postgresql+asyncpg://…` (SQLAlchemy) -> `postgresql://…` (asyncpg)."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def to_sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


async def ensure_database(admin_dsn: str, name: str) -> None:
    connection = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _local_server_reachable() -> bool:
    try:
        connection = await asyncpg.connect(LOCAL_ADMIN_DSN, timeout=2)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


async def resolve_database_url(configured: str | None, data_dir: Path) -> tuple[str, Any | None]:
    """Returns the SQLAlchemy URL and, for an embedded server, its handle (keep it alive)."""
    if configured:
        return configured, None
    if await _local_server_reachable():
        await ensure_database(LOCAL_ADMIN_DSN, DATABASE)
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}", None
    import pgserver  # a wheel with its own Postgres binaries; only needed as the last resort

    data_dir.mkdir(parents=True, exist_ok=True)
    server = await asyncio.to_thread(pgserver.get_server, data_dir / "pgdata")
    admin_dsn = server.get_uri("postgres")
    await ensure_database(admin_dsn, DATABASE)
    return to_sqlalchemy_url(server.get_uri(DATABASE)), server
