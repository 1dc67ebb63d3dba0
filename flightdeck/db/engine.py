"""Async engine and session factory (asyncpg), one of each per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from flightdeck.db.tenancy import APP_ROLE

if TYPE_CHECKING:
    from flightdeck.settings import Settings

POOL_SIZE = 30
MAX_OVERFLOW = 20
POOL_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class PoolSize:
    """A process's connection pool (settings `db_pool_size`, `db_max_overflow`,
    `db_pool_timeout_seconds`)."""

    size: int = POOL_SIZE
    max_overflow: int = MAX_OVERFLOW
    timeout_seconds: float = POOL_TIMEOUT_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolSize:
        return cls(
            settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout_seconds
        )

    @property
    def most(self) -> int:
        """The most connections the pool ever holds at once."""
        return self.size + self.max_overflow


def create_engine(
    url: str,
    *,
    role: str | None = APP_ROLE,
    pre_ping: bool = True,
    pool: PoolSize | None = None,
) -> AsyncEngine:
    """An asyncpg engine whose pool checks connections before handing them out (`pre_ping`: one
    round trip per checkout; workers skip it — an activity on a stale connection fails and
    Temporal retries it — the API keeps it, so a request never fails on one).

    Connections run as `role` (the migrations create `flightdeck_app`), so the row-level
    security policies apply even when the login user owns the tables or is a superuser.
    `role=None` keeps the login user (migrations, and databases not yet migrated).
    """
    connect_args: dict[str, Any] = {}
    if role:
        connect_args["server_settings"] = {"role": role}
    # Kept connections: a publish runs 20+ activities at once, and opening an overflow
    # connection (TCP, auth, role) per activity cost more than the activity's own queries.
    pool = pool or PoolSize()
    return create_async_engine(
        url,
        pool_pre_ping=pre_ping,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_timeout=pool.timeout_seconds,
        connect_args=connect_args,
    )


async def pool_overcommit(engine: AsyncEngine, pool: PoolSize, processes: int) -> str | None:
    """Why `processes` pools of this size may not fit the server's connections (None: they
    fit). Only what these processes hold is counted: workers and other clients need room too."""
    async with engine.connect() as connection:
        limit = int((await connection.exec_driver_sql("SHOW max_connections")).scalar_one())
        reserved = int(
            (await connection.exec_driver_sql("SHOW superuser_reserved_connections")).scalar_one()
        )
    available = limit - reserved
    if processes * pool.most <= available:
        return None
    return (
        f"{processes} process(es) × {pool.most} pooled connections (FLIGHTDECK_DB_POOL_SIZE "
        f"{pool.size} + FLIGHTDECK_DB_MAX_OVERFLOW {pool.max_overflow}) exceed the {available} "
        "connections Postgres allows (max_connections less the superuser reserve): under load "
        "requests will fail with 'too many clients'; lower the pool or raise max_connections"
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (no lazy reload in async code).

    A session runs in the system scope unless opened with `tenancy.tenant_session` or narrowed
    with `tenancy.scope_to_tenant` (see db/tenancy.py)."""
    return async_sessionmaker(engine, expire_on_commit=False)
