"""Benchmark seed 004's metrics:

1. ingest 1,000,000 daily rows (2,000 campaigns x 500 days) through `MetricsStore.upsert`
   (bulk unnest upserts into monthly partitions, created as it goes) -> rows/s, and again
   (the same window re-read: nothing changes) -> rows/s;
2. the seed's 7-day performance query and a 90-day daily series of 50 campaigns over that
   data, 20 runs each -> p50/p95 (the first run included, and shown), each run split into its
   SQL statements, garbage-collector pauses and the rest (Python): through the API endpoints
   (`GET /api/v1/metrics/performance?days=7&limit=200`, the largest page, and
   `GET /api/v1/metrics/series`; in-process ASGI, the API's startup run as uvicorn runs it),
   then the repository calls behind them over every campaign, in the tenant's scope
   (row-level security on) and, for comparison, in the system scope and with the old `::text`
   policy; the plans of the repository's own statements (EXPLAIN ANALYZE, BUFFERS, planning
   time, twice on one connection); last, the API again with its startup heap unfrozen — the
   anchor, as it ran before (api/startup.py) — and the ratio of the p95s;
3. a metrics cycle over 2,000 campaigns on the simulators (1,000 on a Meta account, read
   through async report runs; 1,000 on a Reddit account): report calls, wall time, rows upserted
   — the first cycle (the initial backfill) and a second one (the lookback windows only).

Usage: .venv/bin/python bench/metrics.py [--campaigns 2000] [--days 500] [--cycle-campaigns 1000]
       [--no-cycle] [--load-once]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import bench_system  # noqa: E402

BATCH_ROWS = 20_000
RUNS = 20


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.2f} / {five:.2f} (1/5 min)"


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def percentiles(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples) * 1000:.1f} ms, p95 {p95(samples) * 1000:.1f} ms"


async def seed_registry(sessions: Any, tenant_id: uuid.UUID, campaigns: int) -> list[uuid.UUID]:
    from flightdeck.db.repositories.platform_campaigns import PlatformCampaignRepository
    from flightdeck.db.tenancy import tenant_session
    from flightdeck.platforms.reporting import DiscoveredCampaign, ReportingAccount

    ids: list[uuid.UUID] = []
    for platform, account in (("meta", "act_bench"), ("reddit", "a2_bench")):
        reporting = ReportingAccount(tenant_id, platform, uuid.uuid4(), account, "USD")
        found = [
            DiscoveredCampaign(
                platform_campaign_id=f"{platform}-{i}", name=f"{platform} {i:05d}",
                status="active", platform_status="ACTIVE", objective="SALES",
                budget_amount=Decimal(50), budget_type="daily", budget_owner="campaign",
                currency="USD",
            )
            for i in range(campaigns // 2)
        ]  # fmt: skip
        async with tenant_session(sessions, tenant_id) as session, session.begin():
            registry = PlatformCampaignRepository(session)
            await registry.upsert_discovered(reporting, found, datetime.now(UTC))
            ids += list((await registry.ids_for_account(tenant_id, platform, account)).values())
    return ids


def rows_for(ids: list[uuid.UUID], first: date, days: int) -> Any:
    """(campaign, MetricRow) pairs, one campaign's days after another (as a report gives them)."""
    from flightdeck.domain.metrics import MetricRow

    for n, campaign in enumerate(ids):
        for d in range(days):
            spend = Decimal(30 + (n * 7 + d * 13) % 40) + Decimal((n + d) % 100) / 100
            conversions = (n + 3 * d) % 9
            yield campaign, MetricRow(
                f"c{n}", first + timedelta(days=d), 4000 + (n * d) % 3000, 60 + (n + d) % 80,
                spend, conversions, spend * Decimal(conversions % 5) / 2, "USD",
            )  # fmt: skip


async def ingest(
    sessions: Any, tenant_id: uuid.UUID, ids: list[uuid.UUID], days: int, *, again: bool = True
) -> None:
    from flightdeck.db.repositories.metrics import MetricsStore
    from flightdeck.db.tenancy import tenant_session

    first = datetime.now(UTC).date() - timedelta(days=days - 1)
    for label in ("first load", "same window again") if again else ("first load",):
        start = time.perf_counter()
        batch: list[Any] = []
        total = changed = 0
        for pair in rows_for(ids, first, days):
            batch.append(pair)
            if len(batch) == BATCH_ROWS:
                async with tenant_session(sessions, tenant_id) as session, session.begin():
                    changed += await MetricsStore(session).upsert(tenant_id, batch)
                total += len(batch)
                batch = []
        if batch:
            async with tenant_session(sessions, tenant_id) as session, session.begin():
                changed += await MetricsStore(session).upsert(tenant_id, batch)
            total += len(batch)
        elapsed = time.perf_counter() - start
        print(f"ingest, {label}: {total:,} rows in {elapsed:.1f} s = {total / elapsed:,.0f} rows/s "
              f"({changed:,} written)")  # fmt: skip


