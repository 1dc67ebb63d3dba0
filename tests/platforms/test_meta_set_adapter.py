"""Meta campaign sets without the network (issue 14 item 4): the rules validate/dry run use
(`validate_meta_set`), the payloads the adapter sends, adoption by our name marker only, and the
poller's `updated_time` filtering; the e2e run is tests/e2e/test_meta_set_sync.py."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from flightdeck.domain import meta_set_payloads as payloads
from flightdeck.domain.adoption import with_ref
from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, Budget, CampaignSpec
from flightdeck.domain.meta_set_rules import validate_meta_set
from flightdeck.domain.set_validation import (
    AccountFacts,
    AdGroupNode,
    AdNode,
    CampaignNode,
    SetTree,
)
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.errors import NonRetryableError
from flightdeck.platforms.meta_set_adapter import MetaAdsClient, MetaCampaignSetAdapter
from flightdeck.platforms.meta_set_poller import META_FIELDS, MetaPlatformPoller

ACCOUNT = AccountContext(account_id="act_100", profile_id="400")


def group(**changes: Any) -> AdGroupSpec:
    base: dict[str, Any] = {
        "name": "Group one",
        "status": "active",
        "budget": Budget(type="daily", amount=Decimal(20)),
        "targeting": {"geolocations": ["US"]},
        "keywords": [{"text": "shoes"}],
    }
    return AdGroupSpec.model_validate(base | changes)


def ad(**changes: Any) -> AdSpec:
    base = {
        "name": "Ad one",
        "status": "active",
        "headline": "Sale",
        "final_url": "https://shop.example.com",
        "image_url": "https://img.example.com/a.png",
    }
    return AdSpec.model_validate(base | changes)


def tree(campaign: CampaignSpec, groups: list[AdGroupSpec], ads: list[AdSpec]) -> SetTree:
    nodes = [
        AdGroupNode(id=f"g{i}", path=f"campaigns.0.adGroups.{i}", spec=g,
                    ads=[AdNode(id=f"a{i}{j}", path=f"campaigns.0.adGroups.{i}.ads.{j}", spec=a)
                         for j, a in enumerate(ads)])
        for i, g in enumerate(groups)
    ]  # fmt: skip
    return SetTree(
        platform="meta",
        account=AccountFacts(platform="meta", status="active", profile_id="400"),
        campaigns=[CampaignNode(id="c", path="campaigns.0", spec=campaign, ad_groups=nodes)],
    )


TRAFFIC = CampaignSpec(name="Summer", objective="traffic", status="active")


def test_a_valid_set_has_no_problems_and_keywords_are_not_one() -> None:
    assert validate_meta_set(tree(TRAFFIC, [group()], [ad()])) == []


def test_the_rules_name_every_field_meta_refuses() -> None:
    cbo = CampaignSpec(name="C" * 390, objective="traffic", budget_optimization=True,
                       budget=Budget(type="daily", amount=Decimal(1)))  # fmt: skip
    groups = [
        group(budget=Budget(type="daily", amount=Decimal(10)), optimization_goal="THRUPLAY"),
        group(budget=None, targeting={"geolocations": ["FR"]}),
        group(budget=None, bid_strategy="manual_cpc", bid_amount=Decimal("0.5")),
    ]
    problems = {
        p.field: p.message for p in validate_meta_set(tree(cbo, groups, [ad(image_url=None)]))
    }
    assert "at most 382 characters" in problems["campaigns.0.name"]
    assert (
        "THRUPLAY is not available for objective OUTCOME_TRAFFIC"
        in problems["campaigns.0.adGroups.0.optimizationGoal"]
    )
    assert "Digital Services Act" in problems["campaigns.0.adGroups.1.targeting.geolocations"]
    assert "automatic bid strategy" in problems["campaigns.0.adGroups.2.bidStrategy"]
    assert problems["campaigns.0.adGroups.0.ads.0.imageUrl"] == "a Meta link ad needs an image"


def test_budget_minimums_and_placement() -> None:
    low = group(budget=Budget(type="daily", amount=Decimal(1)))
    problems = {p.field: p.message for p in validate_meta_set(tree(TRAFFIC, [low], [ad()]))}
    assert "at least 5 USD" in problems["campaigns.0.adGroups.0.budget.amount"]  # $2.50 x 2
    none = group(budget=None)
    problems = {p.field: p.message for p in validate_meta_set(tree(TRAFFIC, [none], [ad()]))}
    assert "is required on Meta" in problems["campaigns.0.adGroups.0.budget"]
    lifetime = group(budget=Budget(type="lifetime", amount=Decimal(500)))
    problems = {p.field: p.message for p in validate_meta_set(tree(TRAFFIC, [lifetime], [ad()]))}
    assert "lifetime budget" in problems["campaigns.0.adGroups.0.endTime"]


def test_payloads_in_graph_words() -> None:
    body = payloads.ad_set_create(TRAFFIC, "9", group(), "Group one [fd:0123456789ab]")
    assert body["daily_budget"] == 2000 and body["bid_strategy"] == "LOWEST_COST_WITHOUT_CAP"
    assert body["optimization_goal"] == "LINK_CLICKS" and body["billing_event"] == "IMPRESSIONS"
    assert body["targeting"]["geo_locations"] == {"countries": ["US"]}
    assert "keywords" not in str(body)
    campaign = payloads.campaign_create(TRAFFIC, [], "Summer")
    assert campaign["objective"] == "OUTCOME_TRAFFIC" and campaign["special_ad_categories"] == []
    assert "daily_budget" not in campaign
    assert payloads.campaign_changes(TRAFFIC, TRAFFIC) == {}
    paused = TRAFFIC.model_copy(update={"status": "paused"})
    assert payloads.campaign_changes(paused, TRAFFIC) == {"status": "PAUSED"}
    with pytest.raises(payloads.MetaPayloadError, match="creative cannot be edited"):
        payloads.ad_changes(ad(headline="New"), ad())


class FakeGraph(MetaAdsClient):
    """Objects by edge; lists honour `filtering` EQUAL rules as Graph does."""

    def __init__(self, objects: dict[str, list[dict[str, Any]]]) -> None:
        self.objects = objects
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.listed: list[dict[str, Any]] = []

    async def get_all(
        self, path: str, params: Mapping[str, Any], account: str
    ) -> list[dict[str, Any]]:
        self.listed.append(dict(params))
        items = self.objects.get(path.rsplit("/", 1)[-1], [])
        for rule in params.get("filtering", []):
            field = rule["field"].split(".", 1)[1]
            if rule["operator"] == "EQUAL":
                items = [i for i in items if str(i.get(field)) == str(rule["value"])]
        return items

    async def post(self, path: str, params: Mapping[str, Any], account: str) -> Any:
        self.posts.append((path, dict(params)))
        return {"id": str(len(self.posts))}


async def test_adoption_only_by_our_marker() -> None:
    ref = "0123456789ab"
    graph = FakeGraph({"campaigns": [
        {"id": "1", "name": "Summer", "status": "ACTIVE"},  # another set's, same name
        {"id": "2", "name": with_ref("Summer", "ffffffffffff"), "status": "ACTIVE"},
    ]})  # fmt: skip
    adapter = MetaCampaignSetAdapter(graph)
    assert await adapter.find_campaign(ACCOUNT, "Summer", ref=ref) is None
    assert await adapter.find_campaign(ACCOUNT, "Summer") is None, "never by a bare name"
    graph.objects["campaigns"].append(
        {"id": "3", "name": with_ref("Summer", ref), "status": "PAUSED"}
    )
    found = await adapter.find_campaign(ACCOUNT, "Summer", ref=ref)
    assert found is not None and found.platform_id == "3" and found.adopted
    graph.objects["adsets"] = [
        {"id": "7", "name": with_ref("Group one", ref), "campaign_id": "99"},
    ]
    assert await adapter.find_ad_group(ACCOUNT, "3", "Group one", ref=ref) is None, (
        "an ad set under another campaign is not ours"
    )
    graph.objects["campaigns"].append({"id": "4", "name": with_ref("Summer", ref)})
    with pytest.raises(NonRetryableError, match="carry our marker"):
        await adapter.find_campaign(ACCOUNT, "Summer", ref=ref)


async def test_a_creative_carries_its_ads_marker_and_is_found_by_it_alone() -> None:
    """Two ads with the same name and copy (another tenant's on the same Page, say): the
    lookup after a lost answer finds only the creative its own create made."""
    graph = FakeGraph({})
    adapter = MetaCampaignSetAdapter(graph)
    mine, theirs = "0123456789ab", "ffffffffffff"
    await adapter.create_ad_creative(ACCOUNT, ad(), ref=theirs)
    assert graph.posts[-1][1]["name"] == "Ad one [fd:ffffffffffff]"
    graph.objects["adcreatives"] = [{"id": "1", **graph.posts[-1][1]}]
    assert await adapter.find_ad_creative(ACCOUNT, ad(), ref=mine) == []
    await adapter.create_ad_creative(ACCOUNT, ad(), ref=mine)
    graph.objects["adcreatives"].append({"id": "2", **graph.posts[-1][1]})
    found = await adapter.find_ad_creative(ACCOUNT, ad(), ref=mine)
    assert [c.platform_id for c in found] == ["2"]
    assert adapter.unmarked_creative(ACCOUNT, ad()) is None, "no cross-tenant coordination"


async def test_creates_carry_the_marker_and_updates_send_only_changes() -> None:
    graph = FakeGraph({})
    adapter = MetaCampaignSetAdapter(graph)
    made = await adapter.create_campaign(ACCOUNT, TRAFFIC, ref="0123456789ab")
    assert graph.posts[-1] == ("act_100/campaigns", graph.posts[-1][1])
    assert graph.posts[-1][1]["name"] == "Summer [fd:0123456789ab]"
    unchanged = await adapter.update_campaign(ACCOUNT, made.platform_id, TRAFFIC, TRAFFIC)
    assert unchanged.changed_fields == [] and len(graph.posts) == 1, "no change, no request"
    creative = await adapter.create_ad_creative(ACCOUNT, ad())
    spec = graph.posts[-1][1]["object_story_spec"]
    assert spec["page_id"] == "400" and spec["link_data"]["picture"].endswith("a.png")
    await adapter.create_ad(ACCOUNT, "5", ad(), creative.platform_id, ref="0123456789ab")
    assert graph.posts[-1][1]["creative"] == {"creative_id": creative.platform_id}


async def test_the_poller_lists_changes_since_with_updated_time_filtering() -> None:
    graph = FakeGraph({"campaigns": [{"id": "1", "name": "Summer [fd:0123456789ab]",
                                      "status": "PAUSED", "daily_budget": "2500"}]})  # fmt: skip
    poller = MetaPlatformPoller(graph)
    since = datetime(2026, 11, 1, tzinfo=UTC)
    snapshot = await poller.fetch_changed(ACCOUNT, since)
    assert snapshot.since == since, "a partial listing: what it lacks is unchanged"
    assert snapshot.fields == META_FIELDS
    assert graph.listed[0]["filtering"] == [
        {"field": "campaign.updated_time", "operator": "GREATER_THAN",
         "value": int(since.timestamp())}
    ]  # fmt: skip
    assert [p["filtering"][0]["field"] for p in graph.listed] == [
        "campaign.updated_time", "adset.updated_time", "ad.updated_time",
    ]  # fmt: skip
    state = snapshot.campaigns["1"]
    assert state.name == "Summer" and state.status == "paused"
    assert state.budget == Budget(type="daily", amount=Decimal(25))
    full = await poller.fetch_all(ACCOUNT)
    assert full.since is None and "filtering" not in graph.listed[-1]
