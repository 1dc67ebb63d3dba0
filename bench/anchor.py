"""The anchors for bench/publish.py: the publish DAG as a bare Temporal workflow whose activities
only sleep the simulated platform latency — what Temporal alone costs for this shape, on the
same dev server, in the same run — and the same workflow whose activities do, with no
Flightdeck code, the I/O a publish step cannot avoid: one HTTP create on the relay simulator
(same latency, same dedup key) and one row written to Postgres. (Its own module, so that the
workflow's name does not depend on how the benchmark was started.)"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow


class BareDagInput(BaseModel):
    ad_sets: int
    ads: int
    latency_seconds: float
    activity_task_queue: str
    io: bool = False  # each step does the real I/O (`IoActivities`) instead of sleeping
    # Flightdeck's activity shape: one activity per ad set (ad set, tracking campaign, then
    # every ad's creative and ad at once), sleeping that critical path: 4 latencies.
    per_ad_set: bool = False


class IoStep(BaseModel):
    key: str


IO_TABLE = "bench_io_anchor"
CREATE_IO_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {IO_TABLE} (key text PRIMARY KEY, external_id text NOT NULL, "
    "details jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
)


class IoActivities:
    """A step's unavoidable I/O with plain libraries: an httpx POST to the relay simulator's
    `campaigns/create` (its fault rules add the same latency as Flightdeck's calls get) and one
    asyncpg INSERT — what any implementation of this DAG pays beyond Temporal."""

    def __init__(self, http: Any, pool: Any, organization: str, ad_account: str) -> None:
        self._http, self._pool = http, pool
        self._organization, self._ad_account = organization, ad_account

    @activity.defn(name="bench.io_step")
    async def io_step(self, inp: IoStep) -> str:
        body = {
            "adAccountId": self._ad_account, "name": f"io {inp.key}", "objective":
            "OUTCOME_TRAFFIC", "status": "PAUSED", "special_ad_categories": [],
            "organization": self._organization, "clientRequestKey": inp.key,
        }  # fmt: skip
        answer = await self._http.post("/api/facebook/campaigns/create", json=body)
        answer.raise_for_status()
        external_id = str(answer.json()["id"])
        await self._pool.execute(
            f"INSERT INTO {IO_TABLE} (key, external_id, details) VALUES ($1, $2, $3::jsonb) "
            "ON CONFLICT (key) DO NOTHING",
            inp.key,
            external_id,
            json.dumps({"clientRequestKey": inp.key}),
        )
        return external_id


@activity.defn(name="bench.sleep_step")
async def sleep_step(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "id"


# Outside the sandbox, like Flightdeck's publish workflows: the anchor pays no cost they avoid.
@workflow.defn(sandboxed=False)
class BareDagWorkflow:
    """template | campaign → per ad set: ad set → tracking campaign → per ad: creative → ad."""

    @workflow.run
    async def run(self, inp: BareDagInput) -> int:
        self._inp, self._steps = inp, 0
        await asyncio.gather(self._step(), self._step())
        await asyncio.gather(*(self._ad_set() for _ in range(inp.ad_sets)))
        return 2 + 2 * inp.ad_sets + 2 * inp.ad_sets * inp.ads

    async def _ad_set(self) -> None:
        if self._inp.per_ad_set:
            await workflow.execute_activity(
                sleep_step,
                4 * self._inp.latency_seconds,
                task_queue=self._inp.activity_task_queue,
                start_to_close_timeout=timedelta(seconds=30),
            )
            return
        await self._step()
        await self._step()
        await asyncio.gather(*(self._ad() for _ in range(self._inp.ads)))

    async def _ad(self) -> None:
        await self._step()
        await self._step()

    async def _step(self) -> str:
        if self._inp.io:
            self._steps += 1
            return await workflow.execute_activity(
                "bench.io_step",
                IoStep(key=f"{workflow.info().workflow_id}:{self._steps}"),
                task_queue=self._inp.activity_task_queue,
                start_to_close_timeout=timedelta(seconds=30),
                result_type=str,
            )
        return await workflow.execute_activity(
            sleep_step,
            self._inp.latency_seconds,
            task_queue=self._inp.activity_task_queue,
            start_to_close_timeout=timedelta(seconds=30),
        )
