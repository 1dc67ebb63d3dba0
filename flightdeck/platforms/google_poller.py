"""`PlatformPoller` for Google Ads (issue 14 item 5; google-ads-api.md §4): the account's
campaigns (with their budgets), ad groups (with their keyword criteria as sets) and responsive
search ads read with GAQL (`googleAds:search`, pages of 10,000 rows, followed by
`nextPageToken`), in sync-back's field names, and `change_event` to tell edits made outside
Flightdeck (the Google Ads UI, Editor, scripts, another user) from our own.

What the comparison sees of Google (`GOOGLE_FIELDS`): campaign name (marker stripped), status
and daily budget; ad-group name, status, CPC bid and keywords / negative keywords as sets
(criteria with status ENABLED; negatives whatever their status); an ad's status, final URL and
copy (headlines and descriptions, one per line). What Google does not have on these objects
(ad-group budgets and targeting lists, an RSA's name, bid strategies, which live on the
campaign) is not compared, so it never reads as cleared.

Removed objects are listed too (GAQL returns REMOVED rows unless filtered) with
`deleted=True`. Change events are attributed to our entities (a criterion's to its ad group,
an ad's copy to its ad group ad, a budget's to its campaign): `modified_at` is the latest one
in the window read, `edited_outside` whether any came from outside: True when one did (a
non-API client, or another user); False only when every one is certainly ours — through the API
as the Google user Flightdeck acts as (`our_email`) — so a difference from the base is a push
of ours whose record was lost, neither taken nor disputed; None otherwise (no event in the
window, which covers 30 days and lags up to 3 minutes, or API changes by a user we cannot tell
from ours when `our_email` is unknown: the comparison decides). `calls` counts the pages read.
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
    PlatformAdState,
    PlatformCampaignState,
    PlatformSnapshot,
)
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.google_ads import GoogleAdsClient, gaql_string
from flightdeck.platforms.platform_poller import PlatformPoller

PLATFORM = "google"
API_CLIENT = "GOOGLE_ADS_API"
CHANGE_WINDOW = timedelta(days=29)  # change_event reaches back 30 days; keep a margin
CHANGE_LIMIT = 10_000
STATUSES = {"ENABLED": "active", "PAUSED": "paused", "REMOVED": "deleted"}
CAMPAIGNS = (
    "SELECT campaign.resource_name, campaign.name, campaign.status, campaign.campaign_budget, "
    "campaign_budget.amount_micros, campaign_budget.period FROM campaign"
)
AD_GROUPS = (
    "SELECT ad_group.resource_name, ad_group.name, ad_group.status, ad_group.campaign, "
    "ad_group.cpc_bid_micros FROM ad_group"
)
ADS = (
    "SELECT ad_group_ad.resource_name, ad_group_ad.status, ad_group_ad.ad_group, "
    "ad_group_ad.ad.final_urls, ad_group_ad.ad.responsive_search_ad.headlines, "
    "ad_group_ad.ad.responsive_search_ad.descriptions FROM ad_group_ad"
)
KEYWORDS = (
    "SELECT ad_group_criterion.resource_name, ad_group_criterion.ad_group, "
    "ad_group_criterion.status, ad_group_criterion.negative, ad_group_criterion.keyword.text "
    "FROM ad_group_criterion WHERE ad_group_criterion.type = 'KEYWORD' "
    "AND ad_group_criterion.status != 'REMOVED'"
)
# The compared fields Google has (see the module doc).
GOOGLE_FIELDS: dict[str, tuple[str, ...]] = {
    "campaign": ("name", "status", "budget"),
    "ad_group": ("name", "status", "bid_amount", "keywords", "excluded_keywords"),
    "ad": ("status", "final_url", "headline", "description"),
}


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
    ours: bool | None = None  # certainly ours (API, our user); None: cannot tell
    campaign: str | None = None  # the campaign / ad group the changed resource belongs to
    ad_group: str | None = None


@dataclass
class _History:
    """One entity's change events in the window: the latest, and who made them."""

    latest: datetime | None = None
    outside: bool = False
    unknown: bool = False  # an API change by a user we cannot tell from ours

    def add(self, event: ChangeEvent) -> None:
        self.latest = event.at if self.latest is None else max(self.latest, event.at)
        self.outside = self.outside or event.outside
        self.unknown = self.unknown or event.ours is None

    @property
    def edited_outside(self) -> bool | None:
        return True if self.outside else None if self.unknown else False