class Phases:
    """Where measured calls spend their time: the SQL statements as the driver runs them (sent,
    executed, rows back and decoded), garbage-collector pauses (and how many were full,
    generation-2, collections), and the rest — Python turning rows into objects, pydantic,
    JSON, the API's middleware. A GC pause inside a statement counts as GC only. Also this
    thread's CPU time (the event loop's: every phase but Postgres' own work), which other
    processes' load does not inflate as it does wall times; and the full collections' CPU."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine = engine.sync_engine
        self.db = self.gc = self.full_cpu = 0.0
        self.full = self.statements = 0
        self._started = self._gc_started = self._gc_at_statement = self._gc_cpu = 0.0
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        gc.callbacks.append(self._collected)

    def _before(self, *_: Any) -> None:
        self._started, self._gc_at_statement = time.perf_counter(), self.gc

    def _after(self, *_: Any) -> None:
        self.db += time.perf_counter() - self._started - (self.gc - self._gc_at_statement)
        self.statements += 1

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started, self._gc_cpu = time.perf_counter(), time.thread_time()
        else:
            self.gc += time.perf_counter() - self._gc_started
            if info["generation"] == 2:
                self.full += 1
                self.full_cpu += time.thread_time() - self._gc_cpu

    async def time(self, pending: Any) -> tuple[Any, dict[str, float]]:
        """Await `pending` (a coroutine: nothing runs before this); its result and {wall, cpu,
        db, gc, full, full_cpu, statements, rest} (seconds)."""
        self.db = self.gc = self.full_cpu = 0.0
        self.full = self.statements = 0
        start, cpu = time.perf_counter(), time.thread_time()
        result = await pending
        wall, cpu = time.perf_counter() - start, time.thread_time() - cpu
        sample = {"wall": wall, "cpu": cpu, "db": self.db, "gc": self.gc, "full": self.full,
                  "full_cpu": self.full_cpu, "statements": self.statements,
                  "rest": wall - self.db - self.gc}  # fmt: skip
        return result, sample

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        gc.callbacks.remove(self._collected)


def report(label: str, samples: list[dict[str, float]]) -> float:
    """p50/p95 of the wall times (the first run included), the first run, the phases of the
    median run and of the slowest; returns the p95."""
    walls = [s["wall"] for s in samples]
    ordered = sorted(samples, key=lambda s: s["wall"])
    median, slowest = ordered[len(ordered) // 2], ordered[-1]

    def phases(s: dict[str, float]) -> str:
        return (f"{s['wall'] * 1000:.1f} ms = {int(s['statements'])} statements "
                f"{s['db'] * 1000:.1f} + GC {s['gc'] * 1000:.1f} ({int(s['full'])} full) "
                f"+ Python {s['rest'] * 1000:.1f}")  # fmt: skip

    fulls = sum(int(s["full"]) for s in samples)
    full_cpu = sum(s["full_cpu"] for s in samples) / max(fulls, 1)
    cpus = [s["cpu"] for s in samples]
    print(f"{label}: {percentiles(walls)}; first run {walls[0] * 1000:.1f} ms; "
          f"CPU (this thread) {percentiles(cpus)}; {fulls} full GCs in {len(samples)} runs"
          f" ({full_cpu * 1000:.1f} ms CPU each)")  # fmt: skip
    print(f"   median run {phases(median)}; slowest {phases(slowest)}")
    return p95(walls)


async def queries(bench: Any, engine: Any, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    from sqlalchemy import text

    # What autovacuum does after a bulk load: statistics, and the visibility map that lets
    # the covering (tenant_id, time) index answer without visiting the table.
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) campaign_metrics"))
        await autocommit.execute(text("ANALYZE platform_campaigns"))
    today = datetime.now(UTC).date()
    fifty = ids[:50]
    phases = Phases(bench.sessions.kw["bind"])
    print(f"(the API's startup froze {gc.get_freeze_count():,} objects out of full collections; "
          f"{len(gc.get_objects()):,} other objects tracked now)")  # fmt: skip
    try:
        frozen = await measure_api(bench.api, phases, fifty)
        await measure(bench.sessions, phases, tenant_id, ids, today, fifty)
        await explain(bench.sessions, tenant_id, today, fifty)
        # The same with the policy most tables have: tenant ids compared as text.
        await set_policies(engine, typed=False)
        print("-- with the ::text policy on campaign_metrics and platform_campaigns instead:")
        await measure(bench.sessions, phases, tenant_id, ids, today, fifty,
                      scopes=("tenant (::text policy)",))  # fmt: skip
        await explain(bench.sessions, tenant_id, today, fifty, scopes=("tenant, ::text policy",))
        await set_policies(engine, typed=True)
        # The anchor, in this process under the same load: the API as it ran before its
        # startup froze the heap (every full collection walks everything again).
        gc.unfreeze()
        before = await measure_api(bench.api, phases, fifty, heap=", heap NOT frozen (before)")
        print(f"p95 with the startup heap frozen / not frozen: 7-day {frozen[0] / before[0]:.2f}, "
              f"90-day series {frozen[1] / before[1]:.2f}")  # fmt: skip
    finally:
        phases.close()


async def measure_api(
    api: Any, phases: Phases, fifty: list[uuid.UUID], heap: str = ""
) -> tuple[float, float]:
    """The endpoints as a client calls them (in-process ASGI: the API key's lookup, the
    tenant's scope, the query, the response models and JSON; no network); their p95s."""
    week: list[dict[str, float]] = []
    series: list[dict[str, float]] = []
    sizes: dict[str, tuple[int, int]] = {}
    calls = {
        "performance": {"days": 7, "limit": 200},  # the endpoint's largest page
        "series": {"days": 90, "campaignId": [str(c) for c in fifty]},
    }
    for _ in range(RUNS):
        for path, samples in (("performance", week), ("series", series)):
            response, sample = await phases.time(
                api.get(f"/api/v1/metrics/{path}", params=calls[path])
            )
            response.raise_for_status()
            samples.append(sample)
            sizes[path] = (len(response.json()["items"]), len(response.content) // 1000)
    (items, week_kb), (_, series_kb) = sizes["performance"], sizes["series"]
    return (
        report(f"7-day performance, API GET /metrics/performance?days=7&limit=200 "
               f"({items:,} campaigns, {week_kb} kB){heap}", week),
        report(f"90-day series of 50 campaigns, API GET /metrics/series ({series_kb} kB){heap}",
               series),
    )  # fmt: skip


async def set_policies(engine: Any, *, typed: bool) -> None:
    from sqlalchemy import text

    from flightdeck.db.rls import visible, visible_typed

    rule = visible_typed("tenant_id") if typed else visible("tenant_id")
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        parts = await autocommit.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'campaign_metrics'::regclass"
            )
        )
        for table in ("campaign_metrics", "platform_campaigns", *[r[0] for r in parts.all()]):
            await autocommit.execute(
                text(f'ALTER POLICY tenant_isolation ON "{table}" USING {rule} WITH CHECK {rule}')
            )


