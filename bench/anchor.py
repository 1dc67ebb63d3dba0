"""The anchor for bench/publish.py: the publish DAG as a bare Temporal workflow whose activities
only sleep the simulated platform latency — what Temporal alone costs for this shape, on the
same dev server, in the same run. (Its own module: a workflow defined in `__main__` fails the
sandbox's validation.)"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow


class BareDagInput(BaseModel):
    ad_sets: int
    ads: int
    latency_seconds: float
    activity_task_queue: str


@activity.defn(name="bench.sleep_step")
async def sleep_step(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "id"


@workflow.defn
class BareDagWorkflow:
    """template | campaign → per ad set: ad set → tracking campaign → per ad: creative → ad."""

    @workflow.run
    async def run(self, inp: BareDagInput) -> int:
        self._inp = inp
        await asyncio.gather(self._step(), self._step())
        await asyncio.gather(*(self._ad_set() for _ in range(inp.ad_sets)))
        return 2 + 2 * inp.ad_sets + 2 * inp.ad_sets * inp.ads

    async def _ad_set(self) -> None:
        await self._step()
        await self._step()
        await asyncio.gather(*(self._ad() for _ in range(self._inp.ads)))

    async def _ad(self) -> None:
        await self._step()
        await self._step()

    async def _step(self) -> str:
        return await workflow.execute_activity(
            sleep_step,
            self._inp.latency_seconds,
            task_queue=self._inp.activity_task_queue,
            start_to_close_timeout=timedelta(seconds=30),
        )
