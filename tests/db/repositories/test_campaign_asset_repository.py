"""The asset library's tables under the repositories: counters move only on real transitions,
reuse is recorded once per place, performance never goes back in time, row-level security
hides another tenant's rows — and still lets the full-text and tag indexes serve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import AssetBlob, AssetReuse, CampaignAsset, CampaignSpace, Tenant
from flightdeck.db.repositories.campaign_assets import (
    AssetBlobRepository,
    CampaignAssetRepository,
    NewBlob,
    record_asset_reuse,
)
from flightdeck.db.repositories.campaign_spaces import CampaignSpaceRepository, StalePerformance
from flightdeck.db.tenancy import scope_to_tenant


async def space_and_asset(
    session: AsyncSession, tenant: Tenant
) -> tuple[CampaignSpace, CampaignAsset]:
    space = await CampaignSpaceRepository(session).create(
        tenant.id, {"campaign_name": "Spring", "platform": "meta", "tags": ["a"]}
    )
    blob, created = await AssetBlobRepository(session).lock_or_create(
        tenant.id,
        NewBlob("ab" * 32, 10, "image/png", f"blobs/{tenant.id}/ab/{'ab' * 32}", None, 1, 1),
    )
    assert created
    asset = await CampaignAssetRepository(session).create(
        tenant.id,
        space.id,
        {"asset_name": "hero", "asset_type": "image", "blob_id": blob.id, "file_size": 10,
         "file_hash": blob.sha256, "tags": ["hero", "spring"]},
    )  # fmt: skip
    return space, asset


async def counters(session: AsyncSession, space: CampaignSpace) -> tuple[int, int]:
    row = (
        await session.execute(
            select(CampaignSpace.asset_count, CampaignSpace.total_asset_size_bytes).where(
                CampaignSpace.id == space.id
            )
        )
    ).one()
    return row[0], row[1]


async def test_counters_follow_transitions(session: AsyncSession, tenant: Tenant) -> None:
    space, asset = await space_and_asset(session, tenant)
    assets = CampaignAssetRepository(session)
    assert await counters(session, space) == (1, 10)
    assert await assets.soft_delete(tenant.id, asset.id)
    assert not await assets.soft_delete(tenant.id, asset.id)
    assert await counters(session, space) == (0, 0)
    deleted, blob_id = await assets.hard_delete(tenant.id, asset.id)
    assert deleted and blob_id == asset.blob_id
    assert await counters(session, space) == (0, 0)  # it was already counted out
    keys = await AssetBlobRepository(session).release(tenant.id, [blob_id])
    assert keys == [f"blobs/{tenant.id}/ab/{'ab' * 32}"]
    assert await session.scalar(select(func.count()).select_from(AssetBlob)) == 0


async def test_reuse_is_recorded_once_per_place(session: AsyncSession, tenant: Tenant) -> None:
    _, asset = await space_and_asset(session, tenant)
    place = {"reused_in_type": "ad", "reused_in_id": "ad-1", "platform": "reddit"}
    assert await record_asset_reuse(session, tenant.id, asset.id, **place)
    assert not await record_asset_reuse(session, tenant.id, asset.id, **place)
    assert await record_asset_reuse(session, tenant.id, asset.id, **(place | {"reused_in_id": "2"}))
    reused = await session.scalar(
        select(CampaignAsset.reused_count).where(CampaignAsset.id == asset.id)
    )
    assert reused == 2
    assert await session.scalar(select(func.count()).select_from(AssetReuse)) == 2


async def test_performance_never_goes_back(session: AsyncSession, tenant: Tenant) -> None:
    space, _ = await space_and_asset(session, tenant)
    spaces = CampaignSpaceRepository(session)
    now = datetime.now(UTC)
    figures = {"total_impressions": 1000, "total_clicks": 20, "total_spend": Decimal("10"),
               "total_revenue": Decimal("35")}  # fmt: skip
    row = await spaces.set_performance(
        tenant.id, space.id, figures, source="metrics_sync", as_of=now
    )
    assert row is not None and row.ctr == Decimal("0.0200") and row.roas == Decimal("3.5000")
    with pytest.raises(StalePerformance):
        await spaces.set_performance(
            tenant.id,
            space.id,
            {"total_clicks": 1},
            source="manual",
            as_of=now - timedelta(hours=1),
        )


async def test_row_level_security_hides_other_tenants(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    space, asset = await space_and_asset(session, tenant)
    await record_asset_reuse(session, tenant.id, asset.id, reused_in_type="ad", reused_in_id="x")
    await scope_to_tenant(session, other_tenant.id)
    for model in (CampaignSpace, CampaignAsset, AssetBlob, AssetReuse):
        # No tenant filter at all: the policy alone hides the rows.
        assert await session.scalar(select(func.count()).select_from(model)) == 0, model
    assert await CampaignAssetRepository(session).get(other_tenant.id, asset.id) is None


async def test_search_and_tag_indexes_serve_under_row_level_security(
    session: AsyncSession, tenant: Tenant
) -> None:
    leakproof = await session.execute(
        text(
            "SELECT proname, proleakproof FROM pg_proc "
            "WHERE proname IN ('ts_match_vq', 'arraycontains')"
        )
    )
    assert dict(leakproof.all()) == {"ts_match_vq": True, "arraycontains": True}
    await space_and_asset(session, tenant)
    await scope_to_tenant(session, tenant.id)
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    for condition, index in (
        ("tags @> ARRAY['hero']::varchar[]", "ix_campaign_assets_tags"),
        ("search_vector @@ websearch_to_tsquery('english', 'hero')", "ix_campaign_assets_search"),
    ):
        plan = await session.execute(
            text(f"EXPLAIN SELECT id FROM campaign_assets WHERE {condition}")
        )
        assert index in "\n".join(row[0] for row in plan), condition
