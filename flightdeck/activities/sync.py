"""Activities of the campaign-set sync (seed 002).

`push_entity` is the only one that calls a platform: one write per activity, so the platform
task queue's rate limit is the platform's write budget. It decides create vs update from the
entity's platform id, records the intent in `sync_records` before a create, adopts an object an
earlier attempt may have created (Reddit has no idempotency key: found by name inside its
parent), and stores the platform id in the same activity, right after the call.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from flightdeck.accounts import AccountNotFound, ReauthRequired
from flightdeck.activities.errors import to_application_error
from flightdeck.activities.names import (
    FIND_RETRYABLE_SYNCS,
    FINISH_SET_SYNC,
    PREPARE_SET_SYNC,
    PUSH_ENTITY,
    RECORD_CAMPAIGN_OUTCOME,
)
from flightdeck.db.circuit_breaker import CircuitBreakerService
from flightdeck.db.models import GeneratedCampaign
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_assets import CampaignAssetRepository, record_asset_reuse
from flightdeck.db.repositories.campaign_sets import (
    CampaignSetRepository,
    to_ad_group_spec,
    to_ad_spec,
    to_campaign_spec,
)
from flightdeck.db.repositories.set_sync import SetSyncRepository
from flightdeck.db.repositories.sync_records import SyncRecordRepository
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    CampaignSpec,
    EntityType,
    PlatformObject,
)
from flightdeck.domain.sync import (
    AdChild,
    AdGroupChildren,
    CampaignOutcomeInput,
    PushAction,
    PushEntityInput,
    PushEntityResult,
    RetryableSet,
    RetrySweepInput,
    RetrySweepPlan,
    SyncFinishInput,
    SyncPlan,
    SyncStartInput,
)
from flightdeck.failures import Failure, failure
from flightdeck.observability.metrics import record_sync
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.errors import PlatformError, RateLimitedError, RetryableError

ACTOR = "worker"
T = TypeVar("T")
ACCOUNT_UNUSABLE = frozenset({"reauth_required", "disconnected"})


class AdapterProvider(Protocol):
    """The adapter and account context for one tenant's ad account (credentials stay inside)."""

    async def __call__(
        self, tenant_id: uuid.UUID, ad_account_id: uuid.UUID
    ) -> tuple[CampaignSetPlatformAdapter, AccountContext]: ...


class SyncActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        adapters: AdapterProvider,
        breaker: CircuitBreakerService,
    ) -> None:
        self._sessions = sessions
        self._adapters = adapters
        self._breaker = breaker

    # -- bookkeeping (main task queue) ---------------------------------------------------------

    @activity.defn(name=PREPARE_SET_SYNC)
    async def prepare_set_sync(self, inp: SyncStartInput) -> SyncPlan:
        """Check the set and its account, mark it syncing, and list the campaigns to process."""
        tenant, set_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.set_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            repo, sets = SetSyncRepository(session), CampaignSetRepository(session)
            found = await repo.set_with_account(tenant, set_id)
            if found is None:
                raise failure(Failure.NOT_FOUND, f"campaign set {set_id} not found")
            campaign_set, account = found
            problem = _account_problem(campaign_set.platform, account)
            if problem is not None:
                await sets.set_status(tenant, set_id, sync_status="failed")
                await _audit(session, tenant, "campaign_set.sync_refused", set_id, error=problem)
            else:
                only = [uuid.UUID(c) for c in inp.campaign_ids] if inp.campaign_ids else None
                ids = await repo.campaign_ids_to_sync(
                    tenant, set_id, only, with_platform_id=inp.operation != "push"
                )
                await sets.set_status(tenant, set_id, sync_status="syncing")
                await repo.mark_campaigns_syncing(tenant, ids)
                if inp.trigger != "retry_sweep":
                    # A person asked: failed campaigns get their full number of retries again.
                    await SyncRecordRepository(session).reset_attempts(
                        tenant, "campaign", ids, campaign_set.platform
                    )
                await _audit(
                    session,
                    tenant,
                    f"campaign_set.{inp.operation}_started",
                    set_id,
                    campaigns=len(ids),
                    trigger=inp.trigger,
                )
        if problem is not None:
            raise failure(Failure.REAUTH_REQUIRED, problem)
        return SyncPlan(platform=campaign_set.platform, campaign_ids=[str(i) for i in ids])

    @activity.defn(name=RECORD_CAMPAIGN_OUTCOME)
    async def record_campaign_outcome(self, inp: CampaignOutcomeInput) -> None:
        """A campaign and its whole subtree are done: its sync status, and the attempt count
        the retry sweep reads when it failed."""
        tenant, campaign_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.campaign_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            records = SyncRecordRepository(session)
            if inp.status == "synced":
                await records.reset_attempts(tenant, "campaign", [campaign_id], inp.platform)
            if inp.status == "failed":
                if await records.get(tenant, "campaign", campaign_id, inp.platform) is None:
                    await records.begin(tenant, "campaign", campaign_id, inp.platform)
                await records.mark_failed(
                    tenant, "campaign", campaign_id, inp.platform, message=inp.error or "failed"
                )
            await SetSyncRepository(session).finish_campaign(
                tenant, campaign_id, inp.status, inp.error
            )

    @activity.defn(name=FINISH_SET_SYNC)
    async def finish_set_sync(self, inp: SyncFinishInput) -> None:
        tenant, set_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.set_id)
        totals = inp.totals
        if inp.fatal_error:
            sync_status = "failed"
        elif totals.failed:
            sync_status = "failed" if totals.synced == 0 else "synced"
        else:
            sync_status = "synced"
        status = {"pause": "paused", "resume": "active"}.get(inp.operation)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await CampaignSetRepository(session).set_status(
                tenant,
                set_id,
                sync_status=sync_status,
                status=status,
                last_synced_at=None if inp.fatal_error else utcnow(),
            )
            await _audit(
                session,
                tenant,
                f"campaign_set.{inp.operation}_{'failed' if inp.fatal_error else 'completed'}",
                set_id,
                synced=totals.synced,
                failed=totals.failed,
                total=totals.total,
                error=inp.fatal_error,
            )
        record_sync(inp.operation, "failed" if inp.fatal_error else sync_status)

    # -- platform calls (platform task queue, rate limited) --------------------------------

    @activity.defn(name=PUSH_ENTITY)
    async def push_entity(self, inp: PushEntityInput) -> PushEntityResult:
        tenant = uuid.UUID(inp.tenant_id)
        try:
            if inp.entity_type == "campaign":
                return await self._push_campaign(tenant, inp)
            if inp.entity_type == "ad_group":
                return await self._push_ad_group(tenant, inp)
            if inp.entity_type == "post":
                return await self._push_post(tenant, inp)
            return await self._push_ad(tenant, inp)
        except ReauthRequired as exc:
            raise failure(Failure.REAUTH_REQUIRED, str(exc)) from None
        except PlatformError as exc:
            await self._audit_failure(tenant, inp, exc)
            if not isinstance(exc, RetryableError):
                await self._failed(tenant, inp, str(exc))
            raise to_application_error(exc) from exc

    async def _push_campaign(self, tenant: uuid.UUID, inp: PushEntityInput) -> PushEntityResult:
        campaign_id = uuid.UUID(inp.entity_id)
        async with tenant_session(self._sessions, tenant) as session:
            row = await SetSyncRepository(session).campaign_tree(tenant, campaign_id)
            if row is None:
                raise failure(Failure.NOT_FOUND, f"campaign {campaign_id} not found")
            campaign_set = await CampaignSetRepository(session).get(tenant, row.campaign_set_id)
            record = await SyncRecordRepository(session).get(
                tenant, "campaign", campaign_id, inp.platform
            )
        assert campaign_set is not None and campaign_set.ad_account_id is not None
        adapter, account = await self._adapter(tenant, campaign_set.ad_account_id)
        spec = to_campaign_spec(row)
        if inp.operation in ("pause", "resume"):
            return await self._set_campaign_status(tenant, inp, row, adapter, account)
        if row.deleted_at is not None:
            return await self._remove(
                tenant, inp, "campaign", row.platform_campaign_id, adapter, account
            )
        pushed: str | None
        action: PushAction
        if row.sync_status == "conflict":  # waits for its resolution; its children may go
            pushed, action = row.platform_campaign_id, "skipped"
        else:
            pushed, action = await self._create_or_update(
                tenant,
                inp,
                "campaign",
                row.platform_campaign_id,
                spec,
                record,
                create=lambda: adapter.create_campaign(account, spec),
                find=lambda: adapter.find_campaign(account, spec.name),
                update=lambda base: adapter.update_campaign(
                    account, row.platform_campaign_id or "", spec, base
                ),
            )
        children = [
            AdGroupChildren(
                ad_group_id=str(group.id),
                ads=[
                    AdChild(
                        ad_id=str(ad.id),
                        needs_post=ad.deleted_at is None
                        and ad.platform_ad_id is None
                        and ad.platform_post_id is None,
                    )
                    for ad in sorted(group.ads, key=lambda a: a.position)
                    if ad.deleted_at is None or ad.platform_ad_id is not None
                ],
            )
            for group in sorted(row.ad_groups, key=lambda g: g.position)
            if group.deleted_at is None or group.platform_ad_group_id is not None
        ]
        return PushEntityResult(
            entity_id=inp.entity_id, platform_id=pushed, action=action, ad_groups=children
        )

    async def _push_ad_group(self, tenant: uuid.UUID, inp: PushEntityInput) -> PushEntityResult:
        ad_group_id = uuid.UUID(inp.entity_id)
        async with tenant_session(self._sessions, tenant) as session:
            found = await SetSyncRepository(session).ad_group_with_parent(tenant, ad_group_id)
            if found is None:
                raise failure(Failure.NOT_FOUND, f"ad group {ad_group_id} not found")
            row, campaign, keywords = found
            campaign_set = await CampaignSetRepository(session).get(
                tenant, campaign.campaign_set_id
            )
            record = await SyncRecordRepository(session).get(
                tenant, "ad_group", ad_group_id, inp.platform
            )
        assert campaign_set is not None and campaign_set.ad_account_id is not None
        adapter, account = await self._adapter(tenant, campaign_set.ad_account_id)
        if row.deleted_at is not None or campaign.deleted_at is not None:
            return await self._remove(
                tenant, inp, "ad_group", row.platform_ad_group_id, adapter, account
            )
        parent_id = campaign.platform_campaign_id
        if parent_id is None:
            raise failure(
                Failure.INVALID_STATE,
                f"ad group {ad_group_id}: its campaign is not on the platform yet",
            )
        if row.sync_status == "conflict":  # waits for its resolution
            return PushEntityResult(
                entity_id=inp.entity_id, platform_id=row.platform_ad_group_id, action="skipped"
            )
        campaign_spec, spec = to_campaign_spec(campaign), to_ad_group_spec(row, keywords)
        pushed, action = await self._create_or_update(
            tenant,
            inp,
            "ad_group",
            row.platform_ad_group_id,
            spec,
            record,
            create=lambda: adapter.create_ad_group(account, parent_id, campaign_spec, spec),
            find=lambda: adapter.find_ad_group(account, parent_id, spec.name),
            update=lambda base: adapter.update_ad_group(
                account, row.platform_ad_group_id or "", campaign_spec, spec, base
            ),
        )
        return PushEntityResult(entity_id=inp.entity_id, platform_id=pushed, action=action)

    async def _push_post(self, tenant: uuid.UUID, inp: PushEntityInput) -> PushEntityResult:
        """The ad's creative (a Reddit post), stored before the ad that promotes it."""
        ad_id = uuid.UUID(inp.entity_id)
        async with tenant_session(self._sessions, tenant) as session:
            found = await SetSyncRepository(session).ad_with_parent(tenant, ad_id)
        if found is None:
            raise failure(Failure.NOT_FOUND, f"ad {ad_id} not found")
        ad, group, ad_account_id = found
        if ad.platform_post_id or ad.platform_ad_id or ad.deleted_at is not None:
            return PushEntityResult(
                entity_id=inp.entity_id, platform_id=ad.platform_post_id, action="skipped"
            )
        adapter, account = await self._account_adapter(tenant, ad_account_id)
        post = await self._call(
            inp.platform, tenant, adapter.create_ad_creative(account, to_ad_spec(ad))
        )
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await CampaignSetRepository(session).record_sync_result(
                tenant, "ad", ad_id, sync_status="syncing", platform_post_id=post.platform_id
            )
        return PushEntityResult(
            entity_id=inp.entity_id, platform_id=post.platform_id, action="created"
        )

    async def _push_ad(self, tenant: uuid.UUID, inp: PushEntityInput) -> PushEntityResult:
        ad_id = uuid.UUID(inp.entity_id)
        async with tenant_session(self._sessions, tenant) as session:
            found = await SetSyncRepository(session).ad_with_parent(tenant, ad_id)
            record = await SyncRecordRepository(session).get(tenant, "ad", ad_id, inp.platform)
        if found is None:
            raise failure(Failure.NOT_FOUND, f"ad {ad_id} not found")
        ad, group, ad_account_id = found
        adapter, account = await self._account_adapter(tenant, ad_account_id)
        if ad.deleted_at is not None or group.deleted_at is not None:
            return await self._remove(tenant, inp, "ad", ad.platform_ad_id, adapter, account)
        parent_id = group.platform_ad_group_id
        if parent_id is None:
            raise failure(
                Failure.INVALID_STATE, f"ad {ad_id}: its ad group is not on the platform yet"
            )
        spec = to_ad_spec(ad)
        pushed, action = await self._create_or_update(
            tenant,
            inp,
            "ad",
            ad.platform_ad_id,
            spec,
            record,
            create=lambda: adapter.create_ad(account, parent_id, spec, ad.platform_post_id),
            find=lambda: adapter.find_ad(account, parent_id, spec.name),
            update=lambda base: adapter.update_ad(account, ad.platform_ad_id or "", spec, base),
        )
        if spec.image_url and action in ("created", "adopted"):
            await self._record_library_reuse(tenant, inp, ad, group, pushed)
        return PushEntityResult(entity_id=inp.entity_id, platform_id=pushed, action=action)

    async def _record_library_reuse(
        self, tenant: uuid.UUID, inp: PushEntityInput, ad: Any, group: Any, platform_id: str
    ) -> None:
        """The ad's image is a library asset (its file or public URL): record that it is used
        in this ad (once per ad, whatever the retries)."""
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            asset = await CampaignAssetRepository(session).find_by_reference(tenant, ad.image_url)
            if asset is not None:
                await record_asset_reuse(
                    session,
                    tenant,
                    asset.id,
                    reused_in_type="ad",
                    reused_in_id=str(ad.id),
                    reused_in_name=ad.name,
                    platform=inp.platform,
                    context={
                        "campaign_set_id": inp.set_id,
                        "ad_group_id": str(group.id),
                        "platform_ad_id": platform_id,
                        "platform_post_id": ad.platform_post_id,
                    },
                )

    # -- the create-or-adopt-or-update core ---------------------------------------------------

    async def _create_or_update(
        self,
        tenant: uuid.UUID,
        inp: PushEntityInput,
        entity_type: EntityType,
        platform_id: str | None,
        spec: CampaignSpec | AdGroupSpec | AdSpec,
        record: Any,
        *,
        create: Callable[[], Awaitable[PlatformObject]],
        find: Callable[[], Awaitable[PlatformObject | None]],
        update: Callable[[Any], Awaitable[PlatformObject]],
    ) -> tuple[str, PushAction]:
        entity_id = uuid.UUID(inp.entity_id)
        action: PushAction
        made: PlatformObject
        if platform_id is None:
            # An earlier attempt may have created it and lost the answer: look before creating.
            ambiguous = activity.info().attempt > 1 or (
                record is not None and record.platform_id is None and record.requested_at
            )
            async with tenant_session(self._sessions, tenant) as session, session.begin():
                await SyncRecordRepository(session).begin(
                    tenant, entity_type, entity_id, inp.platform
                )
            found = await self._call(inp.platform, tenant, find()) if ambiguous else None
            made = found if found is not None else await self._call(inp.platform, tenant, create())
            platform_id, action = made.platform_id, "adopted" if found else "created"
            post_id = made.extra_ids.get("post_id")
        else:
            base = _base(type(spec), record)
            made = await self._call(inp.platform, tenant, update(base))
            action = "updated" if made.changed_fields else "unchanged"
            post_id = None
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await SyncRecordRepository(session).mark_synced(
                tenant,
                entity_type,
                entity_id,
                inp.platform,
                platform_id=platform_id,
                snapshot=spec.model_dump(mode="json"),
                reset_attempts=entity_type != "campaign",
            )
            await CampaignSetRepository(session).record_sync_result(
                tenant,
                entity_type,
                entity_id,
                sync_status="synced",
                platform_id=platform_id,
                platform_post_id=post_id,
            )
            if action != "unchanged":
                await _audit(
                    session,
                    tenant,
                    f"{entity_type}.{action}",
                    entity_id,
                    entity_type=f"{inp.platform}.{entity_type}",
                    platformId=platform_id,
                    fields=made.changed_fields or None,
                )
        return platform_id, action

    async def _remove(
        self,
        tenant: uuid.UUID,
        inp: PushEntityInput,
        entity_type: EntityType,
        platform_id: str | None,
        adapter: CampaignSetPlatformAdapter,
        account: AccountContext,
    ) -> PushEntityResult:
        """Deleted locally: set deleted on the platform (no DELETE exists there), never recreate."""
        entity_id = uuid.UUID(inp.entity_id)
        if platform_id is not None:
            await self._call(
                inp.platform,
                tenant,
                adapter.set_status(account, entity_type, platform_id, "deleted"),
            )
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            if await SyncRecordRepository(session).get(
                tenant, entity_type, entity_id, inp.platform
            ):
                await SyncRecordRepository(session).mark_deleted(
                    tenant, entity_type, entity_id, inp.platform
                )
            await _audit(
                session, tenant, f"{entity_type}.deleted", entity_id,
                entity_type=f"{inp.platform}.{entity_type}", platformId=platform_id,
            )  # fmt: skip
        return PushEntityResult(entity_id=inp.entity_id, platform_id=platform_id, action="deleted")

    async def _set_campaign_status(
        self,
        tenant: uuid.UUID,
        inp: PushEntityInput,
        row: GeneratedCampaign,
        adapter: CampaignSetPlatformAdapter,
        account: AccountContext,
    ) -> PushEntityResult:
        status = "paused" if inp.operation == "pause" else "active"
        action: PushAction = "paused" if inp.operation == "pause" else "resumed"
        if row.platform_campaign_id is None or row.deleted_at is not None:
            return PushEntityResult(entity_id=inp.entity_id, action="skipped")
        await self._call(
            inp.platform,
            tenant,
            adapter.set_status(account, "campaign", row.platform_campaign_id, status),
        )
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await SetSyncRepository(session).set_entity_status(GeneratedCampaign, row.id, status)
            records = SyncRecordRepository(session)
            record = await records.get(tenant, "campaign", row.id, inp.platform)
            snapshot = dict(record.synced_snapshot or {}) if record else {}
            if snapshot:
                snapshot["status"] = status  # the platform has it now: not a pending change
                await records.mark_synced(
                    tenant, "campaign", row.id, inp.platform,
                    platform_id=row.platform_campaign_id, snapshot=snapshot,
                )  # fmt: skip
            await _audit(
                session, tenant, f"campaign.{action}", row.id,
                entity_type=f"{inp.platform}.campaign", platformId=row.platform_campaign_id,
            )  # fmt: skip
        return PushEntityResult(
            entity_id=inp.entity_id, platform_id=row.platform_campaign_id, action=action
        )

    # -- plumbing ------------------------------------------------------------------------------

    async def _adapter(
        self, tenant: uuid.UUID, ad_account_id: uuid.UUID
    ) -> tuple[CampaignSetPlatformAdapter, AccountContext]:
        try:
            return await self._adapters(tenant, ad_account_id)
        except AccountNotFound as exc:
            raise failure(Failure.REAUTH_REQUIRED, str(exc)) from None

    async def _account_adapter(
        self, tenant: uuid.UUID, ad_account_id: uuid.UUID | None
    ) -> tuple[CampaignSetPlatformAdapter, AccountContext]:
        if ad_account_id is None:
            raise failure(Failure.INVALID_STATE, "the campaign set has no ad account")
        return await self._adapter(tenant, ad_account_id)

    async def _call(self, platform: str, tenant: uuid.UUID, call: Awaitable[T]) -> T:
        """One platform call, its outcome fed to the circuit breaker: a failure is the platform
        misbehaving (5xx, timeout), not a refusal of our input or a rate limit."""
        try:
            result = await call
        except PlatformError as exc:
            broken = isinstance(exc, RetryableError) and not isinstance(exc, RateLimitedError)
            if broken or exc.status_code is not None:
                await self._breaker.record(
                    platform, tenant, ok=not broken, status_code=exc.status_code
                )
            raise
        await self._breaker.record(platform, tenant, ok=True, status_code=None)
        return result

    async def _audit_failure(
        self, tenant: uuid.UUID, inp: PushEntityInput, exc: PlatformError
    ) -> None:
        """Every failed platform call is in the audit log too (successes are, as the change
        they made). The message is the client's, which never carries a token."""
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await _audit(
                session,
                tenant,
                "platform_call.failed",
                inp.entity_id,
                entity_type=f"{inp.platform}.{inp.entity_type}",
                statusCode=exc.status_code,
                retryable=isinstance(exc, RetryableError),
                attempt=activity.info().attempt,
                error=str(exc)[:1000],
            )

    async def _failed(self, tenant: uuid.UUID, inp: PushEntityInput, message: str) -> None:
        """A non-retryable failure of an ad group or ad (a campaign's own outcome is recorded
        once, by `record_campaign_outcome`, which counts the attempt)."""
        if inp.entity_type in ("post", "campaign"):
            return
        entity_type: EntityType = "ad_group" if inp.entity_type == "ad_group" else "ad"
        entity_id = uuid.UUID(inp.entity_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            records = SyncRecordRepository(session)
            if await records.get(tenant, entity_type, entity_id, inp.platform) is None:
                await records.begin(tenant, entity_type, entity_id, inp.platform)
            await records.mark_failed(tenant, entity_type, entity_id, inp.platform, message=message)
            await CampaignSetRepository(session).record_sync_result(
                tenant, entity_type, entity_id, sync_status="failed", sync_error=message
            )


class RetrySweepActivities:
    """The sweep's bookkeeping; works across tenants, so it runs in the system scope."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=FIND_RETRYABLE_SYNCS)
    async def find_retryable_syncs(self, inp: RetrySweepInput) -> RetrySweepPlan:
        now = utcnow()
        interval = timedelta(seconds=inp.interval_seconds)
        sessions = system_session(self._sessions, "sweep.retry_failed_syncs")
        async with sessions as session, session.begin():
            repo = SetSyncRepository(session)
            given_up = await repo.give_up_exhausted(inp.platform, inp.max_attempts)
            for record in given_up:
                await _audit(
                    session,
                    record.tenant_id,
                    "campaign.sync_permanently_failed",
                    record.entity_id,
                    entity_type="campaign",
                    attempts=record.attempts,
                    lastError=(record.error_log or [{}])[-1].get("message"),
                )
            records = await SyncRecordRepository(session).list_retryable(
                inp.platform, inp.max_attempts
            )
            due = [
                r
                for r in records
                if r.entity_type == "campaign"
                and retry_due(r.attempts, r.updated_at, interval, now)
            ]
            sets = await repo.campaign_sets([r.entity_id for r in due])
        grouped: dict[tuple[uuid.UUID, uuid.UUID], list[str]] = {}
        for record in due:
            set_id = sets.get(record.entity_id)
            if set_id is not None:
                grouped.setdefault((record.tenant_id, set_id), []).append(str(record.entity_id))
        return RetrySweepPlan(
            due=[
                RetryableSet(tenant_id=str(t), set_id=str(s), campaign_ids=ids)
                for (t, s), ids in grouped.items()
            ],
            given_up=len(given_up),
        )


def _base(spec_type: type[Any], record: Any) -> Any:
    """What was last pushed successfully: the diff's base (None: send every patchable field)."""
    if record is None or not record.synced_snapshot:
        return None
    try:
        return spec_type.model_validate(record.synced_snapshot)
    except ValueError:
        return None


def _account_problem(platform: str, account: Any) -> str | None:
    if account is None:
        return f"the campaign set has no {platform} ad account: set adAccountId first"
    if account.status in ACCOUNT_UNUSABLE:
        return (
            f"{platform} ad account {account.platform_account_id or account.id} must be "
            f"reconnected ({account.status}); connect it again through "
            f"GET /api/v1/ad-accounts/{platform}/connect"
        )
    return None


async def _audit(
    session: AsyncSession,
    tenant: uuid.UUID,
    action: str,
    entity_id: uuid.UUID | str,
    *,
    entity_type: str = "campaign_set",
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


def retry_due(attempts: int, last_attempt_at: datetime, interval: timedelta, now: datetime) -> bool:
    """Exponential backoff for the retry sweep: attempt n+1 waits interval × 2^(n-1)."""
    wait = interval * (2 ** max(attempts - 1, 0))
    return now - last_attempt_at >= wait


def utcnow() -> datetime:
    return datetime.now(UTC)
