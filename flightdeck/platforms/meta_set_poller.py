"""`PlatformPoller` for Meta campaign sets (issue 14 item 5, Meta half; meta-marketing-api.md
§1): the ad account's campaigns, ad sets and ads listed through Graph, deleted and archived ones
included (`effective_status` names them too), names with our adoption marker stripped.

Incremental: once an account has a completed sync-back run, `fetch_changed` lists only the
objects whose `updated_time` is after that run began (less a margin), with Graph's `filtering`
(`{field: "campaign.updated_time", operator: "GREATER_THAN", value: <unix>}`); the snapshot
says so (`since`), and an object it lacks is unchanged. A deletion bumps `updated_time` and
Graph keeps listing DELETED objects, so deletions are still seen. The first run reads all.

What the comparison sees of Meta (`META_FIELDS`): campaign name, status and (CBO) budget; ad-set
name, status, budget and bid amount; ad name and status. Not compared: keywords (Meta has none:
they are `not_applicable`), Reddit's targeting lists, bid strategies (Meta's differ), dates, and
an ad's copy (on its creative, immutable: a copy change is a new creative).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flightdeck.domain.adoption import strip_ref
from flightdeck.domain.campaign_sets import Budget
from flightdeck.domain.meta_rules import to_major
from flightdeck.domain.sync_back import (
    PlatformAdGroupState,
    PlatformAdState,
    PlatformCampaignState,
    PlatformSnapshot,
)
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.errors import PlatformError
from flightdeck.platforms.meta_set_adapter import NONEXISTENT_SUBCODE, MetaAdsClient
from flightdeck.platforms.platform_poller import IncrementalPoller, PlatformPoller

PLATFORM = "meta"
STATUSES = {"ACTIVE": "active", "PAUSED": "paused", "ARCHIVED": "archived", "DELETED": "deleted"}
ALL_STATUSES = ["ACTIVE", "PAUSED", "ARCHIVED", "DELETED", "IN_PROCESS", "WITH_ISSUES",
                "CAMPAIGN_PAUSED", "ADSET_PAUSED", "PENDING_REVIEW", "DISAPPROVED",
                "PREAPPROVED", "PENDING_BILLING_INFO"]  # fmt: skip
CAMPAIGN_FIELDS = "id,name,status,daily_budget,lifetime_budget,start_time,stop_time,updated_time"
ADSET_FIELDS = (
    "id,name,status,campaign_id,daily_budget,lifetime_budget,bid_amount,start_time,end_time,"
    "updated_time"
)
AD_FIELDS = "id,name,status,adset_id,campaign_id,updated_time"
# The compared fields Meta has (see the module doc).
META_FIELDS: dict[str, tuple[str, ...]] = {
    "campaign": ("name", "status", "budget"),
    "ad_group": ("name", "status", "budget", "bid_amount"),
    "ad": ("name", "status"),
}


def updated_since(kind: str, since: datetime | None) -> list[dict[str, Any]]:
    """Graph's `filtering` for objects changed after `since` (unix seconds)."""
    if since is None:
        return []
    return [{"field": f"{kind}.updated_time", "operator": "GREATER_THAN",
             "value": int(since.timestamp())}]  # fmt: skip


