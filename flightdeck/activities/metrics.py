"""Metrics activities (seed 004): what one cycle of `MetricsSyncWorkflow` does.

- `prepare` (metrics queue): monthly partitions ahead of time, and every connected account of
  every registered platform (all tenants for the Schedule: a system session, purpose
  `sweep.metrics_accounts`; one tenant for a manual run).
- `sync_account` (the platform's reporting queue): register Flightdeck's own campaigns,
  discover the account's campaigns, read the lookback window (the initial backfill the first
  time) and upsert the days — heartbeating as it pages — recording the run.
- `account_failed` (metrics queue): the run row of an account whose read gave up.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from flightdeck.accounts import AccountNotFound
from flightdeck.activities.errors import to_application_error
from flightdeck.activities.names import (
    METRICS_ACCOUNT_FAILED,
    METRICS_PREPARE,
    METRICS_SYNC_ACCOUNT,
)
from flightdeck.db.models import CampaignSpace, PlatformCampaign
from flightdeck.db.repositories.campaign_spaces import CampaignSpaceRepository, StalePerformance
from flightdeck.db.repositories.metrics import (
    MetricsStore,
    MetricsSyncRunRepository,
    ensure_partitions,
)
from flightdeck.db.repositories.platform_campaigns import PlatformCampaignRepository
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.metrics import MetricRow, lookback_window
from flightdeck.domain.metrics_io import (
    AccountFailure,
    AccountSyncInput,
    AccountSyncResult,
    MetricsAccount,
    MetricsPrepared,
    MetricsSyncInput,
)
from flightdeck.failures import Failure, failure
from flightdeck.platforms.errors import PlatformError
from flightdeck.platforms.reporting import (
    PerformanceRuntimes,
    ReportingAccount,
    ReportStats,
    registration,
)
from flightdeck.settings import Settings


class MetricsActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        runtimes: PerformanceRuntimes,
        settings: Settings,
    ) -> None:
        self._sessions = sessions
        self._runtimes = runtimes
        self._settings = settings

    @activity.defn(name=METRICS_PREPARE)
    async def prepare(self, inp: MetricsSyncInput) -> MetricsPrepared:
        today = datetime.now(UTC).date()
        last = _add_months(today, inp.partitions_ahead_months)
        tenant = uuid.UUID(inp.tenant_id) if inp.tenant_id else None
        async with system_session(self._sessions, "sweep.metrics_accounts") as session:
            async with session.begin():
                created = await ensure_partitions(session, today.replace(day=1), last)
                # Published campaigns are known even where no account is connected (relay).
                await PlatformCampaignRepository(session).register_published(tenant)
            accounts = []
            for queues in inp.platforms:
                reporter = self._runtimes.reporter(queues.platform)
                accounts += await reporter.accounts(session, tenant)
        return MetricsPrepared(
            accounts=[
                MetricsAccount(
                    tenant_id=str(a.tenant_id),
                    platform=a.platform,
                    connection_id=str(a.connection_id),
                    account_id=a.account_id,
                )
                for a in accounts
            ],
            partitions_created=created,
        )

    @activity.defn(name=METRICS_SYNC_ACCOUNT)
    async def sync_account(self, inp: AccountSyncInput) -> AccountSyncResult:
        account = ReportingAccount(
            tenant_id=uuid.UUID(inp.account.tenant_id),
            platform=inp.account.platform,
            connection_id=uuid.UUID(inp.account.connection_id),
            account_id=inp.account.account_id,
        )
        tenant = account.tenant_id
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            run = await MetricsSyncRunRepository(session).start(
                tenant,
                cycle_id=inp.cycle_id,
                trigger=inp.trigger,
                platform=account.platform,
                connection_id=account.connection_id,
                account_id=account.account_id,
            )
            await PlatformCampaignRepository(session).register_published(tenant)
        reading = _AccountRead(self, account, run.id)
        try:
            return await reading.run()
        except (PlatformError, AccountNotFound) as exc:
            await reading.record_failure(str(exc))
            if isinstance(exc, AccountNotFound):
                raise failure(Failure.NOT_FOUND, str(exc)) from exc
            raise to_application_error(exc) from exc

    @activity.defn(name=METRICS_ACCOUNT_FAILED)
    async def account_failed(self, inp: AccountFailure) -> None:
        tenant = uuid.UUID(inp.account.tenant_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await MetricsSyncRunRepository(session).fail(
                tenant,
                cycle_id=inp.cycle_id,
                platform=inp.account.platform,
                connection_id=uuid.UUID(inp.account.connection_id),
                account_id=inp.account.account_id,
                trigger=inp.trigger,
                error=inp.error,
            )


class _AccountRead:
    """One account's read in one cycle: discovery, the report, the upserts, the run row."""

    def __init__(self, acts: MetricsActivities, account: ReportingAccount, run_id: uuid.UUID):
        self._acts = acts
        self._account = account
        self._run_id = run_id
        self._sessions = acts._sessions
        self._reporter = acts._runtimes.reporter(account.platform)
        self.stats = ReportStats()

    async def run(self) -> AccountSyncResult:
        account, tenant = self._account, self._account.tenant_id
        campaigns = await self._reporter.discover(account, self.stats)
        activity.heartbeat(f"discovered {len(campaigns)} campaigns")
        currency = next((c.currency for c in campaigns if c.currency), account.currency)
        timezone = self.stats.details.get("timezone")
        account = dataclasses.replace(account, currency=currency, timezone=timezone)
        now = datetime.now(UTC)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            registry = PlatformCampaignRepository(session)
            new = await registry.upsert_discovered(account, campaigns, now)
            ids = await registry.ids_for_account(tenant, account.platform, account.account_id)
            last_read = await session.scalar(
                select(func.max(PlatformCampaign.last_metrics_at)).where(
                    PlatformCampaign.tenant_id == tenant,
                    PlatformCampaign.platform == account.platform,
                    PlatformCampaign.account_id == account.account_id,
                )
            )
        settings = self._acts._settings
        lookback = registration(account.platform).lookback_days(settings)
        backfill = 0 if last_read else settings.metrics_initial_backfill_days
        since, until = lookback_window(_today(timezone, now), lookback, backfill_days=backfill)
        fetched = changed = 0
        touched: set[uuid.UUID] = set()
        rows_iter = self._reporter.report(
            account, since, until, self.stats, activity.heartbeat, campaigns=len(campaigns)
        )
        async for rows in rows_iter:
            fetched += len(rows)
            keyed = await self._keyed(account, rows, ids)
            touched.update(campaign_id for campaign_id, _ in keyed)
            async with tenant_session(self._sessions, tenant) as session, session.begin():
                changed += await MetricsStore(session).upsert(tenant, keyed)
            activity.heartbeat(f"{fetched} rows read, {changed} changed")
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await PlatformCampaignRepository(session).touch_metrics(tenant, sorted(touched), now)
            spaces = await _update_spaces(session, account, ids, touched, now)
            self.stats.details["campaignSpacesUpdated"] = spaces
            await MetricsSyncRunRepository(session).finish(
                tenant,
                self._run_id,
                status="completed",
                window_start=since,
                window_end=until,
                report_calls=self.stats.calls,
                report_jobs=self.stats.jobs,
                campaigns_discovered=len(campaigns),
                campaigns_new=new,
                rows_fetched=fetched,
                rows_upserted=changed,
                throttle_wait_seconds=self.stats.throttle_wait_seconds,
                details={**self.stats.details, "failedJobs": self.stats.failed_jobs},
                error=None,
            )
        return AccountSyncResult(
            run_id=str(self._run_id),
            report_calls=self.stats.calls,
            report_jobs=self.stats.jobs,
            campaigns_discovered=len(campaigns),
            campaigns_new=new,
            rows_fetched=fetched,
            rows_upserted=changed,
            throttle_wait_seconds=self.stats.throttle_wait_seconds,
            window_start=since,
            window_end=until,
        )

    async def _keyed(
        self, account: ReportingAccount, rows: list[MetricRow], ids: dict[str, uuid.UUID]
    ) -> list[tuple[uuid.UUID, MetricRow]]:
        """Rows with their registry ids; a campaign the list did not show (deleted since, say)
        is registered from the report first."""
        unknown = {r.platform_campaign_id: r for r in rows if r.platform_campaign_id not in ids}
        if unknown:
            tenant = account.tenant_id
            async with tenant_session(self._sessions, tenant) as session, session.begin():
                registry = PlatformCampaignRepository(session)
                for campaign_id, row in unknown.items():
                    await registry.add_unknown(
                        account, campaign_id, row.campaign_name, row.currency
                    )
                ids.update(
                    await registry.ids_for_account(tenant, account.platform, account.account_id)
                )
        return [(ids[r.platform_campaign_id], r) for r in rows]

    async def record_failure(self, message: str) -> None:
        tenant = self._account.tenant_id
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await MetricsSyncRunRepository(session).finish(
                tenant,
                self._run_id,
                status="failed",
                error=message[:4000],
                report_calls=self.stats.calls,
                report_jobs=self.stats.jobs,
                throttle_wait_seconds=self.stats.throttle_wait_seconds,
            )


