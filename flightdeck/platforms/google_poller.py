"""`PlatformPoller` for Google Ads (issue 14; google-ads-api.md §4): the account's campaigns
(with their budgets) and ad groups read with GAQL (`googleAds:search`, pages of 10,000 rows),
in our vocabulary, and `change_event` to tell edits made outside Flightdeck (the Google Ads UI,
Editor, scripts, another user) from our own.

Removed objects are listed too (GAQL returns REMOVED rows unless filtered) with
`deleted=True`. `modified_at` is the time of the object's latest change event in the window
read (change_event covers 30 days and lags up to 3 minutes). `calls` counts the pages read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flightdeck.domain.adoption import strip_ref
from flightdeck.domain.campaign_sets import Budget
from flightdeck.domain.sync_back import (
    PlatformAdGroupState,
    PlatformCampaignState,
    PlatformSnapshot,
)
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.google_ads import GoogleAdsClient, gaql_string
from flightdeck.platforms.platform_poller import PlatformPoller, SyncBackSwitchedOff

PLATFORM = "google"
API_CLIENT = "GOOGLE_ADS_API"
CHANGE_WINDOW = timedelta(days=29)  # change_event reaches back 30 days; keep a margin
CHANGE_LIMIT = 10_000
STATUSES = {"ENABLED": "active", "PAUSED": "paused", "REMOVED": "deleted"}
CAMPAIGNS = (
    "SELECT campaign.resource_name, campaign.name, campaign.status, "
    "campaign_budget.amount_micros, campaign_budget.period FROM campaign"
)
AD_GROUPS = (
    "SELECT ad_group.resource_name, ad_group.name, ad_group.status, ad_group.campaign, "
    "ad_group.cpc_bid_micros FROM ad_group"
)


@dataclass(frozen=True)
class ChangeEvent:
    """One change_event row: who changed what, and whether it came from outside Flightdeck."""

    at: datetime
    resource_name: str
    resource_type: str
    operation: str
    changed_fields: tuple[str, ...]
    client_type: str
    user_email: str | None
    outside: bool


class GooglePlatformPoller:
    """Reads one Google Ads customer per `AccountContext` through `GoogleAdsClient`.
    `our_email`: the Google user Flightdeck acts as; API changes by anyone else count as
    outside edits too (without it, only non-API clients do)."""

    platform = PLATFORM

    def __init__(self, client: GoogleAdsClient, *, our_email: str | None = None) -> None:
        self._client = client
        self._our_email = our_email

    async def fetch_campaign_status(
        self, account: AccountContext, platform_campaign_id: str
    ) -> PlatformCampaignState:
        query = f"{CAMPAIGNS} WHERE campaign.resource_name = {gaql_string(platform_campaign_id)}"
        rows = await self._client.search(account.account_id, query)
        if not rows:
            return PlatformCampaignState(platform_id=platform_campaign_id, name="",
                                         status="deleted", deleted=True)  # fmt: skip
        return campaign_state(rows[0], {})

    async def fetch_all(
        self, account: AccountContext, heartbeat: Callable[[], None] | None = None
    ) -> PlatformSnapshot:
        """`heartbeat` is called after every page read."""
        cid = account.account_id
        calls = 0
        campaigns: list[dict[str, Any]] = []
        async for page in self._client.search_pages(cid, CAMPAIGNS):
            campaigns += page
            calls += 1
            if heartbeat is not None:
                heartbeat()
        ad_groups: list[dict[str, Any]] = []
        async for page in self._client.search_pages(cid, AD_GROUPS):
            ad_groups += page
            calls += 1
            if heartbeat is not None:
                heartbeat()
        events, event_calls = await self._changes(cid, datetime.now(UTC) - CHANGE_WINDOW)
        latest: dict[str, datetime] = {}
        for event in events:
            latest[event.resource_name] = max(event.at, latest.get(event.resource_name, event.at))
        return PlatformSnapshot(
            campaigns={
                c.platform_id: c for c in (campaign_state(row, latest) for row in campaigns)
            },
            ad_groups={
                g.platform_id: g for g in (ad_group_state(row, latest) for row in ad_groups)
            },
            calls=calls + event_calls,
        )

    async def outside_edits(self, account: AccountContext, since: datetime) -> list[ChangeEvent]:
        """Changes made since `since` by anything but Flightdeck, oldest first."""
        events, _ = await self._changes(account.account_id, since)
        return [event for event in events if event.outside]

    async def _changes(self, cid: str, since: datetime) -> tuple[list[ChangeEvent], int]:
        """Every change event from `since` to now; a full page of 10,000 is read on from its
        last timestamp (rows at that exact time come again and are deduplicated)."""
        oldest = datetime.now(UTC) - CHANGE_WINDOW
        start = max(since, oldest)
        seen: set[str] = set()
        events: list[ChangeEvent] = []
        calls = 0
        while True:
            end = datetime.now(UTC) + timedelta(minutes=1)
            query = (
                "SELECT change_event.resource_name, change_event.change_date_time, "
                "change_event.change_resource_name, change_event.change_resource_type, "
                "change_event.client_type, change_event.user_email, "
                "change_event.resource_change_operation, change_event.changed_fields "
                "FROM change_event WHERE change_event.change_date_time BETWEEN "
                f"'{_stamp(start)}' AND '{_stamp(end)}' "
                f"ORDER BY change_event.change_date_time LIMIT {CHANGE_LIMIT}"
            )
            rows = await self._client.search(cid, query)
            calls += 1
            for row in rows:
                event = row["changeEvent"]
                if event["resourceName"] in seen:
                    continue
                seen.add(event["resourceName"])
                events.append(self._event(event))
            if len(rows) < CHANGE_LIMIT or not events:
                return events, calls
            start = events[-1].at

    def _event(self, event: Mapping[str, Any]) -> ChangeEvent:
        client_type = str(event.get("clientType", ""))
        email = event.get("userEmail")
        outside = client_type != API_CLIENT or (
            self._our_email is not None and email is not None and email != self._our_email
        )
        return ChangeEvent(
            at=_parse(str(event["changeDateTime"])),
            resource_name=str(event.get("changeResourceName", "")),
            resource_type=str(event.get("changeResourceType", "")),
            operation=str(event.get("resourceChangeOperation", "")),
            changed_fields=tuple(f for f in str(event.get("changedFields", "")).split(",") if f),
            client_type=client_type,
            user_email=str(email) if email else None,
            outside=outside,
        )


def campaign_state(row: Mapping[str, Any], latest: Mapping[str, datetime]) -> PlatformCampaignState:
    campaign = row["campaign"]
    budget = row.get("campaignBudget") or {}
    amount = _money(budget.get("amountMicros"))
    daily = budget.get("period", "DAILY") == "DAILY"
    status = STATUSES.get(str(campaign.get("status")), "error")
    return PlatformCampaignState(
        platform_id=str(campaign["resourceName"]),
        name=strip_ref(str(campaign.get("name") or "")),
        status=status,
        budget=Budget(type="daily", amount=amount) if amount and daily else None,
        modified_at=latest.get(str(campaign["resourceName"])),
        deleted=status == "deleted",
    )


def ad_group_state(row: Mapping[str, Any], latest: Mapping[str, datetime]) -> PlatformAdGroupState:
    group = row["adGroup"]
    status = STATUSES.get(str(group.get("status")), "error")
    return PlatformAdGroupState(
        platform_id=str(group["resourceName"]),
        campaign_platform_id=str(group.get("campaign") or ""),
        name=strip_ref(str(group.get("name") or "")),
        status=status,
        bid_amount=_money(group.get("cpcBidMicros")),
        modified_at=latest.get(str(group["resourceName"])),
        deleted=status == "deleted",
    )


def _money(micros: Any) -> Decimal | None:
    """int64 micros (a JSON string) as currency units."""
    if isinstance(micros, str) and micros.lstrip("-").isdigit():
        return Decimal(int(micros)) / 1_000_000
    return None


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _parse(text: str) -> datetime:
    """change_date_time, "yyyy-MM-dd HH:mm:ss[.ffffff]", taken as UTC (the time zone of the
    timestamps is UNCONFIRMED, §8.10)."""
    for pattern in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"unreadable change_date_time {text!r}")


def outside_resources(events: Sequence[ChangeEvent]) -> set[str]:
    return {event.resource_name for event in events if event.outside}


# `domain.sync_back` compares Reddit's shape (ad-group budgets, targeting lists, bid
# strategies), which a Google ad group does not have: until it speaks Google, the registry
# serves Google accounts `SyncBackSwitchedOff(GooglePlatformPoller(client), REASON)`.
SYNC_BACK_PENDING_REASON = (
    "sync-back is not available for Google Ads accounts yet: the three-way comparison "
    "does not know Google's fields (no ad-group budget or targeting lists; keywords are "
    "criteria), so nothing is compared or changed"
)


def sync_back_pending(client: GoogleAdsClient) -> SyncBackSwitchedOff:
    return SyncBackSwitchedOff(GooglePlatformPoller(client), SYNC_BACK_PENDING_REASON)


def _conforms(poller: GooglePlatformPoller) -> PlatformPoller:
    return poller  # mypy proves the Protocol is implemented
