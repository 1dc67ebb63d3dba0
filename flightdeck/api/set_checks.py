"""A campaign set checked against its platform before a sync: the whole tree loaded once,
judged by the platform's validator (every problem, with field paths), and the dry run's
requests. Shared by `POST /campaign-sets/{id}/validate` and `POST …/sync[?dryRun=true]`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import AdAccount, CampaignSet, SyncRecord
from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.repositories.campaign_set_targets import (
    CampaignSetTargetRepository,
    apply_target_mapping,
)
from flightdeck.db.repositories.campaign_sets import (
    CampaignSetRepository,
    to_ad_group_spec,
    to_ad_spec,
    to_campaign_spec,
)
from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, CampaignSpec
from flightdeck.domain.set_validation import (
    AccountFacts,
    AdGroupNode,
    AdNode,
    CampaignNode,
    Problem,
    SetTree,
)
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.registry import platform
from flightdeck.platforms.sync_preview import Preview, preview_push


@dataclass(frozen=True)
class TargetTree:
    """One target of a set, as its platform will see the set."""

    platform: str
    account: AdAccount | None
    tree: SetTree


async def target_trees(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_set: CampaignSet
) -> list[TargetTree]:
    """The set as each of its targets sees it (first target first): its own account, its own
    platform ids and last-pushed snapshots. A set with no target row (made before targets)
    is its one platform and account."""
    targets = await CampaignSetTargetRepository(session).list(tenant_id, campaign_set.id)
    wanted = [(t.platform, t.ad_account_id) for t in targets] or [
        (campaign_set.platform, campaign_set.ad_account_id)
    ]
    accounts = AdAccountRepository(session)
    found: list[TargetTree] = []
    for platform_name, account_id in wanted:
        account = await accounts.get(tenant_id, account_id) if account_id else None
        tree = await load_tree(session, tenant_id, campaign_set, account, platform_name)
        found.append(TargetTree(platform_name, account, tree))
    return found


async def load_tree(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    campaign_set: CampaignSet,
    account: AdAccount | None,
    target: str | None = None,
) -> SetTree:
    """Every campaign, ad group and ad of the set (removed ones too: a dry run shows their
    deletion), with what was last pushed of each on `target` (default: the first target)."""
    target = target or campaign_set.platform
    loaded = await CampaignSetRepository(session).get_tree(
        tenant_id, campaign_set.id, include_deleted=True
    )
    assert loaded is not None
    rows: list[Any] = []
    for campaign in loaded.campaigns:
        rows.append(campaign)
        for group in campaign.ad_groups:
            rows.append(group)
            rows.extend(group.ads)
    await apply_target_mapping(session, tenant_id, campaign_set, target, rows)
    records = await _records(session, tenant_id, loaded, target)
    facts = AccountFacts(account.platform, account.status, account.profile_id) if account else None
    tree = SetTree(platform=target, account=facts)
    live_campaigns = 0
    for campaign in loaded.campaigns:
        path = _path("campaigns", campaign, live_campaigns)
        live_campaigns += campaign.deleted_at is None
        record = records.get(campaign.id)
        node = CampaignNode(
            id=str(campaign.id),
            path=path,
            spec=to_campaign_spec(campaign),
            platform_id=campaign.platform_campaign_id,
            base=_base(CampaignSpec, record),
            deleted=campaign.deleted_at is not None,
            removed_remotely=_removed(record),
            in_conflict=campaign.sync_status == "conflict",
        )
        live_groups = 0
        for group in campaign.ad_groups:
            group_path = _path(f"{path}.adGroups", group, live_groups)
            live_groups += group.deleted_at is None
            record = records.get(group.id)
            keywords = [k for k in group.keywords if k.deleted_at is None]
            group_node = AdGroupNode(
                id=str(group.id),
                path=group_path,
                spec=to_ad_group_spec(group, keywords),
                platform_id=group.platform_ad_group_id,
                base=_base(AdGroupSpec, record),
                deleted=group.deleted_at is not None or node.deleted,
                removed_remotely=_removed(record),
                in_conflict=group.sync_status == "conflict",
            )
            live_ads = 0
            for ad in group.ads:
                ad_path = _path(f"{group_path}.ads", ad, live_ads)
                live_ads += ad.deleted_at is None
                record = records.get(ad.id)
                group_node.ads.append(
                    AdNode(
                        id=str(ad.id),
                        path=ad_path,
                        spec=to_ad_spec(ad),
                        platform_id=ad.platform_ad_id,
                        base=_base(AdSpec, record),
                        deleted=ad.deleted_at is not None or group_node.deleted,
                        removed_remotely=_removed(record),
                        post_id=ad.platform_post_id,
                    )
                )
            node.ad_groups.append(group_node)
        tree.campaigns.append(node)
    return tree


def validate(tree: SetTree) -> list[Problem]:
    return platform(tree.platform).validate(tree)


async def dry_run(tree: SetTree, account: AdAccount | None) -> Preview:
    adapter, recorder = platform(tree.platform).preview()
    context = AccountContext(
        account_id=(account.platform_account_id if account else None) or "{adAccountId}",
        funding_instrument_id=account.funding_instrument_id if account else None,
        profile_id=(account.profile_id if account else None) or "{profileId}",
    )
    return await preview_push(tree, adapter, recorder, context)


def problems_json(problems: list[Problem]) -> list[dict[str, Any]]:
    return [problem.as_json() for problem in problems]


def _path(prefix: str, row: Any, live_index: int) -> str:
    """`campaigns.0` as in the set's JSON; a removed entity (absent there) by its id."""
    return f"{prefix}.{live_index}" if row.deleted_at is None else f"{prefix}[id={row.id}]"


async def _records(
    session: AsyncSession, tenant_id: uuid.UUID, loaded: CampaignSet, platform_name: str
) -> dict[uuid.UUID, SyncRecord]:
    ids = [c.id for c in loaded.campaigns]
    for campaign in loaded.campaigns:
        for group in campaign.ad_groups:
            ids.append(group.id)
            ids.extend(ad.id for ad in group.ads)
    if not ids:
        return {}
    rows = await session.scalars(
        select(SyncRecord).where(
            SyncRecord.tenant_id == tenant_id,
            SyncRecord.platform == platform_name,
            SyncRecord.entity_id.in_(ids),
        )
    )
    return {row.entity_id: row for row in rows}


def _base(spec_type: type[Any], record: SyncRecord | None) -> Any:
    if record is None or not record.synced_snapshot:
        return None
    try:
        return spec_type.model_validate(record.synced_snapshot)
    except ValueError:
        return None


def _removed(record: SyncRecord | None) -> bool:
    return record is not None and record.state == "deleted"
