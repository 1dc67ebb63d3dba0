"""A set's targets and the per-target mapping: the sync records are every target's mapping,
the entities' own columns mirror the first target only, and a target's view of loaded rows
is never written back."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import AdGroup, GeneratedAd, GeneratedCampaign, Tenant
from flightdeck.db.repositories.campaign_set_targets import (
    CampaignSetTargetRepository,
    apply_target_mapping,
)
from flightdeck.db.repositories.campaign_sets import CampaignSetRepository
from flightdeck.db.repositories.sync_records import SyncRecordRepository
from tests.db.repositories.test_campaign_set_repository import new_campaign


async def test_a_targets_view_reads_its_sync_records_and_writes_nothing(
    session: AsyncSession, tenant: Tenant
) -> None:
    sets = CampaignSetRepository(session)
    created = await sets.create(
        tenant.id,
        name="multi",
        targets=[("reddit", None), ("google", None)],
        campaigns=[new_campaign(groups=1, ads=1)],
    )
    targets = await CampaignSetTargetRepository(session).list(tenant.id, created.id)
    assert [(t.position, t.platform) for t in targets] == [(0, "reddit"), (1, "google")]
    assert (created.platform, created.ad_account_id) == ("reddit", None)

    campaign = created.campaigns[0]
    group = campaign.ad_groups[0]
    ad = group.ads[0]
    records = SyncRecordRepository(session)
    # Reddit (first): mirrored on the columns; Google: its sync records only.
    await sets.record_sync_result(tenant.id, "campaign", campaign.id, sync_status="synced",
                                  platform_id="t2_reddit_campaign")  # fmt: skip
    await sets.record_sync_result(tenant.id, "campaign", campaign.id, sync_status="failed",
                                  platform_id="google-campaign", mirror=False)  # fmt: skip
    for record_type, entity_id, platform_id in (
        ("campaign", campaign.id, "customers/1/campaigns/2"),
        ("ad_group", group.id, "customers/1/adGroups/3"),
        ("ad", ad.id, "customers/1/adGroupAds/3~4"),
    ):
        await records.begin(tenant.id, record_type, entity_id, "google")  # type: ignore[arg-type]
        await records.mark_synced(tenant.id, record_type, entity_id, "google",  # type: ignore[arg-type]
                                  platform_id=platform_id, snapshot={})  # fmt: skip

    tree = await sets.get_tree(tenant.id, created.id)
    assert tree is not None
    rows = [
        tree.campaigns[0],
        tree.campaigns[0].ad_groups[0],
        tree.campaigns[0].ad_groups[0].ads[0],
    ]
    await apply_target_mapping(session, tenant.id, tree, "reddit", rows)
    assert rows[0].platform_campaign_id == "t2_reddit_campaign"
    assert rows[0].sync_status == "synced", "mirror=False wrote nothing"

    await apply_target_mapping(session, tenant.id, tree, "google", rows)
    assert rows[0].platform_campaign_id == "customers/1/campaigns/2"
    assert rows[1].platform_ad_group_id == "customers/1/adGroups/3"
    assert rows[2].platform_ad_id == "customers/1/adGroupAds/3~4"
    assert rows[2].platform_post_id is None
    assert not session.dirty, "a target's view is never a change"
    await session.flush()
    stored = (
        await session.execute(
            select(
                GeneratedCampaign.platform_campaign_id,
                AdGroup.platform_ad_group_id,
                GeneratedAd.platform_ad_id,
            )
            .join(AdGroup, AdGroup.campaign_id == GeneratedCampaign.id)
            .join(GeneratedAd, GeneratedAd.ad_group_id == AdGroup.id)
            .where(GeneratedCampaign.id == campaign.id)
            .execution_options(populate_existing=True)
        )
    ).one()
    assert tuple(stored) == ("t2_reddit_campaign", None, None)

    counts = await CampaignSetTargetRepository(session).campaign_counts(tenant.id, created.id)
    assert counts["reddit"] == {"total": 1, "onPlatform": 0, "pending": 1}
    assert counts["google"] == {"total": 1, "onPlatform": 1, "synced": 1}


async def test_a_target_with_campaigns_on_it_is_not_removed(
    session: AsyncSession, tenant: Tenant
) -> None:
    sets = CampaignSetRepository(session)
    created = await sets.create(
        tenant.id,
        name="multi",
        targets=[("reddit", None), ("google", None)],
        campaigns=[new_campaign(groups=1, ads=1)],
    )
    targets = CampaignSetTargetRepository(session)
    await SyncRecordRepository(session).begin(
        tenant.id, "campaign", created.campaigns[0].id, "google"
    )
    # A create in flight on Google counts as being there.
    assert await targets.replace(tenant.id, created, [("reddit", None)]) == ["google"]
    assert await targets.replace(tenant.id, created, [("reddit", None), ("meta", None)]) == [
        "google"
    ]
    added = [("reddit", None), ("google", None), ("meta", None)]
    assert await targets.replace(tenant.id, created, added) == []
    assert [t.platform for t in await targets.list(tenant.id, created.id)] == [
        "reddit",
        "google",
        "meta",
    ]
    # The set itself cannot be deleted while a target has (or may have) its campaigns.
    assert await sets.has_platform_objects(tenant.id, created.id) is True
