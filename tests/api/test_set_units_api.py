"""Issue 9 item 10: campaign sets take money in currency units, checked against the currency's
precision (422 naming the field); the OpenAPI document says which unit each amount is in; and
examples/campaign-set.json is a set that validates and dry-runs clean."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.tenancy import system_session

SETS = "/api/v1/campaign-sets"
EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "campaign-set.json").read_text())


def example(**overrides: Any) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE) | overrides


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return sorted(problem["field"] for problem in response.json()["detail"])


async def test_amounts_finer_than_the_currency_are_refused_naming_the_field(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = example()
    body["campaigns"][1]["budget"]["amount"] = 120.555  # a tenth of a cent
    group = body["campaigns"][0]["adGroups"][0]
    group["budget"] = {"type": "daily", "amount": 5000.5, "currency": "JPY"}  # no decimals
    refused = await api.post(SETS, json=body, headers=headers)
    assert fields(refused) == ["campaigns.0.adGroups.0.budget.amount", "campaigns.1.budget.amount"]
    assert any("JPY" in p["message"] for p in refused.json()["detail"])
    body = example()
    body["campaigns"][0]["adGroups"][0]["bidAmount"] = 0.755
    refused = await api.post(SETS, json=body, headers=headers)
    assert fields(refused) == ["campaigns.0.adGroups.0.bidAmount"]
    assert (await api.get(SETS, headers=headers)).json()["items"] == []

    body = example()
    body["campaigns"][0]["adGroups"][0]["budget"] = {
        "type": "daily",
        "amount": 5000,
        "currency": "JPY",
    }
    body["campaigns"][0]["adGroups"][0]["bidAmount"] = 100
    assert (await api.post(SETS, json=body, headers=headers)).status_code == 201


async def test_a_patch_cannot_make_an_amount_too_precise(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = (await api.post(SETS, json=example(), headers=headers)).json()
    campaign = created["campaigns"][1]
    group = created["campaigns"][0]["adGroups"][0]
    refused = await api.patch(
        f"/api/v1/campaigns/{campaign['id']}",
        json={"budget": {"type": "daily", "amount": 10.001, "currency": "USD"}},
        headers=headers,
    )
    assert fields(refused) == ["budget.amount"]
    refused = await api.patch(
        f"/api/v1/ad-groups/{group['id']}", json={"bidAmount": 1.234}, headers=headers
    )
    assert fields(refused) == ["bidAmount"]


async def test_the_openapi_document_says_which_unit_each_amount_is_in(
    api: httpx.AsyncClient,
) -> None:
    schemas = (await api.get("/openapi.json")).json()["components"]["schemas"]
    budget = next(s for name, s in schemas.items() if name.startswith("BudgetIn"))
    assert "currency units" in budget["properties"]["amount"]["description"]
    assert "not micros" in budget["properties"]["amount"]["description"]
    ad_set = next(s for name, s in schemas.items() if name.startswith("AdSetPlan"))
    assert "micros" in ad_set["properties"]["dailyBudget"]["description"]
    assert "string" in ad_set["properties"]["dailyBudget"]["description"]


async def test_the_example_set_validates_and_dry_runs_clean(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    async with system_session(sessions, "cli") as session:
        account = await AdAccountRepository(session).create(
            tenant_id, platform_account_id="a2_example", profile_id="t2_example"
        )
        await session.commit()
    created = await api.post(SETS, json=example(adAccountId=str(account.id)), headers=headers)
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]

    validation = (await api.post(f"{SETS}/{set_id}/validate", headers=headers)).json()
    assert validation == {"valid": True, "platform": "reddit", "problems": []}
    dry = (await api.post(f"{SETS}/{set_id}/sync?dryRun=true", headers=headers)).json()
    assert dry["valid"] is True
    creates = [r for r in dry["requests"] if r["method"] == "POST"]
    assert len(creates) == 8  # 2 campaigns, 2 ad groups, 2 posts, 2 ads
    cbo = dry["requests"][4]["body"]["data"]
    assert cbo["is_campaign_budget_optimization"] is True
    assert cbo["goal_value"] == 120_500_000  # $120.50 in micros
    assert cbo["start_time"] == "2030-07-01T00:00:00Z"
