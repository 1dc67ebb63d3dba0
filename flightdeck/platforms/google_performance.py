"""Google Ads in seed 004: metrics and campaign discovery through GAQL `googleAds:search`, and
actions through the Ads API client the set sync uses (google-ads-api.md §4 "Metrics").

- Discovery: `SELECT customer.currency_code, customer.time_zone FROM customer`, then every
  campaign with its own budget (`FROM campaign`; REMOVED ones too, as `deleted`: their days
  inside the lookback still count). A campaign is known by its resource name
  (`customers/{cid}/campaigns/{id}`), the id the set sync records.
- Metrics: `SELECT campaign.resource_name, campaign.name, segments.date, metrics.impressions,
  metrics.clicks, metrics.cost_micros, metrics.conversions, metrics.conversions_value FROM
  campaign WHERE segments.date BETWEEN since AND until`, pages of 10,000 rows, each page asked
  again after a 429 RESOURCE_TEMPORARILY_EXHAUSTED once its `retryDelay` has passed.
- Units: cost_micros ÷ 1e6 in `customer.currency_code` (exact); conversions and
  conversions_value are doubles — revenue is the double's shortest decimal (6 places), and
  conversions are rounded half-even to whole conversions (`campaign_metrics.conversions` is an
  integer; a fractional data-driven conversion is rounded, not dropped). Proto3 JSON leaves
  out zero values: a missing metric is 0.
- Budgets: the campaign's own CampaignBudget (`amountMicros` DAILY, `totalAmountMicros`
  CUSTOM_PERIOD as lifetime); a budget change updates it with `updateMask: amountMicros`.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.accounts.google import GoogleAccountService, google_account_service
from flightdeck.db.models import PlatformCampaign
from flightdeck.db.repositories.ad_accounts import reporting_accounts
from flightdeck.domain.metrics import MICROS, MetricRow, count, from_micros, money
from flightdeck.platforms.errors import NonRetryableError, RateLimitedError
from flightdeck.platforms.google_ads import GoogleAdsClient, gaql_string
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

NAME = "google"
STATUSES = {"ENABLED": "active", "PAUSED": "paused", "REMOVED": "deleted"}
MAX_INLINE_429_WAIT = 120.0
DEFAULT_429_WAIT = 10.0  # the official example's first back-off (§5)
CAMPAIGN_FIELDS = (
    "campaign.resource_name, campaign.name, campaign.status, campaign.primary_status, "
    "campaign.advertising_channel_type, campaign.bidding_strategy_type, "
    "campaign.start_date_time, campaign.end_date_time, campaign_budget.resource_name, "
    "campaign_budget.amount_micros, campaign_budget.total_amount_micros, campaign_budget.period"
)
METRICS_QUERY = (
    "SELECT campaign.resource_name, campaign.name, segments.date, metrics.impressions, "
    "metrics.clicks, metrics.cost_micros, metrics.conversions, metrics.conversions_value "
    "FROM campaign WHERE segments.date BETWEEN '{since}' AND '{until}'"
)


class GoogleReporter:
    platform = NAME

    def __init__(self, accounts: GoogleAccountService, settings: Settings) -> None:
        self._accounts = accounts
        self._settings = settings

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
            customer = await _search(client, account.account_id,
                                     "SELECT customer.currency_code, customer.time_zone "
                                     "FROM customer", stats)  # fmt: skip
            campaigns = await _search(
                client, account.account_id, f"SELECT {CAMPAIGN_FIELDS} FROM campaign", stats
            )
        details = customer[0].get("customer", {}) if customer else {}
        currency = str(details.get("currencyCode") or "USD")
        stats.details["timezone"] = details.get("timeZone")
        return [discovered(row, currency) for row in campaigns if row.get("campaign")]

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
        query = METRICS_QUERY.format(since=since.isoformat(), until=until.isoformat())
        currency = account.currency or "USD"
        token: str | None = None
        async with self._client(account) as client:
            while True:
                rows, token = await _page(client, account.account_id, query, token, stats)
                progress(f"GAQL metrics {since}..{until}: {len(rows)} rows")
                yield [parse_row(row, currency) for row in rows]
                if token is None:
                    return

    @contextlib.asynccontextmanager
    async def _client(self, account: ReportingAccount) -> AsyncIterator[GoogleAdsClient]:
        async with self._accounts.ads_client(account.tenant_id, account.connection_id) as client:
            yield client


async def _page(
    client: GoogleAdsClient,
    customer_id: str,
    query: str,
    token: str | None,
    stats: ReportStats,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page; a 429 RESOURCE_TEMPORARILY_EXHAUSTED is waited out (its retryDelay, up to
    MAX_INLINE_429_WAIT; longer → raised, the activity retries later) and the page asked again."""
    while True:
        stats.calls += 1
        try:
            return await client.search_page(customer_id, query, token)
        except RateLimitedError as exc:
            wait = exc.retry_after or DEFAULT_429_WAIT
            if wait > MAX_INLINE_429_WAIT:
                raise
            stats.throttle_wait_seconds += wait
            stats.details["rateLimited"] = int(stats.details.get("rateLimited", 0)) + 1
            await asyncio.sleep(wait)


