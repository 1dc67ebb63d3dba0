"""The API's startup freezes the heap it built, so full collections skip it (api/heap.py)."""

from __future__ import annotations

import gc

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.api.app import create_app
from flightdeck.api.heap import freeze_startup_heap
from flightdeck.settings import Settings


async def test_startup_freezes_the_heap_once(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    gc.unfreeze()  # whatever an earlier startup in this process froze
    assert gc.get_freeze_count() == 0
    app = create_app(Settings(environment="test", database_url=database_url), sessions=sessions)
    try:
        async with app.router.lifespan_context(app):
            frozen = gc.get_freeze_count()
            # The modules, classes and schemas startup loaded: out of every later collection.
            assert frozen > 50_000
            assert len(gc.get_objects()) < frozen
            # Once per process: a second app (or a second startup) freezes nothing more.
            assert freeze_startup_heap() is False
            assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
