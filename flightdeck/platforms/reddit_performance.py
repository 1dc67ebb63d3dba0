"""Reddit in seed 004: metrics through the reports endpoint, campaign discovery through the
account's campaign and ad-group lists, and actions through the campaign-set adapter (status) and
the Ads API client (budgets) the sync path uses.

- Reports: `POST /ad_accounts/{id}/reports` with breakdowns CAMPAIGN_ID + DATE in the account's
  time zone, the range [local midnight of the first day, local midnight after the last) as
  hour-aligned UTC, slices of `reddit_report_slice_days`, pages of 1000 (each next page POSTs
  the same body). SPEND arrives in micros, CONVERSION_*_TOTAL_VALUE in cents; conversions are
  the configured event's click-through plus view-through conversions.
- Pacing: at most `reddit_reports_per_minute` report calls per account (the ads-reporting
  policy is 60 per 60 s); a 429 waits the reset Reddit gives in `RateLimit`.
- Budgets: under budget optimization on the campaign (`goal_value`, micros), else the sum of
  its ad groups' — a budget change scales each ad group in proportion.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.accounts.reddit import RedditAccountService, reddit_account_service
from flightdeck.db.models import PlatformCampaign
from flightdeck.db.repositories.ad_accounts import reporting_accounts
from flightdeck.domain.metrics import (
    MICROS,
    MetricRow,
    count,
    date_slices,
    from_cents,
    from_micros,
)
from flightdeck.platforms.errors import NonRetryableError, RateLimitedError
from flightdeck.platforms.meta_performance import scaled
from flightdeck.platforms.reddit import RedditAdsClient
from flightdeck.platforms.reddit_adapter import RedditCampaignSetAdapter
from flightdeck.platforms.reporting import (
    CampaignState,
    DiscoveredCampaign,
    PerformanceDeps,
    PerformanceRegistration,
    Progress,
    ReportingAccount,
    ReportStats,
)
from flightdeck.settings import Settings
from flightdeck.temporal import actions_task_queue, reports_task_queue

NAME = "reddit"
STATUSES = {"ACTIVE": "active", "PAUSED": "paused", "ARCHIVED": "archived", "DELETED": "deleted"}
GOAL_TYPES = {"DAILY_SPEND": "daily", "LIFETIME_SPEND": "lifetime"}
MAX_INLINE_429_WAIT = 120.0


class CallPacer:
    """At most `per_minute` calls per account, evenly spaced (one process's share)."""

    def __init__(self, per_minute: float) -> None:
        self._interval = 60.0 / per_minute
        self._next: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def pace(self, account: str) -> float:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(account, 0.0))
            self._next[account] = start + self._interval
        wait = start - now
        if wait > 0:
            await asyncio.sleep(wait)
        return wait


