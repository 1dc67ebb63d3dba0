"""Issue 9 item 9: a campaign set is checked against Reddit's rules as a whole — every problem
at once, with field paths — before a sync; a sync of a set with problems never starts, and a dry
run shows the exact requests a sync would send without sending any."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.repositories.campaign_sets import (
    CampaignSetRepository,
    to_ad_group_spec,
    to_ad_spec,
    to_campaign_spec,
)
from flightdeck.db.repositories.sync_records import SyncRecordRepository
from flightdeck.db.tenancy import system_session
from flightdeck.domain.adoption import entity_ref

SETS = "/api/v1/campaign-sets"
AD = {
    "name": "Ad one",
    "headline": "Shoes for summer",
    "finalUrl": "https://example.com/summer",
    "callToAction": "SHOP_NOW",
}
GOOD_GROUP = {
    "name": "Sneakerheads",
    "bidStrategy": "manual_cpc",
    "bidAmount": 0.75,
    "budget": {"type": "daily", "amount": 50, "currency": "USD"},
    "targeting": {"communities": ["sneakers"], "geolocations": ["US"]},
    "keywords": [{"text": "running shoes"}, {"text": "cheap", "negative": True}],
    "ads": [AD],
}
GOOD = {"name": "Summer Sale", "objective": "traffic", "adGroups": [GOOD_GROUP]}
# The five problems the issue saw one sync at a time, in one two-campaign set.
BAD_CBO = {
    "name": "Budget optimized",
    "objective": "traffic",
    "budgetOptimization": True,
    "budget": {"type": "daily", "amount": 100, "currency": "USD"},
    # no startTime: CBO needs one
    "adGroups": [
        {
            "name": "With its own budget",
            "bidStrategy": "manual_cpc",  # CBO forbids manual bids
            "bidAmount": 1,
            "budget": {"type": "daily", "amount": 10, "currency": "USD"},  # and ad-group budgets
            "ads": [AD],
        }
    ],
}
BAD_CPM = {
    "name": "Awareness",
    "objective": "awareness",
    "adGroups": [
        {
            "name": "Cheap impressions",
            "bidStrategy": "manual_cpm",
            "bidAmount": 2,  # a CPM bid must be 3.50-100
            "budget": {"type": "lifetime", "amount": 500, "currency": "USD"},  # needs an end
            "ads": [AD],
        }
    ],
}


async def account(sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID) -> str:
    async with system_session(sessions, "cli") as session:
        row = await AdAccountRepository(session).create(
            tenant_id,
            platform_account_id="a2_validate",
            funding_instrument_id="fi_1",
            profile_id="t2_profile",
        )
        await session.commit()
    return str(row.id)


async def make_set(
    api: httpx.AsyncClient, headers: dict[str, str], campaigns: list[Any], account_id: str | None
) -> dict[str, Any]:
    body = {"name": "Validated", "adAccountId": account_id, "campaigns": copy.deepcopy(campaigns)}
    response = await api.post(SETS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_validate_returns_every_problem_of_the_set_at_once_with_field_paths(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    created = await make_set(api, headers, [BAD_CBO, BAD_CPM], await account(sessions, tenant_id))

    response = await api.post(f"{SETS}/{created['id']}/validate", headers=headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["valid"] is False and result["platform"] == "reddit"
    fields = {p["field"]: p["message"] for p in result["problems"]}
    assert set(fields) == {
        "campaigns.0.startTime",
        "campaigns.0.adGroups.0.budget",
        "campaigns.0.adGroups.0.bidStrategy",
        "campaigns.0.adGroups.0.bidAmount",
        "campaigns.1.adGroups.0.bidAmount",
        "campaigns.1.adGroups.0.endTime",
    }, result["problems"]
    assert "3.5" in fields["campaigns.1.adGroups.0.bidAmount"]
    group_id = created["campaigns"][0]["adGroups"][0]["id"]
    located = [p for p in result["problems"] if p["field"] == "campaigns.0.adGroups.0.budget"]
    assert located[0]["entityType"] == "ad_group" and located[0]["entityId"] == group_id


async def test_a_sync_of_a_set_with_problems_is_refused_listing_every_problem(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    created = await make_set(api, headers, [BAD_CBO, BAD_CPM], await account(sessions, tenant_id))

    # The test app has no Temporal: a sync that got past validation would fail differently.
    refused = await api.post(f"{SETS}/{created['id']}/sync", headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "validation_error"
    assert len(refused.json()["detail"]) == 6
    after = (await api.get(f"{SETS}/{created['id']}", headers=headers)).json()
    assert after["syncStatus"] == "pending"  # nothing started, nothing marked


async def test_a_valid_set_validates_clean(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    created = await make_set(api, headers, [GOOD], await account(sessions, tenant_id))
    result = (await api.post(f"{SETS}/{created['id']}/validate", headers=headers)).json()
    assert result == {"valid": True, "platform": "reddit", "problems": []}


async def test_a_set_without_a_usable_account_is_a_problem_named_adAccountId(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    created = await make_set(api, headers, [GOOD], None)
    result = (await api.post(f"{SETS}/{created['id']}/validate", headers=headers)).json()
    assert [p["field"] for p in result["problems"]] == ["adAccountId"]

    account_id = await account(sessions, tenant_id)
    async with system_session(sessions, "cli") as session:
        await AdAccountRepository(session).set_status(
            tenant_id, uuid.UUID(account_id), "reauth_required"
        )
        await session.commit()
    await api.patch(f"{SETS}/{created['id']}", json={"adAccountId": account_id}, headers=headers)
    result = (await api.post(f"{SETS}/{created['id']}/validate", headers=headers)).json()
    assert [p["field"] for p in result["problems"]] == ["adAccountId"]
    assert "reauth_required" in result["problems"][0]["message"]


async def test_a_dry_run_returns_the_exact_requests_and_sends_nothing(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    created = await make_set(api, headers, [GOOD], await account(sessions, tenant_id))

    # No Temporal and no Reddit behind the test app: a dry run needs neither.
    response = await api.post(f"{SETS}/{created['id']}/sync?dryRun=true", headers=headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["dryRun"] is True and result["valid"] is True and result["problems"] == []
    steps = [(r["method"], r["path"]) for r in result["requests"]]
    assert steps == [
        ("POST", "/ad_accounts/a2_validate/campaigns"),
        ("POST", "/ad_accounts/a2_validate/ad_groups"),
        ("POST", "/profiles/t2_profile/posts"),
        ("POST", "/ad_accounts/a2_validate/ads"),
    ]
    campaign, group, post, ad = (r["body"]["data"] for r in result["requests"])
    # Each create carries the entity's adoption marker, as a real sync sends it.
    campaign_id = created["campaigns"][0]["id"]
    assert campaign == {
        "name": f"Summer Sale [fd:{entity_ref('campaign', campaign_id)}]",
        "objective": "CLICKS",
        "configured_status": "PAUSED",
        "is_campaign_budget_optimization": False,
        "funding_instrument_id": "fi_1",
    }
    assert group["campaign_id"] == "{campaigns.0}"  # Reddit's id, once it exists
    assert group["goal_value"] == 50_000_000 and group["bid_value"] == 750_000
    assert group["targeting"]["keywords"] == ["running shoes"]
    assert group["targeting"]["excluded_keywords"] == ["cheap"]
    assert post["headline"] == "Shoes for summer"
    assert ad["ad_group_id"] == "{campaigns.0.adGroups.0}"
    assert ad["post_id"] == "{campaigns.0.adGroups.0.ads.0.creative}"
    assert result["requests"][1]["entityPath"] == "campaigns.0.adGroups.0"
    after = (await api.get(f"{SETS}/{created['id']}", headers=headers)).json()
    assert after["syncStatus"] == "pending"


async def test_a_dry_run_of_a_synced_set_patches_only_what_changed(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    created = await make_set(api, headers, [GOOD], await account(sessions, tenant_id))
    tree = created["campaigns"][0]
    group, ad = tree["adGroups"][0], tree["adGroups"][0]["ads"][0]
    # What the sync records after pushing each entity (its snapshot is the diff's base).
    async with system_session(sessions, "cli") as session:
        sets, records = CampaignSetRepository(session), SyncRecordRepository(session)
        loaded = await sets.get_tree(tenant_id, uuid.UUID(created["id"]))
        assert loaded is not None
        c = loaded.campaigns[0]
        g = c.ad_groups[0]
        for kind, entity_id, platform_id, spec in (
            ("campaign", c.id, "c1", to_campaign_spec(c)),
            ("ad_group", g.id, "g1", to_ad_group_spec(g, g.keywords)),
            ("ad", g.ads[0].id, "ad1", to_ad_spec(g.ads[0])),
        ):
            await records.begin(tenant_id, kind, entity_id, "reddit")  # type: ignore[arg-type]
            await records.mark_synced(
                tenant_id,
                kind,  # type: ignore[arg-type]
                entity_id,
                "reddit",
                platform_id=platform_id,
                snapshot=spec.model_dump(mode="json"),
            )
            await sets.record_sync_result(
                tenant_id,
                kind,  # type: ignore[arg-type]
                entity_id,
                sync_status="synced",
                platform_id=platform_id,
                platform_post_id="t3_post" if kind == "ad" else None,
            )
        await session.commit()
    renamed = await api.patch(
        f"/api/v1/ad-groups/{group['id']}", json={"name": "Sneaker fans"}, headers=headers
    )
    assert renamed.status_code == 200, renamed.text

    result = (await api.post(f"{SETS}/{created['id']}/sync?dryRun=true", headers=headers)).json()
    assert [(r["method"], r["path"], r["body"]) for r in result["requests"]] == [
        ("PATCH", "/ad_groups/g1", {"data": {"name": "Sneaker fans"}})
    ]
    assert result["requests"][0]["entityId"] == group["id"]

    # A removed ad is deleted on Reddit (no DELETE exists: a status PATCH), never recreated.
    assert (await api.delete(f"/api/v1/ads/{ad['id']}", headers=headers)).status_code == 202
    result = (await api.post(f"{SETS}/{created['id']}/sync?dryRun=true", headers=headers)).json()
    assert [(r["method"], r["path"], r["body"]) for r in result["requests"]] == [
        ("PATCH", "/ad_groups/g1", {"data": {"name": "Sneaker fans"}}),
        ("PATCH", "/ads/ad1", {"data": {"configured_status": "DELETED"}}),
    ]
