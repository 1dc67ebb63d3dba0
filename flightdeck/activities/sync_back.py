"""Activities of the scheduled sync-back and of conflict resolution (seed 002 §6).

`sync_account` polls one ad account with the platform's list endpoints (calls grow with pages,
not entities), compares each synced campaign and ad group three ways — base (the snapshot of
the last successful push), local, platform — and then, per entity:
- fields only the platform changed are taken locally, and into the base, so the next push
  does not send them back (audit: source platform, from → to);
- fields both sides changed differently open a conflict (`sync_conflicts`, entity
  `syncStatus: conflict`, pushes of it wait); the workflow starts its ConflictWorkflow;
- an entity gone from the platform (deleted there) is soft-deleted locally, never recreated.
Nothing here writes to the platform; only `apply_resolution` with `use_local` does.
"""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from flightdeck.accounts import AccountNotFound, ReauthRequired
from flightdeck.activities.errors import to_application_error
from flightdeck.activities.names import (
    APPLY_CONFLICT_RESOLUTION,
    ESCALATE_CONFLICT,
    LIST_SYNC_BACK_ACCOUNTS,
    SYNC_BACK_ACCOUNT,
)
from flightdeck.db.models import AdGroup, GeneratedCampaign
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_sets import to_ad_group_spec, to_campaign_spec
from flightdeck.db.repositories.set_sync import SetSyncRepository
from flightdeck.db.repositories.sync_back import (
    AlertRepository,
    ConflictRepository,
    SyncBackRunRepository,
    SyncedEntities,
)
from flightdeck.db.repositories.sync_records import SyncRecordRepository
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.campaign_sets import AdGroupSpec, Budget, CampaignSpec, EntityType
from flightdeck.domain.sync_back import (
    Comparison,
    PlatformSnapshot,
    compare,
    platform_state_fields,
    snapshot_fields,
    spec_fields,
)
from flightdeck.domain.sync_back_io import (
    AccountList,
    AccountToPoll,
    ApplyResolutionInput,
    ConflictRef,
    EscalateInput,
    ResolutionResult,
    SyncBackAccountInput,
    SyncBackAccountResult,
    SyncBackInput,
)
from flightdeck.failures import Failure, failure
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.errors import PlatformError
from flightdeck.temporal import conflict_workflow_id

ACTOR = "sync-back"
MODELS: dict[str, Any] = {"campaign": GeneratedCampaign, "ad_group": AdGroup}
SPECS: dict[str, Any] = {"campaign": CampaignSpec, "ad_group": AdGroupSpec}
# Platform settings our entities cannot hold as a status: gone (deleted) or stopped (archived).
GONE = frozenset({"deleted"})


class SyncBackActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], platforms: Any) -> None:
        self._sessions = sessions
        self._platforms = platforms  # activities.adapters.PlatformAdapters

    @activity.defn(name=LIST_SYNC_BACK_ACCOUNTS)
    async def list_accounts(self, inp: SyncBackInput) -> AccountList:
        """Connected accounts with synced entities (all tenants: the system scope)."""
        tenant = uuid.UUID(inp.tenant_id) if inp.tenant_id else None
        async with system_session(self._sessions, "sweep.sync_back_accounts") as session:
            pairs = await SyncedEntities(session).accounts_to_poll(inp.platform, tenant)
        return AccountList(
            accounts=[AccountToPoll(tenant_id=str(t), ad_account_id=str(a)) for t, a in pairs]
        )

    @activity.defn(name=SYNC_BACK_ACCOUNT)
    async def sync_account(self, inp: SyncBackAccountInput) -> SyncBackAccountResult:
        tenant, account_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.ad_account_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            run = await SyncBackRunRepository(session).start(
                tenant, cycle_id=inp.cycle_id, trigger=inp.trigger, ad_account_id=account_id
            )
        started = time.perf_counter()
        try:
            poller, context = await self._platforms.poller(tenant, account_id)
            snapshot: PlatformSnapshot = await poller.fetch_all(context)
        except (ReauthRequired, AccountNotFound, PlatformError) as exc:
            await self._fail_run(tenant, run.id, str(exc))
            if isinstance(exc, ReauthRequired | AccountNotFound):
                raise failure(Failure.REAUTH_REQUIRED, str(exc)) from None
            raise to_application_error(exc) from exc
        polled = time.perf_counter()
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            cycle = _Cycle(session, tenant, inp.platform, snapshot)
            await cycle.run(account_id)
            await SyncBackRunRepository(session).finish(
                tenant,
                run.id,
                status="completed",
                api_calls=snapshot.calls,
                entities_checked=cycle.checked,
                changes=cycle.changes,
                conflicts_opened=len(cycle.conflicts),
                deleted_on_platform=cycle.deleted,
            )
        return SyncBackAccountResult(
            run_id=str(run.id),
            api_calls=snapshot.calls,
            entities_checked=cycle.checked,
            rows_changed=len({(c["entityType"], c["entityId"]) for c in cycle.changes}),
            conflicts=cycle.conflicts,
            deleted_on_platform=cycle.deleted,
            poll_seconds=polled - started,
            compare_seconds=time.perf_counter() - polled,
        )

    @activity.defn(name=APPLY_CONFLICT_RESOLUTION)
    async def apply_resolution(self, inp: ApplyResolutionInput) -> ResolutionResult:
        tenant, conflict_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.conflict_id)
        async with tenant_session(self._sessions, tenant) as session:
            conflict = await ConflictRepository(session).get(tenant, conflict_id)
            if conflict is None:
                raise failure(Failure.NOT_FOUND, f"conflict {conflict_id} not found")
            entity, campaign, record, keywords = await _load_entity(
                session, tenant, conflict.entity_type, conflict.entity_id, conflict.platform
            )
        if conflict.status != "open":  # a retry after the resolution was stored
            assert conflict.resolution is not None
            return _result(conflict, conflict.resolution, {}, [])
        fields = {f["field"]: f for f in conflict.fields}
        sent: list[str] = []
        if inp.resolution == "use_local":
            adapter, context = await self._adapter(tenant, entity, campaign)
            local = _spec(conflict.entity_type, entity, keywords)
            # The base the diff runs against: the platform's current values of the conflicted
            # fields, so exactly the local values of those (and any pending local edit) go.
            base = _with_values(_base_spec(conflict.entity_type, record), {
                name: f["platform"] for name, f in fields.items()
            })  # fmt: skip
            try:
                if conflict.entity_type == "campaign":
                    pushed = await adapter.update_campaign(
                        context, conflict.platform_id, local, base
                    )
                else:
                    pushed = await adapter.update_ad_group(
                        context, conflict.platform_id, to_campaign_spec(campaign), local, base
                    )
            except PlatformError as exc:
                raise to_application_error(exc) from exc
            sent = pushed.changed_fields
            applied = {name: f["local"] for name, f in fields.items()}
        else:
            applied = {name: f["platform"] for name, f in fields.items()}
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            entities = SyncedEntities(session)
            model = MODELS[conflict.entity_type]
            if inp.resolution == "use_local":
                await SyncRecordRepository(session).mark_synced(
                    tenant,
                    conflict.entity_type,  # type: ignore[arg-type]
                    conflict.entity_id,
                    conflict.platform,
                    platform_id=conflict.platform_id,
                    snapshot=_spec(conflict.entity_type, entity, keywords).model_dump(mode="json"),
                    reset_attempts=False,
                )
                await entities.set_sync_status(model, entity.id, "synced")
            else:
                columns, base = _take(conflict.entity_type, entity, record, applied)
                await entities.write_local(model, entity.id, columns)
                if record is not None:
                    await entities.set_snapshot(record.id, base)
                local_after = _with_values(_spec(conflict.entity_type, entity, keywords), applied)
                still_pending = local_after.model_dump(mode="json") != base
                await entities.set_sync_status(
                    model, entity.id, "pending" if still_pending else "synced"
                )
            resolved = await ConflictRepository(session).resolve(
                tenant, conflict_id, inp.resolution
            )
            if resolved is None:
                raise failure(Failure.STALE, f"conflict {conflict_id} is not open")
            await _audit(
                session,
                tenant,
                f"conflict.resolved.{inp.resolution}",
                conflict.entity_type,
                conflict.entity_id,
                conflictId=str(conflict_id),
                applied=_jsonable(applied),
                sentToPlatform=sent or None,
            )
        return _result(conflict, inp.resolution, applied, sent)

    @activity.defn(name=ESCALATE_CONFLICT)
    async def escalate_conflict(self, inp: EscalateInput) -> None:
        tenant, conflict_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.conflict_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            conflict = await ConflictRepository(session).mark_escalated(tenant, conflict_id)
            if conflict is None:  # resolved meanwhile, or escalated by an earlier attempt
                return
            hours = inp.waited_seconds / 3600
            message = (
                f"{conflict.entity_type} {conflict.entity_id}: conflict on "
                f"{', '.join(f['field'] for f in conflict.fields)} unresolved for {hours:g} h"
            )
            await AlertRepository(session).add(
                tenant,
                kind="conflict_escalated",
                entity_type=conflict.entity_type,
                entity_id=str(conflict.entity_id),
                message=message,
                details={"conflictId": str(conflict_id), "waitedSeconds": inp.waited_seconds},
            )
            await _audit(
                session, tenant, "conflict.escalated", conflict.entity_type, conflict.entity_id,
                conflictId=str(conflict_id), waitedSeconds=inp.waited_seconds,
            )  # fmt: skip

    # -- helpers -------------------------------------------------------------------------------

    async def _adapter(
        self, tenant: uuid.UUID, entity: Any, campaign: GeneratedCampaign
    ) -> tuple[CampaignSetPlatformAdapter, AccountContext]:
        async with tenant_session(self._sessions, tenant) as session:
            found = await SetSyncRepository(session).set_with_account(
                tenant, campaign.campaign_set_id
            )
        if found is None or found[0].ad_account_id is None:
            raise failure(Failure.INVALID_STATE, "the entity's set has no ad account")
        try:
            adapter, context = await self._platforms(tenant, found[0].ad_account_id)
        except (ReauthRequired, AccountNotFound) as exc:
            raise failure(Failure.REAUTH_REQUIRED, str(exc)) from None
        return adapter, context

    async def _fail_run(self, tenant: uuid.UUID, run_id: uuid.UUID, error: str) -> None:
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await SyncBackRunRepository(session).finish(
                tenant, run_id, status="failed", api_calls=0, entities_checked=0, changes=[],
                conflicts_opened=0, deleted_on_platform=0, error=error,
            )  # fmt: skip


