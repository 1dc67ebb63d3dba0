"""RedditPlatformPoller against the Reddit simulator over HTTP: a cycle over a 25-campaign
account costs one request per page (not per entity), edits made in Reddit's UI read back in
our vocabulary with a later `modified_at` (and compare as platform changes), a deleted
campaign reads as deleted, and a completed one is not a status change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, Budget, CampaignSpec
from flightdeck.domain.sync_back import compare, platform_state_fields, snapshot_fields, spec_fields
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.reddit import RedditAdsClient
from flightdeck.platforms.reddit_adapter import RedditCampaignSetAdapter
from flightdeck.platforms.reddit_poller import RedditPlatformPoller
from flightdeck.simulators.reddit_state import AD_ACCOUNT_ID, FUNDING_INSTRUMENT_ID, PROFILE_ID
from tests.platforms.test_reddit_client import BASE, USER_AGENT, SpecCheckingTransport, Tokens
from tests.simulators.test_sim_reddit_support import RedditSim

ACCOUNT = AccountContext(AD_ACCOUNT_ID, FUNDING_INSTRUMENT_ID, PROFILE_ID)
LISTS = tuple(f"/ad_accounts/{AD_ACCOUNT_ID}/{kind}" for kind in ("campaigns", "ad_groups", "ads"))


def campaign_spec(number: int, status: str = "draft") -> CampaignSpec:
    return CampaignSpec.model_validate(
        {"name": f"Summer Sale {number:02d}", "objective": "traffic", "status": status}
    )


def ad_group_spec(number: int, status: str = "draft") -> AdGroupSpec:
    return AdGroupSpec.model_validate(
        {
            "name": f"Summer Sale {number:02d} - deal hunters",
            "status": status,
            "budget": {"type": "daily", "amount": 50},
            "targeting": {"communities": ["deals"], "geolocations": ["US"]},
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
async def client(sim: RedditSim, checked: SpecCheckingTransport) -> AsyncIterator[RedditAdsClient]:
    async with RedditAdsClient(
        BASE, token_provider=Tokens(sim), user_agent=USER_AGENT, transport=checked
    ) as client:
        yield client
    assert checked.problems == [], "the poller sent requests Reddit's spec refuses"


@pytest.fixture
def adapter(client: RedditAdsClient) -> RedditCampaignSetAdapter:
    return RedditCampaignSetAdapter(client)


async def push(
    adapter: RedditCampaignSetAdapter, number: int, status: str = "draft"
) -> tuple[str, str]:
    """A campaign and its ad group, created through our adapter; their platform ids."""
    campaign = campaign_spec(number, status)
    created = await adapter.create_campaign(ACCOUNT, campaign)
    group = await adapter.create_ad_group(
        ACCOUNT, created.platform_id, campaign, ad_group_spec(number, status)
    )
    return created.platform_id, group.platform_id


async def edit_in_reddit_ui(sim: RedditSim, kind: str, object_id: str, **fields: Any) -> None:
    response = await sim.http.patch(f"/_sim/state/reddit/{kind}/{object_id}", json=fields)
    assert response.status_code == 200, response.text


def list_requests(checked: SpecCheckingTransport, since: int) -> list[httpx.Request]:
    return [
        r
        for r in checked.sent[since:]
        if r.method == "GET" and r.url.path.removeprefix("/reddit/api/v3") in LISTS
    ]


async def test_a_cycle_costs_one_request_per_page_not_per_entity(
    adapter: RedditCampaignSetAdapter, client: RedditAdsClient, checked: SpecCheckingTransport
) -> None:
    ids = [await push(adapter, number) for number in range(25)]
    before = len(checked.sent)

    poller = RedditPlatformPoller(client, page_size=10, include_ads=False)
    snapshot = await poller.fetch_all(ACCOUNT)

    sent = checked.sent[before:]
    assert snapshot.calls == len(sent) == 6, "25 campaigns and 25 ad groups in pages of 10"
    beats: list[int] = []
    await poller.fetch_all(ACCOUNT, heartbeat=lambda: beats.append(1))
    assert len(beats) >= 6, "a heartbeat per page read"
    assert {r.url.params["page.size"] for r in sent} == {"10"}
    assert set(snapshot.campaigns) == {campaign_id for campaign_id, _ in ids}
    assert set(snapshot.ad_groups) == {group_id for _, group_id in ids}
    assert snapshot.ads is None, "ads were not asked for: none is not 'no ads'"
    campaign_id, group_id = ids[7]
    campaign = snapshot.campaigns[campaign_id]
    assert (campaign.name, campaign.status, campaign.deleted) == ("Summer Sale 07", "paused", False)
    group = snapshot.ad_groups[group_id]
    assert group.campaign_platform_id == campaign_id
    assert group.budget == Budget(type="daily", amount=Decimal(50))
    assert group.modified_at is not None and group.modified_at.tzinfo is not None


async def test_the_largest_page_by_default(
    adapter: RedditCampaignSetAdapter, client: RedditAdsClient, checked: SpecCheckingTransport
) -> None:
    for number in range(25):
        await push(adapter, number)
    before = len(checked.sent)

    snapshot = await RedditPlatformPoller(client).fetch_all(ACCOUNT)

    assert snapshot.calls == len(list_requests(checked, before)) == 3  # campaigns, groups, ads
    assert {r.url.params["page.size"] for r in checked.sent[before:]} == {"1000"}
    assert len(snapshot.campaigns) == len(snapshot.ad_groups) == 25


async def test_an_empty_account_still_costs_a_request_per_list(client: RedditAdsClient) -> None:
    snapshot = await RedditPlatformPoller(client).fetch_all(ACCOUNT)
    assert (snapshot.campaigns, snapshot.ad_groups, snapshot.ads, snapshot.calls) == (
        {}, {}, {}, 3,
    )  # fmt: skip


async def test_edits_in_reddits_ui_read_back_in_our_vocabulary(
    adapter: RedditCampaignSetAdapter, client: RedditAdsClient, sim: RedditSim
) -> None:
    campaign_id, group_id = await push(adapter, 1, status="active")
    poller = RedditPlatformPoller(client, page_size=10)
    before = await poller.fetch_all(ACCOUNT)
    assert before.campaigns[campaign_id].status == "active"

    renamed = "Summer Sale 01 (edited in Ads Manager)"
    await edit_in_reddit_ui(sim, "campaigns", campaign_id, configured_status="PAUSED", name=renamed)
    await edit_in_reddit_ui(sim, "ad_groups", group_id, goal_value=75_000_000)
    after = await poller.fetch_all(ACCOUNT)

    campaign, group = after.campaigns[campaign_id], after.ad_groups[group_id]
    assert (campaign.name, campaign.status) == (renamed, "paused")
    assert group.budget == Budget(type="daily", amount=Decimal("75"))
    for old, new in (
        (before.campaigns[campaign_id], campaign),
        (before.ad_groups[group_id], group),
    ):
        assert old.modified_at is not None and new.modified_at is not None
        assert new.modified_at > old.modified_at

    pushed = campaign_spec(1, "active")
    base = snapshot_fields("campaign", pushed.model_dump(mode="json"))
    campaign_comparison = compare(
        "campaign", base, spec_fields(pushed), platform_state_fields(campaign)
    )
    assert campaign_comparison.platform_values == {"name": renamed, "status": "paused"}
    pushed_group = ad_group_spec(1, "active")
    base = snapshot_fields("ad_group", pushed_group.model_dump(mode="json"))
    group_comparison = compare(
        "ad_group", base, spec_fields(pushed_group), platform_state_fields(group)
    )
    assert group_comparison.platform_values == {"budget": {"type": "daily", "amount": Decimal(75)}}


async def test_a_deleted_campaign_reads_as_deleted(
    adapter: RedditCampaignSetAdapter, client: RedditAdsClient, sim: RedditSim
) -> None:
    deleted_id, _ = await push(adapter, 1)
    kept_id, _ = await push(adapter, 2)
    await edit_in_reddit_ui(sim, "campaigns", deleted_id, configured_status="DELETED")
    poller = RedditPlatformPoller(client)

    snapshot = await poller.fetch_all(ACCOUNT)

    assert snapshot.campaigns[deleted_id].deleted
    assert snapshot.campaigns[deleted_id].status == "deleted"
    assert not snapshot.campaigns[kept_id].deleted
    one = await poller.fetch_campaign_status(ACCOUNT, deleted_id)
    assert (one.platform_id, one.deleted, one.status) == (deleted_id, True, "deleted")


async def test_a_completed_campaign_is_not_a_status_change(
    adapter: RedditCampaignSetAdapter, client: RedditAdsClient, sim: RedditSim
) -> None:
    campaign_id, _ = await push(adapter, 1, status="active")
    await edit_in_reddit_ui(sim, "campaigns", campaign_id, effective_status="COMPLETED")

    state = await RedditPlatformPoller(client).fetch_campaign_status(ACCOUNT, campaign_id)

    assert state.status == "completed"
    pushed = spec_fields(campaign_spec(1, "active"))
    comparison = compare("campaign", pushed, pushed, platform_state_fields(state))
    assert comparison.outcome("status") == "unchanged"


async def test_an_optimized_campaign_has_its_budget(
    adapter: RedditCampaignSetAdapter, client: RedditAdsClient
) -> None:
    spec = CampaignSpec.model_validate(
        {
            "name": "Summer Sale CBO",
            "objective": "traffic",
            "budgetOptimization": True,
            "budget": {"type": "lifetime", "amount": "1200.50"},
            "startTime": "2030-06-01T00:00:00Z",
            "endTime": "2030-07-01T00:00:00Z",
        }
    )
    created = await adapter.create_campaign(ACCOUNT, spec)

    state = await RedditPlatformPoller(client).fetch_campaign_status(ACCOUNT, created.platform_id)

    assert state.budget == Budget(type="lifetime", amount=Decimal("1200.5"))
    fields = spec_fields(spec)
    assert compare("campaign", fields, fields, platform_state_fields(state)).platform_values == {}


async def test_ads_on_request(
    adapter: RedditCampaignSetAdapter, client: RedditAdsClient, sim: RedditSim
) -> None:
    _, group_id = await push(adapter, 1)
    ad = AdSpec.model_validate(
        {
            "name": "Summer Sale 01 - image 1",
            "headline": "Summer Sale: 40% off everything",
            "finalUrl": "https://shop.example.com/summer",
        }
    )
    created = await adapter.create_ad(ACCOUNT, group_id, ad)
    await edit_in_reddit_ui(sim, "ads", created.platform_id, configured_status="ACTIVE")

    snapshot = await RedditPlatformPoller(client, include_ads=True).fetch_all(ACCOUNT)

    assert snapshot.calls == 3
    assert snapshot.ads is not None
    state = snapshot.ads[created.platform_id]
    assert (state.ad_group_platform_id, state.name, state.status) == (
        group_id,
        "Summer Sale 01 - image 1",
        "active",
    )


def test_page_size_is_reddits_range(client: RedditAdsClient) -> None:
    with pytest.raises(ValueError, match="page_size"):
        RedditPlatformPoller(client, page_size=1001)
