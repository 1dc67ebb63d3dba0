"""The creatives lock (`SetSyncRepository.try_lock` / `lock`): creates share it, a lookup after
a lost answer takes it alone, waits in line so creates cannot starve it, and gives up after
its wait instead of hanging."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from flightdeck.db.repositories.set_sync import SetSyncRepository

KEY = "creative:reddit:t2_test_lock"


async def test_creates_share_the_lock_and_a_waiting_lookup_stops_new_ones(
    engine: AsyncEngine,
) -> None:
    async with (
        AsyncSession(engine) as first,
        AsyncSession(engine) as second,
        AsyncSession(engine) as lookup,
        AsyncSession(engine) as late,
    ):
        assert await SetSyncRepository(first).try_lock(KEY, shared=True)
        assert await SetSyncRepository(second).try_lock(KEY, shared=True)  # side by side
        assert not await SetSyncRepository(lookup).try_lock(KEY)  # not while they run

        waiting = asyncio.create_task(SetSyncRepository(lookup).lock(KEY, timedelta(seconds=5)))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        # A create arriving now waits behind the lookup, so a stream of them cannot starve it.
        assert not await SetSyncRepository(late).try_lock(KEY, shared=True)
        await late.rollback()
        await first.commit()
        await second.commit()
        assert await asyncio.wait_for(waiting, 5)
        assert not await SetSyncRepository(late).try_lock(KEY, shared=True)
        await lookup.commit()
        assert await SetSyncRepository(late).try_lock(KEY, shared=True)
        await late.commit()


async def test_a_lookup_gives_up_after_its_wait(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as create, AsyncSession(engine) as lookup:
        assert await SetSyncRepository(create).try_lock(KEY, shared=True)
        loop = asyncio.get_running_loop()
        began = loop.time()
        assert not await SetSyncRepository(lookup).lock(KEY, timedelta(milliseconds=200))
        assert loop.time() - began < 3
        await lookup.rollback()
        await create.commit()