class RedditReporter:
    platform = NAME

    def __init__(self, accounts: RedditAccountService, settings: Settings) -> None:
        self._accounts = accounts
        self._settings = settings
        self._pacer = CallPacer(settings.reddit_reports_per_minute)

    async def accounts(
        self, session: AsyncSession, tenant_id: uuid.UUID | None
    ) -> list[ReportingAccount]:
        rows = await reporting_accounts(session, NAME, tenant_id)
        return [
            ReportingAccount(
                tenant_id=row.tenant_id,
                platform=NAME,
                connection_id=row.id,
                account_id=str(row.platform_account_id),
            )
            for row in rows
        ]

    async def discover(
        self, account: ReportingAccount, stats: ReportStats
    ) -> list[DiscoveredCampaign]:
        async with self._client(account) as client:
            details = await client.get_ad_account(account.account_id)
            campaigns = await client.list_campaigns(account.account_id)
            groups = await client.list_ad_groups(account.account_id)
        stats.calls += 3
        currency = str(details.get("currency") or "USD")
        stats.details["timezone"] = details.get("time_zone_id")
        by_campaign: dict[str, list[dict[str, Any]]] = {}
        for group in groups:
            by_campaign.setdefault(str(group.get("campaign_id")), []).append(group)
        return [
            discovered(c, by_campaign.get(str(c["id"]), []), currency)
            for c in campaigns
            if c.get("id")
        ]

    async def report(
        self,
        account: ReportingAccount,
        since: date,
        until: date,
        stats: ReportStats,
        progress: Progress,
        *,
        campaigns: int = 0,
    ) -> AsyncIterator[list[MetricRow]]:
        event = self._settings.reddit_conversion_event.upper()
        fields = [
            "IMPRESSIONS",
            "CLICKS",
            "SPEND",
            f"CONVERSION_{event}_CLICKS",
            f"CONVERSION_{event}_VIEWS",
            f"CONVERSION_{event}_TOTAL_VALUE",
        ]
        tz = _zone(account.timezone)
        async with self._client(account) as client:
            for first, last in date_slices(since, until, self._settings.reddit_report_slice_days):
                body = {
                    "starts_at": _hour(first, tz),
                    "ends_at": _hour(last + timedelta(days=1), tz),
                    "fields": fields,
                    "breakdowns": ["CAMPAIGN_ID", "DATE"],
                    "time_zone_id": tz.key,
                }
                pages = client.report(account.account_id, body)
                while True:
                    stats.throttle_wait_seconds += await self._pacer.pace(account.account_id)
                    stats.calls += 1
                    try:
                        page = await anext(pages)
                    except StopAsyncIteration:
                        break
                    except RateLimitedError as exc:
                        wait = exc.retry_after or 60.0
                        if wait > MAX_INLINE_429_WAIT:
                            raise
                        stats.throttle_wait_seconds += wait
                        await asyncio.sleep(wait)
                        pages = client.report(account.account_id, body)  # the slice again
                        continue
                    progress(f"reports {first}..{last}: {len(page)} rows")
                    yield [parse_row(row, event, account.currency or "USD") for row in page]

    @contextlib.asynccontextmanager
    async def _client(self, account: ReportingAccount) -> AsyncIterator[RedditAdsClient]:
        async with self._accounts.ads_client(account.tenant_id, account.connection_id) as client:
            yield client


def parse_row(row: Mapping[str, Any], event: str, currency: str) -> MetricRow:
    """One CAMPAIGN_ID × DATE row in our units (micros and cents converted exactly)."""
    name = event.lower()
    clicked = count(row.get(f"conversion_{name}_clicks"), "conversions")
    viewed = count(row.get(f"conversion_{name}_views"), "conversions")
    return MetricRow(
        platform_campaign_id=str(row["campaign_id"]),
        day=date.fromisoformat(str(row["date"])[:10]),
        impressions=count(row.get("impressions"), "impressions"),
        clicks=count(row.get("clicks"), "clicks"),
        spend=from_micros(row.get("spend"), "spend"),
        conversions=clicked + viewed,
        revenue=from_cents(row.get(f"conversion_{name}_total_value"), "total_value"),
        currency=str(row.get("currency") or currency),
    )


def discovered(
    campaign: Mapping[str, Any], groups: Sequence[Mapping[str, Any]], currency: str
) -> DiscoveredCampaign:
    live = [g for g in groups if g.get("configured_status") not in ("DELETED", "ARCHIVED")]
    budget_type = GOAL_TYPES.get(str(campaign.get("goal_type")))
    micros: int | None = None
    owner: str | None = None
    if campaign.get("is_campaign_budget_optimization") and isinstance(
        campaign.get("goal_value"), int
    ):
        micros, owner = int(campaign["goal_value"]), "campaign"
    elif live:
        values = [g["goal_value"] for g in live if isinstance(g.get("goal_value"), int)]
        if values:
            micros, owner = sum(values), "ad_set"
            budget_type = GOAL_TYPES.get(str(live[0].get("goal_type")))
    status = str(campaign.get("configured_status") or "")
    return DiscoveredCampaign(
        platform_campaign_id=str(campaign["id"]),
        name=campaign.get("name"),
        status=STATUSES.get(status, "unknown"),
        platform_status=str(campaign.get("effective_status") or status) or None,
        objective=campaign.get("objective"),
        budget_amount=None if micros is None else Decimal(micros) / MICROS,
        budget_type=budget_type if micros is not None else None,
        budget_owner=owner,
        currency=currency,
        start_date=_time(campaign.get("start_time")),
        end_date=_time(campaign.get("end_time")),
        attributes={"adGroupIds": [str(g["id"]) for g in live]},
    )


