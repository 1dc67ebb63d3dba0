"""The API's startup builds the routes' state and freezes the heap it built (api/startup.py)."""

from __future__ import annotations

import gc

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.api.app import create_app
from flightdeck.api.startup import freeze_startup_heap
from flightdeck.settings import Settings


def tracked() -> int:
    gc.collect()
    return len(gc.get_objects())


async def test_startup_routes_once_and_freezes_the_heap(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    gc.unfreeze()  # whatever an earlier startup in this process froze
    assert gc.get_freeze_count() == 0
    app = create_app(Settings(environment="test", database_url=database_url), sessions=sessions)
    try:
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
            # The modules, classes, schemas and route state startup built: out of every later
            # collection.
            assert frozen > 50_000
            before = tracked()
            assert before < frozen
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                assert (await client.get("/healthz")).status_code == 200
            # The first request finds the routes' state built (lazily it is ~40,000 objects).
            assert tracked() - before < 5_000
            # Once per process: a second app (or a second startup) freezes nothing more.
            assert freeze_startup_heap() is False
            # (Frozen objects freed meanwhile leave the count, so it can only have shrunk.)
            assert gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