# Our platform names -> seed 003's `adplatform` values.
SPACE_PLATFORMS = {"meta": "meta", "reddit": "reddit", "google": "google_ads"}


async def _update_spaces(
    session: AsyncSession,
    account: ReportingAccount,
    ids: dict[str, uuid.UUID],
    touched: set[uuid.UUID],
    now: datetime,
) -> int:
    """Campaign spaces (seed 003) linked to a campaign read now, by platform and external
    campaign id, get its lifetime totals (`performance_source: metrics_sync`)."""
    if not touched:
        return 0
    by_registry = {rid: pid for pid, rid in ids.items() if rid in touched}
    spaces = (
        await session.execute(
            select(CampaignSpace.id, CampaignSpace.external_campaign_id).where(
                CampaignSpace.tenant_id == account.tenant_id,
                CampaignSpace.platform == SPACE_PLATFORMS.get(account.platform, "other"),
                CampaignSpace.external_campaign_id.in_(list(by_registry.values())),
            )
        )
    ).all()
    if not spaces:
        return 0
    wanted = [rid for rid, pid in by_registry.items() if pid in {s[1] for s in spaces}]
    totals = await MetricsStore(session).per_campaign(
        account.tenant_id, date(2000, 1, 1), now.date() + timedelta(days=1),
        campaign_ids=wanted, limit=len(wanted),
    )  # fmt: skip
    lifetime = {by_registry[t.campaign_id]: t.totals for t in totals}
    repository = CampaignSpaceRepository(session)
    updated = 0
    for space_id, external_id in spaces:
        figures = lifetime.get(external_id or "")
        if figures is None:
            continue
        try:
            await repository.set_performance(
                account.tenant_id,
                space_id,
                {
                    "total_impressions": figures.impressions,
                    "total_clicks": figures.clicks,
                    "total_spend": figures.spend,
                    "total_conversions": figures.conversions,
                    "total_revenue": figures.revenue,
                },
                source="metrics_sync",
                as_of=now,
            )
            updated += 1
        except StalePerformance:
            continue  # someone posted newer figures by hand: theirs stand
    return updated


def _today(timezone: str | None, now: datetime) -> date:
    """Today on the account's calendar (the platforms report by it)."""
    try:
        return now.astimezone(ZoneInfo(timezone or "UTC")).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, 1)
