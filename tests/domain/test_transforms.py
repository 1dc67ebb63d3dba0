import json
from pathlib import Path

import pytest

from flightdeck.domain import transforms as t
from flightdeck.domain.plans import CampaignPlanIn

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.json"


def load(**changes: object) -> CampaignPlanIn:
    data = json.loads(EXAMPLE.read_text())
    data.update(changes)
    return CampaignPlanIn.model_validate(data)


@pytest.mark.parametrize(
    ("micros", "currency", "minor"),
    [
        ("50000000", "USD", 5000),  # $50.00
        ("1234567", "USD", 123),  # $1.234567 -> 123 cents (half up)
        ("1235000", "USD", 124),
        ("1", "USD", 0),
        (5_000_000_000, "JPY", 5000),  # zero-decimal currency: 1 yen = 1 minor unit
        ("0", "EUR", 0),
    ],
)
def test_micros_to_minor_units(micros: str, currency: str, minor: int) -> None:
    assert t.micros_to_minor_units(micros, currency) == minor


def test_negative_money_is_refused() -> None:
    with pytest.raises(ValueError):
        t.micros_to_minor_units(-1)


def test_legacy_objective_becomes_outcome() -> None:
    assert t.outcome_objective("CONVERSIONS") == "OUTCOME_SALES"
    assert t.outcome_objective("LINK_CLICKS") == "OUTCOME_TRAFFIC"
    assert t.outcome_objective("OUTCOME_LEADS") == "OUTCOME_LEADS"


def test_abo_puts_budget_on_ad_sets_only() -> None:
    plan = load()
    campaign = t.campaign_payload(plan, "c")
    assert "daily_budget" not in campaign and "bid_strategy" not in campaign
    assert campaign["objective"] == "OUTCOME_SALES"
    adset = t.adset_payload(plan, plan.ad_sets[1], "s", "111")
    assert adset["daily_budget"] == 7500 and isinstance(adset["daily_budget"], int)
    assert adset["bid_strategy"] == "LOWEST_COST_WITHOUT_CAP"
    assert adset["optimization_goal"] == "OFFSITE_CONVERSIONS"
    assert adset["promoted_object"] == {"pixel_id": "998877665544", "custom_event_type": "PURCHASE"}
    assert adset["campaign_id"] == "111"


def test_cbo_puts_the_summed_budget_on_the_campaign() -> None:
    data = json.loads(EXAMPLE.read_text())
    for ad_set in data["adSets"]:
        ad_set["budgetType"] = "CBO"
    plan = CampaignPlanIn.model_validate(data)
    campaign = t.campaign_payload(plan, "c")
    assert campaign["daily_budget"] == 5000 + 7500
    assert campaign["bid_strategy"] == "LOWEST_COST_WITHOUT_CAP"
    adset = t.adset_payload(plan, plan.ad_sets[0], "s", "111")
    assert "daily_budget" not in adset and "bid_strategy" not in adset


def test_tracking_url_keeps_the_fbclid_macro() -> None:
    url = t.tracking_url("https://r.strateg.is/", "stg_42")
    assert url == "https://r.strateg.is/route?campaignId=stg_42&fbclid={{fbclid}}"


def test_creative_links_to_the_tracking_url() -> None:
    plan = load()
    body = t.creative_payload(plan, plan.ad_sets[1].ads[1], "ad", "https://t/route?x")
    link_data = body["object_story_spec"]["link_data"]
    assert body["object_story_spec"]["page_id"] == plan.page_id
    assert link_data["link"] == "https://t/route?x"
    assert link_data["picture"] == "https://cdn.example.com/hook03.jpg"
    assert link_data["call_to_action"] == {
        "type": "BOOK_NOW",
        "value": {"link": "https://t/route?x"},
    }


def test_client_request_keys_follow_the_seed_format() -> None:
    assert t.campaign_key("req-abc-123") == "campaign-req-abc-123"
    assert t.adset_key("req-abc-123", 0) == "adset-req-abc-123-0"
    assert t.ad_key("req-abc-123", 0, 0) == "ad-req-abc-123-0-0"
    assert t.creative_key("req-abc-123", 1, 2) == "creative-req-abc-123-1-2"


def test_tracking_campaign_payload_matches_the_seed() -> None:
    plan = load()
    body = t.tracking_campaign_payload(
        plan, name="n", template_id="tpl", fb_campaign_id="1", fb_ad_set_id="2"
    )
    assert body == {
        "name": "n",
        "category": "Health",
        "template": {"id": "tpl"},
        "properties": {
            "buyer": "BrandX",
            "networkName": "facebook",
            "destination": "S1",
            "domain": "lander.example.com",
            "fbCampaignId": "1",
            "fbAdSetId": "2",
        },
        "organizations": ["Interlincx"],
    }


def test_relay_object_keys_name_every_create_a_run_may_make() -> None:
    plan = CampaignPlanIn.model_validate(json.loads(EXAMPLE.read_text()))
    tenant = "ff5f7dc6-ac78-4d64-b5c0-1e46dee6a6fe"
    keys = t.relay_object_keys(plan, tenant)
    rid = t.scoped_request_id(tenant, plan.request_id)
    ads = sum(len(a.ads) for a in plan.ad_sets)
    assert len(keys) == 1 + len(plan.ad_sets) + 2 * ads
    assert keys[0].client_request_key == t.campaign_key(rid) == f"campaign-{rid}"
    assert {k.client_request_key for k in keys if k.object_type == "ad"} == {
        t.ad_key(rid, i, j) for i, a in enumerate(plan.ad_sets) for j in range(len(a.ads))
    }
    assert all("ff5f7dc6ac784d64b5c01e46dee6a6fe" in k.client_request_key for k in keys)
