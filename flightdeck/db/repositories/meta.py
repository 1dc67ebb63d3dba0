"""Queries of seed 001's tables: Meta connections, wizard campaigns and their sections, ads and
what is published. Every statement is tenant-filtered (and row-level security checks again),
except `MetaConnectionRepository.consume_state`, which the OAuth callback runs before it knows
the tenant (the single-use state names it)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from flightdeck.db.models import (
    AuditLogArchiveEntry,
    AuditLogEntry,
    CampaignMetaConnection,
    CampaignState,
    MetaAd,
    MetaCampaign,
    MetaPublishedCampaign,
)
from flightdeck.db.repositories.base import RepositoryBase, TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, asc, newest_first

AD_ORDER = Keyset("meta-ads", asc(MetaAd.position))


class MetaConnectionRepository(TenantScopedRepository[CampaignMetaConnection]):
    model = CampaignMetaConnection

    async def start(
        self, tenant_id: uuid.UUID, *, user_id: uuid.UUID | None, state: str, expires_at: datetime
    ) -> CampaignMetaConnection:
        row = CampaignMetaConnection(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            user_id=user_id,
            connection_status="authorizing",
            oauth_state=state,
            oauth_state_expires_at=expires_at,
            discovered={},
        )
        return await self._add(row)

    async def consume_state(self, state: str) -> CampaignMetaConnection | None:
        """The connection waiting for this OAuth `state`, exactly once (None if unknown, used
        or expired). Not tenant-filtered: the callback carries no API key."""
        statement = (
            update(CampaignMetaConnection)
            .where(
                CampaignMetaConnection.oauth_state == state,
                CampaignMetaConnection.connection_status == "authorizing",
                CampaignMetaConnection.oauth_state_expires_at > func.now(),
            )
            .values(oauth_state=None, oauth_state_expires_at=None)
            .returning(CampaignMetaConnection)
        )
        return await self._returning(statement)

    async def get(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID
    ) -> CampaignMetaConnection | None:
        statement = self._select(tenant_id, CampaignMetaConnection.id == connection_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def list(
        self, tenant_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[CampaignMetaConnection]:
        """A page of the tenant's connections (not those still authorizing), newest first."""
        statement = self._select(
            tenant_id, CampaignMetaConnection.connection_status != "authorizing"
        )
        order = newest_first(
            "meta-connections", CampaignMetaConnection.created_at, CampaignMetaConnection.id
        )
        return await order.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def update(
        self, tenant_id: uuid.UUID, connection_id: uuid.UUID, **values: Any
    ) -> CampaignMetaConnection | None:
        return await self._update_returning(
            tenant_id, [CampaignMetaConnection.id == connection_id], values
        )


