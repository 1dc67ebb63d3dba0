"""RedditCampaignSetAdapter against the Reddit simulator over HTTP: the campaign → ad group →
post + ad tree with keywords in the targeting, updates that send only what changed (and
nothing when nothing did), adoption by name after a lost create answer, status changes, and
errors that name the field. Every request is checked against Reddit's spec on the way out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.domain.adoption import entity_ref
from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, CampaignSpec
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.errors import NonRetryableError, RetryableError
from flightdeck.platforms.reddit import RedditAdsClient
from flightdeck.platforms.reddit_adapter import RedditCampaignSetAdapter
from flightdeck.simulators.reddit_state import (
    AD_ACCOUNT_ID,
    FUNDING_INSTRUMENT_ID,
    PIXEL_ID,
    PROFILE_ID,
)
from tests.platforms.test_reddit_client import BASE, USER_AGENT, SpecCheckingTransport, Tokens
from tests.simulators.test_sim_reddit_support import RedditSim

ACCOUNT = AccountContext(AD_ACCOUNT_ID, FUNDING_INSTRUMENT_ID, PROFILE_ID)
API = f"/api/v3/ad_accounts/{AD_ACCOUNT_ID}"

CAMPAIGN = CampaignSpec.model_validate({"name": "Summer Sale", "objective": "conversions"})
AD_GROUP = AdGroupSpec.model_validate(
    {
        "name": "Summer Sale - deal hunters",
        "budget": {"type": "daily", "amount": 50, "currency": "USD"},
        "targeting": {"communities": ["deals"], "geolocations": ["US"]},
        "keywords": [
            {"text": "summer sale"},
            {"text": "discount code"},
            {"text": "free", "negative": True},
        ],
    }
)
AD = AdSpec.model_validate(
    {
        "name": "Summer Sale - image 1",
        "headline": "Summer Sale: 40% off everything",
        "finalUrl": "https://shop.example.com/summer",
        "callToAction": "SHOP_NOW",
        "imageUrl": "https://cdn.example.com/summer.jpg",
    }
)


@pytest.fixture
async def sim(sim_app: FastAPI) -> AsyncIterator[RedditSim]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        sim = RedditSim(http)
        await sim.register_app()
        yield sim


@pytest.fixture
def checked(sim_app: FastAPI) -> SpecCheckingTransport:
    return SpecCheckingTransport(httpx.ASGITransport(app=sim_app))


@pytest.fixture
async def adapter(
    sim: RedditSim, checked: SpecCheckingTransport
) -> AsyncIterator[RedditCampaignSetAdapter]:
    # page_size=2: every find below has to follow pagination.next_url.
    async with RedditAdsClient(
        BASE, token_provider=Tokens(sim), user_agent=USER_AGENT, transport=checked, page_size=2
    ) as client:
        yield RedditCampaignSetAdapter(client)
    assert checked.problems == [], "the adapter sent requests Reddit's spec refuses"


async def requests(sim: RedditSim, method: str | None = None) -> list[dict[str, Any]]:
    """The simulator's log of the Ads API requests it received."""
    params = {"platform": "reddit", **({"method": method} if method else {})}
    entries: list[dict[str, Any]] = (await sim.http.get("/_sim/requests", params=params)).json()
    return entries


def sent_bodies(checked: SpecCheckingTransport, method: str) -> list[dict[str, Any]]:
    return [json.loads(r.content)["data"] for r in checked.sent if r.method == method]


async def read(sim: RedditSim, path: str) -> dict[str, Any]:
    await sim.login()
    response = await sim.get(path)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def tree(adapter: RedditCampaignSetAdapter) -> tuple[str, str, str]:
    campaign = await adapter.create_campaign(ACCOUNT, CAMPAIGN)
    ad_group = await adapter.create_ad_group(ACCOUNT, campaign.platform_id, CAMPAIGN, AD_GROUP)
    ad = await adapter.create_ad(ACCOUNT, ad_group.platform_id, AD)
    return campaign.platform_id, ad_group.platform_id, ad.platform_id


