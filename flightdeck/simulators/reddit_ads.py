"""Reddit Ads API writes and reads of campaigns, ad groups, ads and posts
(reddit-ads-api.md §2): creates and lists scoped to the ad account (posts: to the profile),
get and PATCH on bare paths, `{"data": …}` envelopes, create 201, everything else 200.
There is no DELETE: `PATCH {"data": {"configured_status": "DELETED"}}`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from flightdeck.simulators.reddit_accounts import account_objects
from flightdeck.simulators.reddit_call import Call, CallDep, RedditRoute, page
from flightdeck.simulators.reddit_errors import not_found
from flightdeck.simulators.reddit_objects import LABELS, PLATFORM, RedditObjects
from flightdeck.simulators.routing import record_created
from flightdeck.simulators.state import SimulatorState, StateDep

router = APIRouter(route_class=RedditRoute)

# query parameter -> how a stored object matches its (comma-joined) values
Filters = dict[str, Callable[[RedditObjects, dict[str, Any], Any], bool]]


def _field_in(name: str) -> Callable[[RedditObjects, dict[str, Any], Any], bool]:
    def matches(objects: RedditObjects, obj: dict[str, Any], wanted: Any) -> bool:
        values = wanted if isinstance(wanted, list) else [wanted]
        return obj.get(name) in values

    return matches


def _effective_in(kind: str) -> Callable[[RedditObjects, dict[str, Any], Any], bool]:
    def matches(objects: RedditObjects, obj: dict[str, Any], wanted: Any) -> bool:
        return objects.effective_status(kind, obj) in wanted

    return matches


FILTERS: dict[str, Filters] = {
    "campaigns": {"id": _field_in("id")},
    "ad_groups": {"id": _field_in("id"), "campaign_id": _field_in("campaign_id")},
    "ads": {
        "id": _field_in("id"),
        "ad_group_id": _field_in("ad_group_id"),
        "campaign_id": _field_in("campaign_id"),
        "configured_status": _field_in("configured_status"),
        "effective_status": _effective_in("ads"),
    },
}


# -- campaigns, ad groups, ads ------------------------------------------------------------------


@router.post("/api/v3/ad_accounts/{ad_account_id}/campaigns", status_code=201)
async def create_campaign(ad_account_id: str, call: CallDep, state: StateDep) -> JSONResponse:
    return await _create(state, call, ad_account_id, "campaigns")


@router.get("/api/v3/ad_accounts/{ad_account_id}/campaigns")
async def list_campaigns(ad_account_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return _list(state, call, ad_account_id, "campaigns")


@router.get("/api/v3/campaigns/{campaign_id}")
async def get_campaign(campaign_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return _get(state, "campaigns", campaign_id)


@router.patch("/api/v3/campaigns/{campaign_id}")
async def update_campaign(campaign_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return await _update(state, call, "campaigns", campaign_id)


@router.post("/api/v3/ad_accounts/{ad_account_id}/ad_groups", status_code=201)
async def create_ad_group(ad_account_id: str, call: CallDep, state: StateDep) -> JSONResponse:
    return await _create(state, call, ad_account_id, "ad_groups")


@router.get("/api/v3/ad_accounts/{ad_account_id}/ad_groups")
async def list_ad_groups(ad_account_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return _list(state, call, ad_account_id, "ad_groups")


@router.get("/api/v3/ad_groups/{ad_group_id}")
async def get_ad_group(ad_group_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return _get(state, "ad_groups", ad_group_id)


@router.patch("/api/v3/ad_groups/{ad_group_id}")
async def update_ad_group(ad_group_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return await _update(state, call, "ad_groups", ad_group_id)


@router.post("/api/v3/ad_accounts/{ad_account_id}/ads", status_code=201)
async def create_ad(ad_account_id: str, call: CallDep, state: StateDep) -> JSONResponse:
    return await _create(state, call, ad_account_id, "ads")


@router.get("/api/v3/ad_accounts/{ad_account_id}/ads")
async def list_ads(ad_account_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return _list(state, call, ad_account_id, "ads")


@router.get("/api/v3/ads/{ad_id}")
async def get_ad(ad_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return _get(state, "ads", ad_id)


@router.patch("/api/v3/ads/{ad_id}")
async def update_ad(ad_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return await _update(state, call, "ads", ad_id)


# -- posts --------------------------------------------------------------------------------------


@router.post("/api/v3/profiles/{profile_id}/posts", status_code=201)
async def create_post(profile_id: str, call: CallDep, state: StateDep) -> JSONResponse:
    async with state.lock:
        profile = _profile(state, profile_id)
        objects = RedditObjects(state, profile["ad_account_id"])
        post = objects.create_post(profile, call.writable())
    record_created(call.request, post["id"])
    return JSONResponse({"data": objects.view("posts", post)}, status_code=201)


@router.get("/api/v3/profiles/{profile_id}/posts")
async def list_posts(profile_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    profile = _profile(state, profile_id)
    objects = RedditObjects(state, profile["ad_account_id"])
    wanted_type = call.query.get("type")
    # Every simulated post was made for ads: none is ORGANIC.
    if call.query.get("source") == "ORGANIC":
        return page(call, [])
    posts = [
        objects.view("posts", p)
        for p in objects.items("posts")
        if p["profile_id"] == profile_id and wanted_type in (None, p.get("type"))
    ]
    return page(call, posts)


@router.get("/api/v3/posts/{post_id}")
async def get_post(post_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    return _get(state, "posts", post_id)


@router.patch("/api/v3/posts/{post_id}")
async def update_post(post_id: str, call: CallDep, state: StateDep) -> dict[str, Any]:
    """Only `allow_comments` changes (the schema allows nothing else): copy is immutable."""
    async with state.lock:
        post, objects = _owned(state, "posts", post_id)
        post.update(call.writable())
        return {"data": objects.view("posts", post)}


# -- shared ---------------------------------------------------------------------------------


async def _create(state: SimulatorState, call: Call, ad_account_id: str, kind: str) -> JSONResponse:
    async with state.lock:
        objects = account_objects(state, ad_account_id)
        created = objects.create(kind, call.writable())
    record_created(call.request, created["id"])
    return JSONResponse({"data": objects.view(kind, created)}, status_code=201)


def _list(state: SimulatorState, call: Call, ad_account_id: str, kind: str) -> dict[str, Any]:
    """A page of the account's objects (of one parent, by index, when the filters name one),
    only the page's objects rendered as Reddit shows them."""
    objects = account_objects(state, ad_account_id)
    filters = {name: value for name, value in call.query.items() if name in FILTERS[kind]}
    found: Sequence[dict[str, Any]] = objects.listing(kind, _parent(filters))
    if filters:
        found = [
            obj
            for obj in found
            if all(FILTERS[kind][name](objects, obj, value) for name, value in filters.items())
        ]
    return page(call, found, lambda obj: objects.view(kind, obj))


