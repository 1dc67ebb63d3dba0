"""The Reddit Ads API simulator: the seeded world, create/get/list/PATCH of campaigns, ad
groups, ads and posts in Reddit's envelopes, validation errors in Reddit's body, pagination,
and the admin surface (state, platform-side edits, reset)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.simulators.reddit_state import (
    AD_ACCOUNT_ID,
    BUSINESS_ID,
    EXPIRED_FUNDING_INSTRUMENT_ID,
    FUNDING_INSTRUMENT_ID,
    PIXEL_ID,
    PROFILE_ID,
    UPCOMING_FUNDING_INSTRUMENT_ID,
)
from tests.simulators.test_sim_reddit_support import (
    AD_GROUP,
    CAMPAIGN,
    POST,
    RedditSim,
    body,
    response_problems,
)

ACCOUNT = f"/ad_accounts/{AD_ACCOUNT_ID}"


@pytest.fixture
async def reddit(sim_app: FastAPI) -> AsyncIterator[RedditSim]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        sim = RedditSim(http)
        await sim.register_app()
        await sim.login()
        yield sim


def fields(response: httpx.Response) -> dict[str, str]:
    """A 400's failing fields (messages for one field joined by "; ")."""
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == 400 and error["message"] == "Bad Request"
    found: dict[str, str] = {}
    for entry in error["fields"]:
        previous = found.get(entry["field"])
        found[entry["field"]] = f"{previous}; {entry['message']}" if previous else entry["message"]
    return found


def spec_valid(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    payload: dict[str, Any] = response.json()
    assert response_problems(method, path, response.status_code, payload) == []
    return payload


# -- the seeded world ------------------------------------------------------------------------------


async def test_seeded_world_reads(reddit: RedditSim) -> None:
    me = spec_valid(await reddit.get("/me"), "GET", "/me")["data"]
    assert me["reddit_username"] == "flightdeck_test" and me["reddit_user_id"].startswith("t2_")
    businesses = spec_valid(await reddit.get("/me/businesses"), "GET", "/me/businesses")
    assert [b["id"] for b in businesses["data"]] == [BUSINESS_ID]
    path = f"/businesses/{BUSINESS_ID}/ad_accounts"
    accounts = spec_valid(await reddit.get(path), "GET", path)["data"]
    assert [a["id"] for a in accounts] == [AD_ACCOUNT_ID]
    account = spec_valid(await reddit.get(ACCOUNT), "GET", ACCOUNT)["data"]
    assert account["currency"] == "USD"
    for kind, expected in (("pixels", PIXEL_ID), ("profiles", PROFILE_ID)):
        found = spec_valid(await reddit.get(f"{ACCOUNT}/{kind}"), "GET", f"{ACCOUNT}/{kind}")
        assert [item["id"] for item in found["data"]] == [expected]
    assert (await reddit.get("/ad_accounts/a2_nope")).status_code == 404


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (None, {FUNDING_INSTRUMENT_ID, UPCOMING_FUNDING_INSTRUMENT_ID}),  # SELECTABLE
        ("ACTIVE", {FUNDING_INSTRUMENT_ID}),
        ("INACTIVE", {EXPIRED_FUNDING_INSTRUMENT_ID}),
        ("UPCOMING", {UPCOMING_FUNDING_INSTRUMENT_ID}),
        (
            "ALL",
            {FUNDING_INSTRUMENT_ID, EXPIRED_FUNDING_INSTRUMENT_ID, UPCOMING_FUNDING_INSTRUMENT_ID},
        ),
    ],
)
async def test_funding_instruments_by_mode(
    reddit: RedditSim, mode: str | None, expected: set[str]
) -> None:
    path = f"{ACCOUNT}/funding_instruments"
    response = await reddit.get(path, **({"mode": mode} if mode else {}))
    assert {fi["id"] for fi in spec_valid(response, "GET", path)["data"]} == expected