async def test_creates_the_tree_with_keywords_in_the_targeting(
    adapter: RedditCampaignSetAdapter, sim: RedditSim
) -> None:
    campaign = await adapter.create_campaign(ACCOUNT, CAMPAIGN)
    assert campaign.status == "PAUSED" and not campaign.adopted
    ad_group = await adapter.create_ad_group(ACCOUNT, campaign.platform_id, CAMPAIGN, AD_GROUP)
    ad = await adapter.create_ad(ACCOUNT, ad_group.platform_id, AD)

    stored_group = await read(sim, f"/ad_groups/{ad_group.platform_id}")
    assert stored_group["targeting"]["keywords"] == ["summer sale", "discount code"]
    assert stored_group["targeting"]["excluded_keywords"] == ["free"]
    assert (stored_group["goal_type"], stored_group["goal_value"]) == ("DAILY_SPEND", 50_000_000)
    assert stored_group["conversion_pixel_id"] == PIXEL_ID
    stored_ad = await read(sim, f"/ads/{ad.platform_id}")
    assert ad.extra_ids == {"post_id": stored_ad["post_id"]}
    assert stored_ad["click_url"] == "https://shop.example.com/summer"
    post = await read(sim, f"/posts/{stored_ad['post_id']}")
    assert post["profile_id"] == PROFILE_ID and post["headline"] == AD.headline
    assert post["content"][0]["call_to_action"] == "Shop Now"


async def test_a_budget_optimized_campaign_carries_the_budget(
    adapter: RedditCampaignSetAdapter, sim: RedditSim
) -> None:
    cbo = CampaignSpec.model_validate(
        {
            "name": "Summer Sale",
            "objective": "conversions",
            "budget": {"type": "daily", "amount": 50, "currency": "USD"},
            "budgetOptimization": True,
            "startTime": "2026-12-01T00:00:00Z",
        }
    )
    campaign = await adapter.create_campaign(ACCOUNT, cbo)
    group_spec = AD_GROUP.model_copy(update={"budget": None})
    await adapter.create_ad_group(ACCOUNT, campaign.platform_id, cbo, group_spec)
    stored = await read(sim, f"/campaigns/{campaign.platform_id}")
    assert (stored["goal_type"], stored["goal_value"]) == ("DAILY_SPEND", 50_000_000)
    assert stored["conversion_pixel_id"] == PIXEL_ID


async def test_updates_send_only_the_changed_fields(
    adapter: RedditCampaignSetAdapter, sim: RedditSim, checked: SpecCheckingTransport
) -> None:
    campaign_id, ad_group_id, ad_id = await tree(adapter)
    renamed = CAMPAIGN.model_copy(update={"name": "Summer Sale 2026"})
    result = await adapter.update_campaign(ACCOUNT, campaign_id, renamed, CAMPAIGN)
    assert result.changed_fields == ["name"]
    more_keywords = AD_GROUP.model_validate(
        AD_GROUP.model_dump() | {"keywords": [{"text": "summer sale"}, {"text": "beach gear"}]}
    )
    result = await adapter.update_ad_group(ACCOUNT, ad_group_id, renamed, more_keywords, AD_GROUP)
    assert result.changed_fields == ["targeting"]
    activated = AD.model_copy(update={"status": "active"})
    assert (await adapter.update_ad(ACCOUNT, ad_id, activated, AD)).status == "ACTIVE"

    assert [entry["path"] for entry in await requests(sim, "PATCH")] == [
        f"/api/v3/campaigns/{campaign_id}",
        f"/api/v3/ad_groups/{ad_group_id}",
        f"/api/v3/ads/{ad_id}",
    ]
    campaign_body, group_body, ad_body = sent_bodies(checked, "PATCH")
    assert campaign_body == {"name": "Summer Sale 2026"}
    assert list(group_body) == ["targeting"]
    assert ad_body == {"configured_status": "ACTIVE"}
    stored = await read(sim, f"/ad_groups/{ad_group_id}")
    assert stored["targeting"]["keywords"] == ["summer sale", "beach gear"]
    assert stored["targeting"]["excluded_keywords"] == []
    assert (await read(sim, f"/campaigns/{campaign_id}"))["name"] == "Summer Sale 2026"


async def test_nothing_changed_means_no_request(
    adapter: RedditCampaignSetAdapter, sim: RedditSim
) -> None:
    campaign_id, ad_group_id, ad_id = await tree(adapter)
    before = len(await requests(sim))
    unchanged = await adapter.update_campaign(ACCOUNT, campaign_id, CAMPAIGN, CAMPAIGN)
    await adapter.update_ad_group(ACCOUNT, ad_group_id, CAMPAIGN, AD_GROUP, AD_GROUP)
    await adapter.update_ad(ACCOUNT, ad_id, AD, AD)
    assert len(await requests(sim)) == before
    assert unchanged.changed_fields == [] and unchanged.status == "PAUSED"


