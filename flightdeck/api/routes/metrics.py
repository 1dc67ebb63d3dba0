"""Metrics (seed 004): the campaign registry, the sync cycles, and the seed's sample queries.

GET  /metrics/campaigns                    the registry: every campaign on every connected
                                           account and every one Flightdeck published
GET  /metrics/campaigns/{id}
GET  /metrics/sync-runs                    each cycle, per connected account
POST /metrics/sync                         a cycle for this tenant now → 202 {jobId}
GET  /metrics/performance                  per campaign over a window (spend, revenue, ROAS,
                                           conversions, CPA, …), sortable — the seed's query
GET  /metrics/platforms                    per platform and currency over a window
GET  /metrics/series?campaignId=…          daily series of one or many campaigns

Windows are `since`/`until` (inclusive dates, the accounts' calendars) or `days` ending today
(default 7). Money is in each campaign's currency, major units; ratios are derived from sums
(NULL where there is nothing to divide by).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from flightdeck.api.deps import SessionDep, SettingsDep, TemporalDep, TenantDep
from flightdeck.api.errors import field_error, not_found
from flightdeck.api.paging import PageDep
from flightdeck.api.performance_models import (
    CampaignOut,
    CampaignPage,
    CampaignPerformance,
    CampaignPerformancePage,
    JobStarted,
    PlatformPerformance,
    PlatformPerformancePage,
    SeriesOut,
    SeriesPage,
    SyncRunPage,
    campaign_out,
    metrics_out,
    sync_run_out,
)
from flightdeck.api.publishing import parse_uuid
from flightdeck.db.models import PlatformCampaign
from flightdeck.db.repositories.jobs import JobRepository
from flightdeck.db.repositories.metrics import MetricsStore, MetricsSyncRunRepository, SortKey
from flightdeck.db.repositories.pagination import Keyset, asc
from flightdeck.db.repositories.platform_campaigns import PlatformCampaignRepository
from flightdeck.schedules import metrics_sync_input
from flightdeck.temporal import TENANT_ID
from flightdeck.workflows.metrics_sync import MetricsSyncWorkflow

router = APIRouter(prefix="/metrics", tags=["metrics"])
MAX_WINDOW_DAYS = 800
MAX_SERIES_CAMPAIGNS = 200
SERIES_ORDER = Keyset("metrics-series", asc(PlatformCampaign.id))


def window(since: date | None, until: date | None, days: int | None) -> tuple[date, date]:
    """The inclusive window a query covers; 422 naming the parameter when it makes no sense."""
    last = until or datetime.now(UTC).date()
    if since is not None and days is not None:
        raise field_error("days", "give since or days, not both")
    first = since or last - timedelta(days=(days or 7) - 1)
    if first > last:
        raise field_error("since", "must not be after until")
    if (last - first).days >= MAX_WINDOW_DAYS:
        raise field_error("since", f"a window spans at most {MAX_WINDOW_DAYS} days")
    return first, last


Since = Annotated[date | None, Query(description="first day, inclusive (YYYY-MM-DD)")]
Until = Annotated[date | None, Query(description="last day, inclusive; default today")]
Days = Annotated[int | None, Query(ge=1, le=MAX_WINDOW_DAYS, description="days ending `until`")]


@router.get("/campaigns", response_model=CampaignPage)
async def list_campaigns(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    platform: Annotated[Literal["meta", "reddit", "google"] | None, Query()] = None,
    status: Annotated[
        Literal["active", "paused", "archived", "deleted", "unknown"] | None, Query()
    ] = None,
    origin: Annotated[
        Literal["discovered", "relay", "meta", "campaign_set"] | None, Query()
    ] = None,
) -> CampaignPage:
    rows = await PlatformCampaignRepository(session).list(
        tenant.id,
        platform=platform,
        status=status,
        origin=origin,
        limit=page.limit,
        cursor=page.cursor,
    )
    return CampaignPage(items=[campaign_out(r) for r in rows.items], next_cursor=rows.next_cursor)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: str, tenant: TenantDep, session: SessionDep) -> CampaignOut:
    parsed = parse_uuid(campaign_id)
    row = await PlatformCampaignRepository(session).get(tenant.id, parsed) if parsed else None
    if row is None:
        raise not_found("campaign")
    return campaign_out(row)


@router.get("/sync-runs", response_model=SyncRunPage)
async def list_sync_runs(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    before: Annotated[datetime | None, Query(description="runs started before this time")] = None,
) -> SyncRunPage:
    rows = await MetricsSyncRunRepository(session).list(
        tenant.id, before=before, limit=page.limit, cursor=page.cursor
    )
    return SyncRunPage(items=[sync_run_out(r) for r in rows.items], next_cursor=rows.next_cursor)


@router.post("/sync", status_code=202, response_model=JobStarted)
async def run_metrics_sync(
    tenant: TenantDep, session: SessionDep, temporal: TemporalDep, settings: SettingsDep
) -> JobStarted:
    """Read this tenant's connected accounts now (the Schedule does it every 15 minutes)."""
    handle = await temporal.start_workflow(
        MetricsSyncWorkflow.run,
        metrics_sync_input(settings, "api", str(tenant.id)),
        id=f"metrics-sync-{tenant.id}-{uuid.uuid4().hex[:12]}",
        task_queue=settings.metrics_task_queue,
        static_summary="Read metrics of this tenant's accounts",
        search_attributes=TypedSearchAttributes([SearchAttributePair(TENANT_ID, str(tenant.id))]),
    )
    await JobRepository(session).record(tenant.id, handle.id, "metrics_sync")
    await session.commit()
    return JobStarted(job_id=handle.id)