async def test_funding_instrument_mode_is_validated_against_the_spec(reddit: RedditSim) -> None:
    response = await reddit.get(f"{ACCOUNT}/funding_instruments", mode="SOMETIMES")
    assert "'SOMETIMES' is not one of" in fields(response)["mode"]


# -- create, read, list, update --------------------------------------------------------------------


async def test_create_read_update_the_summer_sale_tree(reddit: RedditSim) -> None:
    response = await reddit.post(f"{ACCOUNT}/campaigns", body(CAMPAIGN))
    assert response.status_code == 201
    campaign = spec_valid(response, "POST", f"{ACCOUNT}/campaigns")["data"]
    assert campaign["id"].isdigit() and campaign["ad_account_id"] == AD_ACCOUNT_ID
    assert campaign["configured_status"] == "PAUSED" and campaign["effective_status"] == "PAUSED"
    ad_group = await reddit.ad_group(campaign["id"])
    assert ad_group["goal_value"] == 50_000_000 and ad_group["targeting"] == AD_GROUP["targeting"]
    assert ad_group["campaign_objective_type"] == "CONVERSIONS"
    post = await reddit.post_()
    assert post["id"].startswith("t3_") and post["profile_id"] == PROFILE_ID
    assert post["post_url"].startswith("https://www.reddit.com/r/u_FlightdeckBrand/comments/")
    ad = await reddit.ad(ad_group["id"], post["id"])
    assert ad["campaign_id"] == campaign["id"] and ad["post_url"] == post["post_url"]

    for path in (
        f"/campaigns/{campaign['id']}",
        f"/ad_groups/{ad_group['id']}",
        f"/ads/{ad['id']}",
        f"/posts/{post['id']}",
    ):
        spec_valid(await reddit.get(path), "GET", path)

    path = f"/campaigns/{campaign['id']}"
    renamed = await reddit.patch(path, {"name": "Summer Sale (final week)"})
    updated = spec_valid(renamed, "PATCH", path)["data"]
    assert updated["name"] == "Summer Sale (final week)" and updated["objective"] == "CONVERSIONS"
    assert updated["modified_at"] > campaign["modified_at"]


async def test_effective_status_follows_parents_and_billing(reddit: RedditSim) -> None:
    campaign, ad_group, _, ad = await reddit.tree()
    for kind, obj in (("campaigns", campaign), ("ad_groups", ad_group), ("ads", ad)):
        await reddit.patch(f"/{kind}/{obj['id']}", {"configured_status": "ACTIVE"})
    assert (await reddit.get(f"/ads/{ad['id']}")).json()["data"]["effective_status"] == "ACTIVE"
    await reddit.patch(f"/ad_groups/{ad_group['id']}", {"configured_status": "PAUSED"})
    assert (await reddit.get(f"/ads/{ad['id']}")).json()["data"]["effective_status"] == (
        "AD_GROUP_PAUSED"
    )
    await reddit.patch(f"/ad_groups/{ad_group['id']}", {"configured_status": "ACTIVE"})
    await reddit.patch(f"/campaigns/{campaign['id']}", {"configured_status": "PAUSED"})
    got = (await reddit.get(f"/ad_groups/{ad_group['id']}")).json()["data"]
    assert got["effective_status"] == "CAMPAIGN_PAUSED"
    unfunded = await reddit.campaign(funding_instrument_id=None, configured_status="ACTIVE")
    assert unfunded["effective_status"] == "PENDING_BILLING_INFO"


