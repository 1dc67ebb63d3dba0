"""Seed 004's storage on a real Postgres: the registry upsert (one row per tenant, platform and
campaign id), bulk idempotent metric upserts into monthly partitions created on demand, the
seed's queries (ROAS order, per platform, daily series), and the alert lifecycle (one open per
campaign and type, re-fire updates, cooldown after resolution, auto-resolution)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Tenant
from flightdeck.db.repositories.alerts import AlertLifecycle
from flightdeck.db.repositories.metrics import MetricsStore
from flightdeck.db.repositories.platform_campaigns import PlatformCampaignRepository
from flightdeck.domain.alerts import Evaluation
from flightdeck.domain.metrics import MetricRow
from flightdeck.platforms.reporting import DiscoveredCampaign, ReportingAccount

NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)


def account(tenant: Tenant, platform: str = "meta") -> ReportingAccount:
    return ReportingAccount(tenant.id, platform, uuid.uuid4(), "act_1", "USD")


def discovered(campaign_id: str, name: str, budget: str = "50") -> DiscoveredCampaign:
    return DiscoveredCampaign(
        platform_campaign_id=campaign_id, name=name, status="active", platform_status="ACTIVE",
        objective="OUTCOME_SALES", budget_amount=Decimal(budget), budget_type="daily",
        budget_owner="campaign", currency="USD",
    )  # fmt: skip


def row(campaign: str, day: date, spend: str, revenue: str, conversions: int = 2) -> MetricRow:
    return MetricRow(campaign, day, 1000, 40, Decimal(spend), conversions, Decimal(revenue), "USD")


async def test_registry_upsert_keeps_one_row_per_campaign_and_counts_new_ones(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    registry = PlatformCampaignRepository(session)
    mine = account(tenant)
    assert (
        await registry.upsert_discovered(mine, [discovered("1", "A"), discovered("2", "B")], NOW)
        == 2
    )
    assert await registry.upsert_discovered(mine, [discovered("1", "A renamed", "70")], NOW) == 0
    # Another tenant reading the same ad account gets rows of its own.
    assert await registry.upsert_discovered(account(other_tenant), [discovered("1", "A")], NOW) == 1
    ids = await registry.ids_for_account(tenant.id, "meta", "act_1")
    assert sorted(ids) == ["1", "2"]
    renamed = await registry.get(tenant.id, ids["1"])
    assert renamed is not None and renamed.name == "A renamed"
    assert renamed.budget_amount == Decimal("70")


async def test_metric_upserts_are_idempotent_and_create_their_partitions(
    session: AsyncSession, tenant: Tenant
) -> None:
    registry = PlatformCampaignRepository(session)
    await registry.upsert_discovered(
        account(tenant), [discovered("1", "A"), discovered("2", "B")], NOW
    )
    ids = await registry.ids_for_account(tenant.id, "meta", "act_1")
    store = MetricsStore(session)
    # Two months back: the partitions for January and February 2024 do not exist yet.
    days = [date(2024, 1, 30), date(2024, 1, 31), date(2024, 2, 1)]
    rows = [(ids["1"], row("1", d, "10", "30")) for d in days]
    rows += [(ids["2"], row("2", d, "20", "20")) for d in days]

    assert await store.upsert(tenant.id, rows) == 6
    assert await store.upsert(tenant.id, rows) == 0  # the same window again changes nothing
    late = [(ids["1"], row("1", date(2024, 2, 1), "10", "45", conversions=3))]
    assert await store.upsert(tenant.id, late) == 1
    partitions = await session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'campaign_metrics'::regclass ORDER BY 1"
        )
    )
    assert {"campaign_metrics_p202401", "campaign_metrics_p202402"} <= set(partitions.all())

    by_roas = await store.per_campaign(tenant.id, date(2024, 1, 30), date(2024, 2, 1))
    assert [c.campaign_id for c in by_roas] == [ids["1"], ids["2"]]  # ROAS 3.5 before 1.0
    first = by_roas[0].totals
    assert (first.spend, first.revenue, first.conversions) == (Decimal("30"), Decimal("105"), 7)
    assert first.ratios.roas == Decimal("3.5") and first.ratios.cpa == Decimal("4.285714")
    by_spend = await store.per_campaign(
        tenant.id, date(2024, 1, 30), date(2024, 2, 1), sort="spend", descending=True
    )
    assert [c.campaign_id for c in by_spend] == [ids["2"], ids["1"]]
    (platform,) = await store.per_platform(tenant.id, date(2024, 1, 1), date(2024, 2, 29))
    assert (platform.platform, platform.currency, platform.campaigns) == ("meta", "USD", 2)
    assert platform.totals.spend == Decimal("90")
    daily = await store.daily(tenant.id, date(2024, 1, 31), date(2024, 2, 1), [ids["1"]])
    assert [(d.day, d.totals.revenue) for d in daily] == [
        (date(2024, 1, 31), Decimal("30")),
        (date(2024, 2, 1), Decimal("45")),
    ]


async def test_window_queries_are_planned_for_their_window_every_time(
    session: AsyncSession, tenant: Tenant
) -> None:
    """Postgres switches a prepared statement (asyncpg prepares them all) to a generic plan
    after five executions; the window queries keep a plan made for their own window."""
    registry = PlatformCampaignRepository(session)
    await registry.upsert_discovered(
        account(tenant), [discovered("1", "A"), discovered("2", "B")], NOW
    )
    ids = await registry.ids_for_account(tenant.id, "meta", "act_1")
    days = [date(2024, 3, 30) + timedelta(days=n) for n in range(4)]  # March and April
    store = MetricsStore(session)
    await store.upsert(tenant.id, [(ids[c], row(c, d, "10", "30")) for c in ids for d in days])
    before = await window_plans(session)
    for _ in range(8):
        assert len(await store.daily(tenant.id, days[0], days[-1], [ids["1"]])) == 4
        assert len(await store.per_campaign(tenant.id, days[0], days[-1])) == 2
        assert len(await store.per_platform(tenant.id, days[0], days[-1])) == 1
    after = await window_plans(session)
    # The statements this loop ran (the pooled connection may hold earlier tests' statements
    # too, with plans of their own): daily, per_campaign and per_platform, 8 executions each,
    # every one planned for its window — never a generic plan.
    ran = {
        name: (generic - before.get(name, (0, 0))[0], custom - before.get(name, (0, 0))[1])
        for name, (generic, custom) in after.items()
        if sum(after[name]) - sum(before.get(name, (0, 0))) >= 8
    }
    assert len(ran) >= 3, (before, after)
    assert all(generic == 0 and custom >= 8 for generic, custom in ran.values()), ran


async def window_plans(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """This connection's prepared SELECTs over campaign_metrics: name -> (generic, custom)."""
    rows = await session.execute(
        text(
            "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT%' AND statement LIKE '%FROM campaign_metrics%' "
            "AND statement NOT LIKE '%pg_prepared_statements%'"  # this one
        )
    )
    return {name: (generic, custom) for name, generic, custom in rows.all()}