async def measure(
    sessions: Any,
    phases: Phases,
    tenant_id: uuid.UUID,
    ids: list[uuid.UUID],
    today: date,
    fifty: list[uuid.UUID],
    scopes: tuple[str, ...] = ("tenant (RLS policy applies)", "system (policy passes every row)"),
) -> None:
    """The repository calls the endpoints make, every campaign at once (limit 10,000)."""
    from flightdeck.db.repositories.metrics import MetricsStore
    from flightdeck.db.tenancy import system_session, tenant_session

    for scope in scopes:
        week: list[dict[str, float]] = []
        series: list[dict[str, float]] = []
        for _ in range(RUNS):
            opener = (
                tenant_session(sessions, tenant_id)
                if scope.startswith("tenant")
                else system_session(sessions, "cli")
            )
            async with opener as session:
                store = MetricsStore(session)
                week_query = store.per_campaign(
                    tenant_id, today - timedelta(days=6), today, limit=10_000
                )
                found, sample = await phases.time(week_query)
                week.append(sample)
                series_query = store.daily(tenant_id, today - timedelta(days=89), today, fifty)
                days, sample = await phases.time(series_query)
                series.append(sample)
        report(f"7-day performance, repository ({len(found)} campaigns), {scope}", week)
        report(f"90-day series of 50 campaigns, repository ({len(days)} rows), {scope}", series)


async def explain(
    sessions: Any,
    tenant_id: uuid.UUID,
    today: date,
    fifty: list[uuid.UUID],
    scopes: tuple[str, ...] = ("tenant scope", "system scope"),
) -> None:
    """The plans of the very statements the endpoints run (compiled from the repository's
    queries), twice on one connection: the first pays the planner's catalog reads."""
    from flightdeck.db.repositories.metrics import daily_query, per_campaign_query
    from flightdeck.db.tenancy import system_session, tenant_session

    week, order = per_campaign_query(tenant_id, today - timedelta(days=6), today)
    statements = {
        "7-day performance (API page, limit 200)": order.paged(week, limit=200, cursor=None),
        "90-day series of 50": daily_query(tenant_id, today - timedelta(days=89), today, fifty),
    }
    for scope in scopes:
        for label, statement in statements.items():
            opener = (
                system_session(sessions, "cli")
                if scope.startswith("system")
                else tenant_session(sessions, tenant_id)
            )
            async with opener as session:
                connection = await session.connection()
                compiled = statement.compile(
                    dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
                )
                values = compiled.construct_params()
                args = [values[name] for name in compiled.positiontup or ()]
                driver = (await connection.get_raw_connection()).driver_connection
                sql = f"EXPLAIN (ANALYZE, BUFFERS) {compiled}"
                first = [r[0] for r in await driver.fetch(sql, *args)]
                plan = [r[0] for r in await driver.fetch(sql, *args)]
            timing = [line.strip() for line in first + plan if line.endswith(" ms")]
            shape = [
                line.strip()
                for line in plan
                if any(k in line for k in ("Scan", "Join", "Aggregate", "Heap Fetches"))
            ]
            print(f"-- plan, {label}, {scope}: {'; '.join(timing)}")
            for line in shape[:8]:
                print(f"   {line[:150]}")