async def test_lists_filter_by_the_spec_parameters(reddit: RedditSim) -> None:
    first, ad_group, post, ad = await reddit.tree()
    second = await reddit.campaign(name="Winter Sale")
    other_group = await reddit.ad_group(second["id"], name="Winter Sale - all")
    campaigns = (await reddit.get(f"{ACCOUNT}/campaigns", id=second["id"])).json()["data"]
    assert [c["id"] for c in campaigns] == [second["id"]]
    groups = (await reddit.get(f"{ACCOUNT}/ad_groups", campaign_id=second["id"])).json()["data"]
    assert [g["id"] for g in groups] == [other_group["id"]]
    ads = await reddit.get(f"{ACCOUNT}/ads", ad_group_id=f"{ad_group['id']},{other_group['id']}")
    assert [a["id"] for a in ads.json()["data"]] == [ad["id"]]
    paused = await reddit.get(f"{ACCOUNT}/ads", configured_status="ACTIVE,ARCHIVED")
    assert paused.json()["data"] == []
    posts = await reddit.get(f"/profiles/{PROFILE_ID}/posts", type="IMAGE")
    assert [p["id"] for p in spec_valid(posts, "GET", f"/profiles/{PROFILE_ID}/posts")["data"]] == [
        post["id"]
    ]


async def test_deleting_is_a_patch_and_is_final(reddit: RedditSim) -> None:
    campaign = await reddit.campaign()
    path = f"/campaigns/{campaign['id']}"
    assert (
        await reddit.http.delete(f"/reddit/api/v3{path}", headers=reddit.headers)
    ).status_code == 404
    deleted = await reddit.patch(path, {"configured_status": "DELETED"})
    assert deleted.json()["data"]["effective_status"] == "DELETED"
    assert fields(await reddit.patch(path, {"configured_status": "ACTIVE"})) == {
        "data": "a deleted campaign can't be changed"
    }
    missing = fields(
        await reddit.post(f"{ACCOUNT}/ad_groups", body(AD_GROUP, campaign_id=campaign["id"]))
    )
    assert "campaign_id" in " ".join(missing)


async def test_unknown_paths_and_wrong_verbs_are_404(reddit: RedditSim) -> None:
    for response in (
        await reddit.http.put(f"/reddit/api/v3{ACCOUNT}/campaigns", headers=reddit.headers),
        await reddit.get("/campaigns/123456"),
        await reddit.get("/no/such/thing"),
    ):
        assert response.status_code == 404
        assert response_problems("GET", "/campaigns/1", 404, response.json()) == []


# -- validation ------------------------------------------------------------------------------------


async def test_schema_errors_name_the_fields(reddit: RedditSim) -> None:
    response = await reddit.post(
        f"{ACCOUNT}/campaigns",
        body(CAMPAIGN, name="ab", objective="AWARENESS", daily_budget_micro=50_000_000),
    )
    problems = fields(response)
    assert response_problems("POST", f"{ACCOUNT}/campaigns", 400, response.json()) == []
    assert problems["data/name"] == "'ab' is too short"
    assert problems["data/objective"].startswith("'AWARENESS' is not one of ['APP_INSTALLS'")
    assert "'daily_budget_micro' was unexpected" in problems["data"]
    envelope = await reddit.http.post(
        f"/reddit/api/v3{ACCOUNT}/campaigns", json=CAMPAIGN, headers=reddit.headers
    )
    assert "'data' is a required property" in fields(envelope)["body"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": None}, "data/name", "None is not of type 'string'"),
        ({"goal_value": None, "goal_type": None}, "data/goal_value", "is required"),
        (
            {"bid_type": "CPM", "bid_strategy": "MANUAL_BIDDING", "bid_value": 3_000_000},
            "data/bid_value",
            "must be between 3500000 and 100000000",
        ),
        ({"bid_strategy": "TARGET_CPX"}, "data/bid_value", "is required with TARGET_CPX"),
        ({"conversion_pixel_id": None}, "data/conversion_pixel_id", "None is not of type"),
        ({"conversion_pixel_id": "t2_elsewhere"}, "data/conversion_pixel_id", "does not exist"),
        ({"optimization_goal": None}, "data/optimization_goal", "is required for CONVERSIONS"),
        ({"optimization_goal": "VIEW_CONTENT"}, "data/optimization_goal", "no longer supported"),
        ({"end_time": "2026-12-31T00:00:00Z"}, "data/start_time", "is required when end_time"),
        ({"targeting": {"keywords": ["x"] * 1001}}, "data/targeting/keywords", "is too long"),
        (
            {"targeting": {"devices": [{"type": "TABLET"}]}},
            "data/targeting/devices/0/type",
            "'TABLET' is not one of",
        ),
    ],
)
async def test_ad_group_rules(
    reddit: RedditSim, changes: dict[str, Any], field: str, message: str
) -> None:
    campaign = await reddit.campaign()
    response = await reddit.post(
        f"{ACCOUNT}/ad_groups", body(AD_GROUP, campaign_id=campaign["id"], **changes)
    )
    assert message in fields(response)[field]


