"""Async engine and session factory (asyncpg), one of each per process."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from flightdeck.db.tenancy import APP_ROLE

POOL_SIZE = 30


def create_engine(url: str, *, role: str | None = APP_ROLE, pre_ping: bool = True) -> AsyncEngine:
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
    return create_async_engine(
        url, pool_pre_ping=pre_ping, pool_size=POOL_SIZE, max_overflow=20, connect_args=connect_args
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (no lazy reload in async code).

    A session runs in the system scope unless opened with `tenancy.tenant_session` or narrowed
    with `tenancy.scope_to_tenant` (see db/tenancy.py)."""
    return async_sessionmaker(engine, expire_on_commit=False)
