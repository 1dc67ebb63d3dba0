"""Activities of the campaign-set sync (seed 002).

`push_entity` is the only one that calls a platform: one write per activity, so the platform
task queue's rate limit is the platform's write budget. It decides create vs update from the
entity's platform id, records the intent in `sync_records` before a create, adopts an object an
earlier attempt may have created (Reddit has no idempotency key: found by name inside its
parent), and stores the platform id in the same activity, right after the call.

A push is for one target of the set (`inp.platform`): it acts with that target's ad account and
sees the tree through that target's mapping (its sync records, `apply_target_mapping`); only
the set's first target is mirrored on the entities' own columns.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from flightdeck.accounts import AccountNotFound, ReauthRequired
from flightdeck.accounts.reads import one_read_per_push, read_along
from flightdeck.activities.attempts import attempt_end, wait_fits
from flightdeck.activities.errors import to_application_error
from flightdeck.activities.names import (
    FIND_RETRYABLE_SYNCS,
    FINISH_SET_SYNC,
    NEXT_CAMPAIGN_PAGE,
    PREPARE_SET_SYNC,
    PUSH_ENTITY,
    RECORD_CAMPAIGN_OUTCOME,
    SETTLE_LOST_CREATES,
)
from flightdeck.activities.unmarked_creates import UnmarkedCreateGuard, Waiting, content_key
from flightdeck.db.circuit_breaker import CircuitBreakerService
from flightdeck.db.models import CampaignSet, GeneratedAd, GeneratedCampaign
from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_assets import CampaignAssetRepository, record_asset_reuse
from flightdeck.db.repositories.campaign_set_targets import (
    CampaignSetTargetRepository,
    apply_target_mapping,
    is_first_target,
)
from flightdeck.db.repositories.campaign_sets import (
    CampaignSetRepository,
    to_ad_group_spec,
    to_ad_spec,
    to_campaign_spec,
)
from flightdeck.db.repositories.push_writes import PushWrites
from flightdeck.db.repositories.set_sync import SetSyncRepository
from flightdeck.db.repositories.sync_back import ConflictRepository
from flightdeck.db.repositories.sync_records import RecordType, SyncRecordRepository
from flightdeck.db.repositories.unmarked_creates import AlreadyClaimed, UnmarkedCreates, UnmarkedKey
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.adoption import entity_ref
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    CampaignSpec,
    EntityType,
    PlatformObject,
)
from flightdeck.domain.sync import (
    MAX_ERROR_CHARS,
    MAX_ERRORS_KEPT,
    AdChild,
    AdGroupChildren,
    CampaignOutcomeInput,
    CampaignPage,
    CampaignPageInput,
    LostCreatesInput,
    LostCreatesResult,
    PushAction,
    PushEntityInput,
    PushEntityResult,
    RetryableSet,
    RetrySweepInput,
    RetrySweepPlan,
    SyncError,
    SyncFinishInput,
    SyncPlan,
    SyncStartInput,
    SyncTotals,
)
from flightdeck.failures import Failure, failure
from flightdeck.observability.metrics import record_sync
from flightdeck.platforms import registry
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.errors import (
    AuthExpiredError,
    NonRetryableError,
    PlatformError,
    RateLimitedError,
    RetryableError,
)

ACTOR = "worker"
T = TypeVar("T")
# Settling a stopped push's lost creates is the last look for objects nobody mapped (some may
# be live). Its calls (lookups, pausing what it found: all safe to repeat) are tried again in
# the attempt after a transient failure: a 429 after the server's delay (not counted: a burst
# of them must not use up the settle), a 5xx or timeout up to this many times in all.
SETTLE_CALL_TRIES = 6
SETTLE_FIRST_PAUSE, SETTLE_LONGEST_PAUSE = 0.2, 5.0
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
        call_timeout_seconds: float = 30.0,
    ) -> None:
        self._sessions = sessions
        self._adapters = adapters
        self._breaker = breaker
        self._call_timeout = timedelta(seconds=call_timeout_seconds)
        self._writes = PushWrites(sessions)
        self._unmarked = UnmarkedCreateGuard(UnmarkedCreates(sessions))

    # -- bookkeeping (main task queue) ---------------------------------------------------------

    @activity.defn(name=PREPARE_SET_SYNC)
    async def prepare_set_sync(self, inp: SyncStartInput) -> SyncPlan:
        """Check the set and its account, open the run (`set_sync_runs`) and mark the campaigns
        it takes with its id (the workflow pages them from there). Safe to repeat."""
        tenant, set_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.set_id)
        run_id = uuid.UUID(inp.run_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            repo, sets = SetSyncRepository(session), CampaignSetRepository(session)
            found = await repo.set_with_account(tenant, set_id)
            if found is None:
                raise failure(Failure.NOT_FOUND, f"campaign set {set_id} not found")
            campaign_set, account = found
            targets = CampaignSetTargetRepository(session)
            platforms = inp.platforms or [inp.platform]
            refused: dict[str, str] = {}
            for target_platform in platforms:
                if target_platform == campaign_set.platform:
                    continue
                # Another target of the set (the retry sweep's, or one of several).
                target = await targets.get(tenant, set_id, target_platform)
                if target is None:
                    raise failure(
                        Failure.INVALID_STATE,
                        f"the set has no {target_platform} target "
                        f"(it targets {campaign_set.platform})",
                    )
                target_account = (
                    await AdAccountRepository(session).get(tenant, target.ad_account_id)
                    if target.ad_account_id
                    else None
                )
                if refusal := _account_problem(target_platform, target_account):
                    refused[target_platform] = refusal
            if campaign_set.platform in platforms and (
                refusal := _account_problem(campaign_set.platform, account)
            ):
                refused[campaign_set.platform] = refusal
            opened = await repo.open_run(
                tenant, run_id, set_id, inp.workflow_id, inp.operation, inp.trigger
            )
            # The run is refused when no target can go; a refused target among others sits
            # this run out, with its reason.
            problem = "; ".join(refused.values()) if len(refused) == len(platforms) else None
            if problem is not None:
                await _audit(session, tenant, "campaign_set.sync_refused", set_id, error=problem)
            elif opened:
                only = [uuid.UUID(c) for c in inp.campaign_ids] if inp.campaign_ids else None
                ids = await repo.take_campaigns(
                    tenant, set_id, run_id, only, push=inp.operation == "push"
                )
                await repo.set_run_total(tenant, run_id, len(ids))
                await sets.set_status(tenant, set_id, sync_status="syncing")
                for target_platform in platforms:
                    await targets.set_status(
                        tenant, set_id, target_platform,
                        sync_status="failed" if target_platform in refused else "syncing",
                        sync_error=refused.get(target_platform),
                    )  # fmt: skip
                if inp.trigger != "retry_sweep":
                    # A person asked: failed campaigns get their full number of retries again.
                    for target_platform in platforms:
                        await SyncRecordRepository(session).reset_attempts(
                            tenant, "campaign", ids, target_platform
                        )
                await _audit(
                    session,
                    tenant,
                    f"campaign_set.{inp.operation}_started",
                    set_id,
                    campaigns=len(ids),
                    trigger=inp.trigger,
                    runId=inp.run_id,
                )
            total = await repo.run_total(tenant, run_id)
        if problem is not None:
            raise failure(Failure.REAUTH_REQUIRED, problem)
        # The run's platform: the one it was asked for when it is one target (a retry sweep's
        # run on a set's Google or Meta target pushes there), else the set's first target.
        run_platform = platforms[0] if len(platforms) == 1 else campaign_set.platform
        return SyncPlan(platform=run_platform, total=total, refused=refused)

    @activity.defn(name=NEXT_CAMPAIGN_PAGE)
    async def next_campaign_page(self, inp: CampaignPageInput) -> CampaignPage:
        """The run's next campaigns after `after`, by id (a keyset cursor)."""
        tenant = uuid.UUID(inp.tenant_id)
        after = uuid.UUID(inp.after) if inp.after else None
        async with tenant_session(self._sessions, tenant) as session:
            ids = await SetSyncRepository(session).run_campaign_page(
                tenant, uuid.UUID(inp.run_id), after, inp.limit
            )
        return CampaignPage(campaign_ids=[str(i) for i in ids])

    @activity.defn(name=RECORD_CAMPAIGN_OUTCOME)
    async def record_campaign_outcome(self, inp: CampaignOutcomeInput) -> None:
        """A campaign and its whole subtree are done: its one outcome in this run, its sync
        status, and the attempt count the retry sweep reads when it failed."""
        tenant, campaign_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.campaign_id)
        per_target = [(t.platform, t.status, t.error) for t in inp.targets] or [
            (inp.platform, inp.status, inp.error)
        ]
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            records = SyncRecordRepository(session)
            for platform, status, error in per_target:  # each target's own record
                if status == "synced":
                    await records.reset_attempts(tenant, "campaign", [campaign_id], platform)
                if status == "failed":
                    if await records.get(tenant, "campaign", campaign_id, platform) is None:
                        await records.begin(tenant, "campaign", campaign_id, platform)
                    await records.mark_failed(
                        tenant, "campaign", campaign_id, platform, message=error or "failed"
                    )
            run_id = uuid.UUID(inp.run_id) if inp.run_id else None
            repo = SetSyncRepository(session)
            await repo.finish_campaign(tenant, campaign_id, inp.status, inp.error, run_id=run_id)
            if inp.status == "failed":  # what its push began and never ended fails with it
                reason = f"its campaign failed: {inp.error or 'failed'}"[:MAX_ERROR_CHARS]
                await repo.fail_left_syncing(tenant, run_id, reason, [campaign_id])

    @activity.defn(name=FINISH_SET_SYNC)
    async def finish_set_sync(self, inp: SyncFinishInput) -> SyncTotals:
        """Close the run, whatever happened: campaigns it took that have no outcome fail with
        the reason, the counts come from Postgres (they add up to the total), and the run, the
        set and the audit log say how it ended. Safe to repeat."""
        tenant, set_id, run_id = (
            uuid.UUID(inp.tenant_id),
            uuid.UUID(inp.set_id),
            uuid.UUID(inp.run_id),
        )
        reason = inp.fatal_error or "the sync ended before this campaign was processed"
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            repo = SetSyncRepository(session)
            await repo.open_run(tenant, run_id, set_id, inp.workflow_id, inp.operation, inp.trigger)
            await repo.fail_unfinished(tenant, run_id, reason)
            await repo.fail_left_syncing(tenant, run_id, reason)
            some_target_done = any(t.synced + t.held + t.skipped > 0 for t in inp.targets.values())
            run, closed_now = await repo.close_run(
                tenant, run_id, inp.fatal_error, some_target_done=some_target_done
            )
            errors = await repo.run_errors(tenant, run_id, MAX_ERRORS_KEPT)
            if closed_now:
                await _finish_targets(session, tenant, set_id, inp, run.status)
                status = {"pause": "paused", "resume": "active"}.get(inp.operation)
                await CampaignSetRepository(session).set_status(
                    tenant,
                    set_id,
                    sync_status="failed" if run.status == "failed" else "synced",
                    status=None if inp.fatal_error else status,
                    last_synced_at=None if inp.fatal_error else utcnow(),
                )
                await _audit(
                    session,
                    tenant,
                    f"campaign_set.{inp.operation}_"
                    f"{'failed' if run.status == 'failed' else 'completed'}",
                    set_id,
                    runId=inp.run_id,
                    status=run.status,
                    synced=run.synced,
                    failed=run.failed,
                    held=run.held,
                    skipped=run.skipped,
                    total=run.total,
                    error=run.error,
                )
        if closed_now:
            record_sync(inp.operation, run.status)
        return SyncTotals(
            status=run.status,  # type: ignore[arg-type]
            synced=run.synced,
            failed=run.failed,
            held=run.held,
            skipped=run.skipped,
            total=run.total,
            errors=[
                SyncError(campaign_id=str(cid), message=(message or "failed")[:MAX_ERROR_CHARS])
                for cid, message in errors
            ],
        )

    # -- platform calls (platform task queue, rate limited) --------------------------------

    @activity.defn(name=PUSH_ENTITY)
    async def push_entity(self, inp: PushEntityInput) -> PushEntityResult:
        # The account's row is read once for the whole push (its context and every call's token).
        with one_read_per_push():
            return await self._push_entity(inp)

    async def _push_entity(self, inp: PushEntityInput) -> PushEntityResult:
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
            conflicted = await _conflicted_fields(session, tenant, "campaign", campaign_id)
            gone = await SetSyncRepository(session).deletions_done(
                tenant,
                [g.id for g in row.ad_groups if g.deleted_at is not None]
                + [a.id for g in row.ad_groups for a in g.ads if a.deleted_at is not None],
                inp.platform,
            )
            assert campaign_set is not None
            account_id = await _target_account(session, tenant, campaign_set, inp.platform)
            await read_along(session, tenant, account_id)
            # This target's view of the tree: its own platform ids (sync records).
            await apply_target_mapping(session, tenant, campaign_set, inp.platform, _tree(row))
        inp = _for_target(inp, campaign_set)
        adapter, account = await self._account_adapter(tenant, account_id)
        spec = to_campaign_spec(row)
        if inp.operation in ("pause", "resume"):
            return await self._set_campaign_status(tenant, inp, row, adapter, account)
        if row.deleted_at is not None:
            return await self._remove(
                tenant, inp, "campaign", row.platform_campaign_id, adapter, account, record
            )
        if conflicted is None:
            # A new campaign goes whole, in one atomic request, where the platform can.
            from flightdeck.activities.sync_tree import TreePush  # it builds on this module

            tree = TreePush.for_campaign(self, tenant, inp, row, adapter, account)
            if tree is not None:
                return await tree.run(record)
        pushed: str | None
        action: PushAction
        push_spec = _without_conflicted(spec, record, conflicted)
        if push_spec is None:  # in conflict with no base to fall back on: wait entirely
            pushed, action = row.platform_campaign_id, "held"
        else:
            pushed, action = await self._create_or_update(
                tenant,
                inp,
                "campaign",
                row.platform_campaign_id,
                push_spec,
                record,
                create=lambda ref: adapter.create_campaign(account, push_spec, ref=ref),
                find=_finder(adapter, account, "campaign", spec.name),
                update=lambda base: adapter.update_campaign(
                    account, row.platform_campaign_id or "", push_spec, base
                ),
                held=conflicted is not None,
            )
        # Removed children whose deletion reached the platform cost nothing any more.
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
                    if ad.deleted_at is None
                    or (ad.platform_ad_id is not None and ad.id not in gone)
                ],
            )
            for group in sorted(row.ad_groups, key=lambda g: g.position)
            if group.deleted_at is None
            or (group.platform_ad_group_id is not None and group.id not in gone)
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
            conflicted = await _conflicted_fields(session, tenant, "ad_group", ad_group_id)
            assert campaign_set is not None
            account_id = await _target_account(session, tenant, campaign_set, inp.platform)
            await read_along(session, tenant, account_id)
            await apply_target_mapping(session, tenant, campaign_set, inp.platform, [row, campaign])
        inp = _for_target(inp, campaign_set)
        adapter, account = await self._account_adapter(tenant, account_id)
        if row.deleted_at is not None or campaign.deleted_at is not None:
            return await self._remove(
                tenant, inp, "ad_group", row.platform_ad_group_id, adapter, account, record
            )
        parent_id = campaign.platform_campaign_id
        if parent_id is None:
            raise failure(
                Failure.INVALID_STATE,
                f"ad group {ad_group_id}: its campaign is not on the platform yet",
            )
        campaign_spec, full = to_campaign_spec(campaign), to_ad_group_spec(row, keywords)
        spec = _without_conflicted(full, record, conflicted)
        if spec is None:  # in conflict with no base to fall back on: wait entirely
            return PushEntityResult(
                entity_id=inp.entity_id, platform_id=row.platform_ad_group_id, action="held"
            )
        not_applicable = registry.platform(inp.platform).keywords_not_applicable

        async def keyword_rows(session: AsyncSession, pushed: str) -> None:
            """Written with the ad group's own outcome (one transaction)."""
            if not _mirrored(inp):
                pass  # keyword rows show the first target (another's: `GET` `targets[].notes`)
            elif not_applicable is not None:
                # The platform has no keywords (Meta): each is marked so, with the reason.
                await SetSyncRepository(session).keywords_not_applicable(
                    tenant, ad_group_id, not_applicable
                )
            elif "keywords" not in (conflicted or set()):
                # Keywords travel in the ad group's targeting: they are on the platform now.
                await SetSyncRepository(session).keywords_synced(tenant, ad_group_id, pushed)

        pushed, action = await self._create_or_update(
            tenant,
            inp,
            "ad_group",
            row.platform_ad_group_id,
            spec,
            record,
            create=lambda ref: adapter.create_ad_group(
                account, parent_id, campaign_spec, spec, ref=ref
            ),
            find=_finder(adapter, account, "ad_group", spec.name, parent_id),
            update=lambda base: adapter.update_ad_group(
                account, row.platform_ad_group_id or "", campaign_spec, spec, base
            ),
            held=conflicted is not None,
            also=keyword_rows,
        )
        return PushEntityResult(entity_id=inp.entity_id, platform_id=pushed, action=action)

    async def _push_post(self, tenant: uuid.UUID, inp: PushEntityInput) -> PushEntityResult:
        """The ad's creative (a Reddit post), stored before the ad that promotes it."""
        ad_id = uuid.UUID(inp.entity_id)
        async with tenant_session(self._sessions, tenant) as session:
            found = await SetSyncRepository(session).ad_with_set(tenant, ad_id)
            if found is None:
                raise failure(Failure.NOT_FOUND, f"ad {ad_id} not found")
            ad, group, campaign_set = found
            ad_account_id = await _target_account(session, tenant, campaign_set, inp.platform)
            await read_along(session, tenant, ad_account_id)
            await apply_target_mapping(session, tenant, campaign_set, inp.platform, [ad, group])
            record = await SyncRecordRepository(session).get(tenant, "post", ad_id, inp.platform)
        inp = _for_target(inp, campaign_set)
        if ad.platform_post_id or ad.platform_ad_id or ad.deleted_at is not None:
            return PushEntityResult(
                entity_id=inp.entity_id, platform_id=ad.platform_post_id, action="skipped"
            )
        adapter, account = await self._account_adapter(tenant, ad_account_id)
        spec = to_ad_spec(ad)
        # Ledger-then-adopt, as for every create: the post is recorded under the ad's id.
        ambiguous = _create_outcome_unknown(record)
        await self._writes.begin(tenant, "post", ad_id, inp.platform)
        post_id: str | None = None
        if ambiguous:
            post_id = await self._adopt_post(tenant, inp, ad_id, adapter, account, spec)
        if post_id is None:  # (a created post's audit entry is written with its record)
            post_id = await self._create_post(tenant, inp, ad_id, adapter, account, spec)
            return PushEntityResult(entity_id=inp.entity_id, platform_id=post_id, action="created")
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await _audit(
                session, tenant, "post.adopted", ad_id,
                entity_type=f"{inp.platform}.post", platformId=post_id,
            )  # fmt: skip
        return PushEntityResult(entity_id=inp.entity_id, platform_id=post_id, action="adopted")

    async def _create_post(
        self,
        tenant: uuid.UUID,
        inp: PushEntityInput,
        ad_id: uuid.UUID,
        adapter: CampaignSetPlatformAdapter,
        account: AccountContext,
        spec: AdSpec,
    ) -> str:
        """Create the post and record it. A post without our marker (Reddit) is created under
        `activities.unmarked_creates`: never while a lookup of its copy is under way, and its
        row says what came of it, so a lookup can tell its post from the others'."""
        ref = entity_ref("post", ad_id)
        key = _unmarked_key(adapter, account, spec, inp.platform, ref)
        row: int | None = None
        if key is not None:
            waiting = Waiting(activity.heartbeat, lambda: _attempt_left(inp.platform))
            row = await self._unmarked.before_create(key, waiting, self._sent_by())
            try:  # (`_create` checks too; a refusal here sent nothing)
                self._time_to_create(inp.platform)
            except PlatformError:
                await self._unmarked.rows.close(row)
                raise
        try:
            # Not patient: its `unmarked_creates` row's deadline covers one send only.
            made = await self._create(
                tenant, inp, "post", ad_id,
                lambda: adapter.create_ad_creative(account, spec, ref=ref), patient=False,
            )  # fmt: skip
        except PlatformError as exc:
            if row is not None:  # a refusal made nothing; any other outcome may have
                await self._unmarked.rows.close(row, "done" if not_applied(exc) else "lost")
            raise
        try:
            async with tenant_session(self._sessions, tenant) as session, session.begin():
                await self._record_post(session, tenant, inp, ad_id, made.platform_id)
                if key is not None and row is not None:
                    await UnmarkedCreates.claim(session, key, row, made.platform_id)
                await _audit(
                    session, tenant, "post.created", ad_id,
                    entity_type=f"{inp.platform}.post", platformId=made.platform_id,
                )  # fmt: skip
        except AlreadyClaimed:
            # The tie of `activities.unmarked_creates`: another ad's lookup, unable to tell
            # two identical posts apart, took this one. Nothing is recorded; the retry looks
            # (the ledger still says `requested`) and takes the other post or makes one.
            raise RetryableError(
                "its new post was taken by another ad with the same copy; the retry looks again",
                platform=inp.platform,
            ) from None
        return made.platform_id

    async def _adopt_post(
        self,
        tenant: uuid.UUID,
        inp: PushEntityInput,
        ad_id: uuid.UUID,
        adapter: CampaignSetPlatformAdapter,
        account: AccountContext,
        spec: AdSpec,
        *,
        ad_status: str = "syncing",
        ad_error: str | None = None,
        heartbeat: Callable[[], None] = activity.heartbeat,
        settling: bool = False,
    ) -> str | None:
        """The post (creative) an earlier, ambiguous attempt made, if any, recorded before it
        is returned: one nobody holds (no ad of any tenant maps it: tenants may connect the
        same profile). A creative with our marker is this ad's by its name; a post without
        one (Reddit) is picked under `activities.unmarked_creates`, which never takes the
        post of another create, answered and not yet recorded."""
        ref = entity_ref("post", ad_id)

        async def candidates() -> list[str]:
            def find() -> Awaitable[list[PlatformObject]]:
                return adapter.find_ad_creative(account, spec, ref=ref)

            if settling:
                found = await self._settling_call(inp.platform, tenant, find, heartbeat)
            else:
                found = await self._patient(inp.platform, tenant, find)
            return [c.platform_id for c in found]

        async def mapped(post_ids: list[str]) -> set[str]:
            # Across tenants: two tenants may have connected the same Reddit profile.
            async with system_session(self._sessions, "sync.post_adoption") as everyone:
                return await SetSyncRepository(everyone).mapped_post_ids(post_ids)

        async def take(row: int | None, post_id: str | None) -> bool:
            try:
                async with tenant_session(self._sessions, tenant) as session, session.begin():
                    # The lookup began with no post recorded (its create's outcome unknown).
                    # One recorded now was recorded by another attempt of this very ad (one
                    # that outlived its timeout, beside its retry): that post is the ad's,
                    # and the pick — another owner's post, or none — is not.
                    record = await SyncRecordRepository(session).get(
                        tenant, "post", ad_id, inp.platform, for_update=True
                    )
                    if record is not None and record.platform_id is not None:
                        raise _PostRecorded(record.platform_id)
                    if key is not None and row is not None:
                        await UnmarkedCreates.claim(session, key, row, post_id)
                    if post_id is not None:
                        await self._record_post(
                            session, tenant, inp, ad_id, post_id, ad_status=ad_status,
                            ad_error=ad_error,
                        )  # fmt: skip
            except AlreadyClaimed:
                return False
            return True

        key = _unmarked_key(adapter, account, spec, inp.platform, ref)
        try:
            if key is not None:
                waiting = Waiting(
                    heartbeat, lambda: _attempt_left(inp.platform), _half_attempt_gone
                )
                return await self._unmarked.lookup(key, candidates, mapped, take, waiting)
            listed = await candidates()
            held = await mapped(listed)
            pick = next((post_id for post_id in listed if post_id not in held), None)
            await take(None, pick)
            return pick
        except _PostRecorded as recorded:
            return recorded.post_id

    async def _record_post(
        self,
        session: AsyncSession,
        tenant: uuid.UUID,
        inp: PushEntityInput,
        ad_id: uuid.UUID,
        post_id: str,
        *,
        ad_status: str = "syncing",
        ad_error: str | None = None,
    ) -> None:
        await SyncRecordRepository(session).mark_synced(
            tenant, "post", ad_id, inp.platform, platform_id=post_id, snapshot={}, fetch=False
        )
        await CampaignSetRepository(session).record_sync_result(
            tenant, "ad", ad_id, sync_status=ad_status, sync_error=ad_error,
            platform_post_id=post_id, mirror=_mirrored(inp),
        )  # fmt: skip

    async def _push_ad(self, tenant: uuid.UUID, inp: PushEntityInput) -> PushEntityResult:
        ad_id = uuid.UUID(inp.entity_id)
        async with tenant_session(self._sessions, tenant) as session:
            found = await SetSyncRepository(session).ad_with_set(tenant, ad_id)
            record = await SyncRecordRepository(session).get(tenant, "ad", ad_id, inp.platform)
            if found is None:
                raise failure(Failure.NOT_FOUND, f"ad {ad_id} not found")
            ad, group, campaign_set = found
            ad_account_id = await _target_account(session, tenant, campaign_set, inp.platform)
            await read_along(session, tenant, ad_account_id)
            await apply_target_mapping(session, tenant, campaign_set, inp.platform, [ad, group])
        inp = _for_target(inp, campaign_set)
        adapter, account = await self._account_adapter(tenant, ad_account_id)
        if ad.deleted_at is not None or group.deleted_at is not None:
            return await self._remove(tenant, inp, "ad", ad.platform_ad_id, adapter, account)
        parent_id = group.platform_ad_group_id
        if parent_id is None:
            raise failure(
                Failure.INVALID_STATE, f"ad {ad_id}: its ad group is not on the platform yet"
            )
        spec = to_ad_spec(ad)
        post_id = ad.platform_post_id
        if ad.platform_ad_id is None and post_id is None:
            # Its post first, through the ledger (never a post the ad create makes unrecorded).
            post_inp = inp.model_copy(update={"entity_type": "post"})
            post_id = (await self._push_post(tenant, post_inp)).platform_id
        pushed, action = await self._create_or_update(
            tenant,
            inp,
            "ad",
            ad.platform_ad_id,
            spec,
            record,
            create=lambda ref: adapter.create_ad(account, parent_id, spec, post_id, ref=ref),
            find=_finder(adapter, account, "ad", spec.name, parent_id),
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
        create: Callable[[str], Awaitable[PlatformObject]],
        find: Finder,
        update: Callable[[Any], Awaitable[PlatformObject]],
        held: bool = False,
        also: Callable[[AsyncSession, str], Awaitable[None]] | None = None,
    ) -> tuple[str, PushAction]:
        """`held`: the entity is in conflict; `spec` carries the base's value for each
        conflicted field (so none is sent), and the entity stays `conflict`. `also`: more of
        the outcome, written in the same transaction (given the platform id)."""
        entity_id = uuid.UUID(inp.entity_id)
        action: PushAction
        made: PlatformObject
        if platform_id is None:
            # Ledger, then create with our marker; after an ambiguous attempt (its create's
            # outcome unknown) look for the object carrying that marker first.
            ref = entity_ref(entity_type, entity_id)
            ambiguous = _create_outcome_unknown(record)
            await self._writes.begin(tenant, entity_type, entity_id, inp.platform)
            found = None
            if ambiguous:
                found = await self._patient(inp.platform, tenant, lambda: find(ref))
            if found is None:
                made = await self._create(tenant, inp, entity_type, entity_id, lambda: create(ref))
            else:
                made = found
            platform_id, action = made.platform_id, "adopted" if found else "created"
            post_id = made.extra_ids.get("post_id")
        else:
            base = _base(type(spec), record)
            made = await self._patient(inp.platform, tenant, lambda: update(base))
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
                fetch=False,
            )
            await CampaignSetRepository(session).record_sync_result(
                tenant,
                entity_type,
                entity_id,
                sync_status="conflict" if held else "synced",
                platform_id=platform_id,
                platform_post_id=post_id,
                mirror=_mirrored(inp),
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
            if also is not None:
                await also(session, platform_id)
        return platform_id, "held" if held else action

    async def _create(
        self,
        tenant: uuid.UUID,
        inp: PushEntityInput,
        record_type: RecordType,
        entity_id: uuid.UUID,
        make: Callable[[], Awaitable[T]],
        *,
        patient: bool = True,
    ) -> T:
        """The create call itself. A refusal that says nothing was made (429, 4xx, our own
        check) clears the ledger's `requested`, so the next attempt creates without looking;
        any other failure (lost answer, timeout, 5xx) leaves it: the object may exist.
        `patient`: a 429 is waited out in the attempt (`_patient`; every send checked by
        `_time_to_create`)."""
        try:
            if not patient:
                self._time_to_create(inp.platform)
                return await self._call(inp.platform, tenant, make())
            return await self._patient(
                inp.platform, tenant, make, before_send=lambda: self._time_to_create(inp.platform)
            )
        except PlatformError as exc:
            if not_applied(exc):
                async with tenant_session(self._sessions, tenant) as session, session.begin():
                    await SyncRecordRepository(session).mark_not_applied(
                        tenant, record_type, entity_id, inp.platform
                    )
            raise

    def _sent_by(self) -> timedelta:
        """How long from now a create sent next may still be running at most: to the end of
        this attempt (`_time_to_create` sends nothing that could outlive it), or its HTTP
        timeout if that is sooner."""
        end = attempt_end()
        if end is None:
            return self._call_timeout
        return min(self._call_timeout, end - datetime.now(UTC))

    def _time_to_create(self, platform: str) -> None:
        """Temporal does not stop an attempt that outlives its start-to-close timeout (only a
        heartbeat would tell it): the next attempt runs beside it. A create sent that late
        could commit after the next attempt looked for it, and both would create. So a create
        goes out only while the call can end (its HTTP timeout) inside the attempt's time;
        otherwise this attempt gives up unsent, and the next one looks first (`requested`)."""
        if self._call_fits() is False:
            raise RetryableError(
                "too little of this attempt's time left to create safely; the next attempt "
                "looks for the object first",
                platform=platform,
            )

    async def _remove(
        self,
        tenant: uuid.UUID,
        inp: PushEntityInput,
        entity_type: EntityType,
        platform_id: str | None,
        adapter: CampaignSetPlatformAdapter,
        account: AccountContext,
        record: Any = None,
    ) -> PushEntityResult:
        """Deleted locally: set deleted on the platform (no DELETE exists there), never
        recreate. Once that reached the platform (or sync-back saw it there), nothing more:
        no call, no audit entry."""
        entity_id = uuid.UUID(inp.entity_id)
        if record is not None and record.state == "deleted":
            return PushEntityResult(
                entity_id=inp.entity_id, platform_id=platform_id, action="deleted"
            )
        if platform_id is not None:
            await self._patient(
                inp.platform,
                tenant,
                lambda: adapter.set_status(account, entity_type, platform_id, "deleted"),
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
        campaign_pid = row.platform_campaign_id
        await self._patient(
            inp.platform,
            tenant,
            lambda: adapter.set_status(account, "campaign", campaign_pid, status),
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

    # -- creates whose answer was lost, in a push that then stopped ---------------------------

    @activity.defn(name=SETTLE_LOST_CREATES)
    async def settle_lost_creates(self, inp: LostCreatesInput) -> LostCreatesResult:
        """A stopped push (a failed campaign; a run cancelled, failed or stopped for a reauth)
        may have made objects whose create answer was lost: ledger rows left `requested` with
        no platform id. Each is looked up on the platform by its marker, with the very lookup
        a retry after an ambiguous failure makes. Found: it is ours; paused (deleted, if the
        entity was deleted meanwhile), then mapped, still failed, so the next sync updates it
        to what was asked instead of creating another. Not found: its row says not created,
        with the reason. Only this tenant's rows of these campaigns are read, so nothing
        without our marker is touched. Pages campaigns and heartbeats after each (a retry
        resumes after the last one done); safe to repeat (settled rows are not `requested`)."""
        try:
            return await self._settle_lost_creates(inp)
        except ReauthRequired as exc:
            raise failure(Failure.REAUTH_REQUIRED, str(exc)) from None
        except PlatformError as exc:
            raise to_application_error(exc) from exc

    async def _settle_lost_creates(self, inp: LostCreatesInput) -> LostCreatesResult:
        tenant = uuid.UUID(inp.tenant_id)
        result = LostCreatesResult()
        if inp.campaign_ids is not None:
            for given in inp.campaign_ids:
                await self._settle_campaign(tenant, inp, uuid.UUID(given), result, None)
            return result
        details = activity.info().heartbeat_details
        after = uuid.UUID(str(details[0])) if details else None
        while True:
            async with tenant_session(self._sessions, tenant) as session:
                page = await SetSyncRepository(session).unfinished_campaign_page(
                    tenant, uuid.UUID(inp.run_id), after, inp.page_size
                )
            for campaign_id in page:
                await self._settle_campaign(tenant, inp, campaign_id, result, after)
                activity.heartbeat(str(campaign_id))
                after = campaign_id
            if len(page) < inp.page_size:
                return result
            after = page[-1]

    async def _settle_campaign(
        self,
        tenant: uuid.UUID,
        inp: LostCreatesInput,
        campaign_id: uuid.UUID,
        result: LostCreatesResult,
        done_until: uuid.UUID | None,
    ) -> None:
        """The campaign's subtree, parents first (a child is found under its parent's id).
        `done_until`: the run's campaigns up to it are settled (the heartbeats say so)."""
        async with tenant_session(self._sessions, tenant) as session:
            row = await SetSyncRepository(session).campaign_tree(tenant, campaign_id)
            if row is None:
                return
            ids = [row.id] + [g.id for g in row.ad_groups]
            ids += [a.id for g in row.ad_groups for a in g.ads]
            lost = await SyncRecordRepository(session).lost_creates(tenant, inp.platform, ids)
            campaign_set = await CampaignSetRepository(session).get(tenant, row.campaign_set_id)
            if not lost or campaign_set is None:
                return
            account_id = await _target_account(session, tenant, campaign_set, inp.platform)
            await apply_target_mapping(session, tenant, campaign_set, inp.platform, _tree(row))
        adapter, account = await self._account_adapter(tenant, account_id)
        mirror = is_first_target(campaign_set, inp.platform)
        settle = _Settlement(self, tenant, inp, adapter, account, result, done_until, mirror)
        campaign_pid = row.platform_campaign_id
        if ("campaign", row.id) in lost:
            found = await settle.entity(
                "campaign", row, _finder(adapter, account, "campaign", row.name)
            )
            campaign_pid = found.platform_id if found else None
        for group in row.ad_groups:
            group_pid = group.platform_ad_group_id
            if ("ad_group", group.id) in lost:
                find = _finder(adapter, account, "ad_group", group.name, campaign_pid)
                found = await settle.entity(
                    "ad_group", group, find if campaign_pid else None, gone=row.deleted_at
                )
                group_pid = found.platform_id if found else None
            for ad in group.ads:
                post_id = None
                if ("ad", ad.id) in lost:
                    find = _finder(adapter, account, "ad", ad.name, group_pid)
                    gone = row.deleted_at or group.deleted_at
                    found = await settle.entity("ad", ad, find if group_pid else None, gone=gone)
                    post_id = found.extra_ids.get("post_id") if found else None
                if ("post", ad.id) in lost:
                    await settle.post(ad, post_id)

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

    async def _patient(
        self,
        platform: str,
        tenant: uuid.UUID,
        make: Callable[[], Awaitable[T]],
        *,
        before_send: Callable[[], None] | None = None,
        heartbeat: Callable[[], None] = activity.heartbeat,
    ) -> T:
        """`_call`, but a 429 whose wait (its Retry-After) still leaves this attempt the time
        for the call is waited out here and the call sent again: a 429 changed nothing, so
        throttling costs time, not the activity's attempts (8 of them, each ended by one 429,
        used to fail a campaign in a burst). A 429 whose wait does not fit is raised, for
        Temporal's retry after that delay. `before_send`: a check before every send (a
        create's `_time_to_create`)."""
        while True:
            if before_send is not None:
                before_send()
            try:
                return await self._call(platform, tenant, make())
            except RateLimitedError as exc:
                if not self._wait_fits(exc.retry_after):
                    raise
                wait = float(exc.retry_after or 0)
            await _wait_out(wait, heartbeat, platform)

    def _wait_fits(self, wait: float | None) -> bool:
        """Waiting `wait` seconds still leaves this attempt the time for one more call."""
        return wait is not None and bool(self._call_fits(wait))

    def _call_fits(self, after: float = 0.0) -> bool | None:
        """A call sent `after` seconds from now can still end (its HTTP timeout, at most half
        the attempt) inside this attempt; None when the attempt has no time limit."""
        return wait_fits(after, self._call_timeout)

    async def _settling_call(
        self,
        platform: str,
        tenant: uuid.UUID,
        make: Callable[[], Awaitable[T]],
        heartbeat: Callable[[], None],
    ) -> T:
        """One call of `settle_lost_creates` (see `SETTLE_CALL_TRIES`), heartbeating while it
        waits; it gives up (to the activity's retry) once the attempt's time is over."""
        failures, pause = 0, SETTLE_FIRST_PAUSE
        while True:
            try:
                return await self._patient(platform, tenant, make, heartbeat=heartbeat)
            except RetryableError as exc:
                if isinstance(exc, RateLimitedError) and exc.retry_after:
                    wait = exc.retry_after
                else:
                    failures += 1
                    if failures >= SETTLE_CALL_TRIES:
                        raise
                    wait, pause = pause, min(pause * 2, SETTLE_LONGEST_PAUSE)
            await _wait_out(wait, heartbeat, platform)

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
                tenant, entity_type, entity_id, sync_status="failed", sync_error=message,
                mirror=_mirrored(inp),
            )  # fmt: skip


class _Settlement:
    """Settling one campaign's lost creates (`SyncActivities.settle_lost_creates`)."""

    def __init__(
        self,
        acts: SyncActivities,
        tenant: uuid.UUID,
        inp: LostCreatesInput,
        adapter: CampaignSetPlatformAdapter,
        account: AccountContext,
        result: LostCreatesResult,
        done_until: uuid.UUID | None,
        mirror: bool = True,
    ) -> None:
        self.acts, self.tenant, self.inp, self.mirror = acts, tenant, inp, mirror
        self.adapter, self.account, self.result = adapter, account, result
        self._progress = [str(done_until)] if done_until else []

    def heartbeat(self) -> None:
        """Alive, and still settled up to the same campaign (where a retry resumes)."""
        activity.heartbeat(*self._progress)

    async def entity(
        self, entity_type: EntityType, row: Any, find: Finder | None, gone: datetime | None = None
    ) -> PlatformObject | None:
        """Look for the object by the entity's marker (`find` is None when its parent is not
        on the platform: then it cannot exist). Found: stopped first, then mapped (a retry
        after a failure in between finds it again). Not found: not created."""
        self.heartbeat()
        platform = self.inp.platform
        found = None
        if find is not None:
            ref = entity_ref(entity_type, row.id)
            found = await self.acts._settling_call(
                platform, self.tenant, lambda: find(ref), self.heartbeat
            )
        if found is None:
            why = "its parent is not on the platform" if find is None else "not found by its marker"
            await self._not_created(entity_type, row, why)
            return None
        deleted = row.deleted_at is not None or gone is not None
        note = await self._stop(entity_type, found.platform_id, deleted)
        message = (
            f"found on {platform} after its create answer was lost ({self.inp.reason}); {note}"
        )
        async with tenant_session(self.acts._sessions, self.tenant) as session, session.begin():
            await SyncRecordRepository(session).mark_found(
                self.tenant, entity_type, row.id, platform,
                platform_id=found.platform_id, message=message, deleted=deleted,
            )  # fmt: skip
            await CampaignSetRepository(session).record_sync_result(
                self.tenant,
                entity_type,
                row.id,
                sync_status="synced" if deleted else "failed",
                platform_id=found.platform_id,
                sync_error=None if deleted else _joined(row.sync_error, message),
                platform_post_id=found.extra_ids.get("post_id") if entity_type == "ad" else None,
                mirror=self.mirror,
            )
            await _audit(
                session, self.tenant, f"{entity_type}.found_after_lost_answer", row.id,
                entity_type=f"{platform}.{entity_type}", platformId=found.platform_id,
                status="deleted" if deleted else "paused", note=note, reason=self.inp.reason,
            )  # fmt: skip
        self.result.found += 1
        return found

    async def post(self, ad: GeneratedAd, promoted: str | None) -> None:
        """The ad's post (Reddit) or creative (Meta): the one the found ad promotes, else one
        the lost create made (the retry's lookup by content), else none was made. A post
        spends nothing by itself: mapped, not paused."""
        self.heartbeat()
        platform, tenant = self.inp.platform, self.tenant
        push = PushEntityInput(
            tenant_id=self.inp.tenant_id, platform=platform, entity_type="post",
            entity_id=str(ad.id), set_id=self.inp.set_id, first_target=self.mirror,
        )  # fmt: skip
        message = f"its post was found on {platform} after its create answer was lost"
        ad_status = "synced" if ad.deleted_at is not None else "failed"
        ad_error = None if ad.deleted_at is not None else _joined(ad.sync_error, message)
        post_id = promoted
        if promoted is not None:
            async with tenant_session(self.acts._sessions, tenant) as session, session.begin():
                await SyncRecordRepository(session).mark_synced(
                    tenant, "post", ad.id, platform, platform_id=promoted, snapshot={}
                )
        else:
            post_id = await self.acts._adopt_post(
                tenant, push, ad.id, self.adapter, self.account, to_ad_spec(ad),
                ad_status=ad_status, ad_error=ad_error, heartbeat=self.heartbeat, settling=True,
            )  # fmt: skip
        if post_id is None:
            await self._not_created("post", ad, "no unpromoted post with its copy", entity=False)
            return
        async with tenant_session(self.acts._sessions, tenant) as session, session.begin():
            await _audit(
                session, tenant, "post.found_after_lost_answer", ad.id,
                entity_type=f"{platform}.post", platformId=post_id, reason=self.inp.reason,
            )  # fmt: skip
        self.result.found += 1

    async def _stop(self, entity_type: EntityType, platform_id: str, deleted: bool) -> str:
        """Pause the object (delete it, when its entity was deleted): its push failed, so it
        must not spend before a sync puts it in the state asked for. A refusal for good is
        noted, not raised: the object is mapped all the same, for a person and the next sync."""
        status = "deleted" if deleted else "paused"
        try:
            await self.acts._settling_call(
                self.inp.platform,
                self.tenant,
                lambda: self.adapter.set_status(self.account, entity_type, platform_id, status),
                self.heartbeat,
            )
        except NonRetryableError as exc:
            return f"setting it {status} was refused: {exc}"
        return "deleted, as its entity is" if deleted else "paused until the next sync"

    async def _not_created(
        self, entity_type: RecordType, row: Any, why: str, *, entity: bool = True
    ) -> None:
        platform = self.inp.platform
        message = f"not created on {platform} ({why}; checked after {self.inp.reason})"
        async with tenant_session(self.acts._sessions, self.tenant) as session, session.begin():
            await SyncRecordRepository(session).mark_not_created(
                self.tenant, entity_type, row.id, platform, message=message
            )
            if entity and entity_type != "post" and row.deleted_at is None:
                await CampaignSetRepository(session).record_sync_result(
                    self.tenant, entity_type, row.id, sync_status="failed",
                    sync_error=row.sync_error or message, mirror=self.mirror,
                )  # fmt: skip
            await _audit(
                session, self.tenant, f"{entity_type}.not_created", row.id,
                entity_type=f"{platform}.{entity_type}", reason=message,
            )  # fmt: skip
        self.result.not_created += 1


class _PostRecorded(Exception):
    """The ad's post was recorded by another attempt while this one looked for it."""

    def __init__(self, post_id: str) -> None:
        super().__init__(post_id)
        self.post_id = post_id


def _joined(first: str | None, then: str) -> str:
    """An entity's error, then what settling its lost create found."""
    return f"{first}; {then}" if first else then


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
            # In SQL, on an index of failed campaigns only: however many failed ad-group and
            # ad rows exist, every due campaign is found (oldest first, `limit` per sweep).
            due = await repo.retryable_campaigns(
                inp.platform, inp.max_attempts, interval, now, limit=inp.limit
            )
        # The sweep also forgets the platform's settled post-create rows (a day old).
        await UnmarkedCreates(self._sessions).prune(inp.platform)
        grouped: dict[tuple[uuid.UUID, uuid.UUID], list[str]] = {}
        for tenant_id, set_id, campaign_id in due:
            grouped.setdefault((tenant_id, set_id), []).append(str(campaign_id))
        return RetrySweepPlan(
            due=[
                RetryableSet(tenant_id=str(t), set_id=str(s), campaign_ids=ids)
                for (t, s), ids in grouped.items()
            ],
            given_up=len(given_up),
        )


async def _conflicted_fields(
    session: AsyncSession, tenant: uuid.UUID, entity_type: str, entity_id: uuid.UUID
) -> set[str] | None:
    """The fields of the entity's open conflict (sync-back's table), or None without one."""
    conflict = await ConflictRepository(session).open_for(tenant, entity_type, entity_id)
    if conflict is None:
        return None
    return {str(f.get("field")) for f in conflict.fields or []}


SpecT = TypeVar("SpecT", CampaignSpec, AdGroupSpec)


def _without_conflicted(spec: SpecT, record: Any, conflicted: set[str] | None) -> SpecT | None:
    """What may be pushed of an entity: all of it without a conflict; with one, every field
    but the conflicted ones, which keep the base's value (so the diff never sends them).
    None when that is impossible (no base yet, or a field we cannot hold back)."""
    if not conflicted:
        return spec
    base = _base(type(spec), record)
    if base is None or not conflicted <= set(type(spec).model_fields):
        return None
    return spec.model_copy(update={name: getattr(base, name) for name in conflicted})


Finder = Callable[[str], Awaitable[PlatformObject | None]]


def _finder(
    adapter: CampaignSetPlatformAdapter,
    account: AccountContext,
    entity_type: EntityType,
    name: str,
    parent_id: str | None = None,
) -> Finder:
    """How to look for the object an ambiguous create of this entity may have made: by the
    marker (`ref`) it carries, under its parent. The same lookup for a retry and for settling
    a stopped push, so both adopt exactly the same objects."""
    if entity_type == "campaign":
        return lambda ref: adapter.find_campaign(account, name, ref=ref)
    if entity_type == "ad_group":
        return lambda ref: adapter.find_ad_group(account, parent_id or "", name, ref=ref)
    return lambda ref: adapter.find_ad(account, parent_id or "", name, ref=ref)


def _unmarked_key(
    adapter: CampaignSetPlatformAdapter,
    account: AccountContext,
    spec: AdSpec,
    platform: str,
    ref: str,
) -> UnmarkedKey | None:
    """The coordination key of a creative without our marker (`activities.unmarked_creates`)."""
    unmarked = adapter.unmarked_creative(account, spec)
    if unmarked is None:
        return None
    scope, content = unmarked
    return UnmarkedKey(platform=platform, scope=scope, content_key=content_key(content), owner=ref)


def _half_attempt_gone() -> bool:
    """Half this activity attempt's time is gone: a bounded wait ends here, so the attempt
    still has the time to do what it waited for."""
    info = activity.info()
    limit = info.start_to_close_timeout
    if not limit:
        return False
    return datetime.now(UTC) > info.started_time + limit / 2


def _attempt_left(platform: str) -> None:
    """Give up (to retry) once this activity attempt's time is over: Temporal starts the next
    attempt beside one that outlives its timeout, and a waiting loop must not pile up."""
    end = attempt_end()
    if end is not None and datetime.now(UTC) > end:
        raise RetryableError(
            "this attempt's time is over; the next attempt retries", platform=platform
        )


async def _wait_out(seconds: float, heartbeat: Callable[[], None], platform: str) -> None:
    """Sleep `seconds`, heartbeating each second; give up (to the activity's retry) if the
    attempt's time ends first."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        heartbeat()
        _attempt_left(platform)
        await asyncio.sleep(min(left, 1.0))


def _create_outcome_unknown(record: Any) -> bool:
    """An earlier attempt asked the platform to create the entity and never learnt whether it
    did (a lost answer, a timeout, a 5xx, a killed worker): the ledger still says `requested`
    without a platform id."""
    return record is not None and record.state == "requested" and record.platform_id is None


def not_applied(exc: PlatformError) -> bool:
    """The platform's answer says the request changed nothing: a 429, a 4xx, or a refusal of
    ours before anything was sent. A 5xx or no answer at all says nothing (Reddit documents
    no 5xx as not applied)."""
    if isinstance(exc, RateLimitedError | NonRetryableError | AuthExpiredError):
        return exc.status_code is None or 400 <= exc.status_code < 500
    return exc.status_code is not None and 400 <= exc.status_code < 500


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


def utcnow() -> datetime:
    return datetime.now(UTC)


async def _target_account(
    session: AsyncSession, tenant: uuid.UUID, campaign_set: CampaignSet, platform: str
) -> uuid.UUID | None:
    """The ad account of the set's target on `platform` (the first target's is the set's own
    `ad_account_id`, which it mirrors)."""
    if is_first_target(campaign_set, platform):
        return campaign_set.ad_account_id
    target = await CampaignSetTargetRepository(session).get(tenant, campaign_set.id, platform)
    if target is None:
        raise failure(Failure.INVALID_STATE, f"the campaign set has no {platform} target")
    return target.ad_account_id


def _for_target(inp: PushEntityInput, campaign_set: CampaignSet) -> PushEntityInput:
    """The push, knowing whether its platform is the set's first target (whose ids and status
    the entities' own columns mirror)."""
    return inp.model_copy(update={"first_target": is_first_target(campaign_set, inp.platform)})


def _mirrored(inp: PushEntityInput) -> bool:
    return inp.first_target is not False


def _tree(row: GeneratedCampaign) -> list[Any]:
    """A loaded campaign, its ad groups and their ads."""
    return [row, *row.ad_groups, *(ad for group in row.ad_groups for ad in group.ads)]


async def _finish_targets(
    session: AsyncSession,
    tenant: uuid.UUID,
    set_id: uuid.UUID,
    inp: SyncFinishInput,
    run_status: str,
) -> None:
    """Each target's status after the run: with several, its own (failed when it stopped or a
    campaign failed there, with the reason); with one, the set's."""
    targets = CampaignSetTargetRepository(session)
    if not inp.targets:
        campaign_set = await CampaignSetRepository(session).get(tenant, set_id)
        if campaign_set is not None:
            await targets.set_status(
                tenant, set_id, campaign_set.platform,
                sync_status="failed" if run_status == "failed" else "synced",
                sync_error=inp.fatal_error,
                last_synced_at=None if inp.fatal_error else utcnow(),
            )  # fmt: skip
        return
    for platform, totals in inp.targets.items():
        error = totals.error or inp.fatal_error
        if error is None and totals.failed:
            error = f"{totals.failed} campaign(s) failed on {platform}"
        ok = error is None or (totals.error is None and not inp.fatal_error and totals.synced > 0)
        await targets.set_status(
            tenant, set_id, platform,
            sync_status="synced" if error is None else "failed",
            sync_error=error,
            last_synced_at=utcnow() if ok else None,
        )  # fmt: skip