class RedditOperator:
    platform = NAME

    def __init__(self, accounts: RedditAccountService) -> None:
        self._accounts = accounts

    async def read(self, campaign: PlatformCampaign) -> CampaignState:
        async with self._client(campaign) as client:
            obj = await client.get_campaign(campaign.platform_campaign_id)
            groups: list[dict[str, Any]] = []
            if not obj.get("is_campaign_budget_optimization"):
                groups = await client.list_ad_groups(
                    campaign.account_id, campaign_id=campaign.platform_campaign_id
                )
        state = discovered(obj, groups, campaign.currency or "USD")
        return CampaignState(state.status, state.budget_amount, state.budget_type)

    async def set_status(self, campaign: PlatformCampaign, status: str) -> None:
        """Through the campaign-set adapter, as a set's pause and resume do."""
        assert campaign.connection_id is not None
        context = await self._accounts.account_context(campaign.tenant_id, campaign.connection_id)
        async with self._client(campaign) as client:
            adapter = RedditCampaignSetAdapter(client)
            await adapter.set_status(context, "campaign", campaign.platform_campaign_id, status)  # type: ignore[arg-type]

    async def set_budget(self, campaign: PlatformCampaign, amount: Decimal) -> None:
        wanted = int(amount * MICROS)
        async with self._client(campaign) as client:
            obj = await client.get_campaign(campaign.platform_campaign_id)
            if obj.get("is_campaign_budget_optimization"):
                await client.update_campaign(campaign.platform_campaign_id, {"goal_value": wanted})
                return
            groups = [
                g
                for g in await client.list_ad_groups(
                    campaign.account_id, campaign_id=campaign.platform_campaign_id
                )
                if g.get("configured_status") not in ("DELETED", "ARCHIVED")
                and isinstance(g.get("goal_value"), int)
            ]
            if not groups:
                raise NonRetryableError(
                    f"campaign {campaign.platform_campaign_id} has no ad group budget to change",
                    platform=NAME,
                )
            shares = scaled([int(g["goal_value"]) for g in groups], wanted)
            for group, micros in zip(groups, shares, strict=True):
                await client.update_ad_group(str(group["id"]), {"goal_value": micros})

    @contextlib.asynccontextmanager
    async def _client(self, campaign: PlatformCampaign) -> AsyncIterator[RedditAdsClient]:
        if campaign.connection_id is None:
            raise NonRetryableError(
                f"Reddit campaign {campaign.platform_campaign_id} is on no connected account",
                platform=NAME,
            )
        async with self._accounts.ads_client(campaign.tenant_id, campaign.connection_id) as client:
            yield client


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _hour(day: date, tz: ZoneInfo) -> str:
    """Local midnight of `day` as Reddit takes it: UTC, hour-aligned (a half-hour time zone's
    midnight is taken at the hour before: the DATE breakdown still labels rows by local day)."""
    moment = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
    return moment.replace(minute=0, second=0).strftime("%Y-%m-%dT%H:00:00Z")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class RedditPerformance:
    reporter: RedditReporter
    operator: RedditOperator


@contextlib.asynccontextmanager
async def open_runtime(deps: PerformanceDeps) -> AsyncIterator[RedditPerformance]:
    transport = deps.transports.get("reddit")
    async with reddit_account_service(
        deps.sessions, deps.settings, transport=transport
    ) as accounts:
        yield RedditPerformance(RedditReporter(accounts, deps.settings), RedditOperator(accounts))


REGISTRATION = PerformanceRegistration(
    name=NAME,
    report_queue=lambda s: reports_task_queue(s.reddit_task_queue),
    report_rate_limit=lambda s: s.reddit_reports_rate_limit,
    write_queue=lambda s: actions_task_queue(s.reddit_task_queue),
    lookback_days=lambda s: s.reddit_reports_lookback_days,
    open_runtime=open_runtime,
)
