"""Assets of the library (seed 003), their stored files and their reuse history.

Rules every write follows:
- an asset's space counters (`asset_count`, `total_asset_size_bytes`) move in the same
  statement batch as the asset row, only on a real transition (created live, live → soft
  deleted, live → hard deleted), so a repeated or concurrent delete never counts twice;
- a blob row is locked (`FOR UPDATE`) whenever an asset is attached to it or detached from
  it, so "is anything still using these bytes?" has one answer at a time;
- a reuse is recorded once per (asset, place): recording it again changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select, true, update
from sqlalchemy.dialects.postgresql import array, insert

from flightdeck.db.models import AssetBlob, AssetReuse, CampaignAsset, CampaignSpace
from flightdeck.db.repositories.base import RepositoryBase, TenantScopedRepository
from flightdeck.db.repositories.campaign_spaces import CountedPage, clean_search, search_query
from flightdeck.db.repositories.pagination import Page, newest_first

LIVE = CampaignAsset.deleted_at.is_(None)


@dataclass(frozen=True)
class AssetFilters:
    campaign_space_id: uuid.UUID | None = None
    asset_types: Sequence[str] = ()
    tags: Sequence[str] = ()
    search: str | None = None
    import_source: str | None = None
    min_width: int | None = None
    max_width: int | None = None
    min_height: int | None = None
    max_height: int | None = None


@dataclass(frozen=True)
class NewBlob:
    sha256: str
    size_bytes: int
    mime_type: str
    storage_key: str
    thumbnail_key: str | None
    width: int | None
    height: int | None


class AssetBlobRepository(TenantScopedRepository[AssetBlob]):
    model = AssetBlob

    async def lock_or_create(self, tenant_id: uuid.UUID, blob: NewBlob) -> tuple[AssetBlob, bool]:
        """The tenant's blob for these bytes, row-locked; created if new (→ True)."""
        inserted = await self.session.scalar(
            insert(AssetBlob)
            .values(id=uuid.uuid4(), tenant_id=tenant_id, **blob.__dict__)
            .on_conflict_do_nothing(index_elements=["tenant_id", "sha256"])
            .returning(AssetBlob.id)
        )
        row = await self._one_or_none(
            self._select(tenant_id, AssetBlob.sha256 == blob.sha256)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None  # inserted above, or there already (deletes lock it first)
        return row, inserted is not None

    async def get_by_hash(self, tenant_id: uuid.UUID, sha256: str) -> AssetBlob | None:
        return await self._one_or_none(self._select(tenant_id, AssetBlob.sha256 == sha256))

    async def release(self, tenant_id: uuid.UUID, blob_ids: Sequence[uuid.UUID]) -> list[str]:
        """Delete the blobs no asset points at any more; returns their storage keys (the
        caller removes the bytes). Locks each blob first, like every attach does."""
        keys: list[str] = []
        for blob_id in sorted(set(blob_ids)):
            blob = await self._one_or_none(
                self._select(tenant_id, AssetBlob.id == blob_id).with_for_update()
            )
            if blob is None:
                continue
            used = await self.session.scalar(
                select(func.count()).where(
                    CampaignAsset.tenant_id == tenant_id, CampaignAsset.blob_id == blob_id
                )
            )
            if used:
                continue
            await self.session.execute(delete(AssetBlob).where(AssetBlob.id == blob_id))
            keys.append(blob.storage_key)
            if blob.thumbnail_key:
                keys.append(blob.thumbnail_key)
        return keys


class CampaignAssetRepository(TenantScopedRepository[CampaignAsset]):
    model = CampaignAsset

    async def create(
        self, tenant_id: uuid.UUID, space_id: uuid.UUID, values: Mapping[str, Any]
    ) -> CampaignAsset:
        """A live asset in the space, counted in the space's counters."""
        row = CampaignAsset(
            **({"id": uuid.uuid4()} | dict(values)),
            tenant_id=tenant_id,
            campaign_space_id=space_id,
        )
        await self._add(row)
        await self._count(tenant_id, space_id, +1, row.file_size)
        return row

    async def create_imported(
        self, tenant_id: uuid.UUID, space_id: uuid.UUID, values: Mapping[str, Any]
    ) -> tuple[CampaignAsset, bool]:
        """Like `create`, for a platform object: if the space already has this (type,
        external id) — a re-run, or an activity retried — that asset is returned (→ False)."""
        row_values = {"id": uuid.uuid4()} | dict(values)
        inserted = await self.session.scalar(
            insert(CampaignAsset)
            .values(tenant_id=tenant_id, campaign_space_id=space_id, **row_values)
            .on_conflict_do_nothing(
                index_elements=["campaign_space_id", "asset_type", "external_asset_id"],
                index_where=CampaignAsset.external_asset_id.is_not(None),
            )
            .returning(CampaignAsset.id)
        )
        if inserted is not None:
            await self._count(tenant_id, space_id, +1, int(values.get("file_size") or 0))
        row = await self._one_or_none(
            self._select(
                tenant_id,
                CampaignAsset.campaign_space_id == space_id,
                CampaignAsset.asset_type == values["asset_type"],
                CampaignAsset.external_asset_id == values["external_asset_id"],
            ).execution_options(populate_existing=True)
        )
        assert row is not None
        return row, inserted is not None

    async def get(
        self, tenant_id: uuid.UUID, asset_id: uuid.UUID, *, include_deleted: bool = False
    ) -> CampaignAsset | None:
        where: list[ColumnElement[bool]] = [CampaignAsset.id == asset_id, _space_live()]
        if not include_deleted:
            where.append(LIVE)
        return await self._one_or_none(self._select(tenant_id, *where))

    async def find_external(
        self, tenant_id: uuid.UUID, space_id: uuid.UUID, asset_type: str, external_id: str
    ) -> CampaignAsset | None:
        return await self._one_or_none(
            self._select(
                tenant_id,
                CampaignAsset.campaign_space_id == space_id,
                CampaignAsset.asset_type == asset_type,
                CampaignAsset.external_asset_id == external_id,
            )
        )

    async def find_live_in_space(
        self, tenant_id: uuid.UUID, space_id: uuid.UUID, sha256: str
    ) -> CampaignAsset | None:
        """The space's live asset with these exact bytes (the duplicate check)."""
        statement = self._select(
            tenant_id,
            CampaignAsset.campaign_space_id == space_id,
            CampaignAsset.file_hash == sha256,
            LIVE,
        ).order_by(CampaignAsset.created_at, CampaignAsset.id)
        return await self._one_or_none(statement.limit(1))

    async def page(
        self, tenant_id: uuid.UUID, filters: AssetFilters, *, limit: int, cursor: str | None
    ) -> CountedPage:
        """A page of live assets (of live spaces) — best match first when searching, else
        newest first — and the total. InvalidCursor for a foreign cursor."""
        search = clean_search(filters.search)
        where = self._where(tenant_id, filters, search)
        if filters.campaign_space_id is None:
            where.append(await self._not_in_deleted_spaces(tenant_id))
        rank = (
            func.ts_rank_cd(CampaignAsset.search_vector, search_query(search)) if search else None
        )
        order = newest_first("campaign-assets", CampaignAsset.created_at, CampaignAsset.id, rank)
        statement: Select[Any] = select(CampaignAsset).where(*where)
        found = await order.scalars(self.session, statement, limit=limit, cursor=cursor)
        total = await self.session.scalar(
            select(func.count()).select_from(CampaignAsset).where(*where)
        )
        return CountedPage(found.items, found.next_cursor, int(total or 0))

    def _where(
        self, tenant_id: uuid.UUID, filters: AssetFilters, search: str | None
    ) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [CampaignAsset.tenant_id == tenant_id, LIVE]
        if filters.campaign_space_id is not None:
            where.append(CampaignAsset.campaign_space_id == filters.campaign_space_id)
        if filters.asset_types:
            where.append(CampaignAsset.asset_type.in_(list(filters.asset_types)))
        if filters.tags:
            where.append(CampaignAsset.tags.contains(array(list(filters.tags))))
        if filters.import_source is not None:
            where.append(CampaignAsset.import_source == filters.import_source)
        if filters.min_width is not None:
            where.append(CampaignAsset.width >= filters.min_width)
        if filters.max_width is not None:
            where.append(CampaignAsset.width <= filters.max_width)
        if filters.min_height is not None:
            where.append(CampaignAsset.height >= filters.min_height)
        if filters.max_height is not None:
            where.append(CampaignAsset.height <= filters.max_height)
        if search:
            where.append(CampaignAsset.search_vector.op("@@")(search_query(search)))
        return where

    async def _not_in_deleted_spaces(self, tenant_id: uuid.UUID) -> ColumnElement[bool]:
        """Assets of soft-deleted spaces leave the tenant-wide list. Those spaces are few, so
        their ids are read first: a join to `campaign_spaces` under row-level security
        misleads the planner into scanning every asset of every space."""
        deleted = await self.session.scalars(
            select(CampaignSpace.id).where(
                CampaignSpace.tenant_id == tenant_id, CampaignSpace.deleted_at.is_not(None)
            )
        )
        ids = list(deleted.all())
        return CampaignAsset.campaign_space_id.not_in(ids) if ids else true()

    async def update(
        self, tenant_id: uuid.UUID, asset_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> CampaignAsset | None:
        if not changes:
            return await self.get(tenant_id, asset_id)
        return await self._update_returning(
            tenant_id, [CampaignAsset.id == asset_id, LIVE], dict(changes)
        )

    async def soft_delete(self, tenant_id: uuid.UUID, asset_id: uuid.UUID) -> bool:
        """Hide a live asset (its bytes stay); its space's counters drop."""
        row = await self._update_returning(
            tenant_id, [CampaignAsset.id == asset_id, LIVE], {"deleted_at": datetime.now(UTC)}
        )
        if row is None:
            return False
        await self._count(tenant_id, row.campaign_space_id, -1, row.file_size)
        return True

    async def hard_delete(
        self, tenant_id: uuid.UUID, asset_id: uuid.UUID
    ) -> tuple[bool, uuid.UUID | None]:
        """Delete the row (live or soft-deleted); → (deleted?, its blob id to release)."""
        deleted = (
            await self.session.execute(
                delete(CampaignAsset)
                .where(CampaignAsset.tenant_id == tenant_id, CampaignAsset.id == asset_id)
                .returning(
                    CampaignAsset.campaign_space_id,
                    CampaignAsset.blob_id,
                    CampaignAsset.file_size,
                    CampaignAsset.deleted_at,
                )
            )
        ).first()
        if deleted is None:
            return False, None
        space_id, blob_id, size, deleted_at = deleted
        if deleted_at is None:  # it was live: it was counted
            await self._count(tenant_id, space_id, -1, size)
        return True, blob_id

    async def _count(self, tenant_id: uuid.UUID, space_id: uuid.UUID, n: int, size: int) -> None:
        await self.session.execute(
            update(CampaignSpace)
            .where(CampaignSpace.tenant_id == tenant_id, CampaignSpace.id == space_id)
            .values(
                asset_count=CampaignSpace.asset_count + n,
                total_asset_size_bytes=CampaignSpace.total_asset_size_bytes + n * size,
            )
        )

    async def find_by_reference(self, tenant_id: uuid.UUID, url: str) -> CampaignAsset | None:
        """The live asset a URL points at: its own file URL (`…/campaign-assets/{id}/file`)
        or its public URL."""
        asset_id = asset_id_in_url(url)
        if asset_id is not None:
            return await self.get(tenant_id, asset_id)
        statement = self._select(tenant_id, CampaignAsset.public_url == url, LIVE)
        return await self._one_or_none(statement.order_by(CampaignAsset.created_at).limit(1))


class AssetReuseRepository(RepositoryBase[AssetReuse]):
    model = AssetReuse

    async def record(
        self,
        tenant_id: uuid.UUID,
        asset_id: uuid.UUID,
        *,
        reused_in_type: str,
        reused_in_id: str,
        reused_in_name: str | None = None,
        platform: str | None = None,
        context: Mapping[str, Any] | None = None,
        user_id: str | None = None,
        actor: str = "api",
    ) -> tuple[AssetReuse, bool]:
        """Record that the asset is used in (type, id); once per place (→ False if known).
        The asset's `reused_count`/`last_reused_at` move only on a first record."""
        inserted = await self.session.scalar(
            insert(AssetReuse)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                asset_id=asset_id,
                user_id=user_id,
                actor=actor,
                reused_in_type=reused_in_type,
                reused_in_id=reused_in_id,
                reused_in_name=reused_in_name,
                platform=platform,
                context=dict(context or {}),
            )
            .on_conflict_do_nothing(index_elements=["asset_id", "reused_in_type", "reused_in_id"])
            .returning(AssetReuse.id)
        )
        row = await self.session.scalar(
            select(AssetReuse)
            .where(
                AssetReuse.tenant_id == tenant_id,
                AssetReuse.asset_id == asset_id,
                AssetReuse.reused_in_type == reused_in_type,
                AssetReuse.reused_in_id == reused_in_id,
            )
            .execution_options(populate_existing=True)
        )
        assert row is not None
        if inserted is not None:
            await self.session.execute(
                update(CampaignAsset)
                .where(CampaignAsset.tenant_id == tenant_id, CampaignAsset.id == asset_id)
                .values(
                    reused_count=CampaignAsset.reused_count + 1,
                    last_reused_at=row.reused_at,
                )
            )
        return row, inserted is not None

    async def list_for_asset(
        self, tenant_id: uuid.UUID, asset_id: uuid.UUID, *, limit: int = 50, cursor: str | None
    ) -> Page[AssetReuse]:
        """A page of where the asset was used, newest first."""
        statement = select(AssetReuse).where(
            AssetReuse.tenant_id == tenant_id, AssetReuse.asset_id == asset_id
        )
        order = newest_first("asset-reuses", AssetReuse.reused_at, AssetReuse.id)
        return await order.scalars(self.session, statement, limit=limit, cursor=cursor)


def _space_live() -> ColumnElement[bool]:
    """The asset's space is not soft-deleted."""
    return (
        select(CampaignSpace.id)
        .where(
            CampaignSpace.id == CampaignAsset.campaign_space_id,
            CampaignSpace.deleted_at.is_(None),
        )
        .exists()
    )


def asset_id_in_url(url: str) -> uuid.UUID | None:
    """`…/campaign-assets/{uuid}/file` (or `/thumbnail`) → the uuid."""
    marker = "/campaign-assets/"
    if marker not in url:
        return None
    rest = url.split(marker, 1)[1].split("/", 1)[0].split("?", 1)[0]
    try:
        return uuid.UUID(rest)
    except ValueError:
        return None


async def record_asset_reuse(
    session: Any,
    tenant_id: uuid.UUID,
    asset_id: uuid.UUID,
    *,
    reused_in_type: str,
    reused_in_id: str,
    reused_in_name: str | None = None,
    platform: str | None = None,
    context: Mapping[str, Any] | None = None,
    user_id: str | None = None,
    actor: str = "worker",
) -> bool:
    """For publish and sync code: record that a library asset is used in (type, id).
    Idempotent (an activity may run twice); → True when this place is new. Runs in the
    caller's transaction (tenant-scoped session)."""
    _, created = await AssetReuseRepository(session).record(
        tenant_id,
        asset_id,
        reused_in_type=reused_in_type,
        reused_in_id=reused_in_id,
        reused_in_name=reused_in_name,
        platform=platform,
        context=context,
        user_id=user_id,
        actor=actor,
    )
    return created