class MetaPlatformPoller:
    """Reads one ad account per `AccountContext` (`act_…`) through `MetaAdsClient`."""

    platform = PLATFORM

    def __init__(self, client: MetaAdsClient, *, page_size: int = 500, currency: str = "USD"):
        self._client = client
        self._page_size = page_size
        self._currency = currency

    async def fetch_campaign_status(
        self, account: AccountContext, platform_campaign_id: str
    ) -> PlatformCampaignState:
        try:
            found = await self._client.get(
                platform_campaign_id, {"fields": CAMPAIGN_FIELDS}, account.account_id
            )
        except PlatformError as exc:
            if exc.code == 100 and exc.subcode == NONEXISTENT_SUBCODE:
                return PlatformCampaignState(platform_id=platform_campaign_id, name="",
                                             status="deleted", deleted=True)  # fmt: skip
            raise
        return self.campaign(found)

    async def fetch_all(
        self,
        account: AccountContext,
        heartbeat: Callable[[], None] | None = None,
        *,
        since: datetime | None = None,
    ) -> PlatformSnapshot:
        calls = 0

        async def listing(edge: str, kind: str, fields: str) -> list[dict[str, Any]]:
            nonlocal calls
            params: dict[str, Any] = {
                "fields": fields,
                "effective_status": ALL_STATUSES,
                "limit": self._page_size,
            }
            filters = updated_since(kind, since)
            if filters:
                params["filtering"] = filters
            items = await self._client.get_all(
                f"{account.account_id}/{edge}", params, account.account_id
            )
            calls += max(1, -(-len(items) // self._page_size))
            if heartbeat is not None:
                heartbeat()
            return items

        campaigns = await listing("campaigns", "campaign", CAMPAIGN_FIELDS)
        adsets = await listing("adsets", "adset", ADSET_FIELDS)
        ads = await listing("ads", "ad", AD_FIELDS)
        return PlatformSnapshot(
            campaigns={str(c["id"]): self.campaign(c) for c in campaigns},
            ad_groups={str(a["id"]): self.ad_set(a) for a in adsets},
            ads={str(a["id"]): _ad(a) for a in ads},
            calls=calls,
            fields=META_FIELDS,
            since=since,
        )

    async def fetch_changed(
        self,
        account: AccountContext,
        since: datetime,
        heartbeat: Callable[[], None] | None = None,
    ) -> PlatformSnapshot:
        """Only the objects updated after `since` (`IncrementalPoller`)."""
        return await self.fetch_all(account, heartbeat, since=since)

    def campaign(self, item: dict[str, Any]) -> PlatformCampaignState:
        budget = self._budget(item)
        return PlatformCampaignState(
            platform_id=str(item["id"]),
            name=strip_ref(str(item.get("name", ""))),
            status=STATUSES.get(str(item.get("status")), "error"),
            budget=budget,
            budget_optimization=budget is not None,
            start_time=item.get("start_time"),
            end_time=item.get("stop_time"),
            modified_at=_time(item.get("updated_time")),
            deleted=item.get("status") == "DELETED",
        )

    def ad_set(self, item: dict[str, Any]) -> PlatformAdGroupState:
        bid = item.get("bid_amount")
        return PlatformAdGroupState(
            platform_id=str(item["id"]),
            campaign_platform_id=str(item.get("campaign_id", "")),
            name=strip_ref(str(item.get("name", ""))),
            status=STATUSES.get(str(item.get("status")), "error"),
            budget=self._budget(item),
            bid_amount=to_major(int(bid), self._currency) if bid is not None else None,
            start_time=item.get("start_time"),
            end_time=item.get("end_time"),
            modified_at=_time(item.get("updated_time")),
            deleted=item.get("status") == "DELETED",
        )

    def _budget(self, item: dict[str, Any]) -> Budget | None:
        for field, kind in (("daily_budget", "daily"), ("lifetime_budget", "lifetime")):
            value = item.get(field)
            if value not in (None, "", "0", 0):
                amount = Decimal(to_major(int(str(value)), self._currency))
                return Budget(type=kind, amount=amount, currency=self._currency)  # type: ignore[arg-type]
        return None


def _ad(item: dict[str, Any]) -> PlatformAdState:
    return PlatformAdState(
        platform_id=str(item["id"]),
        ad_group_platform_id=str(item.get("adset_id", "")),
        campaign_platform_id=str(item["campaign_id"]) if item.get("campaign_id") else None,
        name=strip_ref(str(item.get("name", ""))),
        status=STATUSES.get(str(item.get("status")), "error"),
        modified_at=_time(item.get("updated_time")),
        deleted=item.get("status") == "DELETED",
    )


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("+0000", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _conforms(poller: MetaPlatformPoller) -> list[PlatformPoller | IncrementalPoller]:
    return [poller, poller]  # mypy proves the Protocols are implemented
