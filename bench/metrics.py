"""Benchmark seed 004's metrics:

1. ingest 1,000,000 daily rows (2,000 campaigns x 500 days) through `MetricsStore.upsert`
   (bulk unnest upserts into monthly partitions, created as it goes) -> rows/s, and again
   (the same window re-read: nothing changes) -> rows/s;
2. the seed's 7-day performance query and a 90-day daily series of 50 campaigns over that
   data, 20 runs each -> p50/p95, as the API runs them (the tenant's scope: row-level security
   on) and, for comparison, in the system scope (no tenant predicate from the policy), with the
   plans Postgres chose;
3. a metrics cycle over 2,000 campaigns on the simulators (1,000 on a Meta account, read
   through async report runs; 1,000 on a Reddit account): report calls, wall time, rows upserted
   — the first cycle (the initial backfill) and a second one (the lookback windows only).

Usage: .venv/bin/python bench/metrics.py [--campaigns 2000] [--days 500] [--cycle-campaigns 1000]
"""

from __future__ import annotations

import argparse
import asyncio
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


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


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


async def ingest(sessions: Any, tenant_id: uuid.UUID, ids: list[uuid.UUID], days: int) -> None:
    from flightdeck.db.repositories.metrics import MetricsStore
    from flightdeck.db.tenancy import tenant_session

    first = datetime.now(UTC).date() - timedelta(days=days - 1)
    for label in ("first load", "same window again"):
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


async def queries(sessions: Any, engine: Any, tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    from sqlalchemy import text

    # What autovacuum does after a bulk load: statistics, and the visibility map that lets
    # the covering (tenant_id, time) index answer without visiting the table.
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM (ANALYZE) campaign_metrics"))
        await autocommit.execute(text("ANALYZE platform_campaigns"))
    today = datetime.now(UTC).date()
    fifty = ids[:50]
    await measure(sessions, tenant_id, ids, today, fifty)
    await explain(sessions, tenant_id, today)
    # The same with the policy most tables have: tenant ids compared as text.
    await set_policies(engine, typed=False)
    print("-- with the ::text policy on campaign_metrics and platform_campaigns instead:")
    await measure(sessions, tenant_id, ids, today, fifty, scopes=("tenant (::text policy)",))
    await explain(sessions, tenant_id, today, scopes=("tenant scope, ::text policy",))
    await set_policies(engine, typed=True)


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
    tenant_id: uuid.UUID,
    ids: list[uuid.UUID],
    today: date,
    fifty: list[uuid.UUID],
    scopes: tuple[str, ...] = ("tenant (RLS policy applies)", "system (policy passes every row)"),
) -> None:
    from flightdeck.db.repositories.metrics import MetricsStore
    from flightdeck.db.tenancy import system_session, tenant_session

    for scope in scopes:
        week: list[float] = []
        series: list[float] = []
        for _ in range(RUNS):
            opener = (
                tenant_session(sessions, tenant_id)
                if scope.startswith("tenant")
                else system_session(sessions, "cli")
            )
            async with opener as session:
                store = MetricsStore(session)
                start = time.perf_counter()
                found = await store.per_campaign(tenant_id, today - timedelta(days=6), today,
                                                 limit=10_000)  # fmt: skip
                week.append(time.perf_counter() - start)
                start = time.perf_counter()
                days = await store.daily(tenant_id, today - timedelta(days=89), today, fifty)
                series.append(time.perf_counter() - start)
        print(f"7-day performance ({len(found)} campaigns), {scope}: {percentiles(week)}")
        print(f"90-day series of 50 campaigns ({len(days)} rows), {scope}: {percentiles(series)}")


async def explain(
    sessions: Any,
    tenant_id: uuid.UUID,
    today: date,
    scopes: tuple[str, ...] = ("tenant scope", "system scope"),
) -> None:
    """What Postgres does with the 7-day query under the tenant's policy and without it."""
    from sqlalchemy import text

    from flightdeck.db.tenancy import system_session, tenant_session
    from flightdeck.domain.metrics import day_start

    query = text(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) "
        "SELECT c.id, c.name, c.platform, s.spend, s.revenue, "
        "s.revenue / nullif(s.spend, 0) AS roas, s.conversions FROM "
        "(SELECT campaign_id, sum(spend) spend, sum(revenue) revenue, "
        "sum(conversions) conversions FROM campaign_metrics WHERE tenant_id = :t "
        "AND time >= :since AND time < :until GROUP BY campaign_id) s "
        "JOIN platform_campaigns c ON c.id = s.campaign_id WHERE c.tenant_id = :t "
        "ORDER BY roas DESC NULLS LAST"
    )
    params = {"t": tenant_id, "since": day_start(today - timedelta(days=6)),
              "until": day_start(today + timedelta(days=1))}  # fmt: skip
    for label in scopes:
        opener = (
            system_session(sessions, "cli")
            if label.startswith("system")
            else tenant_session(sessions, tenant_id)
        )
        async with opener as session:
            plan = [row[0] for row in (await session.execute(query, params)).all()]
        interesting = [
            line.strip()
            for line in plan
            if any(k in line for k in ("Scan", "Join", "Aggregate", "Execution Time"))
        ]
        print(f"-- plan, {label}:")
        for line in interesting[:14]:
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


async def main(campaigns: int, days: int, cycle_campaigns: int, queries_only: bool) -> None:
    from flightdeck.db.tenancy import system_session
    from flightdeck.db.tenants import create_tenant_with_key

    print(f"machine: {load()}")
    async with bench_system() as bench:
        async with system_session(bench.sessions, "cli") as session:
            tenant, _ = await create_tenant_with_key(session, f"bench-{uuid.uuid4().hex[:6]}")
        ids = await seed_registry(bench.sessions, tenant.id, campaigns)
        print(f"data: {len(ids):,} campaigns x {days} days = {len(ids) * days:,} rows")
        await ingest(bench.sessions, tenant.id, ids, days)
        print(f"machine: {load()}")
        from flightdeck.db.engine import create_engine

        engine = create_engine(bench.settings.database_url, role=None)
        try:
            await queries(bench.sessions, engine, tenant.id, ids)
        finally:
            await engine.dispose()
    print(f"machine: {load()}")
    if cycle_campaigns and not queries_only:
        await cycle(cycle_campaigns)
        print(f"machine: {load()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--campaigns", type=int, default=2000)
    parser.add_argument("--days", type=int, default=500)
    parser.add_argument("--cycle-campaigns", type=int, default=1000, help="per platform")
    parser.add_argument("--no-cycle", action="store_true", help="ingest and queries only")
    args = parser.parse_args()
    asyncio.run(main(args.campaigns, args.days, args.cycle_campaigns, args.no_cycle))
