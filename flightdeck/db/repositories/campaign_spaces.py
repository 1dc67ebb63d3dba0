"""Campaign spaces (seed 003): create, read, list with filters and ranked full-text search
(keyset pages + a total), edit, soft/hard delete, templates, stats and performance. Always
tenant-scoped; a soft-deleted space is invisible to every read here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.dialects.postgresql import array

from flightdeck.db.models import AssetImportRun, AssetReuse, CampaignAsset, CampaignSpace
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.db.repositories.pagination import newest_first
from flightdeck.domain.campaign_spaces import ratio

SEARCH_CONFIG = "english"
LIVE = CampaignSpace.deleted_at.is_(None)


class StalePerformance(Exception):
    """Figures older than the ones stored: an older push never overwrites a newer one."""


@dataclass(frozen=True)
class SpaceFilters:
    platform: str | None = None
    brand_id: str | None = None
    tags: Sequence[str] = ()
    category: str | None = None
    is_active: bool | None = None
    is_archived: bool | None = None
    is_template: bool | None = None
    search: str | None = None


@dataclass(frozen=True)
class CountedPage:
    """A page of a library list and how many rows match in all."""

    rows: list[Any]
    next_cursor: str | None
    total: int


@dataclass
class SpaceStats:
    asset_count: int = 0
    total_asset_size_bytes: int = 0
    assets_by_type: dict[str, int] = field(default_factory=dict)
    deleted_assets: int = 0
    total_reuses: int = 0
    distinct_files: int = 0
    last_import_at: datetime | None = None
    last_import_status: str | None = None


def search_query(text: str) -> ColumnElement[Any]:
    """The user's words as a tsquery (web-search syntax: quotes, OR, -word)."""
    return func.websearch_to_tsquery(SEARCH_CONFIG, text)


