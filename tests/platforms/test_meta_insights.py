"""InsightsReader against the Graph simulator (in process): rows in our units, async report runs
through their states (a failed run is run again, halved; one that keeps failing gives up), and
the insights throttle — slowing down before Meta refuses, and waiting out a refusal. Sleeps are
replaced by moves of the simulator's clock, so waits cost no real time and are measured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.platforms.meta import MetaGraphClient
from flightdeck.platforms.meta_insights import (
    InsightsPacer,
    InsightsQuery,
    InsightsReader,
    InsightsStats,
    ReportJobFailed,
)
from tests.platforms.meta_support import APP_ID, APP_SECRET, MAIN_ACCOUNT, login, register_app

SINCE, UNTIL = date(2026, 1, 1), date(2026, 1, 20)


class Clock:
    """Sleeps advance the simulator's clock (and are recorded) instead of the test's."""

    def __init__(self, sim: httpx.AsyncClient) -> None:
        self.sim = sim
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await self.sim.post("/_sim/performance/clock", json={"advanceSeconds": seconds})


@pytest.fixture
async def sim(sim_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim_app), base_url="http://sim"
    ) as client:
        await register_app(client)
        # A still clock: only the reader's (recorded) sleeps move it.
        await client.post("/_sim/performance/clock", json={"frozen": True})
        yield client


async def reader_for(
    sim_app: FastAPI, sim: httpx.AsyncClient, clock: Clock, slow_at: float = 40, **options: object
) -> tuple[InsightsReader, str, MetaGraphClient, InsightsPacer]:
    pacer = InsightsPacer(slow_at_percent=slow_at, max_pause_seconds=30, sleep=clock.sleep)
    graph = MetaGraphClient(
        "http://sim/graph", "v23.0", APP_ID, APP_SECRET,
        transport=httpx.ASGITransport(app=sim_app), on_response=pacer.observe,
    )  # fmt: skip
    token = await login(sim, graph)
    reader = InsightsReader(graph, pacer, sleep=clock.sleep, **options)  # type: ignore[arg-type]
    return reader, token, graph, pacer


async def campaign(sim: httpx.AsyncClient) -> str:
    """A campaign made in Ads Manager, running long before the window."""
    response = await sim.post(
        "/_sim/performance/campaigns",
        json={"platform": "meta", "accountId": MAIN_ACCOUNT, "name": "C", "dailyBudget": "80",
              "runningDays": 700},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    campaign_id: str = response.json()["id"]
    return campaign_id


def query() -> InsightsQuery:
    return InsightsQuery(account=MAIN_ACCOUNT, since=SINCE, until=UNTIL, currency="USD")


async def read_all(reader: InsightsReader, token: str, jobs: bool, stats: InsightsStats) -> list:
    rows = []
    method = reader.rows_by_jobs if jobs else reader.rows_now
    async for batch in method(token, query(), stats, lambda note: None):
        rows += batch
    return rows


async def test_sync_and_async_reads_give_the_same_rows_in_major_units(
    sim_app: FastAPI, sim: httpx.AsyncClient
) -> None:
    clock = Clock(sim)
    reader, token, graph, _ = await reader_for(sim_app, sim, clock, page_size=7, slice_days=6)
    campaign_id = await campaign(sim)
    await sim.post("/_sim/performance/days", json={"platform": "meta", "campaignId": campaign_id,
                   "day": "2026-01-05", "values": {"spend": "12.34", "conversions": 3,
                                                   "revenue": "99.99", "clicks": 50}})  # fmt: skip
    now_stats, job_stats = InsightsStats(), InsightsStats()
    now = await read_all(reader, token, False, now_stats)
    by_jobs = await read_all(reader, token, True, job_stats)
    await graph.aclose()

    assert len(now) == 20 and sorted(now, key=lambda r: r.day) == sorted(
        by_jobs, key=lambda r: r.day
    )
    fifth = next(r for r in now if r.day == date(2026, 1, 5))
    assert (fifth.spend, fifth.conversions, fifth.revenue) == (
        Decimal("12.34"),
        3,
        Decimal("99.99"),
    )
    assert now_stats.calls == 3  # 20 rows, pages of 7
    assert job_stats.jobs == 4 and job_stats.failed_jobs == 0  # slices of 6 days
    assert clock.slept  # polled until each run was Job Completed


async def test_a_failed_run_is_run_again_halved_and_one_that_keeps_failing_gives_up(
    sim_app: FastAPI, sim: httpx.AsyncClient
) -> None:
    clock = Clock(sim)
    reader, token, graph, _ = await reader_for(sim_app, sim, clock, slice_days=20)
    await campaign(sim)
    await sim.post("/_sim/performance/insights/jobs", json={"durationSeconds": 5, "failNext": 1})
    stats = InsightsStats()
    rows = await read_all(reader, token, True, stats)
    assert len(rows) == 20 and stats.failed_jobs == 1 and stats.jobs == 3  # 1 + its 2 halves

    await sim.post("/_sim/performance/insights/jobs", json={"failNext": 100})
    with pytest.raises(ReportJobFailed, match="ended Job Failed 3 times"):
        await read_all(reader, token, True, InsightsStats())
    await graph.aclose()


async def test_the_throttle_slows_reads_before_meta_refuses_and_a_refusal_is_waited_out(
    sim_app: FastAPI, sim: httpx.AsyncClient
) -> None:
    clock = Clock(sim)
    reader, token, graph, pacer = await reader_for(sim_app, sim, clock, page_size=2)
    await campaign(sim)
    # 10 insights calls per 60 s: reading 20 rows two at a time climbs through it.
    limits = {"callsPerWindow": 10, "windowSeconds": 60, "regainSeconds": 60}
    await sim.post("/_sim/performance/insights/throttle", json=limits)
    stats = InsightsStats()
    rows = await read_all(reader, token, False, stats)
    await graph.aclose()

    assert len(rows) == 20 and stats.calls >= 10
    waits = [s for s in clock.slept if s > 0]
    # It slowed down as the account's usage rose past 40 %, in growing steps …
    assert len(waits) >= 2 and waits[0] < waits[1], waits
    assert stats.waited == pytest.approx(sum(waits)) and max(waits) < 30
    assert stats.calls == 10  # no call was refused: it slowed down in time


@pytest.mark.parametrize("error", ["code80000", "code4"])
async def test_a_refusal_is_waited_out_then_the_read_goes_on(
    sim_app: FastAPI, sim: httpx.AsyncClient, error: str
) -> None:
    clock = Clock(sim)
    # A reader that never slows down by itself: Meta refuses the 4th call in a minute.
    reader, token, graph, _ = await reader_for(sim_app, sim, clock, slow_at=100, page_size=4)
    await campaign(sim)
    limits = {"callsPerWindow": 3, "windowSeconds": 60, "regainSeconds": 60, "error": error}
    await sim.post("/_sim/performance/insights/throttle", json=limits)
    stats = InsightsStats()
    rows = await read_all(reader, token, False, stats)
    await graph.aclose()

    assert len(rows) == 20
    # Code 80000 says "1 minute" (estimated_time_to_regain_access); code 4 says nothing, and
    # the reader waits Meta's shortest regain time, a minute, as well.
    (wait,) = [s for s in clock.slept if s > 0]
    assert wait == pytest.approx(61, abs=0.1)  # the regain time and a second's margin
    assert stats.calls == 5 + 1  # five pages, the fourth refused once


async def test_the_throttle_header_is_read_from_every_insights_answer(
    sim_app: FastAPI, sim: httpx.AsyncClient
) -> None:
    clock = Clock(sim)
    reader, token, graph, pacer = await reader_for(sim_app, sim, clock)
    await campaign(sim)
    await sim.post("/_sim/performance/insights/throttle", json={"accountPct": 87, "appPct": 12})
    await read_all(reader, token, False, InsightsStats())
    await graph.aclose()
    assert pacer.percent(MAIN_ACCOUNT) == 87
    assert pacer.wait_seconds(MAIN_ACCOUNT) == pytest.approx(30 * ((87 - 40) / 60) ** 2)
