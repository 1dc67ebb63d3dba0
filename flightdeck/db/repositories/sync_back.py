"""Sync-back bookkeeping (seed 002 §6): cycle runs per account, conflicts, alerts, and the
local writes that take a platform-side change (never marking anything to be pushed back)."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import (
    AdGroup,
    Alert,
    CampaignSet,
    CampaignSetTarget,
    GeneratedCampaign,
    SyncBackRun,
    SyncConflict,
    SyncRecord,
)
from flightdeck.db.models.ad_accounts import AdAccount
from flightdeck.db.models.campaign_sets import GeneratedAd, Keyword
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, desc

MAX_CHANGES_KEPT = 500
# A cycle holds thousands of loaded rows: an UPDATE by id must not scan them all to keep them
# in step (SQLAlchemy's default), which made a cycle quadratic in the account's size.
NO_SYNC = {"synchronize_session": False}


RUN_ORDER = Keyset("sync-back-runs", desc(SyncBackRun.created_at), desc(SyncBackRun.id))
CONFLICT_ORDER = Keyset("conflicts", desc(SyncConflict.created_at), desc(SyncConflict.id))


class SyncBackRunRepository(TenantScopedRepository[SyncBackRun]):
    model = SyncBackRun

    async def start(
        self, tenant_id: uuid.UUID, *, cycle_id: str, trigger: str, ad_account_id: uuid.UUID
    ) -> SyncBackRun:
        return await self._add(
            SyncBackRun(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                cycle_id=cycle_id,
                trigger=trigger,
                ad_account_id=ad_account_id,
                status="running",
                changes=[],
            )
        )

    async def last_completed_at(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID
    ) -> datetime | None:
        """When the account's latest completed run started (an incremental read's `since`)."""
        found: datetime | None = await self.session.scalar(
            select(func.max(SyncBackRun.created_at)).where(
                SyncBackRun.tenant_id == tenant_id,
                SyncBackRun.ad_account_id == ad_account_id,
                SyncBackRun.status == "completed",
            )
        )
        return found

    async def finish(
        self,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        *,
        status: str,
        api_calls: int,
        entities_checked: int,
        changes: builtins.list[dict[str, Any]],
        conflicts_opened: int,
        deleted_on_platform: int,
        error: str | None = None,
        held_deletions: builtins.list[dict[str, Any]] | None = None,
    ) -> SyncBackRun | None:
        values: dict[str, Any] = {
            "status": status,
            "api_calls": api_calls,
            "entities_checked": entities_checked,
            "rows_changed": len({(c["entityType"], c["entityId"]) for c in changes}),
            "changes": changes[:MAX_CHANGES_KEPT],
            "conflicts_opened": conflicts_opened,
            "deleted_on_platform": deleted_on_platform,
            "error": error,
            "finished_at": datetime.now(UTC),
        }
        if held_deletions:
            values |= {"held_deletions": held_deletions, "hold_status": "held"}
        return await self._update_returning(tenant_id, [SyncBackRun.id == run_id], values)

    async def get(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> SyncBackRun | None:
        statement = self._select(tenant_id, SyncBackRun.id == run_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def close_hold(
        self, tenant_id: uuid.UUID, run_id: uuid.UUID, decision: str
    ) -> SyncBackRun | None:
        """`released` or `discarded`; None unless the run's deletions are held."""
        return await self._update_returning(
            tenant_id,
            [SyncBackRun.id == run_id, SyncBackRun.hold_status == "held"],
            {"hold_status": decision},
        )

    async def list(
        self, tenant_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[SyncBackRun]:
        """A page of the tenant's runs, newest first."""
        statement = self._select(tenant_id)
        return await RUN_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)