def clean_search(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


class CampaignSpaceRepository(TenantScopedRepository[CampaignSpace]):
    model = CampaignSpace

    async def create(self, tenant_id: uuid.UUID, values: Mapping[str, Any]) -> CampaignSpace:
        row = CampaignSpace(id=uuid.uuid4(), tenant_id=tenant_id, **values)
        return await self._add(row)

    async def get(self, tenant_id: uuid.UUID, space_id: uuid.UUID) -> CampaignSpace | None:
        return await self._one_or_none(self._select(tenant_id, CampaignSpace.id == space_id, LIVE))

    async def lock(self, tenant_id: uuid.UUID, space_id: uuid.UUID) -> CampaignSpace | None:
        """The live space, row-locked until the transaction ends (counter updates)."""
        statement = self._select(tenant_id, CampaignSpace.id == space_id, LIVE).with_for_update()
        return await self._one_or_none(statement)

    async def page(
        self,
        tenant_id: uuid.UUID,
        filters: SpaceFilters,
        *,
        limit: int,
        cursor: str | None = None,
    ) -> CountedPage:
        """A page of spaces — best match first when searching, else newest first — and how
        many match in all. InvalidCursor for a foreign cursor."""
        search = clean_search(filters.search)
        where = self._where(tenant_id, filters, search)
        rank = (
            func.ts_rank_cd(CampaignSpace.search_vector, search_query(search)) if search else None
        )
        order = newest_first("campaign-spaces", CampaignSpace.created_at, CampaignSpace.id, rank)
        statement: Select[Any] = select(CampaignSpace).where(*where)
        found = await order.scalars(self.session, statement, limit=limit, cursor=cursor)
        total = await self.session.scalar(
            select(func.count()).select_from(CampaignSpace).where(*where)
        )
        return CountedPage(found.items, found.next_cursor, int(total or 0))

    def _where(
        self, tenant_id: uuid.UUID, filters: SpaceFilters, search: str | None
    ) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [CampaignSpace.tenant_id == tenant_id, LIVE]
        if filters.platform is not None:
            where.append(CampaignSpace.platform == filters.platform)
        if filters.brand_id is not None:
            where.append(CampaignSpace.brand_id == filters.brand_id)
        if filters.tags:
            where.append(CampaignSpace.tags.contains(array(list(filters.tags))))
        if filters.category is not None:
            where.append(CampaignSpace.category == filters.category)
        if filters.is_active is not None:
            where.append(CampaignSpace.is_active.is_(filters.is_active))
        if filters.is_archived is not None:
            where.append(CampaignSpace.is_archived.is_(filters.is_archived))
        if filters.is_template is not None:
            where.append(CampaignSpace.is_template.is_(filters.is_template))
        if search:
            where.append(CampaignSpace.search_vector.op("@@")(search_query(search)))
        return where

    async def update(
        self, tenant_id: uuid.UUID, space_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> CampaignSpace | None:
        if not changes:
            return await self.get(tenant_id, space_id)
        return await self._update_returning(
            tenant_id, [CampaignSpace.id == space_id, LIVE], dict(changes)
        )

    async def soft_delete(self, tenant_id: uuid.UUID, space_id: uuid.UUID) -> bool:
        row = await self._update_returning(
            tenant_id, [CampaignSpace.id == space_id, LIVE], {"deleted_at": _now()}
        )
        return row is not None

    async def hard_delete(
        self, tenant_id: uuid.UUID, space_id: uuid.UUID
    ) -> list[uuid.UUID] | None:
        """Delete the space (soft-deleted or not) with its assets, reuses and import runs;
        returns the blob ids its assets used (the caller releases them), None if absent."""
        exists = await self.session.scalar(
            select(CampaignSpace.id)
            .where(CampaignSpace.tenant_id == tenant_id, CampaignSpace.id == space_id)
            .with_for_update()
        )
        if exists is None:
            return None
        blob_ids = await self.session.scalars(
            select(CampaignAsset.blob_id)
            .where(
                CampaignAsset.tenant_id == tenant_id,
                CampaignAsset.campaign_space_id == space_id,
                CampaignAsset.blob_id.is_not(None),
            )
            .distinct()
        )
        ids = [b for b in blob_ids.all() if b is not None]
        await self.session.execute(
            delete(CampaignSpace).where(
                CampaignSpace.tenant_id == tenant_id, CampaignSpace.id == space_id
            )
        )
        return ids

    async def set_performance(
        self,
        tenant_id: uuid.UUID,
        space_id: uuid.UUID,
        figures: Mapping[str, Any],
        *,
        source: str,
        as_of: datetime,
    ) -> CampaignSpace | None:
        """Replace the cached totals with figures as of `as_of` (CTR and ROAS derived);
        StalePerformance if the stored ones are newer. Also what a metrics job calls."""
        row = await self.lock(tenant_id, space_id)
        if row is None:
            return None
        if row.performance_as_of is not None and row.performance_as_of > as_of:
            raise StalePerformance(
                f"the stored figures are as of {row.performance_as_of.isoformat()}, newer"
            )
        values = {k: v for k, v in figures.items() if v is not None}
        merged = {
            name: values.get(name, getattr(row, name))
            for name in (
                "total_impressions",
                "total_clicks",
                "total_spend",
                "total_conversions",
                "total_revenue",
            )
        }
        merged["ctr"] = ratio(merged["total_clicks"], merged["total_impressions"])
        merged["roas"] = ratio(Decimal(merged["total_revenue"]), Decimal(merged["total_spend"]))
        return await self._update_returning(
            tenant_id,
            [CampaignSpace.id == space_id],
            merged | {"performance_source": source, "performance_as_of": as_of},
        )

    async def stats(self, tenant_id: uuid.UUID, space: CampaignSpace) -> SpaceStats:
        stats = SpaceStats(
            asset_count=space.asset_count, total_asset_size_bytes=space.total_asset_size_bytes
        )
        in_space = (
            CampaignAsset.tenant_id == tenant_id,
            CampaignAsset.campaign_space_id == space.id,
        )
        by_type = await self.session.execute(
            select(CampaignAsset.asset_type, func.count())
            .where(*in_space, CampaignAsset.deleted_at.is_(None))
            .group_by(CampaignAsset.asset_type)
        )
        stats.assets_by_type = {str(kind): int(n) for kind, n in by_type.all()}
        stats.deleted_assets = int(
            await self.session.scalar(
                select(func.count()).where(*in_space, CampaignAsset.deleted_at.is_not(None))
            )
            or 0
        )
        stats.distinct_files = int(
            await self.session.scalar(
                select(func.count(func.distinct(CampaignAsset.blob_id))).where(
                    *in_space, CampaignAsset.deleted_at.is_(None)
                )
            )
            or 0
        )
        stats.total_reuses = int(
            await self.session.scalar(
                select(func.count())
                .select_from(AssetReuse)
                .join(CampaignAsset, CampaignAsset.id == AssetReuse.asset_id)
                .where(*in_space)
            )
            or 0
        )
        last = (
            await self.session.execute(
                select(AssetImportRun.created_at, AssetImportRun.status)
                .where(
                    AssetImportRun.tenant_id == tenant_id,
                    AssetImportRun.campaign_space_id == space.id,
                )
                .order_by(AssetImportRun.created_at.desc())
                .limit(1)
            )
        ).first()
        if last is not None:
            stats.last_import_at, stats.last_import_status = last[0], last[1]
        return stats


def _now() -> datetime:
    return datetime.now(UTC)