class _Cycle:
    """One account's comparison and local writes, inside one transaction."""

    def __init__(
        self, session: AsyncSession, tenant: uuid.UUID, platform: str, snapshot: PlatformSnapshot
    ) -> None:
        self.session, self.tenant, self.platform, self.snapshot = (
            session,
            tenant,
            platform,
            snapshot,
        )
        self.entities = SyncedEntities(session)
        self.changes: list[dict[str, Any]] = []
        self.conflicts: list[ConflictRef] = []
        self.checked = 0
        self.deleted = 0

    async def run(self, account_id: uuid.UUID) -> None:
        for campaign, record in await self.entities.campaigns(
            self.tenant, account_id, self.platform
        ):
            state: Any = self.snapshot.campaigns.get(campaign.platform_campaign_id or "")
            await self._entity("campaign", campaign, campaign, record, state)
        for group, campaign, record in await self.entities.ad_groups(
            self.tenant, account_id, self.platform
        ):
            state = self.snapshot.ad_groups.get(group.platform_ad_group_id or "")
            await self._entity("ad_group", group, campaign, record, state)

    async def _entity(
        self, entity_type: str, entity: Any, campaign: Any, record: Any, state: Any
    ) -> None:
        self.checked += 1
        model = MODELS[entity_type]
        if state is None or state.deleted or state.status in GONE:
            await self.entities.mark_deleted_on_platform(model, entity.id)
            if record is not None:
                await SyncRecordRepository(self.session).mark_deleted(
                    self.tenant, cast(EntityType, entity_type), entity.id, self.platform
                )
            self.deleted += 1
            self.changes.append(_change(entity_type, entity.id, "deleted", False, True))
            await _audit(
                self.session, self.tenant, f"{entity_type}.deleted_on_platform", entity_type,
                entity.id, source="platform", platformId=_platform_id(entity_type, entity),
            )  # fmt: skip
            return
        if record is None or not record.synced_snapshot or entity.sync_status == "conflict":
            return  # nothing to tell changes apart by, or a person is already deciding
        comparison = compare(
            entity_type,  # type: ignore[arg-type]
            snapshot_fields(entity_type, record.synced_snapshot),  # type: ignore[arg-type]
            spec_fields(_spec(entity_type, entity)),
            platform_state_fields(state),
        )
        if comparison.has_conflict:
            await self._conflict(entity_type, entity, comparison)
            return
        taken = comparison.platform_values
        if not taken:
            return
        columns, base = _take(entity_type, entity, record, taken)
        await self.entities.write_local(model, entity.id, columns)
        await self.entities.set_snapshot(record.id, base)
        for name, value in taken.items():
            before = comparison.fields[name].local
            self.changes.append(_change(entity_type, entity.id, name, before, value))
            await _audit(
                self.session, self.tenant, f"{entity_type}.changed_on_platform", entity_type,
                entity.id, source="platform", field=name, **{"from": _jsonable(before)},
                to=_jsonable(value),
            )  # fmt: skip

    async def _conflict(self, entity_type: str, entity: Any, comparison: Comparison) -> None:
        fields = [f.model_dump(mode="json") for f in comparison.conflicts]
        conflict, created = await ConflictRepository(self.session).open(
            self.tenant,
            entity_type=entity_type,
            entity_id=entity.id,
            platform=self.platform,
            platform_id=_platform_id(entity_type, entity),
            fields=fields,
            workflow_id=conflict_workflow_id(entity_type, str(entity.id)),
        )
        await self.entities.set_sync_status(MODELS[entity_type], entity.id, "conflict")
        if created:
            await _audit(
                self.session, self.tenant, "conflict.opened", entity_type, entity.id,
                conflictId=str(conflict.id), fields=fields,
            )  # fmt: skip
        self.conflicts.append(
            ConflictRef(
                conflict_id=str(conflict.id),
                entity_type=entity_type,  # type: ignore[arg-type]
                entity_id=str(entity.id),
            )
        )