def zero(firing: bool, recovered: bool = False, severity: str = "HIGH") -> Evaluation:
    return Evaluation(
        "ZERO_CONVERSIONS", evaluable=True, firing=firing, recovered=recovered,
        severity=severity if firing else None, metric_name="spend",
        metric_value=Decimal("250"), threshold_value=Decimal("100"), message="no conversions",
    )  # fmt: skip


async def test_one_open_alert_per_campaign_and_type_cooldown_and_auto_resolution(
    session: AsyncSession, tenant: Tenant
) -> None:
    registry = PlatformCampaignRepository(session)
    await registry.upsert_discovered(account(tenant), [discovered("1", "A")], NOW)
    campaign = (await registry.ids_for_account(tenant.id, "meta", "act_1"))["1"]
    alerts = AlertLifecycle(session)
    cooldown = timedelta(hours=24)

    async def apply(evaluation: Evaluation, at: datetime) -> str:
        return (await alerts.apply(tenant.id, campaign, "meta", evaluation, now=at,
                                   cooldown=cooldown)).outcome  # fmt: skip

    assert await apply(zero(True, severity="MEDIUM"), NOW) == "opened"
    assert await apply(zero(True, severity="MEDIUM"), NOW + timedelta(minutes=15)) == "updated"
    assert await apply(zero(True, severity="CRITICAL"), NOW + timedelta(minutes=30)) == "escalated"
    (alert,) = (await alerts.list(tenant.id)).items
    assert alert.fire_count == 3 and alert.severity == "CRITICAL"
    assert await apply(zero(False), NOW + timedelta(hours=1)) == "unchanged"  # not recovered
    assert await apply(zero(False, recovered=True), NOW + timedelta(hours=2)) == "resolved"
    assert (await alerts.list(tenant.id)).items == []
    resolved = await alerts.get(tenant.id, alert.id)
    assert resolved is not None and resolved.resolved_by == "auto"
    # A relapse within the cooldown after resolution stays quiet; after it, a new alert.
    assert await apply(zero(True), NOW + timedelta(hours=10)) == "cooling_down"
    assert (await alerts.list(tenant.id)).items == []
    assert await apply(zero(True), NOW + timedelta(hours=27)) == "opened"
    (again,) = (await alerts.list(tenant.id)).items
    assert again.id != alert.id and again.fire_count == 1


async def test_a_pending_recommendation_is_refreshed_however_often_it_recurs(
    session: AsyncSession, tenant: Tenant
) -> None:
    """Never two pending for the same change — also once Postgres caches a generic plan for the
    upsert (after five executions), which must still infer the partial unique index."""
    from flightdeck.db.repositories.recommendations import RecommendationRepository
    from flightdeck.domain.recommendations import Recommendation

    registry = PlatformCampaignRepository(session)
    await registry.upsert_discovered(account(tenant), [discovered("1", "A")], NOW)
    campaign = (await registry.ids_for_account(tenant.id, "meta", "act_1"))["1"]
    repo = RecommendationRepository(session)
    for attempt in range(8):
        rec = Recommendation(
            recommendation_type="DECREASE_BUDGET", action_type="BUDGET_CHANGE",
            campaign_id=str(campaign), platform="meta", change_key=f"BUDGET:{campaign}",
            previous_state={"budgetAmount": "50"}, proposed_change={"budgetAmount": "40.00"},
            reasoning=f"run {attempt}", confidence=Decimal("0.7"), data={},
        )  # fmt: skip
        (published,) = await repo.publish(tenant.id, [rec], {})
        assert published.new == (attempt == 0)
    (pending,) = (await repo.list(tenant.id)).items
    assert pending[0].recommendation_text == "run 7"
    await repo.publish(tenant.id, [], {})  # the engine no longer recommends it
    assert (await repo.list(tenant.id)).items == []
    (superseded,) = (await repo.list(tenant.id, status="superseded")).items
    assert superseded[0].id == pending[0].id
