"""Metrics storage and the seed's sample queries.

- `MetricsStore.upsert`: bulk, idempotent ingestion — one `INSERT … SELECT FROM unnest(…)` per
  batch, `ON CONFLICT (campaign_id, time) DO UPDATE … WHERE` something changed, so re-reading
  a window writes nothing it already has (and counts only real changes). Partition-aware: the
  months a batch touches get their partitions first (`ensure_partitions`).
- Queries sum the counts and money over a window and derive every ratio from the sums
  (`domain.metrics.derive`), never averaging ratios; money is grouped by currency wherever
  campaigns of several currencies may meet.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Numeric, Select, cast, func, select, text
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import CampaignMetric, MetricsSyncRun, PlatformCampaign
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, asc, desc, nulls_last
from flightdeck.domain.metrics import MetricRow, Ratios, day_start, derive, money

BATCH = 5000
_UPSERT = text(
    """
    INSERT INTO campaign_metrics (time, campaign_id, tenant_id, impressions, clicks, spend,
        conversions, revenue, cpc, cpm, ctr, roas, roi, currency)
    SELECT * FROM unnest(
        CAST(:time AS timestamptz[]), CAST(:campaign AS uuid[]), CAST(:tenant AS uuid[]),
        CAST(:impressions AS bigint[]), CAST(:clicks AS bigint[]), CAST(:spend AS numeric[]),
        CAST(:conversions AS integer[]), CAST(:revenue AS numeric[]), CAST(:cpc AS numeric[]),
        CAST(:cpm AS numeric[]), CAST(:ctr AS numeric[]), CAST(:roas AS numeric[]),
        CAST(:roi AS numeric[]), CAST(:currency AS varchar[]))
    ON CONFLICT (campaign_id, time) DO UPDATE SET
        impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, spend = EXCLUDED.spend,
        conversions = EXCLUDED.conversions, revenue = EXCLUDED.revenue, cpc = EXCLUDED.cpc,
        cpm = EXCLUDED.cpm, ctr = EXCLUDED.ctr, roas = EXCLUDED.roas, roi = EXCLUDED.roi,
        currency = EXCLUDED.currency, updated_at = now()
    WHERE (campaign_metrics.impressions, campaign_metrics.clicks, campaign_metrics.spend,
           campaign_metrics.conversions, campaign_metrics.revenue, campaign_metrics.currency)
        IS DISTINCT FROM (EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.spend,
           EXCLUDED.conversions, EXCLUDED.revenue, EXCLUDED.currency)
    """
)
TOTALS = ("impressions", "clicks", "spend", "conversions", "revenue")
# Window queries are planned for their own window, every time. asyncpg prepares every statement
# and Postgres switches a prepared statement to a generic plan after five executions when that
# looks no dearer; a generic plan knows neither the window (a range of parameters: it guesses
# 0.5 % of the rows and cannot prune partitions when planning) nor the campaigns' share. It
# turned the 90-day series of 50 campaigns from primary-key lookups of their 4,500 rows (~10 ms)
# into an index-only scan of the tenant's whole window filtering out 175,000 rows (~1 s;
# bench/metrics.py). Planning the custom plan costs ~0.3 ms. Transaction-local.
_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")
SortKey = Literal["roas", "spend", "revenue", "conversions", "cpa", "impressions", "clicks", "name"]


@dataclass(frozen=True)
class Totals:
    impressions: int
    clicks: int
    spend: Decimal
    conversions: int
    revenue: Decimal

    @property
    def ratios(self) -> Ratios:
        return derive(self.impressions, self.clicks, self.spend, self.conversions, self.revenue)


@dataclass(frozen=True)
class CampaignTotals:
    campaign_id: uuid.UUID
    name: str | None
    platform: str
    currency: str | None
    totals: Totals


@dataclass(frozen=True)
class PlatformTotals:
    platform: str
    currency: str
    campaigns: int
    totals: Totals


@dataclass(frozen=True)
class DayRow:
    campaign_id: uuid.UUID
    day: date
    totals: Totals


async def ensure_partitions(session: Any, first: date, last: date) -> int:
    """The monthly partitions covering [first, last] (created if missing); how many new."""
    created = await session.scalar(
        text("SELECT flightdeck_ensure_metric_partitions(:first, :last)"),
        {"first": first, "last": last},
    )
    return int(created or 0)


class MetricsStore(TenantScopedRepository[PlatformCampaign]):
    model = PlatformCampaign

    async def upsert(
        self, tenant_id: uuid.UUID, rows: Sequence[tuple[uuid.UUID, MetricRow]]
    ) -> int:
        """Write the days (campaign registry id, row); how many rows were new or changed."""
        if not rows:
            return 0
        days = [row.day for _, row in rows]
        await ensure_partitions(self.session, min(days), max(days))
        changed = 0
        for start in range(0, len(rows), BATCH):
            result = await self.session.execute(
                _UPSERT, _columns(tenant_id, rows[start : start + BATCH])
            )
            changed += int(getattr(result, "rowcount", 0) or 0)
        return changed

    # -- the seed's sample queries ---------------------------------------------------------

    async def per_campaign(
        self, tenant_id: uuid.UUID, since: date, until: date, **options: Any
    ) -> builtins.list[CampaignTotals]:
        """`per_campaign_page`'s first page (`limit`, default 100, rows)."""
        return (await self.per_campaign_page(tenant_id, since, until, **options)).items

    async def per_campaign_page(
        self,
        tenant_id: uuid.UUID,
        since: date,
        until: date,
        *,
        platform: str | None = None,
        campaign_ids: Sequence[uuid.UUID] | None = None,
        sort: SortKey = "roas",
        descending: bool = True,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[CampaignTotals]:
        """Spend, revenue, ROAS, conversions and CPA per campaign over [since, until]."""
        statement, order = per_campaign_query(
            tenant_id, since, until, platform=platform, campaign_ids=campaign_ids, sort=sort,
            descending=descending,
        )  # fmt: skip
        await self.session.execute(_CUSTOM_PLANS)
        page = await order.page(self.session, statement, limit=limit, cursor=cursor)
        return Page(
            [CampaignTotals(r[0], r[1], r[2], r[3], _totals(r[4:])) for r in page.items],
            page.next_cursor,
        )

    async def per_platform(
        self, tenant_id: uuid.UUID, since: date, until: date
    ) -> builtins.list[PlatformTotals]:
        return (await self.per_platform_page(tenant_id, since, until, limit=1000)).items

    async def per_platform_page(
        self,
        tenant_id: uuid.UUID,
        since: date,
        until: date,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[PlatformTotals]:
        m, c = CampaignMetric, PlatformCampaign
        currency = func.coalesce(m.currency, "")
        statement = (
            select(c.platform, m.currency, func.count(func.distinct(m.campaign_id)), *_sums(m))
            .join(c, c.id == m.campaign_id)
            .where(
                m.tenant_id == tenant_id,
                c.tenant_id == tenant_id,
                m.time >= day_start(since),
                m.time < day_start(until + timedelta(days=1)),
            )
            .group_by(c.platform, m.currency)
        )
        # Grouped by these very columns: the keyset filters the days before they are summed.
        order = Keyset("metrics-platforms", asc(c.platform), asc(currency, str))
        await self.session.execute(_CUSTOM_PLANS)
        page = await order.page(self.session, statement, limit=limit, cursor=cursor)
        return Page(
            [PlatformTotals(r[0], r[1], int(r[2]), _totals(r[3:])) for r in page.items],
            page.next_cursor,
        )

    async def daily(
        self,
        tenant_id: uuid.UUID,
        since: date,
        until: date,
        campaign_ids: Sequence[uuid.UUID] | None = None,
    ) -> builtins.list[DayRow]:
        """The daily series of some campaigns (or all the tenant's) over [since, until]."""
        statement = daily_query(tenant_id, since, until, campaign_ids)
        await self.session.execute(_CUSTOM_PLANS)
        rows = (await self.session.execute(statement)).all()
        return [DayRow(row[0], row[1].astimezone(UTC).date(), _totals(row[2:])) for row in rows]


def per_campaign_query(
    tenant_id: uuid.UUID,
    since: date,
    until: date,
    *,
    platform: str | None = None,
    campaign_ids: Sequence[uuid.UUID] | None = None,
    sort: SortKey = "roas",
    descending: bool = True,
) -> tuple[Select[Any], Keyset]:
    """`MetricsStore.per_campaign_page`'s statement, unpaged, and the keyset that orders and
    pages it (bench/metrics.py explains it). The days are
    summed first — an index-only scan of the tenant's window: the `(tenant_id, time)` index
    includes every summed column (migration 0049) — then joined to the registry: never a loop
    over the campaigns probing each one's days."""
    m, c = CampaignMetric, PlatformCampaign
    window = select(m.campaign_id, *_sums(m, labelled=True)).where(
        m.tenant_id == tenant_id,
        m.time >= day_start(since),
        m.time < day_start(until + timedelta(days=1)),
    )
    if campaign_ids is not None:
        window = window.where(m.campaign_id.in_(campaign_ids))
    sums = window.group_by(m.campaign_id).subquery("sums")
    totals = [sums.c[name] for name in TOTALS]
    statement = (
        select(c.id, c.name, c.platform, c.currency, *totals)
        .join(sums, sums.c.campaign_id == c.id)
        .where(c.tenant_id == tenant_id)
    )
    if platform is not None:
        statement = statement.where(c.platform == platform)
    key = _sort_expression(sort, sums.c, c)
    filler = "" if sort == "name" else Decimal(0)
    order = Keyset(
        f"metrics-performance:{sort}:{'desc' if descending else 'asc'}",
        *nulls_last(key, descending=descending, filler=filler),
        asc(c.id),
    )
    return statement, order


def daily_query(
    tenant_id: uuid.UUID, since: date, until: date, campaign_ids: Sequence[uuid.UUID] | None
) -> Select[uuid.UUID, datetime, int, int, Decimal, int, Decimal]:
    """`MetricsStore.daily`'s statement."""
    m = CampaignMetric
    statement = select(
        m.campaign_id, m.time, m.impressions, m.clicks, m.spend, m.conversions, m.revenue
    ).where(
        m.tenant_id == tenant_id,
        m.time >= day_start(since),
        m.time < day_start(until + timedelta(days=1)),
    )
    if campaign_ids is not None:
        statement = statement.where(m.campaign_id.in_(campaign_ids))
    return statement.order_by(m.campaign_id, m.time)


def _columns(
    tenant_id: uuid.UUID, rows: Sequence[tuple[uuid.UUID, MetricRow]]
) -> dict[str, builtins.list[Any]]:
    columns: dict[str, builtins.list[Any]] = {
        name: []
        for name in (
            "time", "campaign", "tenant", "impressions", "clicks", "spend", "conversions",
            "revenue", "cpc", "cpm", "ctr", "roas", "roi", "currency",
        )
    }  # fmt: skip
    for campaign_id, row in rows:
        spend, revenue = money(row.spend), money(row.revenue)
        ratios = derive(row.impressions, row.clicks, spend, row.conversions, revenue)
        columns["time"].append(day_start(row.day))
        columns["campaign"].append(campaign_id)
        columns["tenant"].append(tenant_id)
        columns["impressions"].append(row.impressions)
        columns["clicks"].append(row.clicks)
        columns["spend"].append(spend)
        columns["conversions"].append(row.conversions)
        columns["revenue"].append(revenue)
        columns["cpc"].append(ratios.cpc)
        columns["cpm"].append(ratios.cpm)
        columns["ctr"].append(ratios.ctr)
        columns["roas"].append(ratios.roas)
        columns["roi"].append(ratios.roi)
        columns["currency"].append(row.currency)
    return columns


def _sums(m: type[CampaignMetric], *, labelled: bool = False) -> builtins.list[Any]:
    sums = [func.coalesce(func.sum(getattr(m, name)), 0) for name in TOTALS]
    return [s.label(name) for s, name in zip(sums, TOTALS, strict=True)] if labelled else sums


def _sort_expression(sort: SortKey, sums: Any, c: type[PlatformCampaign]) -> Any:
    """The same ratios as `derive`, in SQL, for ORDER BY (NULLs, i.e. no denominator, last);
    figures as NUMERIC, so a cursor holds them exactly."""
    if sort == "name":
        return c.name
    return cast(
        {
            "roas": sums.revenue / func.nullif(sums.spend, 0),
            "cpa": sums.spend / func.nullif(sums.conversions, 0),
            "spend": sums.spend,
            "revenue": sums.revenue,
            "conversions": sums.conversions,
            "impressions": sums.impressions,
            "clicks": sums.clicks,
        }[sort],
        Numeric,
    )


def _totals(values: Sequence[Any]) -> Totals:
    impressions, clicks, spend, conversions, revenue = values
    return Totals(int(impressions), int(clicks), Decimal(spend), int(conversions), Decimal(revenue))


class MetricsSyncRunRepository(TenantScopedRepository[MetricsSyncRun]):
    model = MetricsSyncRun

    async def start(
        self,
        tenant_id: uuid.UUID,
        *,
        cycle_id: str,
        trigger: str,
        platform: str,
        connection_id: uuid.UUID,
        account_id: str,
    ) -> MetricsSyncRun:
        """The account's run in this cycle (a retried attempt takes up the same row)."""
        statement = (
            insert(MetricsSyncRun)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                cycle_id=cycle_id,
                trigger=trigger,
                platform=platform,
                connection_id=connection_id,
                account_id=account_id,
                status="running",
                details={},
            )
            .on_conflict_do_update(
                index_elements=[
                    MetricsSyncRun.cycle_id,
                    MetricsSyncRun.platform,
                    MetricsSyncRun.connection_id,
                ],
                set_={"status": "running", "error": None, "updated_at": func.now()},
            )
            .returning(MetricsSyncRun)
        )
        run = await self._returning(statement)
        assert run is not None
        return run

    async def finish(
        self, tenant_id: uuid.UUID, run_id: uuid.UUID, **values: Any
    ) -> MetricsSyncRun | None:
        values.setdefault("finished_at", datetime.now(UTC))
        return await self._update_returning(tenant_id, [MetricsSyncRun.id == run_id], values)

    async def fail(
        self, tenant_id: uuid.UUID, *, cycle_id: str, platform: str, connection_id: uuid.UUID,
        account_id: str, trigger: str, error: str,
    ) -> None:  # fmt: skip
        """Record a failed account (its row may not exist if the read never started)."""
        run = await self.start(
            tenant_id,
            cycle_id=cycle_id,
            trigger=trigger,
            platform=platform,
            connection_id=connection_id,
            account_id=account_id,
        )
        await self.finish(tenant_id, run.id, status="failed", error=error[:4000])

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        before: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[MetricsSyncRun]:
        """A page of the tenant's runs, newest first (optionally started before a time)."""
        statement = self._select(tenant_id)
        if before is not None:
            statement = statement.where(MetricsSyncRun.created_at < before)
        return await SYNC_RUN_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)


SYNC_RUN_ORDER = Keyset(
    "metrics-sync-runs", desc(MetricsSyncRun.created_at), desc(MetricsSyncRun.id)
)
