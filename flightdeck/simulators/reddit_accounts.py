"""Reddit Ads API reads of what an advertiser already has (the seeded world,
`reddit_state.seed_world`): the user, businesses, ad accounts, funding instruments, pixels and
profiles. Every token may read every ad account (the simulator does not model permissions).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter

from flightdeck.simulators.reddit_call import CallDep, RedditRoute, page
from flightdeck.simulators.reddit_errors import not_found
from flightdeck.simulators.reddit_objects import PLATFORM, RedditObjects
from flightdeck.simulators.state import SimulatorState, StateDep

# "SELECTABLE (default): same as ACTIVE, or UPCOMING with a start_time within the next 30
# days" (the spec's List Funding Instruments).
SELECTABLE_HORIZON = timedelta(days=30)
DEFAULT_FUNDING_MODE = "SELECTABLE"

router = APIRouter(route_class=RedditRoute)


@router.get("/api/v3/me")
async def get_me(call: CallDep) -> dict[str, Any]:
    grant = call.grant
    member_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"reddit-member:{grant.username}"))
    return {
        "data": {
            "type": "MEMBER",
            "id": member_id,
            "reddit_user_id": grant.user_id,
            "reddit_username": grant.username,
            "email": None,
            "firstname": None,
            "lastname": None,
            "phone": None,
        }
    }


@router.get("/api/v3/me/businesses")
async def list_my_businesses(call: CallDep, state: StateDep) -> dict[str, Any]:
    businesses = list(state.store(PLATFORM, "businesses").values())
    account_id = call.query.get("ad_account_id")
    if account_id is not None:
        account = state.store(PLATFORM, "ad_accounts").get(account_id, {})
        businesses = [b for b in businesses if b["id"] == account.get("business_id")]
    return page(call, businesses)


@router.get("/api/v3/businesses/{business_id}/ad_accounts")
async def list_ad_accounts(business_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    if business_id not in state.store(PLATFORM, "businesses"):
        raise not_found(f"Business {business_id}")
    accounts = [
        a for a in state.store(PLATFORM, "ad_accounts").values() if a["business_id"] == business_id
    ]
    ids = call.query.get("ids")
    if ids:
        wanted = set(ids.split(","))
        accounts = [a for a in accounts if a["id"] in wanted]
    return page(call, accounts)


@router.get("/api/v3/ad_accounts/{ad_account_id}")
async def get_ad_account(ad_account_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return {"data": ad_account(state, ad_account_id)}


@router.get("/api/v3/ad_accounts/{ad_account_id}/funding_instruments")
async def list_funding_instruments(
    ad_account_id: str, call: CallDep, state: StateDep
) -> dict[str, Any]:
    objects = account_objects(state, ad_account_id)
    mode = call.query.get("mode", DEFAULT_FUNDING_MODE)
    ids = set(call.query.get("funding_instrument_ids") or [])
    search = str(call.query.get("search", "")).lower()
    found = [
        objects.view("funding_instruments", fi)
        for fi in objects.items("funding_instruments")
        if (mode == "ALL" or mode in funding_modes(fi))
        and (not ids or fi["id"] in ids)
        and search in str(fi.get("name") or "").lower()
    ]
    return page(call, found)


@router.get("/api/v3/ad_accounts/{ad_account_id}/pixels")
async def list_pixels(ad_account_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    objects = account_objects(state, ad_account_id)
    return page(call, [objects.view("pixels", p) for p in objects.items("pixels")])


@router.get("/api/v3/ad_accounts/{ad_account_id}/profiles")
async def list_profiles(ad_account_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    objects = account_objects(state, ad_account_id)
    return page(call, [objects.view("profiles", p) for p in objects.items("profiles")])


def ad_account(state: SimulatorState, ad_account_id: str) -> dict[str, Any]:
    account = state.store(PLATFORM, "ad_accounts").get(ad_account_id)
    if account is None:
        raise not_found(f"Ad account {ad_account_id}")
    return account


def account_objects(state: SimulatorState, ad_account_id: str) -> RedditObjects:
    """The objects of an existing ad account, else Reddit's 404."""
    ad_account(state, ad_account_id)
    return RedditObjects(state, ad_account_id)


def funding_modes(instrument: dict[str, Any], now: datetime | None = None) -> set[str]:
    """The `mode` filters an instrument answers to, from its dates (the spec's definitions)."""
    now = now or datetime.now(UTC)
    start, end = _moment(instrument.get("start_time")), _moment(instrument.get("end_time"))
    if end is not None and end <= now:
        return {"INACTIVE"}
    if start is not None and start > now:
        return {"UPCOMING", "SELECTABLE"} if start <= now + SELECTABLE_HORIZON else {"UPCOMING"}
    return {"ACTIVE", "SELECTABLE"}


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