async def test_a_change_reddit_cannot_make_fails_before_sending(
    adapter: RedditCampaignSetAdapter, sim: RedditSim
) -> None:
    campaign_id, _, ad_id = await tree(adapter)
    before = len(await requests(sim))
    traffic = CAMPAIGN.model_copy(update={"objective": "traffic"})
    with pytest.raises(NonRetryableError, match="objective: can't be changed") as objective:
        await adapter.update_campaign(ACCOUNT, campaign_id, traffic, CAMPAIGN)
    assert objective.value.details["fields"][0]["field"] == "objective"
    new_copy = AD.model_copy(update={"headline": "Fall Sale"})
    with pytest.raises(NonRetryableError, match="headline: can't be changed"):
        await adapter.update_ad(ACCOUNT, ad_id, new_copy, AD)
    assert len(await requests(sim)) == before


@pytest.mark.parametrize("kind", ["campaign", "ad_group", "ad"])
async def test_find_adopts_what_a_lost_answer_created_by_its_marker_only(
    adapter: RedditCampaignSetAdapter, sim: RedditSim, kind: str
) -> None:
    # Neighbours of each kind, one with the very same name (another set's object): the find
    # must read a second page and must not take the namesake.
    for name in ("Fall Sale", CAMPAIGN.name):
        campaign = await adapter.create_campaign(
            ACCOUNT, CAMPAIGN.model_copy(update={"name": name}), ref="0000000other"
        )
    for name in ("Other group", AD_GROUP.name):
        ad_group = await adapter.create_ad_group(
            ACCOUNT, campaign.platform_id, CAMPAIGN, AD_GROUP.model_copy(update={"name": name})
        )
    for name in ("Older ad", AD.name):
        await adapter.create_ad(ACCOUNT, ad_group.platform_id, AD.model_copy(update={"name": name}))
    collection = {"campaign": "campaigns", "ad_group": "ad_groups", "ad": "ads"}[kind]
    path = f"^{API}/{collection}$"
    await sim.faults({"method": "POST", "path": path, "lostResponseRate": 1, "remaining": 1})
    ref = entity_ref(kind, "our-entity")

    with pytest.raises(RetryableError):
        if kind == "campaign":
            await adapter.create_campaign(ACCOUNT, CAMPAIGN, ref=ref)
        elif kind == "ad_group":
            await adapter.create_ad_group(
                ACCOUNT, campaign.platform_id, CAMPAIGN, AD_GROUP, ref=ref
            )
        else:
            await adapter.create_ad(ACCOUNT, ad_group.platform_id, AD, ref=ref)
    if kind == "campaign":
        found = await adapter.find_campaign(ACCOUNT, CAMPAIGN.name, ref=ref)
    elif kind == "ad_group":
        found = await adapter.find_ad_group(ACCOUNT, campaign.platform_id, AD_GROUP.name, ref=ref)
    else:
        found = await adapter.find_ad(ACCOUNT, ad_group.platform_id, AD.name, ref=ref)

    [lost] = [e for e in await requests(sim, "POST") if e["fault"] == "lost_response"]
    assert found is not None and found.adopted
    assert found.platform_id == lost["createdObjectId"]
    name = {"campaign": CAMPAIGN.name, "ad_group": AD_GROUP.name, "ad": AD.name}[kind]
    [only] = [
        o for o in (await sim.stored(collection))["items"] if o["name"] == f"{name} [fd:{ref}]"
    ]
    assert only["id"] == found.platform_id
    if kind == "ad":
        assert found.extra_ids == {"post_id": only["post_id"]}


async def test_a_namesake_without_our_marker_is_never_adopted(
    adapter: RedditCampaignSetAdapter,
) -> None:
    namesake = await adapter.create_campaign(ACCOUNT, CAMPAIGN, ref=entity_ref("campaign", "a"))
    assert (
        await adapter.find_campaign(ACCOUNT, CAMPAIGN.name, ref=entity_ref("campaign", "b")) is None
    )
    assert await adapter.find_campaign(ACCOUNT, CAMPAIGN.name) is None  # never by name alone
    plain = await adapter.create_ad_group(ACCOUNT, namesake.platform_id, CAMPAIGN, AD_GROUP)
    assert plain.platform_id
    found = await adapter.find_ad_group(
        ACCOUNT, namesake.platform_id, AD_GROUP.name, ref="000000000000"
    )
    assert found is None


