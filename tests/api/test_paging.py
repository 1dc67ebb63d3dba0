"""Every list endpoint pages for real, driven by the OpenAPI document's own list of them: for
each one, more rows than a page holds are made, the pages are walked with `?limit=2`, and every
row comes back exactly once, in the order one big page shows them, with `nextCursor` null on the
last page; a `limit` beyond the bounds and a cursor the list did not hand out are 422s naming
the parameter. A new list endpoint without a walker here fails `test_every_list_has_a_walker`."""

from __future__ import annotations

import argparse
import copy
import io
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.console.api_client import Api
from flightdeck.db.models import (
    AdAccount,
    AiActionLog,
    AiRecommendation,
    Alert,
    AssetReuse,
    AuditLogEntry,
    BudgetAllocation,
    CampaignAsset,
    CampaignMetaConnection,
    MetaAd,
    MetaCampaign,
    MetricsSyncRun,
    PlatformCampaign,
    SyncBackRun,
    SyncConflict,
)
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.metrics import MetricsStore
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.metrics import MetricRow
from flightdeck.remote_cli import Remote
from flightdeck.remote_cli import _dispatch as dispatch
from tests.api.conftest import new_tenant
from tests.api.test_api_consistency import json_responses
from tests.api.test_campaign_sets_api import AD, AD_GROUP, CAMPAIGN
from tests.db.support import names_for, plan_in

V1 = "/api/v1"
ROWS = 5  # more than two pages of `limit=2`
Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Listing:
    """One list to walk: its URL, query, and the key of each item it must return."""

    url: str
    expected: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    key: Callable[[dict[str, Any]], str] = lambda item: str(item["id"])


@dataclass
class Ctx:
    api: httpx.AsyncClient
    sessions: Sessions
    tenant_id: uuid.UUID
    headers: dict[str, str]

    async def add(self, *rows: Any) -> list[str]:
        async with tenant_session(self.sessions, self.tenant_id) as session, session.begin():
            session.add_all(rows)
        return [str(r.id) for r in rows]

    async def post(self, path: str, body: Any) -> dict[str, Any]:
        response = await self.api.post(f"{V1}{path}", json=body, headers=self.headers)
        assert response.status_code < 300, response.text
        created: dict[str, Any] = response.json()
        return created


