"""Sync records: where each campaign-set entity stands on each platform (seed 002).

The sync engine calls `begin` before a platform call and `mark_created` / `mark_synced` /
`mark_failed` right after it, so a retried activity finds what an earlier attempt did (the
platform id is kept across attempts). `list_retryable` feeds the failed-sync sweep.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict

from sqlalchemy import and_, case, false, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from flightdeck.db.models import CampaignSet, GeneratedCampaign, SyncRecord
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.domain.campaign_sets import EntityType

# A Reddit ad's post is ledgered under the ad's id as entity type `post`.
RecordType = EntityType | Literal["post"]

MAX_ERROR_MESSAGE = 2000


class SyncCounts(TypedDict):
    synced: int
    failed: int
    total: int


class SyncRecordRepository(TenantScopedRepository[SyncRecord]):
    model = SyncRecord

    async def get(
        self,
        tenant_id: uuid.UUID,
        entity_type: RecordType,
        entity_id: uuid.UUID,
        platform: str,
        *,
        for_update: bool = False,
    ) -> SyncRecord | None:
        """`for_update`: locked until the transaction ends (a writer that must not overwrite
        what another wrote since it read)."""
        statement = self._select(tenant_id, *_key(entity_type, entity_id, platform))
        if for_update:
            statement = statement.with_for_update()
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def begin(
        self,
        tenant_id: uuid.UUID,
        entity_type: RecordType,
        entity_id: uuid.UUID,
        platform: str,
        *,
        reset_failures: bool = False,
    ) -> SyncRecord:
        """Record that a push is starting (state `requested`, `syncing`). An existing record
        keeps its platform id and snapshot; `reset_failures` (a user-initiated sync, not the
        retry sweep) also clears the attempt count and the permanent-failure flag."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {
            "state": "requested",
            "sync_status": "syncing",
            "requested_at": now,
        }
        if reset_failures:
            values |= {"attempts": 0, "permanently_failed": False}
        statement = (
            insert(SyncRecord)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                entity_type=entity_type,
                entity_id=entity_id,
                platform=platform,
                error_log=[],
                **values,
            )
            .on_conflict_do_update(
                index_elements=[SyncRecord.entity_type, SyncRecord.entity_id, SyncRecord.platform],
                set_=values,
                # Never take over another tenant's record (ids are unguessable, but still).
                where=SyncRecord.tenant_id == tenant_id,
            )
            .returning(SyncRecord)
        )
        row = await self._returning(statement)
        if row is None:
            raise LookupError(f"{entity_type} {entity_id} has a sync record of another tenant")
        return row

    async def mark_created(
        self,
        tenant_id: uuid.UUID,
        entity_type: RecordType,
        entity_id: uuid.UUID,
        platform: str,
        *,
        platform_id: str,
    ) -> SyncRecord | None:
        """The platform created the entity: keep its id now, before anything else can fail."""
        values = {"state": "created", "platform_id": platform_id}
        return await self._set(tenant_id, entity_type, entity_id, platform, values)

    async def mark_synced(
        self,
        tenant_id: uuid.UUID,
        entity_type: RecordType,
        entity_id: uuid.UUID,
        platform: str,
        *,
        platform_id: str,
        snapshot: dict[str, Any],
        reset_attempts: bool = True,
        fetch: bool = True,
    ) -> SyncRecord | None:
        """The platform has exactly `snapshot` (the spec pushed): the base for the next diff.
        `reset_attempts=False` keeps the failure count (a campaign's own push succeeded, but
        whether the campaign as a whole did is decided after its subtree). `fetch=False`
        returns nothing (a push's hot path: loading the updated row back, snapshot and error
        log included, was ~5 % of the worker's CPU in the 3-platform bench)."""
        values: dict[str, Any] = {
            "state": "synced",
            "sync_status": "synced",
            "platform_id": platform_id,
            "synced_snapshot": snapshot,
            "last_synced_at": datetime.now(UTC),
        }
        if reset_attempts:
            values |= {"attempts": 0, "permanently_failed": False}
        if not fetch:
            await self.session.execute(
                update(SyncRecord)
                .where(SyncRecord.tenant_id == tenant_id, *_key(entity_type, entity_id, platform))
                .values(**values)
            )
            return None
        return await self._set(tenant_id, entity_type, entity_id, platform, values)

    async def mark_failed(
        self,
        tenant_id: uuid.UUID,
        entity_type: RecordType,
        entity_id: uuid.UUID,
        platform: str,
        *,
        message: str,
        code: str | None = None,
        permanent: bool = False,
    ) -> SyncRecord | None:
        """Count a failed attempt and log it; `permanent` (a non-retryable error) takes the
        record out of the retry sweep. The platform id, if any, is kept."""
        entry: dict[str, Any] = {
            "at": datetime.now(UTC).isoformat(),
            "message": message[:MAX_ERROR_MESSAGE],
        }
        if code is not None:
            entry["code"] = code
        values: dict[str, Any] = {
            # A create whose outcome is unknown stays `requested`: the next attempt must look
            # for the object before creating it again (only `mark_not_applied` clears that).
            "state": case((SyncRecord.state == "requested", "requested"), else_="failed"),
            "sync_status": "failed",
            "attempts": SyncRecord.attempts + 1,
            "error_log": SyncRecord.error_log.op("||")(literal([entry], JSONB)),
        }
        if permanent:
            values["permanently_failed"] = True
        return await self._set(tenant_id, entity_type, entity_id, platform, values)

    async def mark_not_applied(
        self, tenant_id: uuid.UUID, entity_type: RecordType, entity_id: uuid.UUID, platform: str
    ) -> SyncRecord | None:
        """The platform answered the create with a refusal that says nothing was made (a 429, a
        4xx, or our own check before sending): the next attempt creates without looking."""
        values = {"state": "failed"}
        return await self._set(tenant_id, entity_type, entity_id, platform, values)

    async def mark_not_created(
        self,
        tenant_id: uuid.UUID,
        entity_type: RecordType,
        entity_id: uuid.UUID,
        platform: str,
        *,
        message: str,
    ) -> SyncRecord | None:
        """A create whose outcome was unknown did not happen (looked for on the platform, by
        its marker, and not found): the next attempt creates without looking. The reason is
        logged; the attempt was already counted when it failed."""
        entry = {"at": datetime.now(UTC).isoformat(), "message": message[:MAX_ERROR_MESSAGE]}
        values: dict[str, Any] = {
            "state": "failed",
            "sync_status": "failed",
            "error_log": SyncRecord.error_log.op("||")(literal([entry], JSONB)),
        }
        return await self._set(tenant_id, entity_type, entity_id, platform, values)

    async def mark_found(
        self,
        tenant_id: uuid.UUID,
        entity_type: RecordType,
        entity_id: uuid.UUID,
        platform: str,
        *,
        platform_id: str,
        message: str,
        deleted: bool = False,
    ) -> SyncRecord | None:
        """A create whose outcome was unknown did happen (found on the platform by its marker
        after the push stopped): the object is ours and mapped, `created` but still failed, so
        the next attempt updates it instead of creating another (no snapshot: it sends every
        field). `deleted`: the entity was deleted meanwhile, and so is the object now."""
        entry = {"at": datetime.now(UTC).isoformat(), "message": message[:MAX_ERROR_MESSAGE]}
        values: dict[str, Any] = {
            "state": "deleted" if deleted else "created",
            "sync_status": "synced" if deleted else "failed",
            "platform_id": platform_id,
            "error_log": SyncRecord.error_log.op("||")(literal([entry], JSONB)),
        }
        return await self._set(tenant_id, entity_type, entity_id, platform, values)

    async def lost_creates(
        self, tenant_id: uuid.UUID, platform: str, entity_ids: list[uuid.UUID]
    ) -> dict[tuple[str, uuid.UUID], SyncRecord]:
        """The records among `entity_ids` (of any type) of a create whose outcome is unknown:
        `requested` with no platform id, keyed by (entity type, entity id)."""
        if not entity_ids:
            return {}
        rows = await self._all(
            self._select(
                tenant_id,
                SyncRecord.platform == platform,
                SyncRecord.entity_id.in_(entity_ids),
                SyncRecord.state == "requested",
                SyncRecord.platform_id.is_(None),
            ).execution_options(populate_existing=True)
        )
        return {(r.entity_type, r.entity_id): r for r in rows}

    async def mark_deleted(
        self, tenant_id: uuid.UUID, entity_type: EntityType, entity_id: uuid.UUID, platform: str
    ) -> SyncRecord | None:
        """The entity was deleted on the platform."""
        values = {"state": "deleted", "sync_status": "synced", "last_synced_at": datetime.now(UTC)}
        return await self._set(tenant_id, entity_type, entity_id, platform, values)

    async def reset_attempts(
        self,
        tenant_id: uuid.UUID,
        entity_type: EntityType,
        entity_ids: list[uuid.UUID],
        platform: str,
    ) -> None:
        """Start the failure count afresh (the entity synced, or a person asked for a sync)."""
        await self.session.execute(
            update(SyncRecord)
            .where(
                SyncRecord.tenant_id == tenant_id,
                SyncRecord.entity_type == entity_type,
                SyncRecord.entity_id.in_(entity_ids),
                SyncRecord.platform == platform,
            )
            .values(attempts=0, permanently_failed=False)
        )

    async def list_retryable(
        self, platform: str, max_attempts: int, *, limit: int = 500
    ) -> list[SyncRecord]:
        """Failed records worth another try, across tenants (the sweep's input), oldest first."""
        statement = (
            select(SyncRecord)
            .where(
                SyncRecord.platform == platform,
                SyncRecord.sync_status == "failed",
                SyncRecord.permanently_failed == false(),
                SyncRecord.attempts < max_attempts,
            )
            .order_by(SyncRecord.updated_at, SyncRecord.id)
            .limit(limit)
        )
        return await self._all(statement)

    async def counts_for_set(self, tenant_id: uuid.UUID, set_id: uuid.UUID) -> SyncCounts:
        """Progress over the set's live campaigns on the set's platform."""
        record = and_(
            SyncRecord.tenant_id == tenant_id,
            SyncRecord.entity_type == "campaign",
            SyncRecord.entity_id == GeneratedCampaign.id,
            SyncRecord.platform == CampaignSet.platform,
        )
        statement = (
            select(
                func.count(SyncRecord.id).filter(SyncRecord.sync_status == "synced"),
                func.count(SyncRecord.id).filter(SyncRecord.sync_status == "failed"),
                func.count(GeneratedCampaign.id),
            )
            .select_from(GeneratedCampaign)
            .join(CampaignSet, CampaignSet.id == GeneratedCampaign.campaign_set_id)
            .outerjoin(SyncRecord, record)
            .where(
                GeneratedCampaign.tenant_id == tenant_id,
                GeneratedCampaign.campaign_set_id == set_id,
                GeneratedCampaign.deleted_at.is_(None),
            )
        )
        synced, failed, total = (await self.session.execute(statement)).one()
        return SyncCounts(synced=synced, failed=failed, total=total)

    async def _set(
        self,
        tenant_id: uuid.UUID,
        entity_type: RecordType,
        entity_id: uuid.UUID,
        platform: str,
        values: dict[str, Any],
    ) -> SyncRecord | None:
        return await self._returning(
            update(SyncRecord)
            .where(SyncRecord.tenant_id == tenant_id, *_key(entity_type, entity_id, platform))
            .values(**values)
            .returning(SyncRecord)
        )


def _key(entity_type: str, entity_id: uuid.UUID, platform: str) -> tuple[Any, ...]:
    return (
        SyncRecord.entity_type == entity_type,
        SyncRecord.entity_id == entity_id,
        SyncRecord.platform == platform,
    )
