"""The Strategis API simulator: templates unique per (organization, key), tracking campaigns
validated as the contract says, lookups and partial updates."""

from __future__ import annotations

import copy
from typing import Any

import pytest

ORG = "Interlincx"


async def make_template(sim: Any, key: str = "fb", org: str = ORG) -> str:
    response = await sim.http.post(
        "/strategis/api/templates",
        json={"organization": org, "key": key, "value": {"networkName": "facebook"}},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def campaign_body(template_id: str, **changes: Any) -> dict[str, Any]:
    body = {
        "name": "BrandX campaign - women2545",
        "category": "Health",
        "template": {"id": template_id},
        "properties": {
            "buyer": "BrandX",
            "networkName": "facebook",
            "destination": "S1",
            "domain": "lander.example.com",
            "fbCampaignId": "120210000000001",
            "fbAdSetId": "120210000000002",
        },
        "organizations": [ORG],
    }
    return {**body, **changes}


async def make_campaign(sim: Any, **changes: Any) -> dict[str, Any]:
    body = campaign_body(await make_template(sim, key=f"k{id(changes)}"), **changes)
    response = await sim.http.post("/strategis/api/campaigns", json=body)
    assert response.status_code == 201, response.text
    campaign: dict[str, Any] = response.json()
    return campaign


@pytest.mark.parametrize("header", [None, "Bearer nope", "dev-strategis-api-key"])
async def test_api_key_is_required(sim: Any, header: str | None) -> None:
    sim.http.headers.pop("Authorization")
    headers = {"Authorization": header} if header else {}
    response = await sim.http.get("/strategis/api/templates", headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


async def test_templates_are_unique_per_organization_and_key(sim: Any) -> None:
    template_id = await make_template(sim)
    assert template_id == "tpl_000001"
    duplicate = await sim.http.post(
        "/strategis/api/templates", json={"organization": ORG, "key": "fb", "value": "x"}
    )
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "conflict"
    await make_template(sim, org="Other")  # same key, other organization: fine
    found = await sim.http.get(
        "/strategis/api/templates", params={"organization": ORG, "key": "fb"}
    )
    assert [t["id"] for t in found.json()["data"]] == [template_id]
    other_key = await sim.http.get("/strategis/api/templates", params={"key": "f"})
    assert other_key.json() == {"data": []}


@pytest.mark.parametrize("field", ["organization", "key", "value"])
async def test_template_fields_are_required(sim: Any, field: str) -> None:
    body = {"organization": ORG, "key": "fb", "value": {"a": 1}}
    del body[field]
    response = await sim.http.post("/strategis/api/templates", json=body)
    assert response.status_code == 400 and field in response.json()["message"]


async def test_campaign_is_created_active(sim: Any) -> None:
    campaign = await make_campaign(sim)
    assert campaign["id"].startswith("stg_") and campaign["status"] == "active"
    assert campaign["properties"]["fbAdSetId"] == "120210000000002"
    got = await sim.http.get(f"/strategis/api/campaigns/{campaign['id']}")
    assert got.json() == campaign


CAMPAIGN_ERRORS = [
    ("name", lambda b: b.pop("name")),
    ("category", lambda b: b.update(category="")),
    ("template.id", lambda b: b.update(template={})),
    ("template.id", lambda b: b.update(template={"id": "tpl_999999"})),
    ("properties", lambda b: b.pop("properties")),
    ("properties.networkName", lambda b: b["properties"].update(networkName="google")),
    ("organizations", lambda b: b.update(organizations=[])),
    ("organizations", lambda b: b.update(organizations="Interlincx")),
    ("status", lambda b: b.update(status="running")),
]


@pytest.mark.parametrize(("field", "mutate"), CAMPAIGN_ERRORS)
async def test_campaign_validation_names_the_field(sim: Any, field: str, mutate: Any) -> None:
    body = copy.deepcopy(campaign_body(await make_template(sim)))
    mutate(body)
    response = await sim.http.post("/strategis/api/campaigns", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request" and field in response.json()["message"]
    assert (await sim.counts())["strategis"]["campaigns"] == 0


async def test_template_must_belong_to_one_of_the_organizations(sim: Any) -> None:
    foreign = await make_template(sim, org="Other")
    response = await sim.http.post("/strategis/api/campaigns", json=campaign_body(foreign))
    assert response.status_code == 400 and "template.id" in response.json()["message"]


async def test_campaigns_are_found_by_organization_and_exact_name(sim: Any) -> None:
    campaign = await make_campaign(sim)
    found = await sim.http.get(
        "/strategis/api/campaigns", params={"organization": ORG, "name": campaign["name"]}
    )
    assert [c["id"] for c in found.json()["data"]] == [campaign["id"]]
    for params in ({"organization": "Other"}, {"name": campaign["name"][:-1]}):
        response = await sim.http.get("/strategis/api/campaigns", params=params)
        assert response.json() == {"data": []}


async def test_unknown_campaign_is_404(sim: Any) -> None:
    response = await sim.http.get("/strategis/api/campaigns/stg_999999")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


async def test_patch_updates_status_and_merges_properties(sim: Any) -> None:
    campaign = await make_campaign(sim)
    url = f"/strategis/api/campaigns/{campaign['id']}"
    response = await sim.http.patch(url, json={"status": "paused", "properties": {"buyer": "Y"}})
    assert response.status_code == 200
    updated = response.json()
    assert updated["status"] == "paused" and updated["properties"]["buyer"] == "Y"
    assert updated["properties"]["fbAdSetId"] == "120210000000002"
    assert (await sim.http.get(url)).json()["status"] == "paused"


@pytest.mark.parametrize(
    ("patch", "field"),
    [({"status": "deleted"}, "status"), ({"organizations": ["X"]}, "organizations"),
     ({"properties": {"networkName": "tiktok"}}, "properties.networkName")],
)  # fmt: skip
async def test_patch_validation(sim: Any, patch: dict[str, Any], field: str) -> None:
    campaign = await make_campaign(sim)
    response = await sim.http.patch(f"/strategis/api/campaigns/{campaign['id']}", json=patch)
    assert response.status_code == 400 and field in response.json()["message"]
    unchanged = await sim.http.get(f"/strategis/api/campaigns/{campaign['id']}")
    assert unchanged.json() == campaign
