"""Meta in seed 004: metrics through Insights, campaign discovery through the Graph lists, and
actions through the Graph (campaigns on a connected account) or the Strategis relay (campaigns
Flightdeck published through the relay, on an account no one connected).

- Accounts: every Meta connection with a selected ad account that can still be read
  (connected, or refused for payment or a disabled account — its history stays readable);
  one connection per ad account and tenant (the latest).
- Discovery: `GET act_X/campaigns` and `act_X/adsets` (budgets under ABO live on the ad sets),
  two paged lists per account whatever its size.
- Reports: `meta_insights.InsightsReader`, synchronously below
  `meta_insights_async_min_campaigns` campaigns (or until Graph asks for less data), else
  async report runs.
- Budgets are integers in the account currency's minor unit on Meta; major units here.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.accounts import AccountNotFound
from flightdeck.accounts.meta import MetaConnectionService, meta_graph_client
from flightdeck.crypto import TokenCipher
from flightdeck.db.models import CampaignMetaConnection, PlatformCampaign
from flightdeck.domain.meta_rules import to_major, to_minor
from flightdeck.domain.metrics import MetricRow
from flightdeck.platforms.errors import NonRetryableError
from flightdeck.platforms.meta import MetaGraphClient
from flightdeck.platforms.meta_errors import MetaReauthRequired
from flightdeck.platforms.meta_insights import (
    InsightsPacer,
    InsightsQuery,
    InsightsReader,
    InsightsStats,
    TooMuchData,
)
from flightdeck.platforms.reporting import (
    CampaignState,
    DiscoveredCampaign,
    PerformanceDeps,
    PerformanceRegistration,
    Progress,
    ReportingAccount,
    ReportStats,
)
from flightdeck.platforms.strategis import RelayUpdatableType, StrategisRelayClient
from flightdeck.settings import Settings
from flightdeck.temporal import actions_task_queue, reports_task_queue

NAME = "meta"
READABLE = ("connected", "no_payment_method", "account_disabled")
CAMPAIGN_FIELDS = (
    "id,name,status,effective_status,objective,daily_budget,lifetime_budget,start_time,stop_time"
)
ADSET_FIELDS = "id,campaign_id,status,daily_budget,lifetime_budget"
STATUSES = {"ACTIVE": "active", "PAUSED": "paused", "ARCHIVED": "archived", "DELETED": "deleted"}
PAGE = 500


class MetaReporter:
    platform = NAME

    def __init__(
        self,
        connections: MetaConnectionService,
        graph: MetaGraphClient,
        reader: InsightsReader,
        settings: Settings,
    ) -> None:
        self._connections = connections
        self._graph = graph
        self._reader = reader
        self._settings = settings

    async def accounts(
        self, session: AsyncSession, tenant_id: uuid.UUID | None
    ) -> list[ReportingAccount]:
        statement = select(CampaignMetaConnection).where(
            CampaignMetaConnection.connection_status.in_(READABLE),
            CampaignMetaConnection.selected_ad_account_id.is_not(None),
            CampaignMetaConnection.long_lived_user_token_encrypted.is_not(None),
        )
        if tenant_id is not None:
            statement = statement.where(CampaignMetaConnection.tenant_id == tenant_id)
        statement = statement.order_by(
            CampaignMetaConnection.tenant_id, CampaignMetaConnection.updated_at.desc()
        )
        chosen: dict[tuple[uuid.UUID, str], ReportingAccount] = {}
        for row in (await session.scalars(statement)).all():
            key = (row.tenant_id, str(row.selected_ad_account_id))
            chosen.setdefault(
                key,
                ReportingAccount(
                    tenant_id=row.tenant_id,
                    platform=NAME,
                    connection_id=row.id,
                    account_id=str(row.selected_ad_account_id),
                    currency=row.ad_account_currency_code,
                ),
            )
        return list(chosen.values())

    async def discover(
        self, account: ReportingAccount, stats: ReportStats
    ) -> list[DiscoveredCampaign]:
        token = await self._token(account)
        act = account.account_id
        details = await self._graph.get(
            act, token, {"fields": "currency,timezone_name"}, account=act
        )
        currency = str(details.get("currency") or account.currency or "USD")
        stats.details["timezone"] = details.get("timezone_name")
        campaigns = await self._graph.get_all(
            f"{act}/campaigns", token, {"fields": CAMPAIGN_FIELDS, "limit": PAGE}, account=act
        )
        adsets = await self._graph.get_all(
            f"{act}/adsets", token, {"fields": ADSET_FIELDS, "limit": PAGE}, account=act
        )
        stats.calls += 3 + (len(campaigns) + len(adsets)) // PAGE
        by_campaign: dict[str, list[dict[str, Any]]] = {}
        for adset in adsets:
            by_campaign.setdefault(str(adset.get("campaign_id")), []).append(adset)
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
        token = await self._token(account)
        query = InsightsQuery(
            account=account.account_id,
            since=since,
            until=until,
            currency=account.currency or "USD",
            purchase_action_type=self._settings.meta_purchase_action_type,
            windows=tuple(self._settings.meta_attribution_windows),
        )
        counters = InsightsStats()
        stats.details["purchaseActionType"] = query.purchase_action_type
        try:
            use_jobs = campaigns >= self._settings.meta_insights_async_min_campaigns
            if not use_jobs:
                try:
                    async for rows in self._reader.rows_now(token, query, counters, progress):
                        yield rows
                except TooMuchData:
                    use_jobs = True  # rows already upserted are upserted again: idempotent
            if use_jobs:
                stats.details["mode"] = "async"
                async for rows in self._reader.rows_by_jobs(token, query, counters, progress):
                    yield rows
            else:
                stats.details["mode"] = "sync"
        finally:
            stats.calls += counters.calls
            stats.jobs += counters.jobs
            stats.failed_jobs += counters.failed_jobs
            stats.throttle_wait_seconds += counters.waited

    async def _token(self, account: ReportingAccount) -> str:
        try:
            return await self._connections.user_token(account.tenant_id, account.connection_id)
        except AccountNotFound:
            raise NonRetryableError(
                f"the Meta connection of {account.account_id} no longer exists", platform=NAME
            ) from None


def discovered(
    campaign: Mapping[str, Any], adsets: Iterable[Mapping[str, Any]], currency: str
) -> DiscoveredCampaign:
    budget, budget_type = _budget(campaign)
    owner = "campaign"
    live = [a for a in adsets if a.get("status") not in ("DELETED", "ARCHIVED")]
    if budget is None and live:
        owner = "ad_set"
        budgets = [_budget(a) for a in live]
        minor = sum(b for b, _ in budgets if b is not None)
        budget_type = next((t for b, t in budgets if b is not None), None)
        budget = minor if budget_type else None
    status = str(campaign.get("status") or "")
    return DiscoveredCampaign(
        platform_campaign_id=str(campaign["id"]),
        name=campaign.get("name"),
        status=STATUSES.get(status, "unknown"),
        platform_status=str(campaign.get("effective_status") or status) or None,
        objective=campaign.get("objective"),
        budget_amount=None if budget is None else to_major(budget, currency),
        budget_type=budget_type,
        budget_owner=owner if budget is not None else None,
        currency=currency,
        start_date=_time(campaign.get("start_time")),
        end_date=_time(campaign.get("stop_time")),
        attributes={"adSetIds": [str(a["id"]) for a in live if a.get("id")]},
    )


def _budget(obj: Mapping[str, Any]) -> tuple[int | None, str | None]:
    for field, kind in (("daily_budget", "daily"), ("lifetime_budget", "lifetime")):
        value = obj.get(field)
        if value not in (None, "", "0", 0):
            return int(str(value)), kind
    return None, None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


class MetaOperator:
    """Changes a Meta campaign: through the Graph when its account is connected, else through
    the Strategis relay (campaigns Flightdeck published there; `attributes.organization`)."""

    platform = NAME

    def __init__(
        self,
        connections: MetaConnectionService,
        graph: MetaGraphClient,
        relay: StrategisRelayClient,
    ) -> None:
        self._connections = connections
        self._graph = graph
        self._relay = relay

    async def read(self, campaign: PlatformCampaign) -> CampaignState:
        currency = campaign.currency or "USD"
        if campaign.connection_id is None:
            return await self._relay_read(campaign, currency)
        token = await self._token(campaign)
        act = campaign.account_id
        fields = "status,effective_status,daily_budget,lifetime_budget"
        obj = await self._graph.get(
            campaign.platform_campaign_id, token, {"fields": fields}, account=act
        )
        adsets: list[dict[str, Any]] = []
        if _budget(obj)[0] is None:
            adsets = await self._graph.get_all(
                f"{campaign.platform_campaign_id}/adsets",
                token,
                {"fields": ADSET_FIELDS},
                account=act,
            )
        state = discovered({**obj, "id": campaign.platform_campaign_id}, adsets, currency)
        return CampaignState(
            status=state.status, budget_amount=state.budget_amount, budget_type=state.budget_type
        )

    async def set_status(self, campaign: PlatformCampaign, status: str) -> None:
        wanted = {"active": "ACTIVE", "paused": "PAUSED"}[status]
        if campaign.connection_id is None:
            await self._relay.update(
                "campaigns", campaign.platform_campaign_id, organization=_organization(campaign),
                fields={"status": wanted},
            )  # fmt: skip
            return
        token = await self._token(campaign)
        await self._graph.post(
            campaign.platform_campaign_id, token, {"status": wanted}, account=campaign.account_id
        )

    async def set_budget(self, campaign: PlatformCampaign, amount: Decimal) -> None:
        currency = campaign.currency or "USD"
        state = await self.read(campaign)
        field = "lifetime_budget" if state.budget_type == "lifetime" else "daily_budget"
        wanted = to_minor(amount, currency)
        if campaign.budget_owner != "ad_set":
            await self._update(
                campaign, "campaigns", campaign.platform_campaign_id, {field: wanted}
            )
            return
        adsets = await self._adset_budgets(campaign, field)
        for adset_id, minor in zip(adsets, scaled(list(adsets.values()), wanted), strict=True):
            await self._update(campaign, "adsets", adset_id, {field: minor})

    async def _adset_budgets(self, campaign: PlatformCampaign, field: str) -> dict[str, int]:
        """The live ad sets' budgets, which an ABO campaign's budget is the sum of."""
        ids = [str(i) for i in campaign.attributes.get("adSetIds", [])]
        budgets: dict[str, int] = {}
        for adset_id in ids:
            if campaign.connection_id is None:
                obj = await self._relay.get(
                    "adsets", adset_id, organization=_organization(campaign)
                )
            else:
                token = await self._token(campaign)
                obj = await self._graph.get(adset_id, token, {"fields": ADSET_FIELDS})
            if obj.get("status") not in ("DELETED", "ARCHIVED") and obj.get(field):
                budgets[adset_id] = int(str(obj[field]))
        if not budgets:
            raise NonRetryableError(
                f"campaign {campaign.platform_campaign_id} has no ad set budget to change",
                platform=NAME,
            )
        return budgets

    async def _update(
        self, campaign: PlatformCampaign, kind: str, object_id: str, fields: dict[str, Any]
    ) -> None:
        if campaign.connection_id is None:
            relay_kind: RelayUpdatableType = "campaigns" if kind == "campaigns" else "adsets"
            await self._relay.update(
                relay_kind, object_id, organization=_organization(campaign), fields=fields
            )
            return
        token = await self._token(campaign)
        await self._graph.post(object_id, token, fields, account=campaign.account_id)

    async def _relay_read(self, campaign: PlatformCampaign, currency: str) -> CampaignState:
        obj = await self._relay.get(
            "campaigns", campaign.platform_campaign_id, organization=_organization(campaign)
        )
        adsets: list[dict[str, Any]] = []
        if _budget(obj)[0] is None:
            for adset_id in campaign.attributes.get("adSetIds", []):
                adsets.append(
                    await self._relay.get(
                        "adsets", str(adset_id), organization=_organization(campaign)
                    )
                )
        state = discovered({**obj, "id": campaign.platform_campaign_id}, adsets, currency)
        return CampaignState(state.status, state.budget_amount, state.budget_type)

    async def _token(self, campaign: PlatformCampaign) -> str:
        assert campaign.connection_id is not None
        try:
            return await self._connections.user_token(campaign.tenant_id, campaign.connection_id)
        except AccountNotFound:
            raise MetaReauthRequired(
                "the campaign's Meta connection no longer exists; reconnect", platform=NAME
            ) from None


def _organization(campaign: PlatformCampaign) -> str:
    organization = campaign.attributes.get("organization")
    if not organization:
        raise NonRetryableError(
            f"campaign {campaign.platform_campaign_id} is on no connected Meta account and has "
            "no relay organization: connect its ad account",
            platform=NAME,
        )
    return str(organization)


def scaled(parts: list[int], total: int) -> list[int]:
    """`parts` rescaled to sum to `total` exactly, keeping their proportions (largest
    remainder): an ABO campaign's new budget spread over its ad sets."""
    if sum(parts) <= 0:
        parts = [1] * len(parts)
    whole = sum(parts)
    shares = [total * p // whole for p in parts]
    order = sorted(range(len(parts)), key=lambda i: (-(total * parts[i] % whole), i))
    for index in order[: total - sum(shares)]:
        shares[index] += 1
    return shares


@dataclass(frozen=True)
class MetaPerformance:
    reporter: MetaReporter
    operator: MetaOperator


@contextlib.asynccontextmanager
async def open_runtime(deps: PerformanceDeps) -> AsyncIterator[MetaPerformance]:
    """A Graph client of its own (its own pool and insights pacer) and the relay client."""
    settings = deps.settings
    pacer = InsightsPacer(
        slow_at_percent=settings.meta_insights_slow_at_percent,
        max_pause_seconds=settings.meta_insights_max_pause_seconds,
    )
    async with (
        meta_graph_client(
            settings, transport=deps.transports.get("meta"), on_response=pacer.observe
        ) as graph,
        StrategisRelayClient(
            settings.strategis_relay_base_url,
            settings.strategis_api_key.get_secret_value(),
            timeout=settings.http_timeout_seconds,
            transport=deps.transports.get("relay"),
        ) as relay,
    ):
        connections = MetaConnectionService(
            deps.sessions, graph, TokenCipher.from_settings(settings), settings
        )
        reader = InsightsReader(
            graph,
            pacer,
            page_size=settings.meta_insights_page_size,
            poll_interval=settings.meta_insights_poll_seconds,
            job_timeout=settings.meta_insights_job_timeout_seconds,
            max_job_attempts=settings.meta_insights_max_job_attempts,
            slice_days=settings.meta_insights_slice_days,
        )
        yield MetaPerformance(
            MetaReporter(connections, graph, reader, settings),
            MetaOperator(connections, graph, relay),
        )


REGISTRATION = PerformanceRegistration(
    name=NAME,
    report_queue=lambda s: reports_task_queue(s.meta_task_queue),
    report_rate_limit=lambda s: s.meta_reports_rate_limit,
    write_queue=lambda s: actions_task_queue(s.meta_task_queue),
    lookback_days=lambda s: s.meta_insights_lookback_days,
    open_runtime=open_runtime,
)

__all__ = ["REGISTRATION", "MetaOperator", "MetaReporter", "scaled"]
