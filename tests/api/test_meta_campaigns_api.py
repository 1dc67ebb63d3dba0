"""The Meta campaign wizard through the API (no Temporal, no Graph): published section schemas,
section validation naming every failing field, prepare reporting every kind of problem at
once, and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.db.repositories.meta import MetaConnectionRepository
from flightdeck.db.tenancy import tenant_session
from tests.platforms.meta_support import sections

CAMPAIGNS = "/api/v1/meta/campaigns"


async def new_campaign(api: httpx.AsyncClient, headers: dict[str, str], goal: str = "leads") -> str:
    response = await api.post(
        CAMPAIGNS, json={"name": "Spring leads", "initialGoal": goal}, headers=headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["sections"] == {"goal": {"goal": goal}}
    campaign_id: str = response.json()["id"]
    return campaign_id


async def put(
    api: httpx.AsyncClient, headers: dict[str, str], campaign_id: str, section: str, body: Any
) -> httpx.Response:
    return await api.put(
        f"{CAMPAIGNS}/{campaign_id}/sections/{section}", json=body, headers=headers
    )


def fields(response: httpx.Response) -> set[str]:
    assert response.status_code == 422, response.text
    return {e["field"] for e in response.json()["detail"]}


async def test_every_section_schema_is_published(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    listed = (await api.get("/api/v1/meta/schemas", headers=headers)).json()["sections"]
    assert set(listed) == {"goal", "location", "budget", "adCopy", "adPreview", "metaConnection"}
    budget = (await api.get("/api/v1/meta/schemas/budget", headers=headers)).json()
    assert budget["$schema"].endswith("2020-12/schema") and "amount" in budget["required"]
    assert (await api.get("/api/v1/meta/schemas/nope", headers=headers)).status_code == 404


async def test_sections_are_validated_naming_each_field(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    campaign_id = await new_campaign(api, headers)
    bad_budget = {"type": "lifetime", "amount": -5, "currency": "USD"}
    assert fields(await put(api, headers, campaign_id, "budget", bad_budget)) == {
        "budget.amount", "budget.endTime", "budget.currency",
    }  # fmt: skip
    eu = {"countries": ["US", "DE"], "ageMin": 12}
    assert fields(await put(api, headers, campaign_id, "location", eu)) == {
        "location.ageMin", "location.dsaBeneficiary", "location.dsaPayor",
    }  # fmt: skip
    preview = {"ads": [{"name": "A", "copyVariation": 0, "imageUrl": "ftp://x/y.png",
                        "destination": {"type": "call", "url": "https://x.example"}}]}  # fmt: skip
    assert fields(await put(api, headers, campaign_id, "adPreview", preview)) == {
        "adPreview.ads.0.imageUrl", "adPreview.ads.0.destination.phoneNumber",
    }  # fmt: skip
    unknown = {"connectionId": str(uuid.uuid4())}
    assert fields(await put(api, headers, campaign_id, "metaConnection", unknown)) == {
        "metaConnection.connectionId"
    }
    assert (await put(api, headers, campaign_id, "nope", {})).status_code == 404
    broken = await api.put(
        f"{CAMPAIGNS}/{campaign_id}/sections/goal",
        content=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    ok = await put(api, headers, campaign_id, "location", sections()["location"])
    assert ok.status_code == 200 and ok.json()["sections"]["location"]["countries"] == ["US"]


async def test_a_fresh_campaign_lists_every_missing_part(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    campaign_id = await new_campaign(api, headers)
    prepared = (await api.post(f"{CAMPAIGNS}/{campaign_id}/prepare", headers=headers)).json()
    assert prepared["ready"] is False and prepared["publishData"] is None
    assert {(p["field"], p["code"]) for p in prepared["problems"]} == {
        ("location", "missing"), ("budget", "missing"), ("adCopy", "missing"),
        ("adPreview", "missing"), ("metaConnection", "missing"),
        ("metaConnection", "no_connection"),
    }  # fmt: skip


async def test_prepare_reports_every_kind_of_problem_at_once(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    connection_id = await broken_connection(sessions, tenant_id)
    campaign_id = await new_campaign(api, headers)
    data = sections(
        goal={"goal": "leads"},
        location={"countries": ["US"], "ageMin": 60, "ageMax": 30},
        budget={"type": "daily", "amount": 1.0},
        adPreview={
            "ads": [
                {
                    "name": "Call us",
                    "copyVariation": 7,
                    "imageUrl": "https://img.example.com/a.png",
                    "destination": {
                        "type": "call",
                        "url": "https://x.example",
                        "phoneNumber": "+15551234567",
                    },
                }
            ]
        },  # fmt: skip
        metaConnection={"connectionId": str(connection_id)},
    )
    for section, body in data.items():
        assert (await put(api, headers, campaign_id, section, body)).status_code == 200
    prepared = (await api.post(f"{CAMPAIGNS}/{campaign_id}/prepare", headers=headers)).json()
    codes = {p["code"] for p in prepared["problems"]}
    assert codes == {
        "token_expired", "missing_scopes", "account_not_active", "no_payment_method", "no_page",
        "destination_not_allowed", "unknown_copy", "invalid_ages", "budget_too_low",
    }, prepared["problems"]  # fmt: skip
    by_code = {p["code"]: p for p in prepared["problems"]}
    assert by_code["unknown_copy"]["field"] == "adPreview.ads.0.copyVariation"
    assert by_code["budget_too_low"]["field"] == "budget.amount"
    assert "ads_management" in by_code["missing_scopes"]["message"]
    assert prepared["ready"] is False and prepared["publishData"] is None


async def test_another_tenant_gets_404(
    api: httpx.AsyncClient, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    campaign_id = await new_campaign(api, headers)
    for method, path in (
        ("GET", f"{CAMPAIGNS}/{campaign_id}"),
        ("GET", f"{CAMPAIGNS}/{campaign_id}/ads"),
        ("PUT", f"{CAMPAIGNS}/{campaign_id}/sections/goal"),
        ("POST", f"{CAMPAIGNS}/{campaign_id}/prepare"),
        ("PATCH", f"{CAMPAIGNS}/{campaign_id}"),
    ):
        body = {"name": "x"} if method == "PATCH" else {"goal": "leads"}
        response = await api.request(method, path, json=body, headers=other_headers)
        assert response.status_code == 404, (method, path, response.text)
    listed = (await api.get(CAMPAIGNS, headers=other_headers)).json()["items"]
    assert campaign_id not in {c["id"] for c in listed}


async def broken_connection(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
) -> uuid.UUID:
    """A connection wrong in every way: expired token, a permission declined, a disabled
    ad account without payment, no Page."""
    async with tenant_session(sessions, tenant_id) as session, session.begin():
        repo = MetaConnectionRepository(session)
        row = await repo.start(
            tenant_id, user_id=None, state=uuid.uuid4().hex, expires_at=datetime.now(UTC)
        )
        await repo.update(
            tenant_id,
            row.id,
            oauth_state=None,
            connection_status="account_disabled",
            token_expires_at=datetime.now(UTC) - timedelta(days=1),
            scopes="ads_read pages_show_list",
            selected_ad_account_id="act_300000000000003",
            ad_account_status=2,
            ad_account_currency_code="USD",
            ad_account_payment_connected=False,
        )
    return row.id
