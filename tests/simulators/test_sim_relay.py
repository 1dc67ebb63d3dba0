"""The relay simulator: Graph's validation and envelope, idempotency, updates and reads."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from flightdeck.simulators.graph_errors import Subcode

DROP = object()


def changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the dotted `path` set to `value` (or removed, for DROP)."""
    result = copy.deepcopy(body)
    *parents, last = path.split(".")
    target = result
    for part in parents:
        target = target[part]
    if value is DROP:
        target.pop(last, None)
    else:
        target[last] = value
    return result


def assert_graph_error(response: Any, field: str, subcode: int, status: int = 400) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == 100
    assert error["error_subcode"] == subcode
    assert error["is_transient"] is False
    assert json.loads(error["error_data"]) == {"blame_field_specs": [field.split(".")]}
    assert field in error["error_user_msg"]
    assert error["fbtrace_id"] and error["type"] in ("OAuthException", "GraphMethodException")


async def test_create_chain_links_every_object(sim: Any) -> None:
    campaign_id = await sim.campaign()
    adset_id = await sim.adset(campaign_id)
    template = await sim.http.post(
        "/strategis/api/templates",
        json={"organization": sim.org, "key": "fb", "value": {"networkName": "facebook"}},
    )
    tracking = await sim.http.post(
        "/strategis/api/campaigns",
        json={
            "name": "tracking",
            "category": "Health",
            "template": {"id": template.json()["id"]},
            "properties": {"networkName": "facebook", "fbCampaignId": campaign_id,
                           "fbAdSetId": adset_id},
            "organizations": [sim.org],
        },
    )  # fmt: skip
    assert tracking.status_code == 201, tracking.text
    creative_id = await sim.creative()
    ad_id = await sim.ad(adset_id, creative_id)

    assert re.fullmatch(r"1202100000\d{5}", ad_id)
    assert len({campaign_id, adset_id, creative_id, ad_id}) == 4
    counts = await sim.counts()
    assert {platform: counts[platform] for platform in ("strategis", "facebook")} == {
        "strategis": {"templates": 1, "campaigns": 1},
        "facebook": {"campaigns": 1, "adsets": 1, "adcreatives": 1, "ads": 1},
    }
    ad = (await sim.relay_get("ads", ad_id)).json()
    assert ad["adset_id"] == adset_id and ad["campaign_id"] == campaign_id
    assert ad["creative"] == {"creative_id": creative_id}
    assert ad["status"] == "PAUSED" and ad["effective_status"] == "PENDING_REVIEW"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", ad["created_time"])


async def test_read_view_is_graphs(sim: Any) -> None:
    campaign_id = await sim.campaign()
    adset_id = await sim.adset(campaign_id)
    adset = (await sim.relay_get("adsets", adset_id)).json()
    assert adset["daily_budget"] == "5000", "Graph reads budgets back as strings"
    assert adset["account_id"] == "1234567890" and adset["effective_status"] == "ACTIVE"
    assert "organization" not in adset and "client_request_key" not in adset
    narrowed = await sim.http.get(
        f"/relay/api/facebook/adsets/{adset_id}",
        params={"organization": sim.org, "fields": "name,status"},
    )
    assert set(narrowed.json()) == {"id", "name", "status"}
    [stored] = (await sim.state())["facebook"]["adsets"]["items"]
    assert stored["daily_budget"] == 5000 and stored["organization"] == sim.org