async def _search(
    client: GoogleAdsClient, customer_id: str, query: str, stats: ReportStats
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        rows, token = await _page(client, customer_id, query, token, stats)
        found += rows
        if token is None:
            return found


def parse_row(row: Mapping[str, Any], currency: str) -> MetricRow:
    """One campaign × segments.date row in our units (cost_micros exactly; doubles as above)."""
    campaign, metrics = row.get("campaign") or {}, row.get("metrics") or {}
    return MetricRow(
        platform_campaign_id=str(campaign["resourceName"]),
        day=date.fromisoformat(str((row.get("segments") or {})["date"])[:10]),
        impressions=count(metrics.get("impressions", 0), "impressions"),
        clicks=count(metrics.get("clicks", 0), "clicks"),
        spend=from_micros(metrics.get("costMicros", 0), "cost_micros"),
        conversions=int(
            _double(metrics.get("conversions"), "conversions").to_integral_value(ROUND_HALF_EVEN)
        ),  # fmt: skip
        revenue=money(_double(metrics.get("conversionsValue"), "conversions_value")),
        currency=currency,
        campaign_name=campaign.get("name"),
    )


def _double(value: Any, field: str) -> Decimal:
    """A proto3 double (a JSON number, or a string for NaN/Infinity) as its shortest decimal."""
    if value is None:
        return Decimal(0)
    try:
        number = Decimal(repr(float(value)))
    except (TypeError, ValueError, InvalidOperation):
        raise NonRetryableError(f"{field} is not a number: {value!r}", platform=NAME) from None
    if not number.is_finite() or number < 0:
        raise NonRetryableError(f"{field} is not a count: {value!r}", platform=NAME)
    return number


def discovered(row: Mapping[str, Any], currency: str) -> DiscoveredCampaign:
    campaign, budget = row["campaign"], row.get("campaignBudget") or {}
    status = str(campaign.get("status") or "")
    micros: Any = None
    budget_type: str | None = None
    if budget.get("period", "DAILY") == "DAILY" and budget.get("amountMicros") is not None:
        micros, budget_type = budget["amountMicros"], "daily"
    elif budget.get("totalAmountMicros") is not None:
        micros, budget_type = budget["totalAmountMicros"], "lifetime"
    return DiscoveredCampaign(
        platform_campaign_id=str(campaign["resourceName"]),
        name=campaign.get("name"),
        status=STATUSES.get(status, "unknown"),
        platform_status=str(campaign.get("primaryStatus") or status) or None,
        objective=None,  # Google has no objective: a channel and a bidding strategy (§7)
        budget_amount=None if micros is None else Decimal(int(micros)) / MICROS,
        budget_type=budget_type,
        budget_owner="campaign" if micros is not None else None,
        currency=currency,
        start_date=_time(campaign.get("startDateTime")),
        end_date=_time(campaign.get("endDateTime")),
        attributes={
            "channel": campaign.get("advertisingChannelType"),
            "biddingStrategyType": campaign.get("biddingStrategyType"),
            "budget": budget.get("resourceName"),
        },
    )


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        return None


class GoogleOperator:
    """An approved action on a Google campaign: status on the campaign, budget on its own
    CampaignBudget, each one `:mutate` with an `updateMask` naming only what changes."""

    platform = NAME

    def __init__(self, accounts: GoogleAccountService) -> None:
        self._accounts = accounts

    async def read(self, campaign: PlatformCampaign) -> CampaignState:
        row = await self._row(campaign)
        state = discovered(row, campaign.currency or "USD")
        return CampaignState(state.status, state.budget_amount, state.budget_type)

    async def set_status(self, campaign: PlatformCampaign, status: str) -> None:
        wanted = {"active": "ENABLED", "paused": "PAUSED"}.get(status)
        if wanted is None:
            raise NonRetryableError(f"Google campaigns cannot be set {status!r}", platform=NAME)
        async with self._client(campaign) as client:
            await client.mutate(
                campaign.account_id,
                "campaigns",
                [{"update": {"resourceName": campaign.platform_campaign_id, "status": wanted},
                  "updateMask": "status"}],
            )  # fmt: skip

    async def set_budget(self, campaign: PlatformCampaign, amount: Decimal) -> None:
        row = await self._row(campaign)
        budget = (row.get("campaignBudget") or {}).get("resourceName")
        if not budget:
            raise NonRetryableError(
                f"campaign {campaign.platform_campaign_id} has no budget to change", platform=NAME
            )
        field = "amountMicros"
        if (row.get("campaignBudget") or {}).get("period") == "CUSTOM_PERIOD":
            field = "totalAmountMicros"
        async with self._client(campaign) as client:
            await client.mutate(
                campaign.account_id,
                "campaignBudgets",
                [{"update": {"resourceName": budget, field: str(int(amount * MICROS))},
                  "updateMask": field}],
            )  # fmt: skip

    async def _row(self, campaign: PlatformCampaign) -> dict[str, Any]:
        async with self._client(campaign) as client:
            rows = await client.search(
                campaign.account_id,
                f"SELECT {CAMPAIGN_FIELDS} FROM campaign WHERE campaign.resource_name = "
                f"{gaql_string(campaign.platform_campaign_id)}",
            )
        if not rows:
            raise NonRetryableError(
                f"campaign {campaign.platform_campaign_id} is not on Google Ads", platform=NAME
            )
        return rows[0]

    @contextlib.asynccontextmanager
    async def _client(self, campaign: PlatformCampaign) -> AsyncIterator[GoogleAdsClient]:
        if campaign.connection_id is None:
            raise NonRetryableError(
                f"Google campaign {campaign.platform_campaign_id} is on no connected account",
                platform=NAME,
            )
        async with self._accounts.ads_client(campaign.tenant_id, campaign.connection_id) as client:
            yield client


@dataclass(frozen=True)
class GooglePerformance:
    reporter: GoogleReporter
    operator: GoogleOperator


@contextlib.asynccontextmanager
async def open_runtime(deps: PerformanceDeps) -> AsyncIterator[GooglePerformance]:
    transport = deps.transports.get("google")
    async with google_account_service(
        deps.sessions, deps.settings, transport=transport
    ) as accounts:
        yield GooglePerformance(GoogleReporter(accounts, deps.settings), GoogleOperator(accounts))


REGISTRATION = PerformanceRegistration(
    name=NAME,
    report_queue=lambda s: reports_task_queue(s.google_task_queue),
    report_rate_limit=lambda s: s.google_reports_rate_limit,
    write_queue=lambda s: actions_task_queue(s.google_task_queue),
    lookback_days=lambda s: s.google_reports_lookback_days,
    open_runtime=open_runtime,
)
