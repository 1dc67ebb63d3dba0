"""The chaos suite's short version (bench/chaos.py --quick): plans from 3 tenants and 3 Reddit
campaign sets while the simulators inject 5xx, lost responses and 429 bursts, a worker is
SIGKILLed every ~10 s, and Temporal and Postgres are each restarted once; then the audit.

One run (about two and a half minutes) feeds every test below. Goals (issue 8): every run
terminal, 0 orphans, 0 duplicates, 0 lost IDs, 0 cross-tenant effects."""

from __future__ import annotations

import pytest

from bench.chaos import QUICK, Report, run


@pytest.fixture(scope="module")
async def report() -> Report:
    result = await run(QUICK)
    print(result.render())
    return result


async def test_the_load_and_the_harm_happened(report: Report) -> None:
    figures = report.figures
    assert figures["worker SIGKILLs"] >= 3
    assert figures["Temporal restarts"] == 1 and figures["Postgres restarts"] == 1
    assert figures["plans submitted / stored"] == f"{QUICK.plans} / {QUICK.plans}"
    errors, lost, _ = (int(n) for n in figures["injected: errors / lost / dropped"].split(" / "))
    assert errors > 0 and lost > 0, "faults were injected"
    assert figures["foreign organization refused (422)"] == 1
    assert figures.get("API 5xx not JSON", 0) == 0, "every 5xx of the API is JSON"


async def test_publishing_meets_every_goal(report: Report) -> None:
    assert report.missed("publish") == {}, report.render()
    assert not report.problems.get("wrong_outcome"), report.render()
    assert not report.problems.get("not_active"), report.render()


async def test_every_set_run_ends_and_no_id_is_lost(report: Report) -> None:
    missed = report.missed("sets")
    assert "stuck" not in missed and "lost_ids" not in missed, report.render()


async def test_set_sync_adopts_only_its_own_objects(report: Report) -> None:
    missed = report.missed("sets")
    assert not missed.get("orphans") and not missed.get("duplicates"), report.render()
    assert not missed.get("cross_tenant"), report.render()