def _owners(
    campaigns: Sequence[Mapping[str, Any]], ads: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Changed resources that are parts of our entities -> the entity: a campaign's own budget
    -> the campaign, an ad's copy (`ads/{id}`) -> its ad group ad."""
    owners: dict[str, str] = {}
    for row in campaigns:
        budget = row["campaign"].get("campaignBudget")
        if budget:
            owners[str(budget)] = str(row["campaign"]["resourceName"])
    for row in ads:
        name = str(row["adGroupAd"]["resourceName"])
        customer, _, key = name.partition("/adGroupAds/")
        owners[f"{customer}/ads/{key.rsplit('~', 1)[-1]}"] = name
    return owners


def _owner(event: ChangeEvent) -> str:
    """A keyword criterion's change is its ad group's (keywords are an ad-group field)."""
    if event.resource_type == "AD_GROUP_CRITERION" and event.ad_group:
        return event.ad_group
    return event.resource_name


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

        async def read(query: str) -> list[dict[str, Any]]:
            nonlocal calls
            rows: list[dict[str, Any]] = []
            async for page in self._client.search_pages(cid, query):
                rows += page
                calls += 1
                if heartbeat is not None:
                    heartbeat()
            return rows

        campaigns = await read(CAMPAIGNS)
        ad_groups = await read(AD_GROUPS)
        ads = await read(ADS)
        criteria = await read(KEYWORDS)
        events, event_calls = await self._changes(cid, datetime.now(UTC) - CHANGE_WINDOW)
        owners = _owners(campaigns, ads)
        history: dict[str, _History] = {}
        for event in events:
            owner = owners.get(event.resource_name) or _owner(event)
            history.setdefault(owner, _History()).add(event)
        keywords: dict[str, dict[str, list[str]]] = {}
        for row in criteria:
            criterion = row["adGroupCriterion"]
            lists = keywords.setdefault(
                str(criterion.get("adGroup")), {"keywords": [], "excluded_keywords": []}
            )
            text = str((criterion.get("keyword") or {}).get("text") or "")
            if criterion.get("negative"):
                lists["excluded_keywords"].append(text)
            elif criterion.get("status") == "ENABLED":
                lists["keywords"].append(text)
        return PlatformSnapshot(
            campaigns={
                c.platform_id: c for c in (campaign_state(row, history) for row in campaigns)
            },
            ad_groups={
                g.platform_id: g
                for g in (ad_group_state(row, history, keywords) for row in ad_groups)
            },
            ads={a.platform_id: a for a in (ad_state(row, history) for row in ads)},
            calls=calls + event_calls,
            fields=GOOGLE_FIELDS,
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
                "change_event.resource_change_operation, change_event.changed_fields, "
                "change_event.campaign, change_event.ad_group "
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
            ours=False if outside else (True if email and email == self._our_email else None),
            campaign=str(event.get("campaign") or "") or None,
            ad_group=str(event.get("adGroup") or "") or None,
        )


def campaign_state(
    row: Mapping[str, Any], history: Mapping[str, _History]
) -> PlatformCampaignState:
    campaign = row["campaign"]
    budget = row.get("campaignBudget") or {}
    amount = _money(budget.get("amountMicros"))
    daily = budget.get("period", "DAILY") == "DAILY"
    status = STATUSES.get(str(campaign.get("status")), "error")
    seen = history.get(str(campaign["resourceName"]))
    return PlatformCampaignState(
        platform_id=str(campaign["resourceName"]),
        name=strip_ref(str(campaign.get("name") or "")),
        status=status,
        budget=Budget(type="daily", amount=amount) if amount and daily else None,
        modified_at=seen.latest if seen else None,
        deleted=status == "deleted",
        edited_outside=seen.edited_outside if seen else None,
    )


def ad_group_state(
    row: Mapping[str, Any],
    history: Mapping[str, _History],
    keywords: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> PlatformAdGroupState:
    group = row["adGroup"]
    name = str(group["resourceName"])
    status = STATUSES.get(str(group.get("status")), "error")
    seen = history.get(name)
    lists = (keywords or {}).get(name) or {"keywords": [], "excluded_keywords": []}
    return PlatformAdGroupState(
        platform_id=name,
        campaign_platform_id=str(group.get("campaign") or ""),
        name=strip_ref(str(group.get("name") or "")),
        status=status,
        bid_amount=_money(group.get("cpcBidMicros")),
        targeting={key: list(values) for key, values in lists.items()},
        modified_at=seen.latest if seen else None,
        deleted=status == "deleted",
        edited_outside=seen.edited_outside if seen else None,
    )


def ad_state(row: Mapping[str, Any], history: Mapping[str, _History]) -> PlatformAdState:
    """A responsive search ad: no name (ours is on a marker label), its copy one line each."""
    group_ad = row["adGroupAd"]
    ad = group_ad.get("ad") or {}
    rsa = ad.get("responsiveSearchAd") or {}
    status = STATUSES.get(str(group_ad.get("status")), "error")
    urls = ad.get("finalUrls") or []
    seen = history.get(str(group_ad["resourceName"]))
    return PlatformAdState(
        platform_id=str(group_ad["resourceName"]),
        ad_group_platform_id=str(group_ad.get("adGroup") or ""),
        name="",
        status=status,
        click_url=str(urls[0]) if urls else None,
        headline=_lines(rsa.get("headlines")),
        description=_lines(rsa.get("descriptions")),
        modified_at=seen.latest if seen else None,
        deleted=status == "deleted",
        edited_outside=seen.edited_outside if seen else None,
    )


def _lines(assets: Any) -> str | None:
    texts = [str(a.get("text") or "") for a in assets or () if isinstance(a, Mapping)]
    return "\n".join(texts) if texts else None


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


def _conforms(poller: GooglePlatformPoller) -> PlatformPoller:
    return poller  # mypy proves the Protocol is implemented
