"""The Google Ads poller against the simulator over real HTTP: campaigns (with budgets), ad
groups (with their keywords as sets) and responsive search ads (their copy line by line) read
with GAQL in sync-back's field names, markers stripped, removed objects flagged, pages counted,
and change_event telling an edit in the Google Ads UI from our own API writes, attributed to
the entity it changed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from flightdeck.platforms.google_adapter import GoogleCampaignSetAdapter, TreeRefs
from flightdeck.platforms.google_ads import GoogleAdsClient
from flightdeck.platforms.google_poller import GooglePlatformPoller
from flightdeck.simulators.google_ads_state import AGENCY_USER
from tests.platforms.test_google_adapter import ACCOUNT, ad, ad_group, campaign, ref
from tests.platforms.test_google_ads_client import Tokens
from tests.simulators.google_ads_support import MANAGER, GoogleSim


@pytest.fixture
async def sim(simulator_url: str) -> AsyncIterator[GoogleSim]:
    async with httpx.AsyncClient(base_url=simulator_url, timeout=30) as http:
        google = GoogleSim(http)
        await google.setup()
        yield google


@pytest.fixture
async def client(sim: GoogleSim, simulator_url: str) -> AsyncIterator[GoogleAdsClient]:
    tokens = Tokens(sim.http, AGENCY_USER)
    async with GoogleAdsClient(
        f"{simulator_url}/google", token_provider=tokens, login_customer_id=MANAGER
    ) as ads:
        yield ads


async def test_snapshot_in_our_words_and_outside_edits(
    client: GoogleAdsClient, sim: GoogleSim
) -> None:
    adapter = GoogleCampaignSetAdapter(client)
    poller = GooglePlatformPoller(client, our_email=AGENCY_USER)
    started = datetime.now(UTC) - timedelta(seconds=5)
    tree = await adapter.create_campaign_tree(
        ACCOUNT,
        campaign(),
        [(ad_group("Shoes"), [ad()]), (ad_group("Socks"), [])],
        refs=TreeRefs(ref(), [ref(), ref()], [[ref()]]),
    )
    removed = tree.ad_groups[1].platform_id
    await adapter.set_status(ACCOUNT, "ad_group", removed, "deleted")
    assert await poller.outside_edits(ACCOUNT, started) == [], "our own writes are not outside"

    edit = {"resourceName": tree.campaign.platform_id, "fields": {"status": "PAUSED"}}
    assert (await sim.http.post("/_sim/google/ui-edit", json=edit)).status_code == 200

    snapshot = await poller.fetch_all(ACCOUNT)
    assert snapshot.calls == 5  # campaigns, ad groups, ads, keywords, events: a page each
    [state] = snapshot.campaigns.values()
    assert (state.name, state.status, state.deleted) == ("Spring Sale", "paused", False)
    assert state.budget is not None and state.budget.amount == Decimal("50")
    assert state.modified_at is not None and state.edited_outside is True
    groups = snapshot.ad_groups
    assert groups[removed].deleted and groups[removed].status == "deleted"
    shoes = groups[tree.ad_groups[0].platform_id]
    assert shoes.bid_amount == Decimal("1.25") and shoes.status == "active"
    assert shoes.campaign_platform_id == tree.campaign.platform_id
    assert shoes.name == "Shoes", "the marker is stripped"
    assert shoes.edited_outside is False, "only our own writes (its keywords' too)"
    assert shoes.targeting == {
        "keywords": ["Shoes 0", "Shoes 1", "Shoes 2", "Shoes 3"],
        "excluded_keywords": ["free"],
    }
    assert snapshot.ads is not None
    [rsa] = snapshot.ads.values()
    assert rsa.ad_group_platform_id == shoes.platform_id and rsa.status == "active"
    assert rsa.click_url == "https://example.com/shoes"
    assert rsa.headline == "Fresh running shoes\nFree shipping today\nShop the spring sale"
    assert rsa.description is not None and rsa.description.startswith("All sizes in stock")
    assert snapshot.reported("ad") == ("status", "final_url", "headline", "description")

    [outside] = await poller.outside_edits(ACCOUNT, started)
    assert outside.resource_name == tree.campaign.platform_id
    assert outside.client_type == "GOOGLE_ADS_WEB_CLIENT" and outside.changed_fields == ("status",)
    single = await poller.fetch_campaign_status(ACCOUNT, tree.campaign.platform_id)
    assert single.status == "paused"


async def test_pages_are_counted(client: GoogleAdsClient, sim: GoogleSim) -> None:
    adapter = GoogleCampaignSetAdapter(client)
    for n in range(3):
        await adapter.create_campaign(ACCOUNT, campaign(f"Campaign {n}"))
    await sim.http.post("/_sim/google/quotas", json={"pageSize": 2})
    snapshot = await GooglePlatformPoller(client).fetch_all(ACCOUNT)
    assert len(snapshot.campaigns) == 3
    assert snapshot.calls == 2 + 1 + 1 + 1 + 1  # two pages of campaigns; ad groups, ads,
    # keywords and events one each


async def test_a_heartbeat_per_page(client: GoogleAdsClient, sim: GoogleSim) -> None:
    adapter = GoogleCampaignSetAdapter(client)
    for n in range(3):
        await adapter.create_campaign(ACCOUNT, campaign(f"Campaign {n}"))
    await sim.http.post("/_sim/google/quotas", json={"pageSize": 2})
    beats: list[int] = []
    await GooglePlatformPoller(client).fetch_all(ACCOUNT, heartbeat=lambda: beats.append(1))
    assert len(beats) == 5  # two pages of campaigns, one each of ad groups, ads, keywords
