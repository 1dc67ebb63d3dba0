"""A campaign set's targets (issue 14 item 2): the ad accounts it is synced to, one per platform,
and where each entity stands on each of them.

The mapping of an entity on a target is its `sync_records` row for the target's platform (one
per entity and platform, written in the activity that made the call): `platform_ids` reads it.
The entities' own `platform_*_id` columns mirror the set's first target only (written in the
same transaction as its sync record, for the API's single-platform fields and the code that
predates targets); `apply_target_mapping` puts a target's ids in their place on loaded rows,
so the sync reads one target's view through the same attributes whatever the target.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from flightdeck.db.models import (
    AdGroup,
    CampaignSet,
    CampaignSetTarget,
    GeneratedAd,
    GeneratedCampaign,
    SyncRecord,
)

_GONE = object()  # a target not wanted any more
# The id column an entity's first-target mirror lives in, per sync-record type.
_MIRRORS: dict[type[Any], tuple[str, str]] = {
    GeneratedCampaign: ("campaign", "platform_campaign_id"),
    AdGroup: ("ad_group", "platform_ad_group_id"),
    GeneratedAd: ("ad", "platform_ad_id"),
}


class CampaignSetTargetRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, tenant_id: uuid.UUID, set_id: uuid.UUID) -> list[CampaignSetTarget]:
        """The set's targets, first target first."""
        rows = await self.session.scalars(
            select(CampaignSetTarget)
            .where(
                CampaignSetTarget.tenant_id == tenant_id,
                CampaignSetTarget.campaign_set_id == set_id,
            )
            .order_by(CampaignSetTarget.position, CampaignSetTarget.id)
            .execution_options(populate_existing=True)
        )
        return list(rows.all())

    async def for_sets(
        self, tenant_id: uuid.UUID, set_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, builtins.list[CampaignSetTarget]]:
        """The targets of several sets at once (a page of sets), first target first."""
        found: dict[uuid.UUID, builtins.list[CampaignSetTarget]] = {s: [] for s in set_ids}
        if not set_ids:
            return found
        rows = await self.session.scalars(
            select(CampaignSetTarget)
            .where(
                CampaignSetTarget.tenant_id == tenant_id,
                CampaignSetTarget.campaign_set_id.in_(set_ids),
            )
            .order_by(CampaignSetTarget.position, CampaignSetTarget.id)
        )
        for row in rows.all():
            found[row.campaign_set_id].append(row)
        return found

    async def get(
        self, tenant_id: uuid.UUID, set_id: uuid.UUID, platform: str
    ) -> CampaignSetTarget | None:
        return await self.session.scalar(
            select(CampaignSetTarget).where(
                CampaignSetTarget.tenant_id == tenant_id,
                CampaignSetTarget.campaign_set_id == set_id,
                CampaignSetTarget.platform == platform,
            )
        )

    def add(
        self,
        tenant_id: uuid.UUID,
        set_id: uuid.UUID,
        targets: Iterable[tuple[str, uuid.UUID | None]],
    ) -> builtins.list[CampaignSetTarget]:
        """New targets (platform, ad account), in the order given (the first is the set's
        first target); the caller flushes with the set."""
        rows = [
            CampaignSetTarget(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                campaign_set_id=set_id,
                position=position,
                platform=platform,
                ad_account_id=account,
            )
            for position, (platform, account) in enumerate(targets)
        ]
        self.session.add_all(rows)
        return rows

    async def replace(
        self,
        tenant_id: uuid.UUID,
        campaign_set: CampaignSet,
        wanted: Sequence[tuple[str, uuid.UUID | None]],
    ) -> builtins.list[str]:
        """Point the set at these targets (first first). The first target's platform stays
        (the entities mirror it); a target is removed or moved to another account only while
        nothing of the set is on it. Returns the platforms refused that way (nothing changed
        then)."""
        current = {t.platform: t for t in await self.list(tenant_id, campaign_set.id)}
        wanted_by_platform = dict(wanted)
        refused = [
            platform
            for platform, target in current.items()
            if wanted_by_platform.get(platform, _GONE) != target.ad_account_id
            and await self.on_platform(tenant_id, campaign_set.id, platform)
        ]
        if refused:
            return refused
        for platform, target in current.items():
            if platform not in wanted_by_platform:
                await self.session.delete(target)
        await self.session.flush()
        for position, (platform, account) in enumerate(wanted):
            existing = current.get(platform)
            if existing is None:
                self.add(tenant_id, campaign_set.id, [(platform, account)])[0].position = position
            else:
                existing.position, existing.ad_account_id = position, account
        campaign_set.ad_account_id = wanted[0][1]
        await self.session.flush()
        return []

    async def on_platform(self, tenant_id: uuid.UUID, set_id: uuid.UUID, platform: str) -> bool:
        """Whether a campaign of the set is mapped on `platform` (not deleted there), or its
        create is in flight."""
        statement = select(
            select(SyncRecord.id)
            .join(GeneratedCampaign, GeneratedCampaign.id == SyncRecord.entity_id)
            .where(
                SyncRecord.tenant_id == tenant_id,
                SyncRecord.entity_type == "campaign",
                SyncRecord.platform == platform,
                SyncRecord.state != "deleted",
                (SyncRecord.platform_id.is_not(None)) | (SyncRecord.state == "requested"),
                GeneratedCampaign.campaign_set_id == set_id,
            )
            .exists()
        )
        return bool(await self.session.scalar(statement))

    async def set_status(
        self,
        tenant_id: uuid.UUID,
        set_id: uuid.UUID,
        platform: str,
        *,
        sync_status: str,
        sync_error: str | None = None,
        last_synced_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {"sync_status": sync_status, "sync_error": sync_error}
        if last_synced_at is not None:
            values["last_synced_at"] = last_synced_at
        await self.session.execute(
            update(CampaignSetTarget)
            .where(
                CampaignSetTarget.tenant_id == tenant_id,
                CampaignSetTarget.campaign_set_id == set_id,
                CampaignSetTarget.platform == platform,
            )
            .values(**values)
        )

    async def campaign_counts(
        self, tenant_id: uuid.UUID, set_id: uuid.UUID
    ) -> dict[str, dict[str, int]]:
        """Per target platform: the set's live campaigns by their sync status there (from the
        sync records; no record yet: `pending`), and how many are mapped (`onPlatform`)."""
        record = and_(
            SyncRecord.tenant_id == tenant_id,
            SyncRecord.entity_type == "campaign",
            SyncRecord.entity_id == GeneratedCampaign.id,
            SyncRecord.platform == CampaignSetTarget.platform,
        )
        status = func.coalesce(SyncRecord.sync_status, "pending")
        rows = await self.session.execute(
            select(
                CampaignSetTarget.platform,
                status,
                func.count(GeneratedCampaign.id),
                func.count(SyncRecord.platform_id),
            )
            .select_from(CampaignSetTarget)
            .join(
                GeneratedCampaign,
                and_(
                    GeneratedCampaign.campaign_set_id == CampaignSetTarget.campaign_set_id,
                    GeneratedCampaign.tenant_id == tenant_id,
                    GeneratedCampaign.deleted_at.is_(None),
                ),
            )
            .outerjoin(SyncRecord, record)
            .where(
                CampaignSetTarget.tenant_id == tenant_id,
                CampaignSetTarget.campaign_set_id == set_id,
            )
            .group_by(CampaignSetTarget.platform, status)
        )
        counts: dict[str, dict[str, int]] = {}
        for platform, sync_status, n, mapped in rows.all():
            bucket = counts.setdefault(platform, {"total": 0, "onPlatform": 0})
            bucket[str(sync_status)] = bucket.get(str(sync_status), 0) + int(n)
            bucket["total"] += int(n)
            bucket["onPlatform"] += int(mapped)
        return counts


async def campaign_standing(
    session: AsyncSession, tenant_id: uuid.UUID, campaign_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[str, dict[str, str | None]]]:
    """Where each campaign stands on each platform: {campaign: {platform: {status, platformId}}}
    from its sync records."""
    ids = list(campaign_ids)
    found: dict[uuid.UUID, dict[str, dict[str, str | None]]] = {c: {} for c in ids}
    if not ids:
        return found
    rows = await session.execute(
        select(
            SyncRecord.entity_id,
            SyncRecord.platform,
            SyncRecord.sync_status,
            SyncRecord.platform_id,
        ).where(
            SyncRecord.tenant_id == tenant_id,
            SyncRecord.entity_type == "campaign",
            SyncRecord.entity_id.in_(ids),
        )
    )
    for campaign_id, platform, status, platform_id in rows.all():
        found[campaign_id][platform] = {"status": status, "platformId": platform_id}
    return found


async def platform_ids(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    platform: str,
    record_type: str,
    entity_ids: Iterable[uuid.UUID],
) -> dict[uuid.UUID, str]:
    """THE mapping of entities on one platform: their sync records' platform ids."""
    ids = list(entity_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(SyncRecord.entity_id, SyncRecord.platform_id).where(
            SyncRecord.tenant_id == tenant_id,
            SyncRecord.entity_type == record_type,
            SyncRecord.platform == platform,
            SyncRecord.entity_id.in_(ids),
            SyncRecord.platform_id.is_not(None),
        )
    )
    return {entity_id: str(platform_id) for entity_id, platform_id in rows.all()}


def is_first_target(campaign_set: CampaignSet, platform: str) -> bool:
    """Whether `platform` is the set's first target (mirrored on the entities' own columns)."""
    return campaign_set.platform == platform


async def apply_target_mapping(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    campaign_set: CampaignSet,
    platform: str,
    rows: Iterable[Any],
) -> None:
    """Show loaded campaigns, ad groups and ads as they stand on `platform`: for a target other
    than the first, their `platform_*_id` (and an ad's `platform_post_id`) are replaced by that
    target's sync-record ids, as committed values (never written back: the session sees no
    change). The first target's are the columns themselves."""
    if is_first_target(campaign_set, platform):
        return
    by_type: dict[str, list[Any]] = {}
    for row in rows:
        record_type, _ = _MIRRORS[type(row)]
        by_type.setdefault(record_type, []).append(row)
    for model, (record_type, column) in _MIRRORS.items():
        found = by_type.get(record_type, [])
        if not found:
            continue
        mapped = await platform_ids(
            session, tenant_id, platform, record_type, [r.id for r in found]
        )
        for row in found:
            set_committed_value(row, column, mapped.get(row.id))
        if model is GeneratedAd:
            posts = await platform_ids(session, tenant_id, platform, "post", [r.id for r in found])
            for row in found:
                set_committed_value(row, "platform_post_id", posts.get(row.id))