# -- field plumbing -------------------------------------------------------------------------


def _spec(entity_type: str, entity: Any, keywords: Any = ()) -> Any:
    """The entity's local spec (an ad group's with its live keywords, when they matter: a push
    sends its targeting)."""
    if entity_type == "campaign":
        return to_campaign_spec(entity)
    return to_ad_group_spec(entity, keywords)


def _base_spec(entity_type: str, record: Any) -> Any:
    return SPECS[entity_type].model_validate(record.synced_snapshot)


def _with_values(spec: Any, values: dict[str, Any]) -> Any:
    """`spec` with compared-field values (as `compare` reports them) put in."""
    update: dict[str, Any] = {}
    for name, value in values.items():
        if name == "budget":
            currency = spec.budget.currency if spec.budget else "USD"
            update["budget"] = (
                Budget(type=value["type"], amount=Decimal(str(value["amount"])), currency=currency)
                if value
                else None
            )
        elif name == "bid_amount":
            update["bid_amount"] = Decimal(str(value)) if value is not None else None
        elif name == "status":
            update["status"] = value if value in ("active", "paused") else spec.status
        else:
            update[name] = value
    return spec.model_copy(update=update)


def _take(
    entity_type: str, entity: Any, record: Any, values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The local columns and the new base (snapshot) for taking the platform's `values`."""
    columns: dict[str, Any] = {}
    for name, value in values.items():
        if name == "budget":
            columns["budget_type"] = value["type"] if value else None
            columns["budget_amount"] = Decimal(str(value["amount"])) if value else None
            columns["currency"] = (entity.currency or "USD") if value else None
        elif name == "status":
            # Archived on the platform reads as paused here: our statuses have no archive.
            columns["status"] = value if value in ("active", "paused") else "paused"
        elif name == "bid_amount":
            columns["bid_amount"] = Decimal(str(value)) if value is not None else None
        else:
            columns[name] = value
    base = _with_values(_base_spec(entity_type, record), values) if record else None
    return columns, base.model_dump(mode="json") if base else {}


def _platform_id(entity_type: str, entity: Any) -> str:
    value = (
        entity.platform_campaign_id if entity_type == "campaign" else entity.platform_ad_group_id
    )
    return str(value)


def _change(
    entity_type: str, entity_id: Any, field: str, before: Any, after: Any
) -> dict[str, Any]:
    return {
        "entityType": entity_type,
        "entityId": str(entity_id),
        "field": field,
        "from": _jsonable(before),
        "to": _jsonable(after),
        "source": "platform",
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def _result(
    conflict: Any, resolution: str, applied: dict[str, Any], sent: list[str]
) -> ResolutionResult:
    return ResolutionResult(
        conflict_id=str(conflict.id),
        resolution=resolution,  # type: ignore[arg-type]
        entity_type=conflict.entity_type,
        entity_id=str(conflict.entity_id),
        applied=_jsonable(applied),
        platform_fields_sent=sent,
    )


async def _load_entity(
    session: AsyncSession, tenant: uuid.UUID, entity_type: str, entity_id: uuid.UUID, platform: str
) -> tuple[Any, GeneratedCampaign, Any, list[Any]]:
    """The entity, its campaign, its sync record and (an ad group's) live keywords."""
    repo = SetSyncRepository(session)
    record = await SyncRecordRepository(session).get(
        tenant, cast(EntityType, entity_type), entity_id, platform
    )
    if entity_type == "campaign":
        campaign = await repo.campaign(tenant, entity_id)
        if campaign is None:
            raise failure(Failure.NOT_FOUND, f"campaign {entity_id} not found")
        return campaign, campaign, record, []
    found = await repo.ad_group_with_parent(tenant, entity_id)
    if found is None:
        raise failure(Failure.NOT_FOUND, f"ad group {entity_id} not found")
    group, campaign, keywords = found
    return group, campaign, record, keywords


async def _audit(
    session: AsyncSession,
    tenant: uuid.UUID,
    action: str,
    entity_type: str,
    entity_id: Any,
    **details: Any,
) -> None:
    await AuditLogRepository(session).add(
        tenant_id=tenant,
        actor=ACTOR,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        details={k: v for k, v in details.items() if v is not None},
    )