@router.get("/performance", response_model=CampaignPerformancePage)
async def campaign_performance(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    since: Since = None,
    until: Until = None,
    days: Days = None,
    platform: Annotated[Literal["meta", "reddit", "google"] | None, Query()] = None,
    sort: Annotated[SortKey, Query()] = "roas",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> CampaignPerformancePage:
    """Campaigns by `sort` (campaigns without a figure to sort by last); a cursor belongs to
    one `sort` and `order`."""
    first, last = window(since, until, days)
    rows = await MetricsStore(session).per_campaign_page(
        tenant.id, first, last, platform=platform, sort=sort, descending=order == "desc",
        limit=page.limit, cursor=page.cursor,
    )  # fmt: skip
    return CampaignPerformancePage(
        since=first,
        until=last,
        items=[
            CampaignPerformance(
                campaign_id=str(r.campaign_id),
                name=r.name,
                platform=r.platform,
                currency=r.currency,
                **metrics_out(r.totals),
            )
            for r in rows.items
        ],
        next_cursor=rows.next_cursor,
    )


@router.get("/platforms", response_model=PlatformPerformancePage)
async def platform_performance(
    tenant: TenantDep, session: SessionDep, page: PageDep, since: Since = None,
    until: Until = None, days: Days = None,
) -> PlatformPerformancePage:  # fmt: skip
    first, last = window(since, until, days)
    rows = await MetricsStore(session).per_platform_page(
        tenant.id, first, last, limit=page.limit, cursor=page.cursor
    )
    return PlatformPerformancePage(
        since=first,
        until=last,
        items=[
            PlatformPerformance(
                platform=r.platform,
                currency=r.currency,
                campaigns=r.campaigns,
                **metrics_out(r.totals),
            )
            for r in rows.items
        ],
        next_cursor=rows.next_cursor,
    )


@router.get("/series", response_model=SeriesPage)
async def daily_series(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    campaign_ids: Annotated[list[str], Query(alias="campaignId", min_length=1)],
    since: Since = None,
    until: Until = None,
    days: Days = None,
) -> SeriesPage:
    first, last = window(since, until, days)
    if len(campaign_ids) > MAX_SERIES_CAMPAIGNS:
        raise field_error("campaignId", f"at most {MAX_SERIES_CAMPAIGNS} campaigns")
    parsed = [parse_uuid(c) for c in campaign_ids]
    if any(p is None for p in parsed):
        raise field_error("campaignId", "must be campaign ids (UUIDs)")
    wanted = list(dict.fromkeys(p for p in parsed if p is not None))
    known = {c.id: c for c in await PlatformCampaignRepository(session).get_many(tenant.id, wanted)}
    missing = [str(c) for c in wanted if c not in known]
    if missing:
        raise not_found(f"campaign {missing[0]}")
    # One series per campaign asked for, in the order asked.
    shown = SERIES_ORDER.following(wanted, lambda c: (c,), limit=page.limit, cursor=page.cursor)
    rows = await MetricsStore(session).daily(tenant.id, first, last, shown.items)
    by_campaign: dict[uuid.UUID, list[SeriesOut.Day]] = {c: [] for c in shown.items}
    for row in rows:
        by_campaign[row.campaign_id].append(SeriesOut.Day(day=row.day, **metrics_out(row.totals)))
    return SeriesPage(
        since=first,
        until=last,
        items=[
            SeriesOut(
                campaign_id=str(c),
                name=known[c].name,
                platform=known[c].platform,
                currency=known[c].currency,
                days=by_campaign[c],
            )
            for c in shown.items
        ],
        next_cursor=shown.next_cursor,
    )
