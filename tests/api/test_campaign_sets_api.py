"""Campaign sets over HTTP: whole trees in one request, per-level edits that mark what needs a
sync, delete semantics, tenant isolation, and bad input refused with nothing stored."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.repositories.campaign_sets import CampaignSetRepository
from flightdeck.db.tenancy import system_session
from flightdeck.domain.campaign_sets import EntityType

SETS = "/api/v1/campaign-sets"
AD = {
    "name": "Ad one",
    "headline": "Shoes for summer",
    "finalUrl": "https://example.com/summer",
    "callToAction": "SHOP_NOW",
}
AD_GROUP = {
    "name": "Sneakerheads",
    "bidStrategy": "manual_cpc",
    "bidAmount": 0.75,
    "targeting": {"communities": ["r/sneakers"], "geolocations": ["US"]},
    "keywords": [{"text": "running shoes"}, {"text": "cheap", "negative": True}],
    "ads": [AD, {**AD, "name": "Ad two"}],
}
CAMPAIGN = {
    "name": "Summer Sale",
    "objective": "traffic",
    "budget": {"type": "daily", "amount": 50, "currency": "USD"},
    "startTime": "2026-07-01T00:00:00Z",
    "adGroups": [AD_GROUP],
}
SET = {
    "name": "Summer push",
    "description": "Q3 sneakers",
    "campaigns": [CAMPAIGN, {"name": "Winter Sale", "objective": "awareness"}],
}


def body(**overrides: Any) -> dict[str, Any]:
    return copy.deepcopy(SET) | overrides


async def create_set(
    api: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await api.post(SETS, json=body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def list_sets(api: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await api.get(SETS, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def mark_synced(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: uuid.UUID,
    entity_type: EntityType,
    entity_id: str,
    platform_id: str | None = None,
) -> None:
    """What the sync engine records after pushing an entity."""
    async with system_session(sessions, "cli") as session:
        await CampaignSetRepository(session).record_sync_result(
            tenant_id,
            entity_type,
            uuid.UUID(entity_id),
            sync_status="synced",
            platform_id=platform_id,
        )
        await session.commit()


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    payload = response.json()
    assert payload["error"] == "validation_error"
    return [error["field"] for error in payload["detail"]]


async def test_create_returns_the_whole_tree_and_get_reads_it_back(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await create_set(api, headers)

    assert (created["name"], created["platform"], created["adAccountId"]) == (
        "Summer push",
        "reddit",
        None,
    )
    assert (created["status"], created["syncStatus"]) == ("draft", "pending")
    summer, winter = created["campaigns"]
    assert (summer["name"], summer["position"], winter["position"]) == ("Summer Sale", 0, 1)
    assert summer["budget"] == {"type": "daily", "amount": 50, "currency": "USD"}
    assert (summer["syncStatus"], summer["platformCampaignId"]) == ("pending", None)
    assert summer["startTime"].startswith("2026-07-01T00:00:00")
    group = summer["adGroups"][0]
    assert (group["bidAmount"], group["targeting"]["communities"]) == (0.75, ["r/sneakers"])
    assert [ad["name"] for ad in group["ads"]] == ["Ad one", "Ad two"]
    assert [(k["text"], k["negative"]) for k in group["keywords"]] == [
        ("running shoes", False),
        ("cheap", True),
    ]
    assert all(uuid.UUID(ad["id"]) and ad["platformAdId"] is None for ad in group["ads"])
    assert winter["budget"] is None and winter["adGroups"] == []

    fetched = await api.get(f"{SETS}/{created['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_children_have_their_own_endpoints(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await create_set(api, headers)
    summer = created["campaigns"][0]
    group = summer["adGroups"][0]

    campaigns = await api.get(f"{SETS}/{created['id']}/campaigns", headers=headers)
    assert [c["name"] for c in campaigns.json()["items"]] == ["Summer Sale", "Winter Sale"]
    new_group = await api.post(
        f"/api/v1/campaigns/{summer['id']}/ad-groups",
        json={**AD_GROUP, "name": "Runners", "ads": []},
        headers=headers,
    )
    assert new_group.status_code == 201, new_group.text
    assert (new_group.json()["position"], len(new_group.json()["keywords"])) == (1, 2)
    ad = await api.post(
        f"/api/v1/ad-groups/{group['id']}/ads", json={**AD, "name": "Ad three"}, headers=headers
    )
    assert ad.status_code == 201 and ad.json()["position"] == 2
    keyword = await api.post(
        f"/api/v1/ad-groups/{group['id']}/keywords", json={"text": "trail"}, headers=headers
    )
    assert keyword.status_code == 201 and keyword.json()["status"] == "active"

    for path, count in [
        (f"/api/v1/campaigns/{summer['id']}/ad-groups", 2),
        (f"/api/v1/ad-groups/{group['id']}/ads", 3),
        (f"/api/v1/ad-groups/{group['id']}/keywords", 3),
    ]:
        listed = await api.get(path, headers=headers)
        assert len(listed.json()["items"]) == count, path
    for path in [
        f"/api/v1/campaigns/{summer['id']}",
        f"/api/v1/ad-groups/{group['id']}",
        f"/api/v1/ads/{ad.json()['id']}",
        f"/api/v1/keywords/{keyword.json()['id']}",
    ]:
        assert (await api.get(path, headers=headers)).status_code == 200, path


async def test_list_pages_newest_first_by_cursor_and_filters_by_status(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    made = [(await create_set(api, headers, name=f"set {i}", campaigns=[]))["id"] for i in range(3)]

    first = (await api.get(SETS, params={"limit": 2}, headers=headers)).json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    assert "campaigns" not in first["items"][0]
    second = (
        await api.get(SETS, params={"limit": 2, "cursor": first["nextCursor"]}, headers=headers)
    ).json()
    assert second["nextCursor"] is None
    assert [s["id"] for s in first["items"] + second["items"]] == list(reversed(made))

    drafts = await api.get(SETS, params={"status": "draft"}, headers=headers)
    assert len(drafts.json()["items"]) == 3
    active = await api.get(SETS, params={"status": "active"}, headers=headers)
    assert active.json()["items"] == []
    assert fields(await api.get(SETS, params={"status": "live"}, headers=headers)) == ["status"]
    assert fields(await api.get(SETS, params={"cursor": "nope"}, headers=headers)) == ["cursor"]
    assert fields(await api.get(SETS, params={"limit": 0}, headers=headers)) == ["limit"]


async def test_patch_changes_only_given_fields_and_marks_the_entity_pending(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    created = await create_set(api, headers)
    summer = created["campaigns"][0]
    await mark_synced(sessions, tenant_id, "campaign", summer["id"], "t2_summer")

    response = await api.patch(
        f"/api/v1/campaigns/{summer['id']}",
        json={"name": "Summer Sale 2", "budget": {"type": "lifetime", "amount": "1000.50"}},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["name"] == "Summer Sale 2"
    assert patched["budget"] == {"type": "lifetime", "amount": 1000.5, "currency": "USD"}
    assert (patched["objective"], patched["startTime"]) == ("traffic", summer["startTime"])
    assert (patched["syncStatus"], patched["platformCampaignId"]) == ("pending", "t2_summer")
    assert len(patched["adGroups"]) == 1
    tree = (await api.get(f"{SETS}/{created['id']}", headers=headers)).json()
    assert tree["campaigns"][0]["name"] == "Summer Sale 2"
    assert tree["campaigns"][1]["syncStatus"] == "pending"

    renamed = await api.patch(f"{SETS}/{created['id']}", json={"name": "Renamed"}, headers=headers)
    assert renamed.status_code == 200 and renamed.json()["description"] == "Q3 sneakers"


async def test_an_unchanged_patch_keeps_the_entity_synced(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    ad = (await create_set(api, headers))["campaigns"][0]["adGroups"][0]["ads"][0]
    await mark_synced(sessions, tenant_id, "ad", ad["id"], "t6_ad")

    same = await api.patch(
        f"/api/v1/ads/{ad['id']}", json={"headline": AD["headline"]}, headers=headers
    )
    assert same.status_code == 200 and same.json()["syncStatus"] == "synced"
    changed = await api.patch(f"/api/v1/ads/{ad['id']}", json={"headline": "New"}, headers=headers)
    assert changed.json()["syncStatus"] == "pending"


async def test_a_keyword_change_marks_its_ad_group_pending(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    group = (await create_set(api, headers))["campaigns"][0]["adGroups"][0]
    await mark_synced(sessions, tenant_id, "ad_group", group["id"], "t2_group")
    keyword = group["keywords"][0]

    response = await api.patch(
        f"/api/v1/keywords/{keyword['id']}", json={"negative": True}, headers=headers
    )

    assert response.status_code == 200 and response.json()["negative"] is True
    after = (await api.get(f"/api/v1/ad-groups/{group['id']}", headers=headers)).json()
    assert (after["syncStatus"], after["platformAdGroupId"]) == ("pending", "t2_group")


async def test_a_patch_that_breaks_the_merged_entity_is_refused(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await create_set(api, headers)
    summer = created["campaigns"][0]
    path = f"/api/v1/campaigns/{summer['id']}"
    assert (
        await api.patch(path, json={"budgetOptimization": True}, headers=headers)
    ).status_code == 200

    assert fields(await api.patch(path, json={"budget": None}, headers=headers)) == ["body"]
    assert fields(await api.patch(path, json={"name": None}, headers=headers)) == ["name"]
    assert fields(
        await api.patch(path, json={"endTime": "2026-06-01T00:00:00Z"}, headers=headers)
    ) == ["body"]
    assert fields(await api.patch(path, json={"objective": "fame"}, headers=headers)) == [
        "objective"
    ]
    assert fields(await api.patch(path, json={"colour": "red"}, headers=headers)) == ["colour"]
    unchanged = (await api.get(path, headers=headers)).json()
    assert (unchanged["name"], unchanged["budget"]["amount"]) == ("Summer Sale", 50)


async def test_delete_removes_what_is_local_and_soft_deletes_what_is_on_the_platform(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    created = await create_set(api, headers)
    summer, winter = created["campaigns"]
    ad = summer["adGroups"][0]["ads"][0]
    await mark_synced(sessions, tenant_id, "campaign", summer["id"], "t2_summer")

    assert (await api.delete(f"/api/v1/ads/{ad['id']}", headers=headers)).status_code == 204
    assert (await api.get(f"/api/v1/ads/{ad['id']}", headers=headers)).status_code == 404
    assert (
        await api.delete(f"/api/v1/campaigns/{winter['id']}", headers=headers)
    ).status_code == 204

    soft = await api.delete(f"/api/v1/campaigns/{summer['id']}", headers=headers)
    assert soft.status_code == 202
    assert soft.json() == {"id": summer["id"], "syncStatus": "pending"}
    assert (await api.get(f"/api/v1/campaigns/{summer['id']}", headers=headers)).status_code == 404
    group_path = f"/api/v1/ad-groups/{summer['adGroups'][0]['id']}"
    assert (await api.get(group_path, headers=headers)).status_code == 404
    tree = (await api.get(f"{SETS}/{created['id']}", headers=headers)).json()
    assert tree["campaigns"] == []
    everything = await api.get(
        f"{SETS}/{created['id']}", params={"includeDeleted": "true"}, headers=headers
    )
    [tombstone] = everything.json()["campaigns"]
    assert tombstone["deletedAt"] is not None and tombstone["syncStatus"] == "pending"

    # The set still has a campaign on the platform: it cannot go yet.
    refused = await api.delete(f"{SETS}/{created['id']}", headers=headers)
    assert refused.status_code == 409 and refused.json()["error"] == "conflict"
    # Deleting it twice is a 404, not a second deletion.
    again = await api.delete(f"/api/v1/campaigns/{summer['id']}", headers=headers)
    assert again.status_code == 404


async def test_a_set_that_never_reached_the_platform_is_deleted_whole(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await create_set(api, headers)
    group_id = created["campaigns"][0]["adGroups"][0]["id"]

    assert (await api.delete(f"{SETS}/{created['id']}", headers=headers)).status_code == 204

    assert (await api.get(f"{SETS}/{created['id']}", headers=headers)).status_code == 404
    assert (await api.get(f"/api/v1/ad-groups/{group_id}", headers=headers)).status_code == 404
    assert await list_sets(api, headers) == []


async def test_another_tenants_objects_are_not_found(
    api: httpx.AsyncClient, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    created = await create_set(api, headers)
    summer = created["campaigns"][0]
    group = summer["adGroups"][0]
    ad, keyword = group["ads"][0], group["keywords"][0]
    requests = [
        ("GET", f"{SETS}/{created['id']}", None),
        ("PATCH", f"{SETS}/{created['id']}", {"name": "mine"}),
        ("DELETE", f"{SETS}/{created['id']}", None),
        ("GET", f"{SETS}/{created['id']}/campaigns", None),
        ("POST", f"{SETS}/{created['id']}/campaigns", {**CAMPAIGN, "name": "Mine"}),
        ("GET", f"/api/v1/campaigns/{summer['id']}", None),
        ("PATCH", f"/api/v1/campaigns/{summer['id']}", {"name": "Mine!"}),
        ("DELETE", f"/api/v1/campaigns/{summer['id']}", None),
        ("POST", f"/api/v1/campaigns/{summer['id']}/ad-groups", {**AD_GROUP, "name": "Mine"}),
        ("GET", f"/api/v1/ad-groups/{group['id']}", None),
        ("PATCH", f"/api/v1/ad-groups/{group['id']}", {"status": "paused"}),
        ("DELETE", f"/api/v1/ad-groups/{group['id']}", None),
        ("POST", f"/api/v1/ad-groups/{group['id']}/ads", {**AD, "name": "Mine"}),
        ("GET", f"/api/v1/ads/{ad['id']}", None),
        ("PATCH", f"/api/v1/ads/{ad['id']}", {"headline": "Mine"}),
        ("DELETE", f"/api/v1/ads/{ad['id']}", None),
        ("POST", f"/api/v1/ad-groups/{group['id']}/keywords", {"text": "mine"}),
        ("GET", f"/api/v1/keywords/{keyword['id']}", None),
        ("PATCH", f"/api/v1/keywords/{keyword['id']}", {"text": "mine"}),
        ("DELETE", f"/api/v1/keywords/{keyword['id']}", None),
    ]
    for method, path, payload in requests:
        response = await api.request(method, path, json=payload, headers=other_headers)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "not_found"

    assert await list_sets(api, other_headers) == []
    unchanged = (await api.get(f"{SETS}/{created['id']}", headers=headers)).json()
    assert unchanged == created


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.pop("name"), "name"),
        (lambda b: b.update(name="bad\x00name"), "name"),
        (lambda b: b.update(platform="tiktok"), "platform"),
        (lambda b: b.update(adAccountId="not-a-uuid"), "adAccountId"),
        (lambda b: b.update(colour="red"), "colour"),
        (lambda b: b["campaigns"][0].update(objective="fame"), "campaigns.0.objective"),
        (lambda b: b["campaigns"][0]["budget"].update(amount="NaN"), "campaigns.0.budget.amount"),
        (lambda b: b["campaigns"][0]["budget"].update(amount=1e30), "campaigns.0.budget.amount"),
        (
            lambda b: b["campaigns"][0].update(startTime="2026-07-01T00:00:00"),
            "campaigns.0.startTime",
        ),
        (lambda b: b["campaigns"][0].update(endTime="2026-06-01T00:00:00Z"), "campaigns.0"),
        (lambda b: b["campaigns"][1].update(name="Summer Sale"), "campaigns"),
        (
            lambda b: b["campaigns"][0]["adGroups"][0]["ads"][1].update(finalUrl="ftp://x"),
            "campaigns.0.adGroups.0.ads.1.finalUrl",
        ),
        (
            lambda b: b["campaigns"][0]["adGroups"][0]["keywords"].append(
                {"text": "CHEAP", "negative": True}
            ),
            "campaigns.0.adGroups.0.keywords",
        ),
        (
            lambda b: b["campaigns"][0]["adGroups"][0]["targeting"].update(devices=["TV"]),
            "campaigns.0.adGroups.0.targeting.devices.0",
        ),
    ],
)
async def test_malformed_input_is_refused_with_its_field_path_and_nothing_stored(
    api: httpx.AsyncClient, headers: dict[str, str], change: Any, field: str
) -> None:
    payload = body()
    change(payload)

    response = await api.post(SETS, json=payload, headers=headers)

    assert fields(response) == [field]
    assert await list_sets(api, headers) == []


async def test_a_tree_too_big_for_one_request_is_refused(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    group = {**AD_GROUP, "ads": [], "keywords": [{"text": f"k{i}"} for i in range(1000)]}
    campaign = {**CAMPAIGN, "adGroups": [{**group, "name": f"Group {i}"} for i in range(10)]}
    campaigns = [{**campaign, "name": f"Campaign {i}"} for i in range(2)]

    assert fields(await api.post(SETS, json=body(campaigns=campaigns), headers=headers)) == [
        "campaigns"
    ]
    assert await list_sets(api, headers) == []


async def test_a_body_that_is_not_a_set_is_refused(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    not_json = await api.post(
        SETS, content=b"{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400, "malformed JSON is a 400 that names the problem"
    assert not_json.json()["error"] == "invalid_json"
    assert not_json.json()["detail"][0]["field"] == "body"
    assert "Expecting" in not_json.json()["detail"][0]["message"]
    assert (await api.post(SETS, json=[SET], headers=headers)).status_code == 422
    assert (await api.post(SETS, json="x" * 10, headers=headers)).status_code == 422
    assert await list_sets(api, headers) == []


async def test_duplicate_names_under_one_parent_conflict_and_store_nothing(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await create_set(api, headers)
    summer, winter = created["campaigns"]
    group = summer["adGroups"][0]

    taken = await api.post(f"{SETS}/{created['id']}/campaigns", json=CAMPAIGN, headers=headers)
    assert taken.status_code == 409
    assert taken.json()["error"] == "conflict" and "Summer Sale" in taken.json()["detail"]
    rename = await api.patch(
        f"/api/v1/campaigns/{winter['id']}", json={"name": "Summer Sale"}, headers=headers
    )
    assert rename.status_code == 409
    keyword = await api.post(
        f"/api/v1/ad-groups/{group['id']}/keywords", json={"text": "Running Shoes"}, headers=headers
    )
    assert keyword.status_code == 409
    ad = await api.post(f"/api/v1/ad-groups/{group['id']}/ads", json=AD, headers=headers)
    assert ad.status_code == 409

    tree = (await api.get(f"{SETS}/{created['id']}", headers=headers)).json()
    assert [c["name"] for c in tree["campaigns"]] == ["Summer Sale", "Winter Sale"]
    assert len(tree["campaigns"][0]["adGroups"][0]["keywords"]) == 2
    assert len(tree["campaigns"][0]["adGroups"][0]["ads"]) == 2
    # A name is unique per parent only.
    elsewhere = await api.post(
        f"/api/v1/campaigns/{winter['id']}/ad-groups", json=AD_GROUP, headers=headers
    )
    assert elsewhere.status_code == 201


async def test_ad_account_must_be_the_tenants_own(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    other_headers: dict[str, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    async with system_session(sessions, "cli") as session:
        mine = await AdAccountRepository(session).create(tenant_id, platform_account_id="a2_mine")
        await session.commit()
    theirs_set = await create_set(api, other_headers, campaigns=[])

    refused = await api.post(SETS, json=body(adAccountId=str(uuid.uuid4())), headers=headers)
    assert fields(refused) == ["adAccountId"]
    assert await list_sets(api, headers) == []

    created = await create_set(api, headers, adAccountId=str(mine.id))
    assert created["adAccountId"] == str(mine.id)
    # The other tenant cannot point its set at this tenant's account.
    stolen = await api.patch(
        f"{SETS}/{theirs_set['id']}", json={"adAccountId": str(mine.id)}, headers=other_headers
    )
    assert fields(stolen) == ["adAccountId"]
    cleared = await api.patch(
        f"{SETS}/{created['id']}", json={"adAccountId": None}, headers=headers
    )
    assert cleared.status_code == 200 and cleared.json()["adAccountId"] is None


async def test_ids_that_are_not_uuids_are_not_found_and_keys_are_required(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for path in [f"{SETS}/42", "/api/v1/campaigns/x", "/api/v1/ads/%00"]:
        assert (await api.get(path, headers=headers)).status_code == 404, path
    assert (await api.get(SETS)).status_code == 401
    assert (await api.post(SETS, json=SET)).status_code == 401
