"""Campaign sets: whole trees in one call, per-level edits that mark what needs a sync, soft
deletes for what exists on the platform, unique names among live siblings, tenant isolation."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import (
    AdGroup,
    CampaignSet,
    GeneratedAd,
    GeneratedCampaign,
    Keyword,
    SyncRecord,
    Tenant,
)
from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.repositories.campaign_sets import (
    CampaignSetRepository,
    DuplicateNameError,
    LiveOnPlatformError,
    NewAdGroup,
    NewCampaign,
    to_ad_group_spec,
    to_ad_spec,
    to_campaign_spec,
    to_keyword_spec,
)
from flightdeck.db.repositories.sync_records import SyncRecordRepository
from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, CampaignSpec, KeywordSpec


def campaign_spec(name: str = "Summer Sale", **overrides: Any) -> CampaignSpec:
    data: dict[str, Any] = {
        "name": name,
        "objective": "traffic",
        "budget": {"type": "daily", "amount": "50", "currency": "USD"},
    }
    return CampaignSpec.model_validate(data | overrides)


def ad_group_spec(name: str = "Sneakerheads", **overrides: Any) -> AdGroupSpec:
    data: dict[str, Any] = {
        "name": name,
        "bidStrategy": "manual_cpc",
        "bidAmount": "0.75",
        "targeting": {"communities": ["r/sneakers"], "geolocations": ["US"]},
        "keywords": [{"text": "running shoes"}, {"text": "cheap", "negative": True}],
    }
    return AdGroupSpec.model_validate(data | overrides)


def ad_spec(name: str = "Ad one", **overrides: Any) -> AdSpec:
    data: dict[str, Any] = {
        "name": name,
        "headline": "Shoes for summer",
        "finalUrl": "https://example.com/summer",
        "callToAction": "SHOP_NOW",
    }
    return AdSpec.model_validate(data | overrides)


def new_campaign(name: str = "Summer Sale", groups: int = 2, ads: int = 2) -> NewCampaign:
    return NewCampaign(
        campaign_spec(name),
        [
            NewAdGroup(ad_group_spec(f"Group {g}"), [ad_spec(f"Ad {g}.{a}") for a in range(ads)])
            for g in range(groups)
        ],
    )


async def make_set(
    session: AsyncSession, tenant_id: uuid.UUID, campaigns: int = 2, **fields: Any
) -> CampaignSet:
    return await CampaignSetRepository(session).create(
        tenant_id,
        name=fields.pop("name", "Summer"),
        campaigns=[new_campaign(f"Campaign {c}") for c in range(campaigns)],
        **fields,
    )


async def count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_create_stores_the_whole_tree_in_position_order(
    session: AsyncSession, tenant: Tenant
) -> None:
    tree = await make_set(session, tenant.id, description="Q3 push")

    assert (tree.name, tree.description, tree.platform) == ("Summer", "Q3 push", "reddit")
    assert (tree.status, tree.sync_status, tree.ad_account_id) == ("draft", "pending", None)
    assert [c.name for c in tree.campaigns] == ["Campaign 0", "Campaign 1"]
    assert [c.position for c in tree.campaigns] == [0, 1]
    campaign = tree.campaigns[0]
    assert (campaign.budget_type, campaign.budget_amount, campaign.currency) == (
        "daily",
        Decimal("50"),
        "USD",
    )
    assert (campaign.status, campaign.sync_status, campaign.platform_campaign_id) == (
        "draft",
        "pending",
        None,
    )
    group = campaign.ad_groups[1]
    assert group.name == "Group 1" and group.targeting["communities"] == ["r/sneakers"]
    assert [ad.name for ad in group.ads] == ["Ad 1.0", "Ad 1.1"]
    # Positive keywords first.
    assert [(k.text, k.negative) for k in group.keywords] == [
        ("running shoes", False),
        ("cheap", True),
    ]
    assert await count(session, GeneratedAd) == 8


async def test_rows_read_back_as_the_specs_that_made_them(
    session: AsyncSession, tenant: Tenant
) -> None:
    tree = await make_set(session, tenant.id, campaigns=1)
    campaign = tree.campaigns[0]
    group = campaign.ad_groups[0]

    assert to_campaign_spec(campaign) == campaign_spec("Campaign 0")
    assert to_ad_group_spec(group, group.keywords) == ad_group_spec("Group 0")
    assert to_ad_spec(group.ads[0]) == ad_spec("Ad 0.0")
    assert to_keyword_spec(group.keywords[0]) == KeywordSpec(text="running shoes")


async def test_list_pages_newest_first_and_filters_by_status(
    session: AsyncSession, tenant: Tenant
) -> None:
    repository = CampaignSetRepository(session)
    made = [await make_set(session, tenant.id, campaigns=0, name=f"s{i}") for i in range(5)]
    await repository.set_status(tenant.id, made[0].id, status="active")

    seen: list[CampaignSet] = []
    cursor: str | None = None
    while True:
        page, cursor = await repository.list(tenant.id, limit=2, cursor=cursor)
        seen += page
        if cursor is None:
            break
    expected = sorted(made, key=lambda s: (s.created_at, s.id), reverse=True)
    assert [s.id for s in seen] == [s.id for s in expected]

    active, _ = await repository.list(tenant.id, status="active")
    assert [s.id for s in active] == [made[0].id]
    with pytest.raises(ValueError, match="cursor"):
        await repository.list(tenant.id, cursor="not-a-cursor")
    with pytest.raises(ValueError, match="limit"):
        await repository.list(tenant.id, limit=0)


async def test_another_tenants_set_and_children_are_invisible(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await make_set(session, other_tenant.id, campaigns=1)
    campaign = theirs.campaigns[0]
    group = campaign.ad_groups[0]
    ad, keyword = group.ads[0], group.keywords[0]
    repository = CampaignSetRepository(session)

    assert await repository.get(tenant.id, theirs.id) is None
    assert await repository.get_tree(tenant.id, theirs.id) is None
    assert await repository.list(tenant.id) == ([], None)
    assert await repository.update(tenant.id, theirs.id, {"name": "mine"}) is None
    assert await repository.delete(tenant.id, theirs.id) is False
    assert await repository.create_campaign(tenant.id, theirs.id, new_campaign("xx1")) is None
    assert await repository.list_campaigns(tenant.id, theirs.id) is None
    assert await repository.get_campaign(tenant.id, campaign.id) is None
    assert await repository.update_campaign(tenant.id, campaign.id, {"name": "x12"}) is None
    assert await repository.delete_campaign(tenant.id, campaign.id) is None
    assert (
        await repository.create_ad_group(tenant.id, campaign.id, NewAdGroup(ad_group_spec()))
        is None
    )
    assert await repository.get_ad_group(tenant.id, group.id) is None
    assert await repository.delete_ad_group(tenant.id, group.id) is None
    assert await repository.create_ad(tenant.id, group.id, ad_spec("new ad")) is None
    assert await repository.get_ad(tenant.id, ad.id) is None
    assert await repository.update_ad(tenant.id, ad.id, {"headline": "h"}) is None
    assert await repository.create_keyword(tenant.id, group.id, KeywordSpec(text="k")) is None
    assert await repository.get_keyword(tenant.id, keyword.id) is None
    assert await repository.delete_keyword(tenant.id, keyword.id) is None
    assert not await repository.record_sync_result(
        tenant.id, "campaign", campaign.id, sync_status="synced", platform_id="t2_x"
    )

    untouched = await repository.get_tree(other_tenant.id, theirs.id)
    assert untouched is not None and untouched.name == "Summer"
    assert untouched.campaigns[0].name == "Campaign 0"
    assert untouched.campaigns[0].platform_campaign_id is None
    assert len(untouched.campaigns[0].ad_groups[0].ads) == 2


async def test_update_set_fields_and_refuse_unknown_ones(
    session: AsyncSession, tenant: Tenant
) -> None:
    account = await AdAccountRepository(session).create(tenant.id, platform_account_id="a2_1")
    made = await make_set(session, tenant.id, campaigns=0)
    repository = CampaignSetRepository(session)

    updated = await repository.update(
        tenant.id, made.id, {"name": "Autumn", "description": None, "ad_account_id": account.id}
    )
    assert updated is not None
    assert (updated.name, updated.description, updated.ad_account_id) == (
        "Autumn",
        None,
        account.id,
    )
    with pytest.raises(ValueError, match="status"):
        await repository.update(tenant.id, made.id, {"status": "active"})


async def test_editing_a_campaign_changes_only_given_fields_and_marks_it_pending(
    session: AsyncSession, tenant: Tenant
) -> None:
    made = await make_set(session, tenant.id, campaigns=1)
    campaign = made.campaigns[0]
    repository = CampaignSetRepository(session)
    await repository.record_sync_result(
        tenant.id, "campaign", campaign.id, sync_status="synced", platform_id="t2_c1"
    )
    await repository.set_status(tenant.id, made.id, status="active", sync_status="synced")

    updated = await repository.update_campaign(tenant.id, campaign.id, {"name": "Summer Sale 2"})

    assert updated is not None
    assert (updated.name, updated.objective, updated.budget_amount) == (
        "Summer Sale 2",
        "traffic",
        Decimal("50"),
    )
    assert (updated.sync_status, updated.platform_campaign_id) == ("pending", "t2_c1")
    assert [g.name for g in updated.ad_groups] == ["Group 0", "Group 1"]
    tree = await repository.get_tree(tenant.id, made.id)
    assert tree is not None and (tree.status, tree.sync_status) == ("active", "pending")


async def test_an_edit_that_changes_nothing_leaves_the_entity_synced(
    session: AsyncSession, tenant: Tenant
) -> None:
    made = await make_set(session, tenant.id, campaigns=1)
    ad = made.campaigns[0].ad_groups[0].ads[0]
    repository = CampaignSetRepository(session)
    await repository.record_sync_result(tenant.id, "ad", ad.id, sync_status="synced")

    same = await repository.update_ad(tenant.id, ad.id, {"headline": ad.headline})
    assert same is not None and same.sync_status == "synced"

    changed = await repository.update_ad(tenant.id, ad.id, {"headline": "New headline"})
    assert changed is not None and (changed.headline, changed.sync_status) == (
        "New headline",
        "pending",
    )


async def test_budget_can_be_replaced_or_removed(session: AsyncSession, tenant: Tenant) -> None:
    made = await make_set(session, tenant.id, campaigns=1)
    group = made.campaigns[0].ad_groups[0]
    repository = CampaignSetRepository(session)
    budget = campaign_spec(budget={"type": "lifetime", "amount": "1000.5", "currency": "EUR"})

    updated = await repository.update_ad_group(tenant.id, group.id, {"budget": budget.budget})
    assert updated is not None
    assert (updated.budget_type, updated.budget_amount, updated.currency) == (
        "lifetime",
        Decimal("1000.5"),
        "EUR",
    )
    cleared = await repository.update_ad_group(tenant.id, group.id, {"budget": None})
    assert cleared is not None and to_ad_group_spec(cleared).budget is None
    with pytest.raises(ValueError, match="keywords"):
        await repository.update_ad_group(tenant.id, group.id, {"keywords": []})


async def test_duplicate_names_under_one_parent_are_refused_and_nothing_is_stored(
    session: AsyncSession, tenant: Tenant
) -> None:
    made = await make_set(session, tenant.id, campaigns=2)
    first, second = made.campaigns
    first_group_ids = [group.id for group in first.ad_groups]
    repository = CampaignSetRepository(session)

    with pytest.raises(DuplicateNameError) as caught:
        await repository.create_campaign(tenant.id, made.id, new_campaign("Campaign 0"))
    assert (caught.value.entity, caught.value.name) == ("campaign", "Campaign 0")
    with pytest.raises(DuplicateNameError):
        await repository.update_campaign(tenant.id, second.id, {"name": "Campaign 0"})
    with pytest.raises(DuplicateNameError):
        await repository.create_ad(tenant.id, first_group_ids[0], ad_spec("Ad 0.0"))

    # The session is still usable, and nothing of the refused writes is there.
    assert await count(session, GeneratedCampaign) == 2
    assert await count(session, AdGroup) == 4
    again = await repository.get_campaign(tenant.id, second.id)
    assert again is not None and again.name == "Campaign 1"
    # Same name under another parent is fine.
    other = await repository.create_ad(tenant.id, first_group_ids[1], ad_spec("Ad 0.0"))
    assert other is not None and other.position == 2


async def test_a_set_created_with_clashing_names_stores_nothing(
    session: AsyncSession, tenant: Tenant
) -> None:
    with pytest.raises(DuplicateNameError):
        await CampaignSetRepository(session).create(
            tenant.id, name="clash", campaigns=[new_campaign("Same"), new_campaign("Same")]
        )
    assert await count(session, CampaignSet) == 0
    assert await count(session, GeneratedCampaign) == 0


async def test_keywords_are_unique_by_text_ignoring_case_and_by_polarity(
    session: AsyncSession, tenant: Tenant
) -> None:
    made = await make_set(session, tenant.id, campaigns=1)
    group = made.campaigns[0].ad_groups[0]
    repository = CampaignSetRepository(session)
    await repository.record_sync_result(tenant.id, "ad_group", group.id, sync_status="synced")

    with pytest.raises(DuplicateNameError) as caught:
        await repository.create_keyword(tenant.id, group.id, KeywordSpec(text="Running Shoes"))
    assert caught.value.entity == "keyword"
    negative = await repository.create_keyword(
        tenant.id, group.id, KeywordSpec(text="running shoes", negative=True)
    )
    assert negative is not None and negative.sync_status == "pending"

    # Keywords travel with their ad group: the ad group needs a sync now.
    reloaded = await repository.get_ad_group(tenant.id, group.id)
    assert reloaded is not None and reloaded.sync_status == "pending"
    assert len(reloaded.keywords) == 3


async def test_deleting_what_is_only_local_removes_it_and_its_subtree(
    session: AsyncSession, tenant: Tenant
) -> None:
    made = await make_set(session, tenant.id, campaigns=2)
    doomed = made.campaigns[0]
    records = SyncRecordRepository(session)
    group_id = doomed.ad_groups[0].id
    await records.begin(tenant.id, "ad_group", group_id, "reddit")
    await records.mark_failed(tenant.id, "ad_group", group_id, "reddit", message="boom")
    await records.begin(tenant.id, "ad_group", group_id, "reddit")  # requested again …
    await records.mark_failed(tenant.id, "ad_group", group_id, "reddit", message="boom")
    repository = CampaignSetRepository(session)

    assert await repository.delete_campaign(tenant.id, doomed.id) == "deleted"

    assert await repository.get_campaign(tenant.id, doomed.id) is None
    assert await count(session, GeneratedCampaign) == 1
    assert await count(session, AdGroup) == 2 and await count(session, Keyword) == 4
    assert await count(session, SyncRecord) == 0
    tree = await repository.get_tree(tenant.id, made.id, include_deleted=True)
    assert tree is not None and [c.name for c in tree.campaigns] == ["Campaign 1"]


async def test_deleting_what_exists_on_the_platform_soft_deletes_it(
    session: AsyncSession, tenant: Tenant
) -> None:
    made = await make_set(session, tenant.id, campaigns=1)
    campaign = made.campaigns[0]
    group = campaign.ad_groups[0]
    repository = CampaignSetRepository(session)
    await repository.record_sync_result(
        tenant.id, "campaign", campaign.id, sync_status="synced", platform_id="t2_c"
    )

    assert await repository.delete_campaign(tenant.id, campaign.id) == "soft_deleted"

    # Gone from every read and write, with its subtree …
    assert await repository.get_campaign(tenant.id, campaign.id) is None
    assert await repository.get_ad_group(tenant.id, group.id) is None
    assert await repository.get_ad(tenant.id, group.ads[0].id) is None
    assert (
        await repository.create_ad_group(tenant.id, campaign.id, NewAdGroup(ad_group_spec()))
        is None
    )
    assert (await repository.get_tree(tenant.id, made.id)).campaigns == []  # type: ignore[union-attr]
    # … but kept, pending, for the sync to delete on the platform.
    tree = await repository.get_tree(tenant.id, made.id, include_deleted=True)
    assert tree is not None
    tombstone = tree.campaigns[0]
    assert tombstone.deleted_at is not None and tombstone.sync_status == "pending"
    # Its name is free again.
    reused = await repository.create_campaign(tenant.id, made.id, new_campaign("Campaign 0"))
    assert reused is not None and reused.position == 1


async def test_a_create_in_flight_makes_delete_soft(session: AsyncSession, tenant: Tenant) -> None:
    made = await make_set(session, tenant.id, campaigns=1)
    ad = made.campaigns[0].ad_groups[0].ads[0]
    await SyncRecordRepository(session).begin(tenant.id, "ad", ad.id, "reddit")

    assert await CampaignSetRepository(session).delete_ad(tenant.id, ad.id) == "soft_deleted"
    assert await count(session, SyncRecord) == 1


async def test_deleting_a_keyword_marks_its_ad_group_pending(
    session: AsyncSession, tenant: Tenant
) -> None:
    made = await make_set(session, tenant.id, campaigns=1)
    group = made.campaigns[0].ad_groups[0]
    repository = CampaignSetRepository(session)
    await repository.record_sync_result(tenant.id, "ad_group", group.id, sync_status="synced")

    assert await repository.delete_keyword(tenant.id, group.keywords[0].id) == "deleted"

    reloaded = await repository.get_ad_group(tenant.id, group.id)
    assert reloaded is not None and reloaded.sync_status == "pending"
    assert [k.text for k in reloaded.keywords] == ["cheap"]


async def test_a_set_is_deleted_whole_unless_it_lives_on_the_platform(
    session: AsyncSession, tenant: Tenant
) -> None:
    repository = CampaignSetRepository(session)
    local = await make_set(session, tenant.id, campaigns=1, name="local")
    live = await make_set(session, tenant.id, campaigns=1, name="live")
    local_campaign_id, live_campaign_id = local.campaigns[0].id, live.campaigns[0].id
    await repository.record_sync_result(
        tenant.id, "campaign", live_campaign_id, sync_status="synced", platform_id="t2_l"
    )
    records = SyncRecordRepository(session)
    await records.begin(tenant.id, "campaign", local_campaign_id, "reddit")
    # A 400: the platform says nothing was made (the sync engine records that first).
    await records.mark_not_applied(tenant.id, "campaign", local_campaign_id, "reddit")
    await records.mark_failed(
        tenant.id, "campaign", local_campaign_id, "reddit", message="invalid", permanent=True
    )

    assert await repository.delete(tenant.id, local.id) is True
    assert await repository.get(tenant.id, local.id) is None
    assert await count(session, SyncRecord) == 0
    assert await count(session, GeneratedCampaign) == 1

    with pytest.raises(LiveOnPlatformError):
        await repository.delete(tenant.id, live.id)
    account = await AdAccountRepository(session).create(tenant.id)
    with pytest.raises(LiveOnPlatformError):
        await repository.update(tenant.id, live.id, {"ad_account_id": account.id})

    # Once its campaigns are deleted on the platform, the set can go.
    assert await repository.delete_campaign(tenant.id, live_campaign_id) == "soft_deleted"
    with pytest.raises(LiveOnPlatformError):
        await repository.delete(tenant.id, live.id)
    await repository.record_sync_result(
        tenant.id, "campaign", live_campaign_id, sync_status="synced"
    )
    assert await repository.delete(tenant.id, live.id) is True
    assert await count(session, GeneratedCampaign) == 0


async def test_children_are_appended_after_their_siblings(
    session: AsyncSession, tenant: Tenant
) -> None:
    made = await make_set(session, tenant.id, campaigns=1)
    campaign = made.campaigns[0]
    repository = CampaignSetRepository(session)

    group = await repository.create_ad_group(
        tenant.id, campaign.id, NewAdGroup(ad_group_spec("Group 9"), [ad_spec("Only ad")])
    )
    assert group is not None and group.position == 2
    assert [a.name for a in group.ads] == ["Only ad"] and len(group.keywords) == 2
    groups = await repository.list_ad_groups(tenant.id, campaign.id)
    assert groups is not None
    assert [g.name for g in groups.items] == ["Group 0", "Group 1", "Group 9"]
    ads = await repository.list_ads(tenant.id, group.id)
    keywords = await repository.list_keywords(tenant.id, group.id)
    assert ads is not None and keywords is not None
    assert (len(ads.items), len(keywords.items)) == (1, 2)
    campaigns = await repository.list_campaigns(tenant.id, made.id)
    assert campaigns is not None and [c.name for c in campaigns.items] == ["Campaign 0"]