async def cycle(cycle_campaigns: int) -> None:
    """A metrics cycle on the simulators over `2 x cycle_campaigns` campaigns."""
    from tests.platforms.meta_support import MAIN_ACCOUNT, PAGE_ID

    async with bench_system(meta_insights_poll_seconds=0.5) as bench:
        api, sim = bench.api, bench.sim
        await bench.new_tenant()
        await bench.connect_reddit()
        await bench.connect_meta(MAIN_ACCOUNT, PAGE_ID)
        seed = time.perf_counter()
        for platform, account in (("meta", MAIN_ACCOUNT), ("reddit", "a2_fd0001")):
            for i in range(cycle_campaigns):
                body = {"platform": platform, "accountId": account, "name": f"{platform} {i}",
                        "dailyBudget": str(20 + i % 50), "runningDays": 70}  # fmt: skip
                (await sim.post("/_sim/performance/campaigns", json=body)).raise_for_status()
        print(f"(seeded {2 * cycle_campaigns} campaigns in the simulators in "
              f"{time.perf_counter() - seed:.0f} s)")  # fmt: skip
        for label in ("first cycle (initial backfill)", "second cycle (lookback windows)"):
            start = time.perf_counter()
            job = (await api.post("/api/v1/metrics/sync")).raise_for_status().json()["jobId"]
            result = await bench.env.client.get_workflow_handle(job).result()
            wall = time.perf_counter() - start
            runs = (await api.get("/api/v1/metrics/sync-runs", params={"limit": 2})).json()
            failed = result["failed_accounts"]
            print(f"{label}: {wall:.1f} s wall, {result['rows_upserted']:,} rows upserted, "
                  f"{result['report_calls']} report calls; failed: {failed}")  # fmt: skip
            for run in runs["items"]:
                print(f"   {run['platform']}: {run['reportCalls']} calls, "
                      f"{run['reportJobs']} async jobs, {run['rowsFetched']:,} rows read, "
                      f"{run['rowsUpserted']:,} written, window {run['windowStart']}.."
                      f"{run['windowEnd']}, throttle waits {run['throttleWaitSeconds']:.1f} s, "
                      f"mode {run['details'].get('mode', '-')}")  # fmt: skip


async def main(
    campaigns: int, days: int, cycle_campaigns: int, queries_only: bool, load_again: bool
) -> None:
    from flightdeck.db.tenancy import system_session
    from flightdeck.db.tenants import create_tenant_with_key

    print(f"machine: {load()}")
    async with bench_system() as bench:
        async with system_session(bench.sessions, "cli") as session:
            tenant, key = await create_tenant_with_key(session, f"bench-{uuid.uuid4().hex[:6]}")
        bench.api.headers["Authorization"] = f"Bearer {key}"
        ids = await seed_registry(bench.sessions, tenant.id, campaigns)
        print(f"data: {len(ids):,} campaigns x {days} days = {len(ids) * days:,} rows")
        await ingest(bench.sessions, tenant.id, ids, days, again=load_again)
        print(f"machine: {load()}")
        from flightdeck.db.engine import create_engine

        engine = create_engine(bench.settings.database_url, role=None)
        try:
            await queries(bench, engine, tenant.id, ids)
        finally:
            await engine.dispose()
    print(f"machine: {load()}")
    if cycle_campaigns and not queries_only:
        await cycle(cycle_campaigns)
        print(f"machine: {load()}")


if __name__ == "__main__":
    from flightdeck import event_loop

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--campaigns", type=int, default=2000)
    parser.add_argument("--days", type=int, default=500)
    parser.add_argument("--cycle-campaigns", type=int, default=1000, help="per platform")
    parser.add_argument("--no-cycle", action="store_true", help="ingest and queries only")
    parser.add_argument(
        "--load-once", action="store_true", help="skip re-ingesting the same window (reruns)"
    )
    args = parser.parse_args()
    event_loop.run(
        main(args.campaigns, args.days, args.cycle_campaigns, args.no_cycle, not args.load_once)
    )
