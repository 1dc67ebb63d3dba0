"""`PlatformPoller` for Reddit: the account-wide campaign, ad-group and ad lists
at `page.size` 1000, read back into our vocabulary.

A cycle costs ceil(n / 1000) requests per list (at least one), against the 400-per-minute
campaign-management read policy (reddit-ads-api.md §4). `calls` counts the pages requested:
`RedditAdsClient.paginate` follows `pagination.next_url` itself, so the count is taken from
what came back, a page holding `page.size` items until the last (a 401 answered by a token
refresh and a retry is one more request, not counted).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

from flightdeck.domain import reddit_vocabulary as vocab
from flightdeck.domain.adoption import strip_ref
from flightdeck.domain.campaign_sets import Budget
from flightdeck.domain.sync_back import (
    PlatformAdGroupState,
    PlatformAdState,
    PlatformCampaignState,
    PlatformSnapshot,
    reddit_bid_strategy,
)
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.platform_poller import PlatformPoller
from flightdeck.platforms.reddit import MAX_PAGE_SIZE, RedditAdsClient

PLATFORM = "reddit"
DELETED = "DELETED"
BUDGET_TYPES_FROM_REDDIT = {reddit: ours for ours, reddit in vocab.GOAL_TYPES.items()}
_State = TypeVar("_State", PlatformCampaignState, PlatformAdGroupState, PlatformAdState)


class RedditPlatformPoller:
    """Reads one Reddit ad account per `AccountContext` through `RedditAdsClient`."""

    platform = PLATFORM

    def __init__(
        self, client: RedditAdsClient, *, page_size: int = MAX_PAGE_SIZE, include_ads: bool = True
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1-{MAX_PAGE_SIZE}, not {page_size}")
        self._client = client
        self._page_size = page_size
        self._include_ads = include_ads

    async def fetch_campaign_status(
        self, account: AccountContext, platform_campaign_id: str
    ) -> PlatformCampaignState:
        return campaign_state(await self._client.get_campaign(platform_campaign_id))

    async def fetch_all(
        self, account: AccountContext, heartbeat: Callable[[], None] | None = None
    ) -> PlatformSnapshot:
        # The lists are read side by side: each follows its own cursor (`next_url`), so pages
        # of one list come one after another, but the three need not wait for each other.
        campaigns, ad_groups, ads = await asyncio.gather(
            self._list(account, "campaigns", campaign_state, heartbeat),
            self._list(account, "ad_groups", ad_group_state, heartbeat),
            self._ads(account, heartbeat),
        )
        return PlatformSnapshot(
            campaigns=campaigns[0],
            ad_groups=ad_groups[0],
            ads=ads[0] if ads is not None else None,
            calls=campaigns[1] + ad_groups[1] + (ads[1] if ads is not None else 0),
        )

    async def _ads(
        self, account: AccountContext, heartbeat: Callable[[], None] | None
    ) -> tuple[dict[str, PlatformAdState], int] | None:
        if not self._include_ads:
            return None
        return await self._list(account, "ads", ad_state, heartbeat)

    async def _list(
        self,
        account: AccountContext,
        collection: str,
        state: Callable[[Mapping[str, Any]], _State],
        heartbeat: Callable[[], None] | None,
    ) -> tuple[dict[str, _State], int]:
        """Every object of one account-wide list in our words, by platform id, and the pages
        it took (a heartbeat per page: a cycle over a big account takes a while, and a lost
        worker must show)."""
        path = f"/ad_accounts/{quote(account.account_id, safe='')}/{collection}"
        params = {"page.size": str(self._page_size)}
        found: dict[str, _State] = {}
        count = 0
        async for item in self._client.paginate(path, params):
            converted = state(item)
            found[converted.platform_id] = converted
            count += 1
            if heartbeat is not None and count % self._page_size == 0:
                heartbeat()
        if heartbeat is not None:
            heartbeat()
        return found, max(1, math.ceil(count / self._page_size))


# -- Reddit objects in our words ------------------------------------------------------------
# Built with `model_construct`: every value below is already of its field's type (the helpers
# parse and convert), and a cycle builds one per object of the account (70,000 at 10,000
# campaigns), where validating them again took about a third of the reading time.


def campaign_state(obj: Mapping[str, Any]) -> PlatformCampaignState:
    cbo = bool(obj.get("is_campaign_budget_optimization"))
    return PlatformCampaignState.model_construct(
        platform_id=str(obj["id"]),
        name=strip_ref(str(obj.get("name") or "")),
        status=_status(obj),
        budget=_budget(obj) if cbo else None,
        spend_cap=_money(obj.get("spend_cap")),
        budget_optimization=cbo,
        start_time=_text(obj.get("start_time")),
        end_time=_text(obj.get("end_time")),
        modified_at=_time(obj.get("modified_at")),
        deleted=obj.get("configured_status") == DELETED,
    )


def ad_group_state(obj: Mapping[str, Any]) -> PlatformAdGroupState:
    return PlatformAdGroupState.model_construct(
        platform_id=str(obj["id"]),
        campaign_platform_id=str(obj.get("campaign_id") or ""),
        name=strip_ref(str(obj.get("name") or "")),
        status=_status(obj),
        budget=_budget(obj),
        bid_strategy=reddit_bid_strategy(obj.get("bid_strategy"), obj.get("bid_type")),
        bid_amount=_money(obj.get("bid_value")),
        start_time=_text(obj.get("start_time")),
        end_time=_text(obj.get("end_time")),
        targeting=_targeting(obj.get("targeting")),
        modified_at=_time(obj.get("modified_at")),
        deleted=obj.get("configured_status") == DELETED,
    )


def ad_state(obj: Mapping[str, Any]) -> PlatformAdState:
    campaign_id = obj.get("campaign_id")
    return PlatformAdState.model_construct(
        platform_id=str(obj["id"]),
        ad_group_platform_id=str(obj.get("ad_group_id") or ""),
        campaign_platform_id=str(campaign_id) if campaign_id else None,
        name=strip_ref(str(obj.get("name") or "")),
        status=_status(obj),
        click_url=_text(obj.get("click_url")),
        modified_at=_time(obj.get("modified_at")),
        deleted=obj.get("configured_status") == DELETED,
    )


def _targeting(value: Any) -> dict[str, list[str]] | None:
    """Reddit's targeting lists (devices as their types) and keywords, in our names."""
    if not isinstance(value, Mapping):
        return None
    found: dict[str, list[str]] = {}
    for name in ("communities", "interests", "geolocations", "keywords", "excluded_keywords"):
        found[name] = [str(item) for item in value.get(name) or ()]
    found["devices"] = [
        str(d.get("type") if isinstance(d, Mapping) else d) for d in value.get("devices") or ()
    ]
    return found


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _status(obj: Mapping[str, Any]) -> str:
    configured = str(obj.get("configured_status") or "")
    effective = obj.get("effective_status")
    return vocab.status_from_reddit(configured, str(effective) if effective else None)


def _budget(obj: Mapping[str, Any]) -> Budget | None:
    """`goal_type` + `goal_value` as our budget; a goal type we have no word for is an error,
    not a missing budget (which sync-back would take as the budget's removal)."""
    goal_type, amount = obj.get("goal_type"), _money(obj.get("goal_value"))
    if not goal_type or not amount:
        return None
    if goal_type not in BUDGET_TYPES_FROM_REDDIT:
        raise vocab.UnmappedValueError(
            "Reddit goal_type", goal_type, sorted(BUDGET_TYPES_FROM_REDDIT)
        )
    return Budget.model_validate({"type": BUDGET_TYPES_FROM_REDDIT[goal_type], "amount": amount})


def _money(micros: Any) -> Decimal | None:
    if isinstance(micros, bool) or not isinstance(micros, int):
        return None
    return vocab.from_micros(micros)


def _time(value: Any) -> datetime | None:
    """Reddit's ISO 8601 times (`…Z`); None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _conforms(poller: RedditPlatformPoller) -> PlatformPoller:
    return poller  # mypy proves the Protocol is implemented