async def test_find_ignores_deleted_and_other_parents(adapter: RedditCampaignSetAdapter) -> None:
    ref = entity_ref("ad_group", "mine")
    campaign = await adapter.create_campaign(ACCOUNT, CAMPAIGN, ref=entity_ref("campaign", "c"))
    await adapter.create_ad_group(ACCOUNT, campaign.platform_id, CAMPAIGN, AD_GROUP, ref=ref)
    other = await adapter.create_campaign(ACCOUNT, CAMPAIGN.model_copy(update={"name": "Fall"}))
    name = AD_GROUP.name
    assert await adapter.find_ad_group(ACCOUNT, other.platform_id, name, ref=ref) is None
    assert (await adapter.find_ad_group(ACCOUNT, campaign.platform_id, name, ref=ref)) is not None
    await adapter.set_status(ACCOUNT, "campaign", campaign.platform_id, "deleted")
    gone = entity_ref("campaign", "c")
    assert await adapter.find_campaign(ACCOUNT, CAMPAIGN.name, ref=gone) is None


async def test_two_live_objects_with_one_marker_are_not_adopted(
    adapter: RedditCampaignSetAdapter,
) -> None:
    ref = entity_ref("campaign", "twice")
    await adapter.create_campaign(ACCOUNT, CAMPAIGN, ref=ref)
    await adapter.create_campaign(ACCOUNT, CAMPAIGN, ref=ref)
    with pytest.raises(NonRetryableError, match="2 live Reddit campaigns carry the marker"):
        await adapter.find_campaign(ACCOUNT, CAMPAIGN.name, ref=ref)


async def test_set_status_pauses_resumes_and_deletes(
    adapter: RedditCampaignSetAdapter, sim: RedditSim
) -> None:
    campaign_id, ad_group_id, ad_id = await tree(adapter)
    resumed = await adapter.set_status(ACCOUNT, "campaign", campaign_id, "active")
    assert resumed.status == "ACTIVE" and resumed.changed_fields == ["configured_status"]
    assert (await read(sim, f"/campaigns/{campaign_id}"))["configured_status"] == "ACTIVE"
    await adapter.set_status(ACCOUNT, "ad", ad_id, "active")
    await adapter.set_status(ACCOUNT, "ad_group", ad_group_id, "paused")
    assert (await read(sim, f"/ad_groups/{ad_group_id}"))["configured_status"] == "PAUSED"
    assert (await read(sim, f"/ads/{ad_id}"))["effective_status"] == "AD_GROUP_PAUSED"
    deleted = await adapter.set_status(ACCOUNT, "ad", ad_id, "deleted")
    assert deleted.status == "DELETED" and "post_id" in deleted.extra_ids
    assert (await sim.stored("ads"))["items"][0]["configured_status"] == "DELETED"
    # A repeat (say, after a lost answer) finds it already deleted: success, not a 400.
    again = await adapter.set_status(ACCOUNT, "ad", ad_id, "deleted")
    assert again.status == "DELETED" and again.changed_fields == []
    with pytest.raises(NonRetryableError) as refused:
        await adapter.set_status(ACCOUNT, "ad", ad_id, "active")
    assert refused.value.status_code == 400


async def test_a_validation_error_is_non_retryable_and_names_the_field(
    adapter: RedditCampaignSetAdapter,
) -> None:
    unknown_card = AccountContext(AD_ACCOUNT_ID, "799999999999", PROFILE_ID)
    with pytest.raises(NonRetryableError) as error:
        await adapter.create_campaign(unknown_card, CAMPAIGN)
    assert error.value.status_code == 400
    assert "data/funding_instrument_id" in str(error.value)
    assert [f["field"] for f in error.value.details["fields"]] == ["data/funding_instrument_id"]


async def test_an_ad_needs_the_accounts_profile(
    adapter: RedditCampaignSetAdapter, sim: RedditSim
) -> None:
    _, ad_group_id, _ = await tree(adapter)
    no_profile = AccountContext(AD_ACCOUNT_ID, FUNDING_INSTRUMENT_ID)
    with pytest.raises(NonRetryableError, match="profile_id"):
        await adapter.create_ad(no_profile, ad_group_id, AD.model_copy(update={"name": "Next"}))
    assert (await sim.stored("posts"))["count"] == 1
