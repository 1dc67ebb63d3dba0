"""What pushing a new campaign's whole tree in one request (`activities/sync_tree.py`) reads and
writes: the same sync records, entity columns, keywords and audit entries as entity-by-entity
pushes, but for every entity of the tree in one statement each (a tree is ~20 rows: written one
by one, the bookkeeping, not the platform, set the pace of a sync on a busy machine)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import AdGroup, GeneratedAd, GeneratedCampaign, Keyword, SyncRecord
from flightdeck.db.models.audit_log import AuditLogEntry
from flightdeck.domain.campaign_sets import EntityType

_COLUMNS: dict[str, tuple[Any, str]] = {
    "campaign": (GeneratedCampaign, "platform_campaign_id"),
    "ad_group": (AdGroup, "platform_ad_group_id"),
    "ad": (GeneratedAd, "platform_ad_id"),
}


@dataclass(frozen=True)
class SyncedEntity:
    entity_type: EntityType
    entity_id: uuid.UUID
    platform_id: str
    snapshot: dict[str, Any]


class CampaignTreeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def recorded(
        self, tenant_id: uuid.UUID, platform: str, entity_ids: list[uuid.UUID]
    ) -> set[uuid.UUID]:
        """Which of these entities have a sync record on `platform` (a push of theirs was
        started at some time: a marker of theirs may have reached the platform)."""
        if not entity_ids:
            return set()
        rows = await self.session.scalars(
            select(SyncRecord.entity_id).where(
                SyncRecord.tenant_id == tenant_id,
                SyncRecord.platform == platform,
                SyncRecord.entity_id.in_(entity_ids),
            )
        )
        return set(rows.all())

    async def begin(
        self, tenant_id: uuid.UUID, platform: str, entities: list[tuple[EntityType, uuid.UUID]]
    ) -> None:
        """`SyncRecordRepository.begin` for every entity at once: `requested`, `syncing`; an
        existing record keeps its platform id and snapshot."""
        now = datetime.now(UTC)
        values = {"state": "requested", "sync_status": "syncing", "requested_at": now}
        rows: list[dict[str, Any]] = [
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant_id,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "platform": platform,
                "error_log": [],
                **values,
            }
            for entity_type, entity_id in entities
        ]
        statement = insert(SyncRecord)
        upsert = statement.on_conflict_do_update(
            index_elements=[SyncRecord.entity_type, SyncRecord.entity_id, SyncRecord.platform],
            set_={k: getattr(statement.excluded, k) for k in values},
            # Never take over another tenant's record (ids are unguessable, but still).
            where=SyncRecord.tenant_id == tenant_id,
        ).returning(SyncRecord.entity_id)
        taken = {row[0] for row in await _many(self.session, upsert, rows)}
        if len(taken) != len(entities):
            raise LookupError("an entity of the tree has a sync record of another tenant")

    async def synced(
        self, tenant_id: uuid.UUID, platform: str, made: list[SyncedEntity], *, mirror: bool = True
    ) -> None:
        """`mark_synced` and `record_sync_result` for every entity at once: the platform has
        exactly each snapshot, and each entity its platform id. A campaign keeps its attempt
        count (its outcome is recorded once, after the run decides it). `mirror=False`: the
        tree is on another target than the set's first, whose ids the entities' own columns
        do not show (its sync records are its mapping)."""
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant_id,
                "entity_type": entity.entity_type,
                "entity_id": entity.entity_id,
                "platform": platform,
                "error_log": [],
                "state": "synced",
                "sync_status": "synced",
                "platform_id": entity.platform_id,
                "synced_snapshot": entity.snapshot,
                "last_synced_at": now,
            }
            for entity in made
        ]
        statement = insert(SyncRecord)
        keep = statement.excluded.entity_type == "campaign"
        upsert = statement.on_conflict_do_update(
            index_elements=[SyncRecord.entity_type, SyncRecord.entity_id, SyncRecord.platform],
            set_={
                "state": "synced",
                "sync_status": "synced",
                "platform_id": statement.excluded.platform_id,
                "synced_snapshot": statement.excluded.synced_snapshot,
                "last_synced_at": statement.excluded.last_synced_at,
                "attempts": case((keep, SyncRecord.attempts), else_=0),
                "permanently_failed": case((keep, SyncRecord.permanently_failed), else_=False),
            },
            where=SyncRecord.tenant_id == tenant_id,
        )
        await _many(self.session, upsert, rows)
        if not mirror:
            return
        for entity_type, (model, column) in _COLUMNS.items():
            rows = [
                {
                    "id": e.entity_id,
                    column: e.platform_id,
                    "sync_status": "synced",
                    "sync_error": None,
                    "last_synced_at": now,
                }
                for e in made
                if e.entity_type == entity_type
            ]
            if rows:  # by primary key, as one executemany (the session's scope is the tenant)
                await self.session.execute(update(model), rows)

    async def keywords_created(self, tenant_id: uuid.UUID, created: dict[uuid.UUID, str]) -> None:
        """Each keyword is on the platform as its own object (a Google criterion): synced, with
        that object's id."""
        rows: list[dict[str, Any]] = [
            {"id": keyword_id, "sync_status": "synced", "sync_reason": None,
             "platform_keyword_id": platform_id}
            for keyword_id, platform_id in created.items()
        ]  # fmt: skip
        if rows:
            await self.session.execute(update(Keyword), rows)

    async def keyword_refused(
        self, tenant_id: uuid.UUID, keyword_id: uuid.UUID, reason: str
    ) -> None:
        await self.session.execute(
            update(Keyword)
            .where(Keyword.tenant_id == tenant_id, Keyword.id == keyword_id)
            .values(sync_status="failed", sync_reason=reason)
        )

    async def audit(
        self, tenant_id: uuid.UUID, actor: str, entries: list[tuple[str, str, str, dict[str, Any]]]
    ) -> None:
        """Audit entries (action, entity type, entity id, details) in one insert."""
        self.session.add_all(
            [
                AuditLogEntry(
                    tenant_id=tenant_id,
                    actor=actor,
                    action=action,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    details=details,
                )  # fmt: skip
                for action, entity_type, entity_id, details in entries
            ]
        )
        await self.session.flush()


async def _many(session: AsyncSession, statement: Any, rows: list[dict[str, Any]]) -> list[Any]:
    """One statement for many rows, as Core's executemany: compiled once and cached (a
    multi-row VALUES clause is compiled anew for every call, a sixth of a tree push's CPU),
    sent as batched multi-row INSERTs ("insertmanyvalues"), with RETURNING rows in order. In
    the session's transaction, so in its tenant scope."""
    connection = await session.connection()
    result = await connection.execute(statement, rows)
    return list(result.all()) if result.returns_rows else []
