"""The connection pool is a setting (`FLIGHTDECK_DB_POOL_SIZE`, `…_MAX_OVERFLOW`,
`…_POOL_TIMEOUT_SECONDS`), and the API says at start when its processes' pools cannot all fit
the server's `max_connections`."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from flightdeck.db.engine import PoolSize, create_engine, pool_overcommit
from flightdeck.settings import Settings


def test_the_pool_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLIGHTDECK_DB_POOL_SIZE", "7")
    monkeypatch.setenv("FLIGHTDECK_DB_MAX_OVERFLOW", "3")
    monkeypatch.setenv("FLIGHTDECK_DB_POOL_TIMEOUT_SECONDS", "2.5")
    pool = PoolSize.from_settings(Settings())
    assert pool == PoolSize(size=7, max_overflow=3, timeout_seconds=2.5) and pool.most == 10
    engine = create_engine("postgresql+asyncpg://u@127.0.0.1:1/none", pool=pool)
    queue = engine.sync_engine.pool
    assert (queue.size(), queue._max_overflow, queue._timeout) == (7, 3, 2.5)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="db_pool_size"):
        Settings(db_pool_size=0)


async def test_pools_that_cannot_fit_max_connections_are_named(engine: AsyncEngine) -> None:
    assert await pool_overcommit(engine, PoolSize(size=2, max_overflow=1), processes=1) is None
    problem = await pool_overcommit(engine, PoolSize(size=30, max_overflow=20), processes=1000)
    assert problem is not None
    assert "1000 process(es) × 50 pooled connections" in problem
    assert "FLIGHTDECK_DB_POOL_SIZE 30" in problem and "FLIGHTDECK_DB_MAX_OVERFLOW 20" in problem
