"""A campaign set targeting Google Ads, through the API: validated against Google's rules
(every problem with its field path) and dry-run, showing the exact googleAds:mutate requests a
sync would send (nothing sent: the test app has neither Temporal nor Google behind it)."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.tenancy import system_session

SETS = "/api/v1/campaign-sets"
CID = "1234567890"
AD = {
    "name": "Ad one",
    "headline": "Shoes for summer\nFree shipping\nAll sizes in stock",
    "description": "Light, breathable running shoes.\nReturns free for 60 days.",
    "finalUrl": "https://example.com/summer",
    "displayUrl": "example.com/summer/shoes",
}
GROUP = {
    "name": "Sneakerheads",
    "bidStrategy": "manual_cpc",
    "bidAmount": 0.75,
    "keywords": [{"text": "running shoes"}, {"text": "cheap", "negative": True}],
    "ads": [AD],
}
CAMPAIGN = {
    "name": "Summer Sale",
    "objective": "traffic",
    "budget": {"type": "daily", "amount": 50, "currency": "USD"},
    "adGroups": [GROUP],
}


async def google_account(sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID) -> str:
    async with system_session(sessions, "cli") as session:
        row = await AdAccountRepository(session).create(
            tenant_id, platform="google", platform_account_id=CID, refresh_token_encrypted=b"x"
        )
        await session.commit()
    return str(row.id)


async def make_set(
    api: httpx.AsyncClient, headers: dict[str, str], campaigns: list[Any], account_id: str
) -> dict[str, Any]:
    body = {
        "name": "Google set",
        "platform": "google",
        "adAccountId": account_id,
        "campaigns": copy.deepcopy(campaigns),
    }
    response = await api.post(SETS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_google_rules_with_field_paths(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    bad = copy.deepcopy(CAMPAIGN)
    bad["budget"] = {"type": "lifetime", "amount": 500, "currency": "USD"}
    bad["adGroups"][0]["ads"][0]["headline"] = "Only one headline"
    bad["adGroups"][0]["keywords"].append(
        {"text": "one two three four five six seven eight nine ten eleven"}
    )
    created = await make_set(api, headers, [bad], await google_account(sessions, tenant_id))
    result = (await api.post(f"{SETS}/{created['id']}/validate", headers=headers)).json()
    assert result["valid"] is False and result["platform"] == "google"
    fields = {p["field"]: p["message"] for p in result["problems"]}
    # Keywords are indexed as the set lists them (GET …/ad-groups/{id}/keywords order).
    keyword = next(f for f in fields if f.startswith("campaigns.0.adGroups.0.keywords."))
    assert "10 words" in fields[keyword]
    assert set(fields) == {
        "campaigns.0.budget.type",
        keyword,
        "campaigns.0.adGroups.0.ads.0.headline",
    }, result["problems"]

    good_body = {**copy.deepcopy(CAMPAIGN), "name": "Summer Sale 2"}
    good = await make_set(api, headers, [good_body], created["adAccountId"])
    result = (await api.post(f"{SETS}/{good['id']}/validate", headers=headers)).json()
    assert result == {"valid": True, "platform": "google", "problems": []}


async def test_a_dry_run_shows_the_mutates(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    created = await make_set(api, headers, [CAMPAIGN], await google_account(sessions, tenant_id))
    response = await api.post(f"{SETS}/{created['id']}/sync?dryRun=true", headers=headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["valid"] is True
    paths = [(r["method"], r["path"]) for r in result["requests"]]
    mutate = ("POST", f"/v25/customers/{CID}/googleAds:mutate")
    assert paths == [mutate, mutate, mutate], paths
    campaign_ops, group_ops, ad_ops = (r["body"]["mutateOperations"] for r in result["requests"])
    assert [next(iter(op)) for op in campaign_ops] == [
        "campaignBudgetOperation",
        "campaignOperation",
    ]
    campaign = campaign_ops[1]["campaignOperation"]["create"]
    # Entity by entity the campaign's bidding follows the objective (traffic: Maximize Clicks);
    # only a whole-tree create knows every ad group bids manual CPC.
    assert campaign["status"] == "PAUSED" and campaign["targetSpend"] == {}
    assert campaign_ops[0]["campaignBudgetOperation"]["create"]["amountMicros"] == "50000000"
    assert [next(iter(op)) for op in group_ops] == ["adGroupOperation"] + [
        "adGroupCriterionOperation"
    ] * 2
    assert group_ops[0]["adGroupOperation"]["create"]["cpcBidMicros"] == "750000"
    negative = group_ops[2]["adGroupCriterionOperation"]["create"]
    assert negative["negative"] is True and negative["keyword"]["text"] == "cheap"
    assert [next(iter(op)) for op in ad_ops] == [
        "labelOperation",
        "adGroupAdOperation",
        "adGroupAdLabelOperation",
    ]
    rsa = ad_ops[1]["adGroupAdOperation"]["create"]["ad"]["responsiveSearchAd"]
    assert len(rsa["headlines"]) == 3 and (rsa["path1"], rsa["path2"]) == ("summer", "shoes")