async def test_ad_group_budget_moves_to_the_campaign_under_cbo(reddit: RedditSim) -> None:
    cbo = {
        "is_campaign_budget_optimization": True,
        "goal_type": "DAILY_SPEND",
        "goal_value": 50_000_000,
        "bid_strategy": "MAXIMIZE_VOLUME",
        "bid_type": "CPM",
        "start_time": "2026-12-01T00:00:00Z",
        "optimization_goal": "PURCHASE",
    }
    missing = fields(await reddit.post(f"{ACCOUNT}/campaigns", body(CAMPAIGN, **cbo)))
    assert missing == {"data/conversion_pixel_id": "is required for campaign budget optimization"}
    campaign = await reddit.campaign(**cbo, conversion_pixel_id=PIXEL_ID)
    inherit = {"goal_type": None, "goal_value": None, "bid_strategy": None, "bid_type": None}
    await reddit.ad_group(campaign["id"], **inherit)
    double = await reddit.post(
        f"{ACCOUNT}/ad_groups", body(AD_GROUP, campaign_id=campaign["id"], bid_type="CPC")
    )
    assert fields(double) == {
        "data/goal_value": "must be null under campaign budget optimization",
        "data/bid_type": "must match the campaign's under CBO",
    }
    not_cbo = fields(await reddit.post(f"{ACCOUNT}/campaigns", body(CAMPAIGN, goal_value=1)))
    assert "only available when is_campaign_budget_optimization" in not_cbo["data/goal_value"]


async def test_campaign_references_must_exist(reddit: RedditSim) -> None:
    response = await reddit.post(f"{ACCOUNT}/campaigns", body(CAMPAIGN, funding_instrument_id="9"))
    assert fields(response) == {
        "data/funding_instrument_id": "'9' does not exist in this ad account"
    }


async def test_optimization_goal_and_campaign_cannot_change(reddit: RedditSim) -> None:
    campaign = await reddit.campaign()
    ad_group = await reddit.ad_group(campaign["id"])
    other = await reddit.campaign(name="Another one")
    changes = {"optimization_goal": "ADD_TO_CART", "campaign_id": other["id"]}
    assert fields(await reddit.patch(f"/ad_groups/{ad_group['id']}", changes)) == {
        "data/campaign_id": "can't be changed after creation",
        "data/optimization_goal": "can't be changed after creation",
    }
    raised = await reddit.patch(f"/ad_groups/{ad_group['id']}", {"goal_value": 75_000_000})
    assert raised.json()["data"]["goal_value"] == 75_000_000


async def test_ads_need_a_live_ad_group_and_an_existing_post(reddit: RedditSim) -> None:
    campaign = await reddit.campaign()
    ad_group = await reddit.ad_group(campaign["id"])
    data = {"ad_group_id": ad_group["id"], "name": "no post", "configured_status": "PAUSED"}
    assert fields(await reddit.post(f"{ACCOUNT}/ads", data)) == {
        "data/post_id": "is required unless shopping_creative is set"
    }
    assert (
        "does not exist"
        in fields(await reddit.post(f"{ACCOUNT}/ads", {**data, "post_id": "t3_zz"}))["data/post_id"]
    )
    assert "ad_group_id" in " ".join(
        fields(await reddit.post(f"{ACCOUNT}/ads", {**data, "ad_group_id": "1"}))
    )