def _parent(filters: dict[str, Any]) -> tuple[str, str] | None:
    """The one parent a list is filtered by, if any (its objects are found by index)."""
    for name in ("ad_group_id", "campaign_id"):
        wanted = filters.get(name)
        values = wanted if isinstance(wanted, list) else [wanted]
        if wanted is not None and len(values) == 1:
            return name, str(values[0])
    return None


def _get(state: SimulatorState, kind: str, object_id: str) -> dict[str, Any]:
    obj, objects = _owned(state, kind, object_id)
    return {"data": objects.view(kind, obj)}


async def _update(state: SimulatorState, call: Call, kind: str, object_id: str) -> dict[str, Any]:
    async with state.lock:
        obj, objects = _owned(state, kind, object_id)
        objects.update(kind, obj, call.writable())
        return {"data": objects.view(kind, obj)}


def _owned(
    state: SimulatorState, kind: str, object_id: str
) -> tuple[dict[str, Any], RedditObjects]:
    """An object found by its bare id, with a view of its own ad account."""
    obj = state.store(PLATFORM, kind).get(object_id)
    if obj is None:
        raise not_found(f"{LABELS[kind].capitalize()} {object_id}")
    return obj, RedditObjects(state, obj["ad_account_id"])


def _profile(state: SimulatorState, profile_id: str) -> dict[str, Any]:
    profile = state.store(PLATFORM, "profiles").get(profile_id)
    if profile is None:
        raise not_found(f"Profile {profile_id}")
    return profile