def ago(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def tag() -> str:
    return uuid.uuid4().hex[:8]


# -- one seeder per list: ROWS (or more) rows of a fresh tenant ----------------------------------

Seeder = Callable[[Ctx], Awaitable[Listing]]
SEEDERS: dict[str, Seeder] = {}


def seeds(operation: str) -> Callable[[Seeder], Seeder]:
    def register(seeder: Seeder) -> Seeder:
        SEEDERS[operation] = seeder
        return seeder

    return register


@seeds("GET /api/v1/campaign-plans")
async def _plans(ctx: Ctx) -> Listing:
    made = []
    async with tenant_session(ctx.sessions, ctx.tenant_id) as session, session.begin():
        for i in range(ROWS):
            plan = plan_in(requestId=f"req-{tag()}-{i}")
            row = await CampaignPlanRepository(session).create(
                ctx.tenant_id, plan, names_for(plan), f"wf-{tag()}"
            )
            made.append(str(row.id))
    return Listing(f"{V1}/campaign-plans", made)


@seeds("GET /api/v1/ad-accounts")
async def _ad_accounts(ctx: Ctx) -> Listing:
    rows = [
        AdAccount(tenant_id=ctx.tenant_id, platform="reddit", platform_account_id=f"t2_{tag()}")
        for _ in range(ROWS)
    ]
    return Listing(f"{V1}/ad-accounts", await ctx.add(*rows))


def _tree() -> dict[str, Any]:
    group = copy.deepcopy(AD_GROUP)
    group["ads"] = [{**AD, "name": f"Ad {i}"} for i in range(ROWS)]
    group["keywords"] = [{"text": f"word {i}", "negative": i % 2 == 1} for i in range(ROWS)]
    campaigns = [{**copy.deepcopy(CAMPAIGN), "name": f"Campaign {i}"} for i in range(ROWS)]
    campaigns[0]["adGroups"] = [{**group, "name": f"Group {i}"} for i in range(ROWS)]
    return {"name": f"Set {tag()}", "campaigns": campaigns}


@seeds("GET /api/v1/campaign-sets")
async def _sets(ctx: Ctx) -> Listing:
    made = [(await ctx.post("/campaign-sets", {"name": f"Set {i}"}))["id"] for i in range(ROWS)]
    return Listing(f"{V1}/campaign-sets", made)


@seeds("GET /api/v1/campaign-sets/{set_id}/campaigns")
async def _campaigns(ctx: Ctx) -> Listing:
    made = await ctx.post("/campaign-sets", _tree())
    return Listing(
        f"{V1}/campaign-sets/{made['id']}/campaigns", [c["id"] for c in made["campaigns"]]
    )


@seeds("GET /api/v1/campaigns/{campaign_id}/ad-groups")
async def _ad_groups(ctx: Ctx) -> Listing:
    campaign = (await ctx.post("/campaign-sets", _tree()))["campaigns"][0]
    groups = [g["id"] for g in campaign["adGroups"]]
    return Listing(f"{V1}/campaigns/{campaign['id']}/ad-groups", groups)


@seeds("GET /api/v1/ad-groups/{ad_group_id}/ads")
async def _ads(ctx: Ctx) -> Listing:
    group = (await ctx.post("/campaign-sets", _tree()))["campaigns"][0]["adGroups"][0]
    return Listing(f"{V1}/ad-groups/{group['id']}/ads", [a["id"] for a in group["ads"]])


@seeds("GET /api/v1/ad-groups/{ad_group_id}/keywords")
async def _keywords(ctx: Ctx) -> Listing:
    group = (await ctx.post("/campaign-sets", _tree()))["campaigns"][0]["adGroups"][0]
    return Listing(f"{V1}/ad-groups/{group['id']}/keywords", [k["id"] for k in group["keywords"]])


@seeds("GET /api/v1/audit-log")
async def _audit_log(ctx: Ctx) -> Listing:
    rows = [
        AuditLogEntry(
            tenant_id=ctx.tenant_id,
            actor="test",
            action="paging.checked",
            entity_type="paging",
            entity_id=str(i),
            created_at=ago(i % 2),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/audit-log", await ctx.add(*rows), {"action": "paging.checked"})


@seeds("GET /api/v1/sync-back/runs")
async def _sync_back_runs(ctx: Ctx) -> Listing:
    rows = [
        SyncBackRun(
            tenant_id=ctx.tenant_id,
            cycle_id=f"cycle-{tag()}",
            trigger="manual",
            ad_account_id=uuid.uuid4(),
            created_at=ago(i % 2),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/sync-back/runs", await ctx.add(*rows))


@seeds("GET /api/v1/conflicts")
async def _conflicts(ctx: Ctx) -> Listing:
    rows = [
        SyncConflict(
            tenant_id=ctx.tenant_id,
            entity_type="campaign",
            entity_id=uuid.uuid4(),
            platform="reddit",
            platform_id=f"p-{tag()}",
            fields=[],
            workflow_id=f"wf-{tag()}",
        )  # fmt: skip
        for _ in range(ROWS)
    ]
    return Listing(f"{V1}/conflicts", await ctx.add(*rows))


@seeds("GET /api/v1/users")
async def _users(ctx: Ctx) -> Listing:
    first = (await ctx.api.get(f"{V1}/users", headers=ctx.headers)).json()["items"]
    made = [
        (await ctx.post("/users", {"name": f"user{i}-{tag()}", "role": "viewer"}))["id"]
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/users", [u["id"] for u in first] + made)


@seeds("GET /api/v1/publish-targets")
async def _publish_targets(ctx: Ctx) -> Listing:
    made = [
        (await ctx.post("/publish-targets", {"kind": kind, "value": f"{prefix}{i}"}))["id"]
        for i in range(3)
        for kind, prefix in (("strategis_organization", "org-"), ("facebook_ad_account", "act_"))
    ]
    return Listing(f"{V1}/publish-targets", made)


async def _spaces(ctx: Ctx, **body: Any) -> list[str]:
    return [
        (
            await ctx.post(
                "/campaign-spaces", {"campaignName": f"space {i}", "platform": "reddit", **body}
            )
        )["id"]  # fmt: skip
        for i in range(ROWS)
    ]


@seeds("GET /api/v1/campaign-spaces")
async def _campaign_spaces(ctx: Ctx) -> Listing:
    return Listing(f"{V1}/campaign-spaces", await _spaces(ctx))


@seeds("GET /api/v1/campaign-spaces/templates")
async def _templates(ctx: Ctx) -> Listing:
    made = await _spaces(ctx)
    for space in made:
        await ctx.post(f"/campaign-spaces/{space}/mark-as-template", None)
    return Listing(f"{V1}/campaign-spaces/templates", made)


async def _assets(ctx: Ctx) -> tuple[str, list[str]]:
    (space,) = (await _spaces(ctx))[:1]
    rows = [
        CampaignAsset(
            tenant_id=ctx.tenant_id,
            campaign_space_id=uuid.UUID(space),
            asset_name=f"asset {i}",
            asset_type="image",
            created_at=ago(i % 2),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return space, await ctx.add(*rows)


@seeds("GET /api/v1/campaign-assets/campaign-spaces/{space_id}/assets")
async def _space_assets(ctx: Ctx) -> Listing:
    space, made = await _assets(ctx)
    return Listing(f"{V1}/campaign-assets/campaign-spaces/{space}/assets", made)


@seeds("GET /api/v1/campaign-assets/assets")
async def _all_assets(ctx: Ctx) -> Listing:
    _, made = await _assets(ctx)
    return Listing(f"{V1}/campaign-assets/assets", made)


@seeds("GET /api/v1/campaign-assets/{asset_id}/reuses")
async def _reuses(ctx: Ctx) -> Listing:
    _, (asset, *_) = await _assets(ctx)
    rows = [
        AssetReuse(
            tenant_id=ctx.tenant_id,
            asset_id=uuid.UUID(asset),
            actor="user",
            reused_in_type="campaign",
            reused_in_id=f"c-{i}",
            reused_at=ago(i % 2),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/campaign-assets/{asset}/reuses", await ctx.add(*rows))


@seeds("GET /api/v1/meta/connections")
async def _meta_connections(ctx: Ctx) -> Listing:
    rows = [
        CampaignMetaConnection(tenant_id=ctx.tenant_id, connection_status="connected")
        for _ in range(ROWS)
    ]
    return Listing(f"{V1}/meta/connections", await ctx.add(*rows))


@seeds("GET /api/v1/meta/campaigns")
async def _meta_campaigns(ctx: Ctx) -> Listing:
    rows = [MetaCampaign(tenant_id=ctx.tenant_id, name=f"Meta {i}") for i in range(ROWS)]
    return Listing(f"{V1}/meta/campaigns", await ctx.add(*rows))


@seeds("GET /api/v1/meta/campaigns/{campaign_id}/ads")
async def _meta_ads(ctx: Ctx) -> Listing:
    (campaign,) = await ctx.add(MetaCampaign(tenant_id=ctx.tenant_id, name="With ads"))
    rows = [
        MetaAd(
            tenant_id=ctx.tenant_id, campaign_id=uuid.UUID(campaign), position=i, name=f"Ad {i}"
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/meta/campaigns/{campaign}/ads", await ctx.add(*rows))


async def _registry(ctx: Ctx, platforms: tuple[str, ...] = ("meta",)) -> list[str]:
    rows = [
        PlatformCampaign(
            tenant_id=ctx.tenant_id,
            platform=platforms[i % len(platforms)],
            account_id="act_1",
            platform_campaign_id=f"pc-{tag()}",
            name=f"Campaign {i}",
            created_at=ago(i % 2),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return await ctx.add(*rows)


async def _metrics(ctx: Ctx, campaigns: list[str], currency: Callable[[int], str]) -> None:
    today = datetime.now(UTC).date()
    async with tenant_session(ctx.sessions, ctx.tenant_id) as session, session.begin():
        await MetricsStore(session).upsert(
            ctx.tenant_id,
            [
                (uuid.UUID(c), MetricRow(f"pc-{i}", today - timedelta(days=d), 100, 10,
                                         Decimal(10 + i % 2), 1, Decimal(20), currency(i)))
                for i, c in enumerate(campaigns)
                for d in range(2)
            ],
        )  # fmt: skip


@seeds("GET /api/v1/metrics/campaigns")
async def _metrics_campaigns(ctx: Ctx) -> Listing:
    return Listing(f"{V1}/metrics/campaigns", await _registry(ctx))


@seeds("GET /api/v1/metrics/sync-runs")
async def _metrics_sync_runs(ctx: Ctx) -> Listing:
    rows = [
        MetricsSyncRun(
            tenant_id=ctx.tenant_id,
            cycle_id=f"cycle-{tag()}",
            trigger="api",
            platform="meta",
            connection_id=uuid.uuid4(),
            account_id="act_1",
            created_at=ago(i % 2),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/metrics/sync-runs", await ctx.add(*rows))


@seeds("GET /api/v1/metrics/performance")
async def _performance(ctx: Ctx) -> Listing:
    campaigns = await _registry(ctx)
    await _metrics(ctx, campaigns, lambda _: "USD")
    # Spend ties (10 or 11 a day): the campaign id breaks them, across pages too.
    key: Callable[[dict[str, Any]], str] = lambda item: item["campaignId"]  # noqa: E731
    return Listing(f"{V1}/metrics/performance", campaigns, {"sort": "spend"}, key)


@seeds("GET /api/v1/metrics/platforms")
async def _platforms(ctx: Ctx) -> Listing:
    campaigns = await _registry(ctx, ("meta", "reddit", "google"))
    currencies = ("USD", "EUR")
    await _metrics(ctx, campaigns, lambda i: currencies[i // 3])
    groups = {(("meta", "reddit", "google")[i % 3], currencies[i // 3]) for i in range(ROWS)}
    key: Callable[[dict[str, Any]], str] = lambda item: f"{item['platform']}/{item['currency']}"  # noqa: E731
    return Listing(f"{V1}/metrics/platforms", [f"{p}/{c}" for p, c in groups], {}, key)


@seeds("GET /api/v1/metrics/series")
async def _series(ctx: Ctx) -> Listing:
    campaigns = await _registry(ctx)
    await _metrics(ctx, campaigns, lambda _: "USD")
    key: Callable[[dict[str, Any]], str] = lambda item: item["campaignId"]  # noqa: E731
    return Listing(f"{V1}/metrics/series", campaigns, {"campaignId": campaigns}, key)


@seeds("GET /api/v1/alerts")
async def _alerts(ctx: Ctx) -> Listing:
    rows = [
        Alert(
            tenant_id=ctx.tenant_id,
            alert_type="conflict_escalated",
            severity=("CRITICAL", "LOW")[i % 2],
            entity_type="ad_group",
            entity_id=str(uuid.uuid4()),
            message=f"alert {i}",
            created_at=ago(i // 2),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/alerts", await ctx.add(*rows))


@seeds("GET /api/v1/recommendations")
async def _recommendations(ctx: Ctx) -> Listing:
    rows = [
        AiRecommendation(
            tenant_id=ctx.tenant_id,
            recommendation_type="PAUSE_CAMPAIGN",
            recommendation_text=f"pause {i}",
            confidence_score=Decimal("0.5") + i % 2,
            action_type="PAUSE",
            change_key=f"PAUSE:{tag()}",
            proposed_change={},
            data={},
            created_at=ago(i % 2),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/recommendations", await ctx.add(*rows))


@seeds("GET /api/v1/budget-allocations")
async def _allocations(ctx: Ctx) -> Listing:
    rows = [
        BudgetAllocation(
            tenant_id=ctx.tenant_id,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 1, 31),
            total_budget=Decimal(100),
            currency="USD",
            allocations={},
            created_by="test",
            created_at=ago(i % 2),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/budget-allocations", await ctx.add(*rows))


@seeds("GET /api/v1/actions")
async def _actions(ctx: Ctx) -> Listing:
    rows = [
        AiActionLog(
            tenant_id=ctx.tenant_id,
            action_type="PAUSE",
            platform="meta",
            previous_state={},
            new_state={},
            proposed_by="test",
            expires_at=ago(-60),
            workflow_id=f"wf-{tag()}",
            # Executed ones first (newest first), then those not executed, newest first.
            executed_at=ago(i) if i % 2 else None,
            created_at=ago(i % 3),
        )  # fmt: skip
        for i in range(ROWS)
    ]
    return Listing(f"{V1}/actions", await ctx.add(*rows))


# -- the tests ---------------------------------------------------------------------------------


def list_operations() -> set[str]:
    from flightdeck.api.app import create_app
    from flightdeck.settings import Settings

    app = create_app(Settings(environment="test"), sessions=object(), temporal=object())  # type: ignore[arg-type]
    document: dict[str, Any] = app.openapi()
    schemas = document["components"]["schemas"]
    found = set()
    for operation, schema in json_responses(document):
        name = schema.get("$ref", "").rsplit("/", 1)[-1]
        if schemas.get(name, {}).get("properties", {}).get("items", {}).get("type") == "array":
            found.add(operation)
    return found


def test_every_list_has_a_walker() -> None:
    assert list_operations() == set(SEEDERS)


async def get(
    api: httpx.AsyncClient, listing: Listing, headers: dict[str, str], **params: Any
) -> Any:
    response = await api.get(listing.url, params={**listing.params, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("operation", sorted(SEEDERS))
async def test_pages_return_every_row_once(
    operation: str, api: httpx.AsyncClient, sessions: Sessions
) -> None:
    tenant_id, headers = await new_tenant(sessions)
    listing = await SEEDERS[operation](Ctx(api, sessions, tenant_id, headers))
    whole = await get(api, listing, headers, limit=200)
    assert whole["nextCursor"] is None
    order = [listing.key(item) for item in whole["items"]]
    assert sorted(order) == sorted(listing.expected) and len(order) > 2

    walked: list[str] = []
    cursor, pages = None, 0
    while True:
        page = await get(api, listing, headers, limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2
        walked += [listing.key(item) for item in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
        assert pages <= len(order), "the cursor must move on"
    assert walked == order, "every row once, in the order of one big page"
    assert pages == (len(order) + 1) // 2

    for limit in (0, 201):
        refused = await api.get(
            listing.url, params={**listing.params, "limit": limit}, headers=headers
        )
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["detail"]] == ["limit"]
    for cursor in ("not-a-cursor", "W10", "x" * 1001):
        refused = await api.get(
            listing.url, params={**listing.params, "cursor": cursor}, headers=headers
        )
        assert refused.status_code == 422, cursor
        assert refused.json()["error"] == "validation_error"
        assert [e["field"] for e in refused.json()["detail"]] == ["cursor"]


async def test_a_cursor_belongs_to_its_list(api: httpx.AsyncClient, sessions: Sessions) -> None:
    tenant_id, headers = await new_tenant(sessions)
    ctx = Ctx(api, sessions, tenant_id, headers)
    plans, runs = await _plans(ctx), await _sync_back_runs(ctx)
    cursor = (await get(api, plans, headers, limit=2))["nextCursor"]
    refused = await api.get(runs.url, params={"cursor": cursor}, headers=headers)
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "cursor"


async def test_pages_are_stable_under_inserts(api: httpx.AsyncClient, sessions: Sessions) -> None:
    """Rows added between two pages neither repeat a row nor hide one: newest-first lists put
    them before the cursor (seen on a fresh walk), oldest-first lists after it."""
    tenant_id, headers = await new_tenant(sessions)
    ctx = Ctx(api, sessions, tenant_id, headers)
    plans = await _plans(ctx)
    users = await _users(ctx)
    newest, oldest = (
        await get(api, plans, headers, limit=2),
        await get(api, users, headers, limit=2),
    )
    added_plans = (await _plans(ctx)).expected
    added_users = (await _users(ctx)).expected[-ROWS:]

    async def rest(listing: Listing, page: dict[str, Any]) -> list[str]:
        seen = [listing.key(i) for i in page["items"]]
        while page["nextCursor"]:
            page = await get(api, listing, headers, limit=2, cursor=page["nextCursor"])
            seen += [listing.key(i) for i in page["items"]]
        return seen

    assert sorted(await rest(plans, newest)) == sorted(plans.expected)
    assert sorted(await rest(users, oldest)) == sorted(users.expected + added_users)
    assert not set(added_plans) & set(plans.expected)


async def test_the_console_and_the_remote_cli_follow_next_cursor(
    api: httpx.AsyncClient, sessions: Sessions
) -> None:
    """Lists they need whole (open conflicts, actions waiting) span pages of the largest size."""
    tenant_id, headers = await new_tenant(sessions)
    ctx = Ctx(api, sessions, tenant_id, headers)
    many = 205
    conflicts = [
        SyncConflict(
            tenant_id=tenant_id,
            entity_type="campaign",
            entity_id=uuid.uuid4(),
            platform="reddit",
            platform_id=f"p-{i}",
            fields=[],
            workflow_id=f"wf-{tag()}",
        )  # fmt: skip
        for i in range(many)
    ]
    expected = set(await ctx.add(*conflicts))
    app = api._transport.app  # type: ignore[attr-defined]  # the app under test

    console = Api(app, headers["Authorization"].removeprefix("Bearer "))
    try:
        listed = await console.get_all("/api/v1/conflicts", status="open")
    finally:
        await console.aclose()
    assert {c["id"] for c in listed["items"]} == expected and listed["nextCursor"] is None

    out = io.StringIO()
    transport = api._transport  # type: ignore[attr-defined]
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api", headers=headers
    ) as http:
        args = argparse.Namespace(command="conflicts", conflicts_command="list", status="open")
        assert await dispatch(Remote(http, out, as_json=True), args) == 0
    assert {c["id"] for c in json.loads(out.getvalue())["items"]} == expected
