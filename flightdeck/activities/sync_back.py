"""Activities of the scheduled sync-back and of conflict resolution (seed 002 §6).

`sync_account` polls one ad account with the platform's list endpoints (calls grow with pages,
not entities), compares each synced campaign and ad group three ways — base (the snapshot of
the last successful push), local, platform — and then, per entity:
- fields only the platform changed are taken locally, and into the base, so the next push
  does not send them back (audit: source platform, from → to);
- fields both sides changed differently open a conflict (`sync_conflicts`, entity
  `syncStatus: conflict`, pushes of it wait); the workflow then starts its ConflictWorkflow
  (one activity, `activities/conflict_starts.py`, starts all of a cycle's at once);
- an entity gone from the platform (deleted there) is soft-deleted locally, never recreated.
Nothing here writes to the platform; only `apply_resolution` with `use_local` does.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy.exc import IntegrityError
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
from flightdeck.activities.sync_back_cycle import (
    MODELS,
    Cycle,
    EntityProblem,
    _columns,
    _jsonable,
    _new_base,
)
from flightdeck.activities.sync_back_cycle import (
    local_spec as _spec,
)
from flightdeck.db.models import GeneratedCampaign
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_set_targets import CampaignSetTargetRepository
from flightdeck.db.repositories.campaign_sets import to_campaign_spec
from flightdeck.db.repositories.set_sync import SetSyncRepository
from flightdeck.db.repositories.sync_back import (
    AlertRepository,
    ConflictRepository,
    SyncBackRunRepository,
    SyncedEntities,
)
from flightdeck.db.repositories.sync_records import SyncRecordRepository
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.campaign_sets import AdGroupSpec, AdSpec, CampaignSpec, EntityType
from flightdeck.domain.sync_back import (
    CompareEntityType,
    PlatformSnapshot,
    normalise,
    spec_fields,
)
from flightdeck.domain.sync_back_io import (
    AccountList,
    AccountToPoll,
    ApplyResolutionInput,
    EscalateInput,
    ResolutionResult,
    SyncBackAccountInput,
    SyncBackAccountResult,
    SyncBackInput,
)
from flightdeck.failures import Failure, failure
from flightdeck.gc_pause import collector_paused
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.errors import PlatformError
from flightdeck.platforms.platform_poller import IncrementalPoller

ACTOR = "sync-back"
# An incremental read starts this long before the last completed run did: clock skew between
# us and the platform, and changes made while that run was reading.
INCREMENTAL_MARGIN = timedelta(minutes=5)
SPECS: dict[str, Any] = {"campaign": CampaignSpec, "ad_group": AdGroupSpec, "ad": AdSpec}


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
        """Poll one account and apply what changed. Whatever happens, the run row ends
        `completed` or `failed` with the reason; the activity heartbeats per page and while
        comparing, so a lost worker is noticed within its heartbeat timeout."""
        tenant, account_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.ad_account_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            runs = SyncBackRunRepository(session)
            last = await runs.last_completed_at(tenant, account_id)
            run = await runs.start(
                tenant, cycle_id=inp.cycle_id, trigger=inp.trigger, ad_account_id=account_id
            )
        with collector_paused():
            return await self._sync_account(inp, tenant, account_id, run.id, last)

    async def _sync_account(
        self,
        inp: SyncBackAccountInput,
        tenant: uuid.UUID,
        account_id: uuid.UUID,
        run_id: Any,
        last: datetime | None,
    ) -> SyncBackAccountResult:
        started = time.perf_counter()
        try:
            poller, context = await self._platforms.poller(tenant, account_id)
            snapshot: PlatformSnapshot
            if last is not None and isinstance(poller, IncrementalPoller):
                # Only what changed since the last completed run began (with a margin).
                since = last - INCREMENTAL_MARGIN
                snapshot = await poller.fetch_changed(context, since, heartbeat=_heartbeat)
            else:
                snapshot = await poller.fetch_all(context, heartbeat=_heartbeat)
        except (ReauthRequired, AccountNotFound, PlatformError) as exc:
            await self._fail_run(tenant, run_id, str(exc))
            if isinstance(exc, ReauthRequired | AccountNotFound):
                raise failure(Failure.REAUTH_REQUIRED, str(exc)) from None
            raise to_application_error(exc) from exc
        except BaseException as exc:  # a bug, a cancellation: the row still ends
            await self._fail_run(tenant, run_id, f"reading the platform failed: {exc!r}")
            raise
        polled = time.perf_counter()
        try:
            async with tenant_session(self._sessions, tenant) as session, session.begin():
                cycle = Cycle(
                    session, tenant, inp.platform, snapshot,
                    max_delete_share=inp.max_delete_share,
                    min_delete_hold=inp.delete_hold_minimum,
                    heartbeat=_heartbeat,
                )  # fmt: skip
                await cycle.run(account_id)
                await cycle.record_problems()
                problems = [p for p in cycle.problems]
                await SyncBackRunRepository(session).finish(
                    tenant,
                    run_id,
                    status="completed",
                    api_calls=snapshot.calls,
                    entities_checked=cycle.checked,
                    changes=cycle.changes,
                    conflicts_opened=len(cycle.conflicts),
                    deleted_on_platform=cycle.deleted,
                    held_deletions=cycle.held or None,
                    error=_problems_text(problems),
                )
        except BaseException as exc:
            await self._fail_run(tenant, run_id, f"comparing failed: {exc!r}")
            raise
        return SyncBackAccountResult(
            run_id=str(run_id),
            api_calls=snapshot.calls,
            entities_checked=cycle.checked,
            rows_changed=len({(c["entityType"], c["entityId"]) for c in cycle.changes}),
            conflicts=cycle.conflicts,
            deleted_on_platform=cycle.deleted,
            deletions_held=len(cycle.held),
            entity_problems=len(problems),
            statements=cycle.statements,
            poll_seconds=polled - started,
            compare_seconds=time.perf_counter() - polled,
        )

    @activity.defn(name=APPLY_CONFLICT_RESOLUTION)
    async def apply_resolution(self, inp: ApplyResolutionInput) -> ResolutionResult:
        """Apply a person's decision against today's values: `use_local` pushes the entity's
        current local values of the disputed fields (the base for the diff being the
        platform's latest, as the last cycle refreshed it); `use_platform` takes those."""
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
        kind = conflict.entity_type
        fields = {f["field"]: f for f in conflict.fields}
        platform_values = {name: f["platform"] for name, f in fields.items()}
        snapshot = dict(record.synced_snapshot or {}) if record is not None else {}
        sent: list[str] = []
        local_spec = _spec(kind, entity, keywords)
        if inp.resolution == "use_local":
            adapter, context = await self._adapter(tenant, campaign, conflict.platform)
            # The base the diff runs against: the platform's current values of the conflicted
            # fields, so exactly the local values of those (and any pending local edit) go.
            base = SPECS[kind].model_validate(_new_base(kind, entity, snapshot, platform_values))
            try:
                if kind == "campaign":
                    pushed = await adapter.update_campaign(
                        context, conflict.platform_id, local_spec, base
                    )
                elif kind == "ad_group":
                    pushed = await adapter.update_ad_group(
                        context, conflict.platform_id, to_campaign_spec(campaign), local_spec, base
                    )
                else:
                    pushed = await adapter.update_ad(
                        context, conflict.platform_id, local_spec, base
                    )
            except PlatformError as exc:
                raise to_application_error(exc) from exc
            sent = pushed.changed_fields
            now = normalise(cast(CompareEntityType, kind), "spec", spec_fields(local_spec))
            applied = {name: now[name] for name in fields}
        else:
            applied = platform_values
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            entities = SyncedEntities(session)
            model = MODELS[kind]
            if inp.resolution == "use_local":
                await SyncRecordRepository(session).mark_synced(
                    tenant,
                    kind,  # type: ignore[arg-type]
                    conflict.entity_id,
                    conflict.platform,
                    platform_id=conflict.platform_id,
                    snapshot=local_spec.model_dump(mode="json"),
                    reset_attempts=False,
                )
                await entities.set_sync_status(model, entity.id, "synced")
            else:
                try:
                    columns = _columns(kind, entity, applied)
                except EntityProblem as exc:
                    raise failure(Failure.INVALID_STATE, str(exc)) from None
                base = _new_base(kind, entity, snapshot, applied)
                try:
                    async with session.begin_nested():
                        await entities.write_local(model, entity.id, columns)
                except IntegrityError:
                    raise failure(
                        Failure.INVALID_STATE,
                        f"the platform's values of {', '.join(fields)} cannot be stored here "
                        "(another entity has that name): rename it first, or use_local",
                    ) from None
                if record is not None:
                    await entities.set_snapshot(record.id, base)
                # In step when the local values, with the platform's taken, are the new base.
                local_after = _new_base(kind, entity, local_spec.model_dump(mode="json"), applied)
                spec_type = SPECS[kind]
                in_step = spec_type.model_validate(base) == spec_type.model_validate(local_after)
                await entities.set_sync_status(model, entity.id, "synced" if in_step else "pending")
            resolved = await ConflictRepository(session).resolve(
                tenant, conflict_id, inp.resolution
            )
            if resolved is None:
                raise failure(Failure.STALE, f"conflict {conflict_id} is not open")
            await _audit(
                session,
                tenant,
                f"conflict.resolved.{inp.resolution}",
                kind,
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
        self, tenant: uuid.UUID, campaign: GeneratedCampaign, platform: str
    ) -> tuple[CampaignSetPlatformAdapter, AccountContext]:
        """The conflict's target: the set's ad account on the conflict's platform."""
        async with tenant_session(self._sessions, tenant) as session:
            found = await SetSyncRepository(session).set_with_account(
                tenant, campaign.campaign_set_id
            )
            account_id = found[0].ad_account_id if found else None
            if found is not None and found[0].platform != platform:
                target = await CampaignSetTargetRepository(session).get(
                    tenant, found[0].id, platform
                )
                account_id = target.ad_account_id if target else None
        if account_id is None:
            raise failure(Failure.INVALID_STATE, f"the entity's set has no {platform} ad account")
        try:
            adapter, context = await self._platforms(tenant, account_id)
        except (ReauthRequired, AccountNotFound) as exc:
            raise failure(Failure.REAUTH_REQUIRED, str(exc)) from None
        return adapter, context

    async def _fail_run(self, tenant: uuid.UUID, run_id: uuid.UUID, error: str) -> None:
        """The run row ends `failed` with the reason (nothing of the cycle was written: its
        transaction rolled back)."""
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await SyncBackRunRepository(session).finish(
                tenant, run_id, status="failed", api_calls=0, entities_checked=0, changes=[],
                conflicts_opened=0, deleted_on_platform=0, error=error[:2000],
            )  # fmt: skip


def _heartbeat() -> None:
    if activity.in_activity():
        activity.heartbeat()


def _problems_text(problems: list[dict[str, Any]]) -> str | None:
    if not problems:
        return None
    shown = "; ".join(f"{p['entityType']} {p['entityId']}: {p['error']}" for p in problems[:20])
    more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
    return f"{len(problems)} entities could not take their platform changes: {shown}{more}"


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
    if entity_type == "ad":
        ad = await repo.ad_with_parent(tenant, entity_id)
        if ad is None:
            raise failure(Failure.NOT_FOUND, f"ad {entity_id} not found")
        parent = await repo.ad_group_with_parent(tenant, ad[1].id)
        if parent is None:
            raise failure(Failure.NOT_FOUND, f"ad {entity_id}'s ad group not found")
        return ad[0], parent[1], record, []
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