async def test_post_copy_is_immutable(reddit: RedditSim) -> None:
    post = await reddit.post_()
    path = f"/posts/{post['id']}"
    assert (
        "'headline' was unexpected" in fields(await reddit.patch(path, {"headline": "New"}))["data"]
    )
    updated = spec_valid(await reddit.patch(path, {"allow_comments": True}), "PATCH", path)
    assert (
        updated["data"]["allow_comments"] is True
        and updated["data"]["headline"] == POST["headline"]
    )
    video = fields(await reddit.post(f"/profiles/{PROFILE_ID}/posts", body(POST, type="VIDEO")))
    assert video == {"data/thumbnail_url": "is required for VIDEO posts"}


# -- pagination ------------------------------------------------------------------------------------


async def test_pagination_follows_next_url(reddit: RedditSim) -> None:
    created = [(await reddit.campaign(name=f"Campaign {i}"))["id"] for i in range(5)]
    seen, url = [], f"{ACCOUNT}/campaigns"
    first = await reddit.get(url, **{"page.size": 2})
    page = spec_valid(first, "GET", url)
    assert page["pagination"]["previous_url"] is None
    while True:
        seen += [c["id"] for c in page["data"]]
        next_url = page["pagination"]["next_url"]
        if next_url is None:
            break
        assert next_url.startswith("http://sim/reddit/api/v3/ad_accounts/")
        page = (await reddit.http.get(next_url, headers=reddit.headers)).json()
        assert page["pagination"]["previous_url"]
    assert seen == created


async def test_bad_page_parameters(reddit: RedditSim) -> None:
    too_big = await reddit.get(f"{ACCOUNT}/campaigns", **{"page.size": 5000})
    assert fields(too_big) == {"page.size": "5000 is greater than the maximum of 1000"}
    token = base64.urlsafe_b64encode(b"nonsense").decode()
    assert "page.token" in fields(await reddit.get(f"{ACCOUNT}/campaigns", **{"page.token": token}))


async def all_pages(reddit: RedditSim, path: str, **params: Any) -> list[str]:
    """The ids of every page of a list, following `next_url`."""
    page = (await reddit.get(path, **{"page.size": 2}, **params)).json()
    seen = [item["id"] for item in page["data"]]
    while page["pagination"]["next_url"] is not None:
        next_url = page["pagination"]["next_url"]
        page = (await reddit.http.get(next_url, headers=reddit.headers)).json()
        seen += [item["id"] for item in page["data"]]
    return seen


async def test_lists_stay_in_step_with_creates_moves_and_resets(reddit: RedditSim) -> None:
    """Lists are served from indexes by account and parent (a page costs the page): objects
    created after a list was read, moved to another parent by a platform-side edit, or
    forgotten by a reset show as they are now."""
    first = [(await reddit.campaign(name=f"Campaign {i}"))["id"] for i in range(3)]
    assert await all_pages(reddit, f"{ACCOUNT}/campaigns") == first
    later = [(await reddit.campaign(name=f"Campaign {i}"))["id"] for i in range(3, 5)]
    assert await all_pages(reddit, f"{ACCOUNT}/campaigns") == first + later

    groups = [(await reddit.ad_group(first[0], name=f"Group {i}"))["id"] for i in range(3)]
    assert await all_pages(reddit, f"{ACCOUNT}/ad_groups", campaign_id=first[0]) == groups
    assert await all_pages(reddit, f"{ACCOUNT}/ad_groups", campaign_id=first[1]) == []
    moved = await reddit.http.patch(
        f"/_sim/state/reddit/ad_groups/{groups[1]}", json={"campaign_id": first[1]}
    )
    assert moved.status_code == 200
    kept = [groups[0], groups[2]]
    assert await all_pages(reddit, f"{ACCOUNT}/ad_groups", campaign_id=first[0]) == kept
    assert await all_pages(reddit, f"{ACCOUNT}/ad_groups", campaign_id=first[1]) == [groups[1]]
    assert await all_pages(reddit, f"{ACCOUNT}/ad_groups") == groups

    assert (await reddit.http.post("/_sim/reset")).status_code == 200
    await reddit.register_app()
    await reddit.login()
    assert await all_pages(reddit, f"{ACCOUNT}/campaigns") == []
    again = (await reddit.campaign(name="After the reset"))["id"]
    assert await all_pages(reddit, f"{ACCOUNT}/campaigns") == [again]