class MetaCampaignRepository(TenantScopedRepository[MetaCampaign]):
    model = MetaCampaign

    async def create(
        self, tenant_id: uuid.UUID, *, name: str, initial_goal: str, user_id: uuid.UUID | None
    ) -> MetaCampaign:
        campaign = await self._add(
            MetaCampaign(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                user_id=user_id,
                name=name,
                initial_goal=initial_goal,
                status="draft",
            )
        )
        self.session.add(
            CampaignState(id=uuid.uuid4(), tenant_id=tenant_id, campaign_id=campaign.id)
        )
        await self.session.flush()
        return campaign

    async def get(self, tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> MetaCampaign | None:
        statement = self._select(tenant_id, MetaCampaign.id == campaign_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        published_status: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[MetaCampaign]:
        """A page of the tenant's campaigns, newest first."""
        statement = self._select(tenant_id)
        if published_status is not None:
            statement = statement.where(MetaCampaign.published_status == published_status)
        order = newest_first("meta-campaigns", MetaCampaign.created_at, MetaCampaign.id)
        return await order.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def update(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, **values: Any
    ) -> MetaCampaign | None:
        return await self._update_returning(tenant_id, [MetaCampaign.id == campaign_id], values)


class CampaignStateRepository(TenantScopedRepository[CampaignState]):
    model = CampaignState

    async def get(self, tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> CampaignState | None:
        statement = self._select(tenant_id, CampaignState.campaign_id == campaign_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def publish_parts(
        self,
        tenant_id: uuid.UUID,
        campaign_id: uuid.UUID,
        keys: Sequence[str],
        index: int | None = None,
    ) -> dict[str, Any] | None:
        """Only the parts of publish_data a step needs (`metadata`, the given top-level keys,
        and the creative and ad at `index`): a publish step reads a few hundred bytes, not the
        whole document, 100 times over."""
        data = CampaignState.publish_data
        columns = [data["metadata"].label("metadata"), *(data[k].label(k) for k in keys)]
        if index is not None:
            columns += [data["creatives"][index].label("creative"), data["ads"][index].label("ad")]
        statement = select(*columns).where(
            CampaignState.tenant_id == tenant_id,
            CampaignState.campaign_id == campaign_id,
            CampaignState.publish_data.is_not(None),
        )
        row = (await self.session.execute(statement)).one_or_none()
        return dict(row._mapping) if row is not None else None

    async def set_columns(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, **values: Any
    ) -> CampaignState | None:
        return await self._update_returning(
            tenant_id, [CampaignState.campaign_id == campaign_id], values
        )

    async def remember_image_hash(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, url: str, image_hash: str
    ) -> None:
        """`publish_data.metadata.imageHashes[url] = hash`, in one statement (concurrent
        uploads of one campaign each add their own key)."""
        entry = func.jsonb_build_object(literal(url), literal(image_hash))
        await self._merge_metadata(tenant_id, campaign_id, "imageHashes", entry, "{}")

    async def remember_creative_id(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, creative_id: str
    ) -> None:
        """Append to `publish_data.metadata.creativeIds` unless it is there already."""
        current = CampaignState.publish_data["metadata"]["creativeIds"]
        added = func.coalesce(current, literal([], JSONB)).op("||")(func.to_jsonb(creative_id))
        value = case(
            (func.coalesce(current, literal([], JSONB)).op("?")(creative_id), current),
            else_=added,
        )
        await self.session.execute(
            update(CampaignState)
            .where(CampaignState.tenant_id == tenant_id, CampaignState.campaign_id == campaign_id)
            .values(
                publish_data=func.jsonb_set(
                    CampaignState.publish_data, literal(["metadata", "creativeIds"]), value
                )
            )
            .execution_options(synchronize_session=False)
        )

    async def _merge_metadata(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, key: str, entry: Any, empty: str
    ) -> None:
        current = CampaignState.publish_data["metadata"][key]
        merged = func.coalesce(current, literal(empty).cast(JSONB)).op("||")(entry)
        await self.session.execute(
            update(CampaignState)
            .where(CampaignState.tenant_id == tenant_id, CampaignState.campaign_id == campaign_id)
            .values(
                publish_data=func.jsonb_set(
                    CampaignState.publish_data, literal(["metadata", key]), merged
                )
            )
            .execution_options(synchronize_session=False)
        )


class MetaAdRepository(TenantScopedRepository[MetaAd]):
    model = MetaAd

    async def replace(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, ads: Sequence[dict[str, Any]]
    ) -> builtins.list[MetaAd]:
        """The campaign's ads become `ads` (position order); only before anything is on Meta."""
        await self.session.execute(
            delete(MetaAd).where(MetaAd.tenant_id == tenant_id, MetaAd.campaign_id == campaign_id)
        )
        rows = [
            MetaAd(id=uuid.uuid4(), tenant_id=tenant_id, campaign_id=campaign_id, position=i, **ad)
            for i, ad in enumerate(ads)
        ]
        self.session.add_all(rows)
        await self.session.flush()
        return rows

    async def list_for_campaign(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID
    ) -> builtins.list[MetaAd]:
        statement = self._select(tenant_id, MetaAd.campaign_id == campaign_id).order_by(
            MetaAd.position
        )
        return await self._all(statement.execution_options(populate_existing=True))

    async def count_for_campaign(self, tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> int:
        statement = select(func.count()).where(
            MetaAd.tenant_id == tenant_id, MetaAd.campaign_id == campaign_id
        )
        return int(await self.session.scalar(statement) or 0)

    async def page_for_campaign(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> Page[MetaAd]:
        """A page of the campaign's ads, in their order (position is unique per campaign)."""
        statement = self._select(tenant_id, MetaAd.campaign_id == campaign_id)
        statement = statement.execution_options(populate_existing=True)
        return await AD_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def at_position(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, position: int
    ) -> MetaAd | None:
        statement = self._select(
            tenant_id, MetaAd.campaign_id == campaign_id, MetaAd.position == position
        )
        return await self._one_or_none(statement)

    async def any_published(self, tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> bool:
        statement = select(func.count()).where(
            MetaAd.tenant_id == tenant_id,
            MetaAd.campaign_id == campaign_id,
            MetaAd.meta_ad_id.is_not(None),
        )
        return bool(await self.session.scalar(statement))

    async def update(self, tenant_id: uuid.UUID, ad_id: uuid.UUID, **values: Any) -> None:
        await self.session.execute(
            self._update(tenant_id, MetaAd.id == ad_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def clear_meta_ids(self, tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> None:
        """The campaign was deleted on Meta: its ads are drafts again."""
        await self.session.execute(
            self._update(tenant_id, MetaAd.campaign_id == campaign_id)
            .values(
                meta_ad_id=None,
                meta_creative_id=None,
                meta_review_status=None,
                status="draft",
                published_at=None,
            )
            .execution_options(synchronize_session=False)
        )


class MetaPublishedRepository(TenantScopedRepository[MetaPublishedCampaign]):
    model = MetaPublishedCampaign

    async def get(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID
    ) -> MetaPublishedCampaign | None:
        statement = self._select(tenant_id, MetaPublishedCampaign.campaign_id == campaign_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def by_workflow_id(
        self, tenant_id: uuid.UUID, workflow_id: str
    ) -> MetaPublishedCampaign | None:
        statement = self._select(tenant_id, MetaPublishedCampaign.workflow_id == workflow_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def start(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, workflow_id: str
    ) -> MetaPublishedCampaign:
        """Publishing (again): the row with status `publishing`; a deleted publication starts
        a new generation (and so new ledger keys)."""
        statement = (
            insert(MetaPublishedCampaign)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                campaign_id=campaign_id,
                publish_status="publishing",
                workflow_id=workflow_id,
                generation=1,
                meta_ad_ids=[],
            )
            .on_conflict_do_update(
                index_elements=[MetaPublishedCampaign.campaign_id],
                set_={
                    "publish_status": "publishing",
                    "error_message": None,
                    "workflow_id": workflow_id,
                    "updated_at": func.now(),
                    "generation": case(
                        (
                            MetaPublishedCampaign.publish_status == "deleted",
                            MetaPublishedCampaign.generation + 1,
                        ),
                        else_=MetaPublishedCampaign.generation,
                    ),
                },
                where=MetaPublishedCampaign.tenant_id == tenant_id,
            )
            .returning(MetaPublishedCampaign)
        )
        row = await self._returning(statement)
        assert row is not None
        return row

    async def update(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, **values: Any
    ) -> MetaPublishedCampaign | None:
        return await self._update_returning(
            tenant_id, [MetaPublishedCampaign.campaign_id == campaign_id], values
        )

    async def add_ad_id(self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, ad_id: str) -> None:
        ids = MetaPublishedCampaign.meta_ad_ids
        await self.session.execute(
            self._update(
                tenant_id,
                MetaPublishedCampaign.campaign_id == campaign_id,
                ~ids.any(ad_id),  # type: ignore[arg-type]
            )
            .values(meta_ad_ids=func.array_append(ids, ad_id))
            .execution_options(synchronize_session=False)
        )

    async def failed_before(
        self, cutoff: datetime, limit: int = 500
    ) -> builtins.list[MetaPublishedCampaign]:
        """Publish attempts that ended in `error` before `cutoff`, across tenants (the
        maintenance sweep runs in the system scope)."""
        statement = (
            select(MetaPublishedCampaign)
            .where(
                MetaPublishedCampaign.publish_status == "error",
                MetaPublishedCampaign.updated_at < cutoff,
            )
            .order_by(MetaPublishedCampaign.updated_at)
            .limit(limit)
        )
        return await self._all(statement)


class AuditArchiveRepository(RepositoryBase[AuditLogArchiveEntry]):
    """Moves audit entries past the retention period into `audit_log_archive`."""

    model = AuditLogArchiveEntry

    async def archive_before(self, retention: timedelta, batch: int = 5000) -> int:
        """Move up to `batch` entries older than `retention`; how many moved."""
        cutoff = datetime.now(UTC) - retention
        old = (
            select(AuditLogEntry.id)
            .where(AuditLogEntry.created_at < cutoff)
            .order_by(AuditLogEntry.id)
            .limit(batch)
            .cte("old")
        )
        moved = (
            delete(AuditLogEntry)
            .where(AuditLogEntry.id.in_(select(old.c.id)))
            .returning(*AuditLogEntry.__table__.c)
            .cte("moved")
        )
        columns = ["id", "tenant_id", "actor", "action", "entity_type", "entity_id", "details",
                   "created_at"]  # fmt: skip
        copy = insert(AuditLogArchiveEntry).from_select(
            columns, select(*(moved.c[c] for c in columns))
        )
        result = await self.session.execute(copy.add_cte(old).add_cte(moved))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