class ConflictRepository(TenantScopedRepository[SyncConflict]):
    model = SyncConflict

    async def open(
        self,
        tenant_id: uuid.UUID,
        *,
        entity_type: str,
        entity_id: uuid.UUID,
        platform: str,
        platform_id: str,
        fields: builtins.list[dict[str, Any]],
        workflow_id: str,
    ) -> tuple[SyncConflict, bool]:
        """The entity's open conflict: a new one, or (False) the one already open."""
        inserted = await self._returning(
            insert(SyncConflict)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                entity_type=entity_type,
                entity_id=entity_id,
                platform=platform,
                platform_id=platform_id,
                fields=fields,
                status="open",
                workflow_id=workflow_id,
            )
            .on_conflict_do_nothing(
                index_elements=[SyncConflict.entity_type, SyncConflict.entity_id],
                # A literal, as the partial index has it: with a bound parameter Postgres proves
                # the predicate only while it plans with the value (asyncpg's first five
                # executions of a prepared statement); the generic plan then fails to find the
                # arbiter index and every later conflict raises.
                index_where=text("status = 'open'"),
            )
            .returning(SyncConflict)
        )
        if inserted is not None:
            return inserted, True
        existing = await self.open_for(tenant_id, entity_type, entity_id)
        assert existing is not None, "the partial unique index fired, so it exists"
        return existing, False

    async def open_many(
        self, tenant_id: uuid.UUID, items: builtins.list[dict[str, Any]]
    ) -> builtins.list[tuple[SyncConflict, bool]]:
        """`open` for many entities in two statements: each entity's open conflict, and
        whether it is new (in the order given)."""
        if not items:
            return []
        rows = [{"id": uuid.uuid4(), "tenant_id": tenant_id, "status": "open", **i} for i in items]
        inserted = (
            await self.session.scalars(
                insert(SyncConflict)
                .values(rows)
                .on_conflict_do_nothing(
                    index_elements=[SyncConflict.entity_type, SyncConflict.entity_id],
                    index_where=text("status = 'open'"),
                )
                .returning(SyncConflict),
                execution_options={"populate_existing": True},
            )
        ).all()
        new = {(c.entity_type, c.entity_id): c for c in inserted}
        missing = [i["entity_id"] for i in items if (i["entity_type"], i["entity_id"]) not in new]
        existing: dict[tuple[str, uuid.UUID], SyncConflict] = {}
        if missing:
            found = await self._all(
                self._select(
                    tenant_id, SyncConflict.status == "open", SyncConflict.entity_id.in_(missing)
                ).execution_options(populate_existing=True)
            )
            existing = {(c.entity_type, c.entity_id): c for c in found}
        result = []
        for i in items:
            key = (i["entity_type"], i["entity_id"])
            result.append((new[key], True) if key in new else (existing[key], False))
        return result

    async def open_for_entities(self, tenant_id: uuid.UUID) -> builtins.list[SyncConflict]:
        """Every open conflict of the tenant (a cycle refreshes them)."""
        statement = self._select(tenant_id, SyncConflict.status == "open")
        return await self._all(statement.execution_options(populate_existing=True))

    async def refresh_fields(
        self, tenant_id: uuid.UUID, conflict_id: uuid.UUID, fields: builtins.list[dict[str, Any]]
    ) -> SyncConflict | None:
        """An open conflict's fields with today's local and platform values."""
        return await self._update_returning(
            tenant_id,
            [SyncConflict.id == conflict_id, SyncConflict.status == "open"],
            {"fields": fields},
        )

    async def for_workflow(
        self, tenant_id: uuid.UUID, workflow_id: str
    ) -> builtins.list[SyncConflict]:
        """The conflicts one ConflictWorkflow id has held, newest first."""
        statement = self._select(tenant_id, SyncConflict.workflow_id == workflow_id)
        return await self._all(statement.order_by(SyncConflict.created_at.desc()))

    async def fields_in_conflict(
        self, tenant_id: uuid.UUID, entity_type: str, entity_id: uuid.UUID
    ) -> set[str]:
        """The fields of the entity in an open conflict: a push must not carry them (our
        field names: name, status, budget, bid_amount, keywords, …)."""
        conflict = await self.open_for(tenant_id, entity_type, entity_id)
        return {f["field"] for f in conflict.fields} if conflict is not None else set()

    async def open_for(
        self, tenant_id: uuid.UUID, entity_type: str, entity_id: uuid.UUID
    ) -> SyncConflict | None:
        statement = self._select(
            tenant_id,
            SyncConflict.entity_type == entity_type,
            SyncConflict.entity_id == entity_id,
            SyncConflict.status == "open",
        )
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def get(self, tenant_id: uuid.UUID, conflict_id: uuid.UUID) -> SyncConflict | None:
        statement = self._select(tenant_id, SyncConflict.id == conflict_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def list(
        self,
        tenant_id: uuid.UUID,
        status: str | None = None,
        *,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[SyncConflict]:
        """A page of the tenant's conflicts (of one status), newest first."""
        statement = self._select(tenant_id)
        if status is not None:
            statement = statement.where(SyncConflict.status == status)
        return await CONFLICT_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def resolve(
        self, tenant_id: uuid.UUID, conflict_id: uuid.UUID, resolution: str
    ) -> SyncConflict | None:
        """Close an open conflict (None if it is not open any more)."""
        values = {"status": "resolved", "resolution": resolution, "resolved_at": datetime.now(UTC)}
        return await self._update_returning(
            tenant_id, [SyncConflict.id == conflict_id, SyncConflict.status == "open"], values
        )

    async def mark_escalated(
        self, tenant_id: uuid.UUID, conflict_id: uuid.UUID
    ) -> SyncConflict | None:
        return await self._update_returning(
            tenant_id,
            [SyncConflict.id == conflict_id, SyncConflict.escalated_at.is_(None)],
            {"escalated_at": datetime.now(UTC)},
        )


class AlertRepository(TenantScopedRepository[Alert]):
    """Operational alerts (conflicts, review, compensation). Performance alerts and the
    alert lifecycle (acknowledge, resolve, the seed's order) are in `repositories/alerts.py`."""

    model = Alert

    async def add(
        self,
        tenant_id: uuid.UUID,
        *,
        kind: str,
        entity_type: str,
        entity_id: str,
        message: str,
        details: dict[str, Any] | None = None,
        severity: str = "MEDIUM",
    ) -> Alert:
        return await self._add(
            Alert(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                alert_type=kind,
                severity=severity,
                entity_type=entity_type,
                entity_id=entity_id,
                message=message,
                details=details,
                last_fired_at=datetime.now(UTC),
            )
        )


class SyncedEntities:
    """The synced campaigns and ad groups of one ad account, with their sync records."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def accounts_to_poll(
        self, platform: str, tenant_id: uuid.UUID | None = None
    ) -> builtins.list[tuple[uuid.UUID, uuid.UUID]]:
        """(tenant, ad account) pairs of connected accounts with synced campaigns: as a set's
        first target (mirrored on the campaigns) or as another target (its sync records)."""
        as_other_target = (
            select(SyncRecord.id)
            .join(GeneratedCampaign, GeneratedCampaign.id == SyncRecord.entity_id)
            .join(
                CampaignSetTarget,
                CampaignSetTarget.campaign_set_id == GeneratedCampaign.campaign_set_id,
            )
            .where(
                CampaignSetTarget.ad_account_id == AdAccount.id,
                CampaignSetTarget.position > 0,
                SyncRecord.entity_type == "campaign",
                SyncRecord.platform == platform,
                SyncRecord.platform_id.is_not(None),
            )
            .exists()
        )
        statement = (
            select(AdAccount.tenant_id, AdAccount.id)
            .where(
                AdAccount.platform == platform,
                AdAccount.status == "active",
                or_(
                    select(GeneratedCampaign.id)
                    .join(CampaignSet, CampaignSet.id == GeneratedCampaign.campaign_set_id)
                    .where(
                        CampaignSet.ad_account_id == AdAccount.id,
                        GeneratedCampaign.platform_campaign_id.is_not(None),
                    )
                    .exists(),
                    as_other_target,
                ),
            )
            .order_by(AdAccount.tenant_id, AdAccount.id)
        )
        if tenant_id is not None:
            statement = statement.where(AdAccount.tenant_id == tenant_id)
        rows = await self.session.execute(statement)
        return [(tenant, account) for tenant, account in rows.all()]

    async def write_local(self, model: Any, entity_id: uuid.UUID, values: dict[str, Any]) -> None:
        """Columns taken from the platform: not a local edit, so nothing becomes pending."""
        if values:
            await self.session.execute(
                update(model).where(model.id == entity_id).values(**values),
                execution_options=NO_SYNC,
            )

    async def set_sync_status(self, model: Any, entity_id: uuid.UUID, status: str) -> None:
        await self.session.execute(
            update(model).where(model.id == entity_id).values(sync_status=status),
            execution_options=NO_SYNC,
        )

    async def set_sync_error(self, model: Any, entity_id: uuid.UUID, error: str) -> None:
        await self.session.execute(
            update(model).where(model.id == entity_id).values(sync_error=error[:2000]),
            execution_options=NO_SYNC,
        )

    async def load_account(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID, platform: str
    ) -> SimpleNamespace:
        """The account's live synced campaigns, ad groups and ads, each with its sync record
        (or None): (row, record) pairs, a row holding only `id`, the platform id and the
        parent id (a cycle reads tens of thousands and compares the few the platform changed:
        `full_rows` reads those), a record its `id` and `synced_snapshot`. Core statements on
        the session's connection, no ORM loading: plain tuples are what a cycle needs."""
        connection = await self.session.connection()
        campaigns = (
            await connection.execute(
                select(GeneratedCampaign.id, GeneratedCampaign.platform_campaign_id)
                .join(CampaignSet, CampaignSet.id == GeneratedCampaign.campaign_set_id)
                .where(
                    GeneratedCampaign.tenant_id == tenant_id,
                    CampaignSet.ad_account_id == ad_account_id,
                    GeneratedCampaign.platform_campaign_id.is_not(None),
                    GeneratedCampaign.deleted_at.is_(None),
                )
            )
        ).all()
        # Children read apart and matched to their live parents here, not joined up to the
        # set: with statistics not yet gathered after a big sync the planner chose nested
        # loops that took minutes (ads) and tens of seconds (ad groups) for a big account.
        live_campaigns = {c.id for c in campaigns}
        rows = await connection.execute(
            select(AdGroup.id, AdGroup.campaign_id, AdGroup.platform_ad_group_id).where(
                AdGroup.tenant_id == tenant_id,
                AdGroup.platform_ad_group_id.is_not(None),
                AdGroup.deleted_at.is_(None),
            )
        )
        groups = [row for row in rows.all() if row.campaign_id in live_campaigns]
        live_groups = {g.id for g in groups}
        rows = await connection.execute(
            select(GeneratedAd.id, GeneratedAd.ad_group_id, GeneratedAd.platform_ad_id).where(
                GeneratedAd.tenant_id == tenant_id,
                GeneratedAd.platform_ad_id.is_not(None),
                GeneratedAd.deleted_at.is_(None),
            )
        )
        ads = [row for row in rows.all() if row.ad_group_id in live_groups]
        records = await self._records(connection, tenant_id, platform)
        other = await self._as_other_target(connection, tenant_id, ad_account_id, platform, records)
        campaigns, groups, ads = campaigns + other[0], groups + other[1], ads + other[2]
        return SimpleNamespace(
            campaigns=[(row, records["campaign"].get(row.id)) for row in campaigns],
            ad_groups=[(row, records["ad_group"].get(row.id)) for row in groups],
            ads=[(row, records["ad"].get(row.id)) for row in ads],
            statements=4,
        )

    async def _as_other_target(
        self,
        connection: Any,
        tenant_id: uuid.UUID,
        ad_account_id: uuid.UUID,
        platform: str,
        records: dict[str, dict[uuid.UUID, Any]],
    ) -> tuple[builtins.list[Any], builtins.list[Any], builtins.list[Any]]:
        """The live entities of sets this account is a target of other than the first: rows
        shaped as the first target's, their platform ids from this platform's sync records
        (the mapping of every target; the entities' own columns mirror the first only)."""
        targeted = (
            await connection.execute(
                select(GeneratedCampaign.id)
                .join(
                    CampaignSetTarget,
                    CampaignSetTarget.campaign_set_id == GeneratedCampaign.campaign_set_id,
                )
                .where(
                    GeneratedCampaign.tenant_id == tenant_id,
                    CampaignSetTarget.ad_account_id == ad_account_id,
                    CampaignSetTarget.platform == platform,
                    CampaignSetTarget.position > 0,
                    GeneratedCampaign.deleted_at.is_(None),
                )
            )
        ).all()
        if not targeted:
            return [], [], []

        def mapped(entity_type: str, entity_id: uuid.UUID) -> str | None:
            record = records[entity_type].get(entity_id)
            return record.platform_id if record is not None else None

        campaigns = [
            SimpleNamespace(id=row.id, platform_campaign_id=pid)
            for row in targeted
            if (pid := mapped("campaign", row.id))
        ]
        live_campaigns = [c.id for c in campaigns]
        rows = await connection.execute(
            select(AdGroup.id, AdGroup.campaign_id).where(
                AdGroup.tenant_id == tenant_id,
                AdGroup.campaign_id.in_(live_campaigns),
                AdGroup.deleted_at.is_(None),
            )
        )
        groups = [
            SimpleNamespace(id=row.id, campaign_id=row.campaign_id, platform_ad_group_id=pid)
            for row in rows.all()
            if (pid := mapped("ad_group", row.id))
        ]
        rows = await connection.execute(
            select(GeneratedAd.id, GeneratedAd.ad_group_id).where(
                GeneratedAd.tenant_id == tenant_id,
                GeneratedAd.ad_group_id.in_([g.id for g in groups]),
                GeneratedAd.deleted_at.is_(None),
            )
        )
        ads = [
            SimpleNamespace(id=row.id, ad_group_id=row.ad_group_id, platform_ad_id=pid)
            for row in rows.all()
            if (pid := mapped("ad", row.id))
        ]
        return campaigns, groups, ads

    async def _records(
        self, connection: Any, tenant_id: uuid.UUID, platform: str
    ) -> dict[str, dict[uuid.UUID, Any]]:
        """The tenant's sync records, by entity type and entity id (rows with `id` and
        `synced_snapshot`). Read apart and matched here rather than joined: with statistics
        not yet gathered after a big sync, the planner chose a nested loop that made the join
        quadratic (2.3 s for 3,000 campaigns)."""
        rows = await connection.execute(
            select(
                SyncRecord.entity_type,
                SyncRecord.entity_id,
                SyncRecord.id,
                SyncRecord.synced_snapshot,
                SyncRecord.platform_id,
            ).where(
                SyncRecord.tenant_id == tenant_id,
                SyncRecord.entity_type.in_(("campaign", "ad_group", "ad")),
                SyncRecord.platform == platform,
            )
        )
        found: dict[str, dict[uuid.UUID, Any]] = {"campaign": {}, "ad_group": {}, "ad": {}}
        for row in rows.all():
            found[row.entity_type][row.entity_id] = row
        return found

    async def full_rows(self, model: Any, ids: builtins.list[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """Every column of these entities (the few a cycle compares field by field), by id."""
        if not ids:
            return {}
        connection = await self.session.connection()
        rows = await connection.execute(select(*model.__table__.columns).where(model.id.in_(ids)))
        return {row.id: row for row in rows.all()}

    async def live_keywords(
        self, tenant_id: uuid.UUID, ad_group_ids: builtins.list[uuid.UUID]
    ) -> dict[uuid.UUID, builtins.list[Any]]:
        """The live keywords of these ad groups, by ad group (one query)."""
        found: dict[uuid.UUID, builtins.list[Any]] = {g: [] for g in ad_group_ids}
        if not ad_group_ids:
            return found
        rows = await self.session.execute(
            select(*Keyword.__table__.columns).where(
                Keyword.tenant_id == tenant_id,
                Keyword.ad_group_id.in_(ad_group_ids),
                Keyword.deleted_at.is_(None),
            )
        )
        for row in rows.all():
            found[row.ad_group_id].append(row)
        return found

    async def mark_all_deleted_on_platform(
        self, tenant_id: uuid.UUID, platform: str, gone: builtins.list[tuple[str, Any]]
    ) -> None:
        """Gone on the platform: hidden locally (soft delete) and never recreated by a push;
        their sync records say deleted. Two statements per entity type."""
        now = datetime.now(UTC)
        by_type: dict[str, builtins.list[uuid.UUID]] = {}
        for entity_type, row in gone:
            by_type.setdefault(entity_type, []).append(row.id)
        models: dict[str, Any] = {
            "campaign": GeneratedCampaign,
            "ad_group": AdGroup,
            "ad": GeneratedAd,
        }
        for entity_type, ids in by_type.items():
            model = models[entity_type]
            await self.session.execute(
                update(model)
                .where(model.id.in_(ids), model.deleted_at.is_(None))
                .values(deleted_at=now, sync_status="synced"),
                execution_options=NO_SYNC,
            )
            await self.session.execute(
                update(SyncRecord)
                .where(
                    SyncRecord.tenant_id == tenant_id,
                    SyncRecord.entity_type == entity_type,
                    SyncRecord.platform == platform,
                    SyncRecord.entity_id.in_(ids),
                )
                .values(state="deleted", sync_status="synced", last_synced_at=now),
                execution_options=NO_SYNC,
            )

    async def supersede_holds(self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID) -> None:
        """Earlier runs' held deletions of this account: a newer cycle holds what is still
        missing, so only its hold is answered."""
        await self.session.execute(
            update(SyncBackRun)
            .where(
                SyncBackRun.tenant_id == tenant_id,
                SyncBackRun.ad_account_id == ad_account_id,
                SyncBackRun.hold_status == "held",
            )
            .values(hold_status="superseded"),
            execution_options=NO_SYNC,
        )

    async def resolve_alert(self, tenant_id: uuid.UUID, kind: str, entity_id: str) -> None:
        """A person answered: the open alert of this kind on this entity is resolved."""
        await self.session.execute(
            update(Alert)
            .where(
                Alert.tenant_id == tenant_id,
                Alert.alert_type == kind,
                Alert.entity_id == entity_id,
                Alert.resolved_at.is_(None),
            )
            .values(resolved_at=datetime.now(UTC)),
            execution_options=NO_SYNC,
        )

    async def open_alert(self, tenant_id: uuid.UUID, kind: str, entity_id: str) -> bool:
        found = await self.session.execute(
            select(Alert.id)
            .where(
                Alert.tenant_id == tenant_id,
                Alert.alert_type == kind,
                Alert.entity_id == entity_id,
                Alert.resolved_at.is_(None),
            )
            .limit(1)
        )
        return found.first() is not None

    async def set_snapshot(self, record_id: uuid.UUID, snapshot: dict[str, Any]) -> None:
        await self.session.execute(
            update(SyncRecord).where(SyncRecord.id == record_id).values(synced_snapshot=snapshot),
            execution_options=NO_SYNC,
        )

    async def mark_deleted_on_platform(self, model: Any, entity_id: uuid.UUID) -> None:
        """Gone on the platform: hidden locally (soft delete) and never recreated by a push."""
        await self.session.execute(
            update(model)
            .where(model.id == entity_id)
            .values(deleted_at=datetime.now(UTC), sync_status="synced"),
            execution_options=NO_SYNC,
        )


async def release_held(
    session: Any, tenant_id: uuid.UUID, held: builtins.list[dict[str, Any]]
) -> int:
    """Apply deletions a person released: the held entities still live are soft-deleted
    locally, as a cycle would have (their sync records say deleted); the count deleted."""
    models: dict[str, Any] = {"campaign": GeneratedCampaign, "ad_group": AdGroup, "ad": GeneratedAd}
    deleted = 0
    now = datetime.now(UTC)
    by_type: dict[str, builtins.list[uuid.UUID]] = {}
    for item in held:
        by_type.setdefault(item["entityType"], []).append(uuid.UUID(item["entityId"]))
    for entity_type, ids in by_type.items():
        model = models[entity_type]
        result = await session.execute(
            update(model)
            .where(model.tenant_id == tenant_id, model.id.in_(ids), model.deleted_at.is_(None))
            .values(deleted_at=now, sync_status="synced")
            .returning(model.id),
            execution_options=NO_SYNC,
        )
        gone = [row[0] for row in result.all()]
        deleted += len(gone)
        if gone:
            await session.execute(
                update(SyncRecord)
                .where(
                    SyncRecord.tenant_id == tenant_id,
                    SyncRecord.entity_type == entity_type,
                    SyncRecord.entity_id.in_(gone),
                )
                .values(state="deleted", sync_status="synced", last_synced_at=now),
                execution_options=NO_SYNC,
            )
    return deleted