async def test_same_key_and_body_replays_the_first_answer(sim: Any) -> None:
    first = await sim.relay_create("campaigns", sim.campaign_body, key="campaign-req-1")
    again = await sim.relay_create("campaigns", sim.campaign_body, key="campaign-req-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert (await sim.counts())["facebook"]["campaigns"] == 1
    log = await sim.requests(path="campaigns/create")
    assert [(e["createdObjectId"] is not None, e["replayed"]) for e in log] == [
        (True, False),
        (False, True),
    ]


async def test_same_key_with_another_body_is_a_409(sim: Any) -> None:
    await sim.relay_create("campaigns", sim.campaign_body, key="campaign-req-1")
    renamed = {**sim.campaign_body, "name": "another"}
    response = await sim.relay_create("campaigns", renamed, key="campaign-req-1")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["type"] == "RelayError" and "clientRequestKey" in error["message"]
    assert (await sim.counts())["facebook"]["campaigns"] == 1


async def test_keys_are_per_organization_and_failed_creates_are_not_cached(sim: Any) -> None:
    bad = {**sim.campaign_body, "objective": "CONVERSIONS"}
    assert (await sim.relay_create("campaigns", bad, key="k")).status_code == 400
    ours = await sim.relay_create("campaigns", sim.campaign_body, key="k")
    theirs = await sim.relay_create("campaigns", sim.campaign_body, key="k", org="Other")
    assert ours.status_code == theirs.status_code == 200
    assert ours.json()["id"] != theirs.json()["id"]


CAMPAIGN_ERRORS = [
    ("adAccountId", "1234567890", Subcode.INVALID_VALUE),
    ("name", DROP, Subcode.MISSING_PARAMETER),
    ("name", "x" * 401, Subcode.INVALID_VALUE),
    ("objective", "CONVERSIONS", Subcode.LEGACY_OBJECTIVE),
    ("objective", "TRAFFIC_PLEASE", Subcode.INVALID_VALUE),
    ("status", "DELETED", Subcode.INVALID_VALUE),
    ("special_ad_categories", DROP, Subcode.MISSING_PARAMETER),
    ("special_ad_categories", ["FOO"], Subcode.INVALID_VALUE),
    ("daily_budget", "5000", Subcode.INVALID_VALUE),
    ("daily_budget", 50.0, Subcode.INVALID_VALUE),
    ("daily_budget", 99, Subcode.BUDGET_TOO_LOW),
    ("bid_strategy", "LOWEST_COST_WITHOUT_CAP", Subcode.BUDGET_PLACEMENT),
]


@pytest.mark.parametrize(("field", "value", "subcode"), CAMPAIGN_ERRORS)
async def test_campaign_validation(sim: Any, field: str, value: Any, subcode: int) -> None:
    response = await sim.relay_create("campaigns", changed(sim.campaign_body, field, value))
    assert_graph_error(response, field, subcode)
    assert (await sim.counts())["facebook"]["campaigns"] == 0


async def test_legacy_objective_message_says_why(sim: Any) -> None:
    body = {**sim.campaign_body, "objective": "LINK_CLICKS"}
    error = (await sim.relay_create("campaigns", body)).json()["error"]
    assert "legacy" in error["error_user_msg"] and "OUTCOME_" in error["error_user_msg"]


ADSET_ERRORS = [
    ("campaign_id", "999", Subcode.NONEXISTENT_OBJECT),
    ("name", "", Subcode.INVALID_VALUE),
    ("targeting.geo_locations.countries", DROP, Subcode.MISSING_PARAMETER),
    ("targeting.geo_locations.countries", [], Subcode.INVALID_VALUE),
    ("billing_event", "CLICKS_X", Subcode.INVALID_VALUE),
    ("optimization_goal", "FOO", Subcode.INVALID_VALUE),
    ("optimization_goal", "THRUPLAY", Subcode.GOAL_NOT_ALLOWED_FOR_OBJECTIVE),
    ("daily_budget", DROP, Subcode.BUDGET_PLACEMENT),
    ("daily_budget", "5000", Subcode.INVALID_VALUE),
    ("daily_budget", 50, Subcode.BUDGET_TOO_LOW),
    ("bid_strategy", "MAXIMUM_BID", Subcode.INVALID_VALUE),
    ("promoted_object", DROP, Subcode.PROMOTED_OBJECT_REQUIRED),
    ("promoted_object.custom_event_type", "BUY", Subcode.INVALID_VALUE),
    ("status", "ARCHIVED", Subcode.INVALID_VALUE),
    ("start_time", "next tuesday", Subcode.INVALID_VALUE),
]


@pytest.mark.parametrize(("field", "value", "subcode"), ADSET_ERRORS)
async def test_adset_validation(sim: Any, field: str, value: Any, subcode: int) -> None:
    body = {**sim.adset_body, "campaign_id": await sim.campaign()}
    response = await sim.relay_create("adsets", changed(body, field, value))
    assert_graph_error(response, field, subcode)
    assert (await sim.counts())["facebook"]["adsets"] == 0


async def test_budget_on_both_campaign_and_adset_is_refused(sim: Any) -> None:
    cbo = await sim.campaign(daily_budget=10000, bid_strategy="LOWEST_COST_WITHOUT_CAP")
    both = await sim.relay_create("adsets", {**sim.adset_body, "campaign_id": cbo})
    assert_graph_error(both, "daily_budget", Subcode.BUDGET_PLACEMENT)
    body = {k: v for k, v in sim.adset_body.items() if k not in ("daily_budget", "bid_strategy")}
    ok = await sim.relay_create("adsets", {**body, "campaign_id": cbo})
    assert ok.status_code == 200, ok.text


@pytest.mark.parametrize("strategy", ["LOWEST_COST_WITH_BID_CAP", "COST_CAP"])
async def test_capped_bid_strategies_need_a_bid_amount(sim: Any, strategy: str) -> None:
    campaign_id = await sim.campaign()
    body = {**sim.adset_body, "campaign_id": campaign_id, "bid_strategy": strategy}
    missing = await sim.relay_create("adsets", body)
    assert_graph_error(missing, "bid_amount", Subcode.BID_AMOUNT_REQUIRED)
    await sim.adset(campaign_id, bid_strategy=strategy, bid_amount=250)


async def test_adset_under_a_deleted_campaign_is_refused(sim: Any) -> None:
    campaign_id = await sim.campaign()
    await sim.relay_update("campaigns", campaign_id, {"status": "DELETED"})
    response = await sim.relay_create("adsets", {**sim.adset_body, "campaign_id": campaign_id})
    assert_graph_error(response, "campaign_id", Subcode.NONEXISTENT_OBJECT)


LINK_DATA = "object_story_spec.link_data"
CREATIVE_ERRORS = [
    ("adAccountId", DROP, Subcode.MISSING_PARAMETER),
    ("object_story_spec.page_id", DROP, Subcode.MISSING_PARAMETER),
    (f"{LINK_DATA}.link", "ftp://example.com/x", Subcode.INVALID_VALUE),
    (f"{LINK_DATA}.link", DROP, Subcode.MISSING_PARAMETER),
    (f"{LINK_DATA}.image_hash", DROP, Subcode.MISSING_PARAMETER),
    (f"{LINK_DATA}.call_to_action.type", "CLICK_HARDER", Subcode.INVALID_VALUE),
]


@pytest.mark.parametrize(("field", "value", "subcode"), CREATIVE_ERRORS)
async def test_creative_validation(sim: Any, field: str, value: Any, subcode: int) -> None:
    response = await sim.relay_create("adcreatives", changed(sim.creative_body, field, value))
    assert_graph_error(response, field, subcode)


async def test_creative_may_use_a_picture_url_instead_of_an_image_hash(sim: Any) -> None:
    body = changed(sim.creative_body, f"{LINK_DATA}.image_hash", DROP)
    await sim.creative(**changed(body, f"{LINK_DATA}.picture", "https://cdn.example.com/a.jpg"))


AD_ERRORS = [
    ("adset_id", "42", Subcode.NONEXISTENT_OBJECT),
    ("creative.creative_id", "42", Subcode.NONEXISTENT_OBJECT),
    ("name", DROP, Subcode.MISSING_PARAMETER),
    ("status", "RUNNING", Subcode.INVALID_VALUE),
]


@pytest.mark.parametrize(("field", "value", "subcode"), AD_ERRORS)
async def test_ad_validation(sim: Any, field: str, value: Any, subcode: int) -> None:
    adset_id = await sim.adset(await sim.campaign())
    body = {
        "adset_id": adset_id,
        "name": "ad",
        "creative": {"creative_id": await sim.creative()},
        "status": "PAUSED",
    }
    assert_graph_error(await sim.relay_create("ads", changed(body, field, value)), field, subcode)


async def test_parents_of_another_organization_are_invisible(sim: Any) -> None:
    campaign_id = await sim.campaign()
    body = {**sim.adset_body, "campaign_id": campaign_id}
    response = await sim.relay_create("adsets", body, org="Other")
    assert_graph_error(response, "campaign_id", Subcode.NONEXISTENT_OBJECT)
    assert (await sim.relay_get("campaigns", campaign_id, org="Other")).status_code == 400


@pytest.mark.parametrize("missing", ["organization", "clientRequestKey"])
async def test_organization_and_key_are_required(sim: Any, missing: str) -> None:
    body = {**sim.campaign_body, "organization": sim.org, "clientRequestKey": "k"}
    del body[missing]
    response = await sim.http.post("/relay/api/facebook/campaigns/create", json=body)
    assert_graph_error(response, missing, Subcode.MISSING_PARAMETER)


async def test_body_must_be_a_json_object(sim: Any) -> None:
    response = await sim.http.post("/relay/api/facebook/ads/create", content=b"{nope")
    assert response.status_code == 400 and response.json()["error"]["code"] == 100


async def test_unknown_object_type_is_graphs_unknown_path(sim: Any) -> None:
    response = await sim.relay_create("pixels", {})
    assert response.status_code == 404 and response.json()["error"]["code"] == 2500


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic dev-strategis-api-key"])
async def test_auth_is_required(sim: Any, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    sim.http.headers.pop("Authorization")
    response = await sim.http.get(
        "/relay/api/facebook/campaigns/1", params={"organization": sim.org}, headers=headers
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == 190 and error["type"] == "OAuthException"


async def test_organization_without_facebook_credentials(sim: Any) -> None:
    await sim.http.post(f"/_sim/relay/organizations/{sim.org}/disable-credentials")
    response = await sim.relay_create("campaigns", sim.campaign_body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "RelayError" and error["code"] == 190
    assert sim.org in error["message"]
    await sim.http.post(f"/_sim/relay/organizations/{sim.org}/enable-credentials")
    await sim.campaign()


async def test_pause_and_resume_show_in_effective_status(sim: Any) -> None:
    campaign_id = await sim.campaign()
    adset_id = await sim.adset(campaign_id)
    response = await sim.relay_update("campaigns", campaign_id, {"status": "PAUSED"})
    assert response.status_code == 200 and response.json() == {"success": True}
    adset = (await sim.relay_get("adsets", adset_id)).json()
    assert adset["status"] == "ACTIVE" and adset["effective_status"] == "CAMPAIGN_PAUSED"
    await sim.relay_update("campaigns", campaign_id, {"status": "ACTIVE"})
    assert (await sim.relay_get("adsets", adset_id)).json()["effective_status"] == "ACTIVE"


async def test_delete_cascades_and_is_terminal(sim: Any) -> None:
    campaign_id = await sim.campaign()
    adset_id = await sim.adset(campaign_id)
    ad_id = await sim.ad(adset_id, await sim.creative())
    await sim.relay_update("campaigns", campaign_id, {"status": "DELETED"})
    for kind, object_id in [("campaigns", campaign_id), ("adsets", adset_id), ("ads", ad_id)]:
        obj = (await sim.relay_get(kind, object_id)).json()
        assert obj["status"] == obj["effective_status"] == "DELETED", kind
    again = await sim.relay_update("ads", ad_id, {"status": "DELETED"})
    assert again.status_code == 400
    assert again.json()["error"]["error_subcode"] == Subcode.NONEXISTENT_OBJECT


async def test_archived_objects_can_only_be_deleted(sim: Any) -> None:
    campaign_id = await sim.campaign()
    await sim.relay_update("campaigns", campaign_id, {"status": "ARCHIVED"})
    refused = await sim.relay_update("campaigns", campaign_id, {"status": "ACTIVE"})
    assert_graph_error(refused, "status", Subcode.STATUS_TRANSITION)
    deleted = await sim.relay_update("campaigns", campaign_id, {"status": "DELETED"})
    assert deleted.status_code == 200


async def test_budget_updates_follow_the_budget_placement(sim: Any) -> None:
    campaign_id = await sim.campaign()
    adset_id = await sim.adset(campaign_id)
    assert (await sim.relay_update("adsets", adset_id, {"daily_budget": 7500})).status_code == 200
    assert (await sim.relay_get("adsets", adset_id)).json()["daily_budget"] == "7500"
    on_campaign = await sim.relay_update("campaigns", campaign_id, {"daily_budget": 7500})
    assert_graph_error(on_campaign, "daily_budget", Subcode.BUDGET_PLACEMENT)
    too_low = await sim.relay_update("adsets", adset_id, {"daily_budget": 10})
    assert_graph_error(too_low, "daily_budget", Subcode.BUDGET_TOO_LOW)
    ad_id = await sim.ad(adset_id, await sim.creative())
    on_ad = await sim.relay_update("ads", ad_id, {"daily_budget": 7500})
    assert_graph_error(on_ad, "daily_budget", Subcode.INVALID_VALUE)


async def test_update_and_read_of_unknown_ids(sim: Any) -> None:
    update = await sim.relay_update("campaigns", "404", {"status": "PAUSED"})
    assert update.json()["error"]["error_subcode"] == Subcode.NONEXISTENT_OBJECT
    read = await sim.relay_get("ads", "404")
    assert read.status_code == 400 and "Unsupported get request" in read.json()["error"]["message"]


async def test_usage_header_counts_the_organizations_calls(sim: Any) -> None:
    for _ in range(3):
        response = await sim.relay_get("campaigns", "1")
    usage = json.loads(response.headers["X-Business-Use-Case-Usage"])
    [entry] = usage[sim.org]
    assert entry["type"] == "ads_management" and entry["call_count"] == 1  # 3 of 300 = 1 %
    assert entry["estimated_time_to_regain_access"] == 0