# -- admin surface ---------------------------------------------------------------------------------


async def test_state_lists_reddit_objects(reddit: RedditSim) -> None:
    await reddit.tree()
    state = (await reddit.http.get("/_sim/state")).json()["platforms"]["reddit"]
    counts = {kind: entry["count"] for kind, entry in state.items()}
    assert counts == {
        "businesses": 1,
        "ad_accounts": 1,
        "funding_instruments": 3,
        "pixels": 1,
        "profiles": 1,
        "campaigns": 1,
        "ad_groups": 1,
        "ads": 1,
        "posts": 1,
    }


async def test_platform_side_edit_bumps_modified_at(reddit: RedditSim) -> None:
    campaign = await reddit.campaign()
    edited = await reddit.http.patch(
        f"/_sim/state/reddit/campaigns/{campaign['id']}", json={"configured_status": "ACTIVE"}
    )
    assert edited.status_code == 200
    seen = (await reddit.get(f"/campaigns/{campaign['id']}")).json()["data"]
    assert seen["configured_status"] == "ACTIVE" and seen["effective_status"] == "ACTIVE"
    assert seen["modified_at"] > campaign["modified_at"]
    pinned = await reddit.http.patch(
        f"/_sim/state/reddit/campaigns/{campaign['id']}",
        json={"modified_at": "2020-01-01T00:00:00Z"},
    )
    assert pinned.json()["modified_at"] == "2020-01-01T00:00:00Z"


async def test_platform_side_review_outcome_shows_as_effective_status(reddit: RedditSim) -> None:
    live = {"configured_status": "ACTIVE"}
    campaign = await reddit.campaign(**live)
    ad_group = await reddit.ad_group(campaign["id"], **live)
    ad = await reddit.ad(ad_group["id"], (await reddit.post_())["id"], **live)
    assert ad["effective_status"] == "ACTIVE"
    await reddit.http.patch(
        f"/_sim/state/reddit/ads/{ad['id']}",
        json={"effective_status": "REJECTED", "rejection_reason": "URL_GENERAL"},
    )
    seen = (await reddit.get(f"/ads/{ad['id']}")).json()["data"]
    assert seen["effective_status"] == "REJECTED" and seen["rejection_reason"] == "URL_GENERAL"
    await reddit.patch(f"/ads/{ad['id']}", {"configured_status": "PAUSED"})
    paused = (await reddit.get(f"/ads/{ad['id']}")).json()["data"]
    assert paused["effective_status"] == "PAUSED", "the advertiser's own pause shows first"


async def test_reset_clears_reddit_and_keeps_the_seeded_world(reddit: RedditSim) -> None:
    first = await reddit.campaign()
    await reddit.rate_limits(ads_campaign_management_read=(1, 60))
    assert (await reddit.http.post("/_sim/reset")).status_code == 200
    assert (await reddit.stored("campaigns"))["count"] == 0
    assert (await reddit.stored("funding_instruments"))["count"] == 3
    assert (await reddit.get("/me")).status_code == 401, "tokens and apps are gone"
    limits = (await reddit.http.get("/_sim/reddit/rate-limits")).json()["policies"]
    assert limits["ads-campaign-management-read"] == {"quota": 400, "window": 60}
    await reddit.register_app()
    await reddit.login()
    assert (await reddit.campaign())["id"] != first["id"], "ids are never reused"
