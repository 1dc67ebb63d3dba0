"""What the set-sync activities read and write besides sync records: entities with their
parents (soft-deleted ones too, so removals reach the platform), the set's sync state, and the
platform call log behind the circuit breaker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from flightdeck.db.models import (
    AdGroup,
    CampaignSet,
    CircuitBreaker,
    GeneratedAd,
    GeneratedCampaign,
    Keyword,
    PlatformCall,
    SetSyncRun,
    SyncRecord,
)
from flightdeck.db.models.ad_accounts import AdAccount


class SetSyncRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def set_with_account(
        self, tenant_id: uuid.UUID, set_id: uuid.UUID
    ) -> tuple[CampaignSet, AdAccount | None] | None:
        campaign_set = await self.session.scalar(
            select(CampaignSet).where(CampaignSet.tenant_id == tenant_id, CampaignSet.id == set_id)
        )
        if campaign_set is None:
            return None
        account = None
        if campaign_set.ad_account_id is not None:
            account = await self.session.scalar(
                select(AdAccount).where(
                    AdAccount.tenant_id == tenant_id, AdAccount.id == campaign_set.ad_account_id
                )
            )
        return campaign_set, account

    def _to_sync(
        self,
        tenant_id: uuid.UUID,
        set_id: uuid.UUID,
        only: list[uuid.UUID] | None,
        with_platform_id: bool,
    ) -> Any:
        """Live campaigns, and removed ones whose deletion has not reached the platform yet (a
        deletion pushed once, or seen there, costs no call afterwards)."""
        deletion_done = exists().where(
            SyncRecord.entity_type == "campaign",
            SyncRecord.entity_id == GeneratedCampaign.id,
            SyncRecord.state == "deleted",
        )
        # On some target of the set (its sync record maps it there, not deleted): a set with
        # several targets may have it on others than the first (mirrored on the column).
        on_a_target = exists().where(
            SyncRecord.entity_type == "campaign",
            SyncRecord.entity_id == GeneratedCampaign.id,
            SyncRecord.platform_id.is_not(None),
            SyncRecord.state != "deleted",
        )
        criteria = [
            GeneratedCampaign.tenant_id == tenant_id,
            GeneratedCampaign.campaign_set_id == set_id,
            or_(
                GeneratedCampaign.deleted_at.is_(None),
                and_(GeneratedCampaign.platform_campaign_id.is_not(None), ~deletion_done),
                on_a_target,
            ),
        ]
        if only is not None:
            criteria.append(GeneratedCampaign.id.in_(only))
        if with_platform_id:
            criteria.append(or_(GeneratedCampaign.platform_campaign_id.is_not(None), on_a_target))
        return and_(*criteria)

    async def campaign_ids_to_sync(
        self,
        tenant_id: uuid.UUID,
        set_id: uuid.UUID,
        only: list[uuid.UUID] | None,
        with_platform_id: bool = False,
    ) -> list[uuid.UUID]:
        """Live campaigns in position order, then removed ones still to delete remotely."""
        statement = (
            select(GeneratedCampaign.id)
            .where(self._to_sync(tenant_id, set_id, only, with_platform_id))
            .order_by(GeneratedCampaign.deleted_at.is_not(None), GeneratedCampaign.position)
        )
        return list((await self.session.scalars(statement)).all())

    # -- runs ----------------------------------------------------------------------------------

    async def open_run(
        self,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        set_id: uuid.UUID,
        workflow_id: str,
        operation: str,
        trigger: str,
    ) -> bool:
        """The run's row (`running`); whether this call made it (a repeat changes nothing)."""
        made = await self.session.execute(
            insert(SetSyncRun)
            .values(
                id=run_id,
                tenant_id=tenant_id,
                campaign_set_id=set_id,
                workflow_id=workflow_id,
                operation=operation,
                trigger=trigger[:20],
            )
            .on_conflict_do_nothing(index_elements=[SetSyncRun.id])
            .returning(SetSyncRun.id)
        )
        return made.first() is not None

    async def take_campaigns(
        self,
        tenant_id: uuid.UUID,
        set_id: uuid.UUID,
        run_id: uuid.UUID,
        only: list[uuid.UUID] | None,
        *,
        push: bool,
    ) -> list[uuid.UUID]:
        """Mark the campaigns this run processes with its id (no outcome yet); a push also
        shows them `syncing` (one in conflict stays `conflict`)."""
        values: dict[str, Any] = {"sync_run_id": run_id, "sync_run_outcome": None}
        if push:
            values["sync_status"] = case(
                (GeneratedCampaign.sync_status == "conflict", "conflict"), else_="syncing"
            )
        rows = await self.session.scalars(
            update(GeneratedCampaign)
            .where(self._to_sync(tenant_id, set_id, only, with_platform_id=not push))
            .values(**values)
            .returning(GeneratedCampaign.id)
        )
        return list(rows.all())

    async def set_run_total(self, tenant_id: uuid.UUID, run_id: uuid.UUID, total: int) -> None:
        await self.session.execute(
            update(SetSyncRun)
            .where(SetSyncRun.tenant_id == tenant_id, SetSyncRun.id == run_id)
            .values(total=total)
        )

    async def run_total(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> int:
        total = await self.session.scalar(
            select(SetSyncRun.total).where(
                SetSyncRun.tenant_id == tenant_id, SetSyncRun.id == run_id
            )
        )
        return int(total or 0)

    async def run_campaign_page(
        self, tenant_id: uuid.UUID, run_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[uuid.UUID]:
        statement = select(GeneratedCampaign.id).where(
            GeneratedCampaign.tenant_id == tenant_id, GeneratedCampaign.sync_run_id == run_id
        )
        if after is not None:
            statement = statement.where(GeneratedCampaign.id > after)
        rows = await self.session.scalars(statement.order_by(GeneratedCampaign.id).limit(limit))
        return list(rows.all())

    async def unfinished_campaign_page(
        self, tenant_id: uuid.UUID, run_id: uuid.UUID, after: uuid.UUID | None, limit: int
    ) -> list[uuid.UUID]:
        """The run's campaigns without an outcome (yet), after `after` by id (a keyset page on
        the run's index)."""
        statement = select(GeneratedCampaign.id).where(
            GeneratedCampaign.tenant_id == tenant_id,
            GeneratedCampaign.sync_run_id == run_id,
            GeneratedCampaign.sync_run_outcome.is_(None),
        )
        if after is not None:
            statement = statement.where(GeneratedCampaign.id > after)
        rows = await self.session.scalars(statement.order_by(GeneratedCampaign.id).limit(limit))
        return list(rows.all())

    async def fail_unfinished(self, tenant_id: uuid.UUID, run_id: uuid.UUID, reason: str) -> int:
        """Campaigns of the run with no outcome (their batch failed, the run stopped, a bug):
        failed, with the reason; one in conflict stays `conflict`."""
        result = await self.session.execute(
            update(GeneratedCampaign)
            .where(
                GeneratedCampaign.tenant_id == tenant_id,
                GeneratedCampaign.sync_run_id == run_id,
                GeneratedCampaign.sync_run_outcome.is_(None),
            )
            .values(
                sync_run_outcome="failed",
                sync_error=reason,
                sync_status=case(
                    (GeneratedCampaign.sync_status == "conflict", "conflict"), else_="failed"
                ),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def fail_left_syncing(
        self,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID | None,
        reason: str,
        campaign_ids: list[uuid.UUID] | None = None,
    ) -> None:
        """The ad groups, ads and posts of failed campaigns (`campaign_ids`, else every failed
        one of the run) whose push began and never ended (a retryable failure to the last
        attempt, a run stopped): `failed` with the reason, not `syncing` for ever. Their
        ledger rows keep their state: one left `requested` is still looked for first. Only
        campaigns `run_id` still owns (a later run's are left alone)."""
        campaigns = select(GeneratedCampaign.id).where(
            GeneratedCampaign.tenant_id == tenant_id,
            # (one in conflict has failed in this run all the same)
            or_(
                GeneratedCampaign.sync_run_outcome == "failed",
                GeneratedCampaign.sync_status == "failed",
            ),
        )
        if run_id is not None:
            campaigns = campaigns.where(GeneratedCampaign.sync_run_id == run_id)
        if campaign_ids is not None:
            campaigns = campaigns.where(GeneratedCampaign.id.in_(campaign_ids))
        groups = select(AdGroup.id).where(
            AdGroup.tenant_id == tenant_id, AdGroup.campaign_id.in_(campaigns.scalar_subquery())
        )
        ads = select(GeneratedAd.id).where(
            GeneratedAd.tenant_id == tenant_id,
            GeneratedAd.ad_group_id.in_(groups.scalar_subquery()),
        )
        for model, ids in ((AdGroup, groups), (GeneratedAd, ads)):
            await self.session.execute(
                update(model)
                .where(model.id.in_(ids.scalar_subquery()), model.sync_status == "syncing")
                .values(sync_status="failed", sync_error=reason)
            )
        await self.session.execute(
            update(SyncRecord)
            .where(
                SyncRecord.tenant_id == tenant_id,
                SyncRecord.entity_type.in_(("ad_group", "ad", "post")),
                or_(
                    SyncRecord.entity_id.in_(groups.scalar_subquery()),
                    SyncRecord.entity_id.in_(ads.scalar_subquery()),
                ),
                SyncRecord.sync_status == "syncing",
            )
            .values(sync_status="failed")
        )

    async def run_counts(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> dict[str, int]:
        rows = await self.session.execute(
            select(GeneratedCampaign.sync_run_outcome, func.count())
            .where(
                GeneratedCampaign.tenant_id == tenant_id,
                GeneratedCampaign.sync_run_id == run_id,
            )
            .group_by(GeneratedCampaign.sync_run_outcome)
        )
        return {outcome or "running": int(n) for outcome, n in rows.all()}

    async def close_run(
        self,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        fatal_error: str | None,
        *,
        some_target_done: bool = False,
    ) -> tuple[SetSyncRun, bool]:
        """Final counts and status (once; a repeat returns the row as closed the first time).
        `some_target_done`: with several targets, one got its campaigns although every campaign
        failed somewhere: completed with errors, not failed."""
        run = await self.session.scalar(
            select(SetSyncRun)
            .where(SetSyncRun.tenant_id == tenant_id, SetSyncRun.id == run_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert run is not None
        if run.finished_at is not None:
            return run, False
        counts = await self.run_counts(tenant_id, run_id)
        run.synced, run.failed = counts.get("synced", 0), counts.get("failed", 0)
        run.held, run.skipped = counts.get("held", 0), counts.get("skipped", 0)
        run.total = run.synced + run.failed + run.held + run.skipped
        if fatal_error or (run.failed and run.failed == run.total and not some_target_done):
            run.status = "failed"
            run.error = fatal_error or "every campaign failed"
        else:
            run.status = "completed_with_errors" if run.failed else "completed"
        run.finished_at = datetime.now(UTC)
        await self.session.flush()
        return run, True

    async def run_errors(
        self, tenant_id: uuid.UUID, run_id: uuid.UUID, limit: int
    ) -> list[tuple[uuid.UUID, str | None]]:
        rows = await self.session.execute(
            select(GeneratedCampaign.id, GeneratedCampaign.sync_error)
            .where(
                GeneratedCampaign.tenant_id == tenant_id,
                GeneratedCampaign.sync_run_id == run_id,
                GeneratedCampaign.sync_run_outcome == "failed",
            )
            .order_by(GeneratedCampaign.position, GeneratedCampaign.id)
            .limit(limit)
        )
        return [(cid, message) for cid, message in rows.all()]

    async def latest_run(
        self, tenant_id: uuid.UUID, set_id: uuid.UUID, workflow_id: str | None = None
    ) -> SetSyncRun | None:
        """The set's newest run (of any operation, or under `workflow_id` only)."""
        of_workflow = () if workflow_id is None else (SetSyncRun.workflow_id == workflow_id,)
        return await self.session.scalar(
            select(SetSyncRun)
            .where(
                SetSyncRun.tenant_id == tenant_id,
                SetSyncRun.campaign_set_id == set_id,
                *of_workflow,
            )
            .order_by(SetSyncRun.started_at.desc(), SetSyncRun.id.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )

    async def get_run(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> SetSyncRun | None:
        return await self.session.scalar(
            select(SetSyncRun)
            .where(SetSyncRun.tenant_id == tenant_id, SetSyncRun.id == run_id)
            .execution_options(populate_existing=True)
        )

    async def run_outcomes(
        self, tenant_id: uuid.UUID, run_id: uuid.UUID
    ) -> list[tuple[uuid.UUID, str, str | None]]:
        """(campaign, outcome, platform id) of the run's finished campaigns."""
        rows = await self.session.execute(
            select(
                GeneratedCampaign.id,
                GeneratedCampaign.sync_run_outcome,
                GeneratedCampaign.platform_campaign_id,
            )
            .where(
                GeneratedCampaign.tenant_id == tenant_id,
                GeneratedCampaign.sync_run_id == run_id,
                GeneratedCampaign.sync_run_outcome.is_not(None),
            )
            .order_by(GeneratedCampaign.position, GeneratedCampaign.id)
        )
        return [(cid, str(outcome), platform_id) for cid, outcome, platform_id in rows.all()]

    async def campaign_tree(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID
    ) -> GeneratedCampaign | None:
        """A campaign with every ad group, ad and keyword, soft-deleted ones included."""
        statement = (
            select(GeneratedCampaign)
            .where(GeneratedCampaign.tenant_id == tenant_id, GeneratedCampaign.id == campaign_id)
            .options(
                selectinload(GeneratedCampaign.ad_groups).options(
                    selectinload(AdGroup.ads), selectinload(AdGroup.keywords)
                )
            )
            .execution_options(populate_existing=True)
        )
        return await self.session.scalar(statement)

    async def ad_group_with_parent(
        self, tenant_id: uuid.UUID, ad_group_id: uuid.UUID
    ) -> tuple[AdGroup, GeneratedCampaign, list[Keyword]] | None:
        row = await self.session.execute(
            select(AdGroup, GeneratedCampaign)
            .join(GeneratedCampaign, GeneratedCampaign.id == AdGroup.campaign_id)
            .where(AdGroup.tenant_id == tenant_id, AdGroup.id == ad_group_id)
        )
        found = row.first()
        if found is None:
            return None
        keywords = await self.session.scalars(
            select(Keyword)
            .where(
                Keyword.tenant_id == tenant_id,
                Keyword.ad_group_id == ad_group_id,
                Keyword.deleted_at.is_(None),
            )
            .order_by(Keyword.created_at, Keyword.id)
        )
        return found[0], found[1], list(keywords.all())

    async def ad_with_parent(
        self, tenant_id: uuid.UUID, ad_id: uuid.UUID
    ) -> tuple[GeneratedAd, AdGroup, uuid.UUID | None] | None:
        """The ad, its ad group and its set's ad account, in one query (every ad and post push
        starts here)."""
        row = await self.session.execute(
            select(GeneratedAd, AdGroup, CampaignSet.ad_account_id)
            .join(AdGroup, AdGroup.id == GeneratedAd.ad_group_id)
            .join(GeneratedCampaign, GeneratedCampaign.id == AdGroup.campaign_id)
            .join(CampaignSet, CampaignSet.id == GeneratedCampaign.campaign_set_id)
            .where(GeneratedAd.tenant_id == tenant_id, GeneratedAd.id == ad_id)
        )
        found = row.first()
        return (found[0], found[1], found[2]) if found else None

    async def ad_with_set(
        self, tenant_id: uuid.UUID, ad_id: uuid.UUID
    ) -> tuple[GeneratedAd, AdGroup, CampaignSet] | None:
        """The ad, its ad group and its set (whose targets name the ad accounts), in one
        query (every ad and post push starts here)."""
        row = await self.session.execute(
            select(GeneratedAd, AdGroup, CampaignSet)
            .join(AdGroup, AdGroup.id == GeneratedAd.ad_group_id)
            .join(GeneratedCampaign, GeneratedCampaign.id == AdGroup.campaign_id)
            .join(CampaignSet, CampaignSet.id == GeneratedCampaign.campaign_set_id)
            .where(GeneratedAd.tenant_id == tenant_id, GeneratedAd.id == ad_id)
        )
        found = row.first()
        return (found[0], found[1], found[2]) if found else None

    async def campaign(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID
    ) -> GeneratedCampaign | None:
        return await self.session.scalar(
            select(GeneratedCampaign).where(
                GeneratedCampaign.tenant_id == tenant_id, GeneratedCampaign.id == campaign_id
            )
        )

    async def set_entity_status(self, model: Any, entity_id: uuid.UUID, status: str) -> None:
        """Pause/resume made on the platform: the local status follows, not a content edit."""
        await self.session.execute(update(model).where(model.id == entity_id).values(status=status))

    async def mark_campaigns_syncing(
        self, tenant_id: uuid.UUID, campaign_ids: list[uuid.UUID]
    ) -> None:
        await self.session.execute(
            update(GeneratedCampaign)
            .where(
                GeneratedCampaign.tenant_id == tenant_id,
                GeneratedCampaign.id.in_(campaign_ids),
                GeneratedCampaign.sync_status != "conflict",  # waits for its resolution
            )
            .values(sync_status="syncing")
        )

    async def finish_campaign(
        self,
        tenant_id: uuid.UUID,
        campaign_id: uuid.UUID,
        status: str,
        error: str | None,
        *,
        run_id: uuid.UUID | None = None,
    ) -> None:
        """A campaign's one outcome in `run_id`, and its sync status: synced or failed, unless
        it is in conflict (that waits for a person); held and skipped leave the status."""
        values: dict[str, Any] = {}
        if run_id is not None:
            values["sync_run_outcome"] = status
        if status in ("synced", "failed"):
            values["sync_error"] = error
            values["sync_status"] = case(
                (GeneratedCampaign.sync_status == "conflict", "conflict"), else_=status
            )
        if status == "synced":
            values["last_synced_at"] = datetime.now(UTC)
        if not values:
            return
        statement = update(GeneratedCampaign).where(
            GeneratedCampaign.tenant_id == tenant_id, GeneratedCampaign.id == campaign_id
        )
        if run_id is not None:  # a later run owns the campaign now: leave it alone
            statement = statement.where(GeneratedCampaign.sync_run_id == run_id)
        await self.session.execute(statement.values(**values))

    async def deletions_done(
        self, tenant_id: uuid.UUID, entity_ids: list[uuid.UUID], platform: str | None = None
    ) -> set[uuid.UUID]:
        """Which of these (soft-deleted) entities' deletion already reached the platform (one
        target's, given `platform`)."""
        if not entity_ids:
            return set()
        criteria = [
            SyncRecord.tenant_id == tenant_id,
            SyncRecord.entity_id.in_(entity_ids),
            SyncRecord.state == "deleted",
        ]
        if platform is not None:
            criteria.append(SyncRecord.platform == platform)
        rows = await self.session.scalars(select(SyncRecord.entity_id).where(*criteria))
        return set(rows.all())

    async def keywords_synced(
        self, tenant_id: uuid.UUID, ad_group_id: uuid.UUID, ad_group_platform_id: str
    ) -> None:
        """The ad group's targeting, which carries its keywords, reached the platform: its
        keywords are synced, referenced by the ad group's platform id and the targeting list
        (Reddit has no keyword objects)."""
        await self.session.execute(
            update(Keyword)
            .where(Keyword.tenant_id == tenant_id, Keyword.ad_group_id == ad_group_id)
            .values(
                sync_status="synced",
                platform_keyword_id=func.concat(
                    ad_group_platform_id,
                    case((Keyword.negative, ":excluded_keywords"), else_=":keywords"),
                ),
            )
        )

    async def keywords_not_applicable(
        self, tenant_id: uuid.UUID, ad_group_id: uuid.UUID, reason: str
    ) -> None:
        """The platform has no keywords (Meta): the ad group's live keywords are marked
        `not_applicable` with the reason, visible on each keyword."""
        await self.session.execute(
            update(Keyword)
            .where(
                Keyword.tenant_id == tenant_id,
                Keyword.ad_group_id == ad_group_id,
                Keyword.deleted_at.is_(None),
            )
            .values(sync_status="not_applicable", sync_reason=reason, platform_keyword_id=None)
        )

    async def mapped_post_ids(self, post_ids: list[str]) -> set[str]:
        """Which of these posts an ad already maps or has ledgered (every tenant's, in the
        system scope)."""
        if not post_ids:
            return set()
        on_ads = await self.session.scalars(
            select(GeneratedAd.platform_post_id).where(GeneratedAd.platform_post_id.in_(post_ids))
        )
        ledgered = await self.session.scalars(
            select(SyncRecord.platform_id).where(
                SyncRecord.entity_type == "post", SyncRecord.platform_id.in_(post_ids)
            )
        )
        return {p for p in [*on_ads.all(), *ledgered.all()] if p}

    # -- the retry sweep (across tenants: run it in the system scope) -------------------------

    async def give_up_exhausted(self, platform: str, max_attempts: int) -> list[SyncRecord]:
        """Failed campaigns out of attempts: permanently failed now (returned, for the audit),
        and the failed records of their ad groups, ads and posts with them (retired: no sweep
        looks at them again until a person syncs the set)."""
        rows = await self.session.scalars(
            update(SyncRecord)
            .where(
                SyncRecord.platform == platform,
                SyncRecord.entity_type == "campaign",
                SyncRecord.sync_status == "failed",
                SyncRecord.permanently_failed.is_(False),
                SyncRecord.attempts >= max_attempts,
            )
            .values(permanently_failed=True)
            .returning(SyncRecord)
        )
        given_up = list(rows.all())
        if given_up:
            campaigns = [r.entity_id for r in given_up]
            groups = select(AdGroup.id).where(AdGroup.campaign_id.in_(campaigns))
            ads = select(GeneratedAd.id).where(GeneratedAd.ad_group_id.in_(groups))
            await self.session.execute(
                update(SyncRecord)
                .where(
                    SyncRecord.platform == platform,
                    SyncRecord.sync_status == "failed",
                    SyncRecord.permanently_failed.is_(False),
                    or_(
                        and_(
                            SyncRecord.entity_type == "ad_group", SyncRecord.entity_id.in_(groups)
                        ),
                        and_(
                            SyncRecord.entity_type.in_(("ad", "post")),
                            SyncRecord.entity_id.in_(ads),
                        ),
                    ),
                )
                .values(permanently_failed=True)
            )
        return given_up

    async def retryable_campaigns(
        self,
        platform: str,
        max_attempts: int,
        interval: timedelta,
        now: datetime,
        *,
        limit: int,
    ) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
        """(tenant, set, campaign) of failed live campaigns whose backoff has passed (attempt
        n+1 waits interval × 2^(n-1)), oldest failure first; reads the partial index
        `ix_sync_records_retryable_campaigns`."""
        wait = func.make_interval(
            0, 0, 0, 0, 0, 0,
            interval.total_seconds() * func.power(2, func.greatest(SyncRecord.attempts - 1, 0)),
        )  # fmt: skip
        rows = await self.session.execute(
            select(SyncRecord.tenant_id, GeneratedCampaign.campaign_set_id, SyncRecord.entity_id)
            .join(GeneratedCampaign, GeneratedCampaign.id == SyncRecord.entity_id)
            .where(
                SyncRecord.platform == platform,
                SyncRecord.entity_type == "campaign",
                SyncRecord.sync_status == "failed",
                SyncRecord.permanently_failed.is_(False),
                SyncRecord.attempts < max_attempts,
                SyncRecord.updated_at <= now - wait,
                GeneratedCampaign.deleted_at.is_(None),
            )
            .order_by(SyncRecord.updated_at, SyncRecord.id)
            .limit(limit)
        )
        return [(t, s, c) for t, s, c in rows.all()]

    async def campaign_sets(self, campaign_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """campaign id → its set id, for live campaigns."""
        rows = await self.session.execute(
            select(GeneratedCampaign.id, GeneratedCampaign.campaign_set_id).where(
                GeneratedCampaign.id.in_(campaign_ids), GeneratedCampaign.deleted_at.is_(None)
            )
        )
        return {campaign_id: set_id for campaign_id, set_id in rows.all()}

    # -- circuit breaker input ----------------------------------------------------------------

    async def record_call(
        self, platform: str, tenant_id: uuid.UUID | None, ok: bool, status_code: int | None
    ) -> None:
        self.session.add(
            PlatformCall(platform=platform, tenant_id=tenant_id, ok=ok, status_code=status_code)
        )
        await self.session.flush()

    async def call_counts(self, platform: str, window: timedelta) -> tuple[int, int]:
        """(calls, failed calls) for `platform` in the last `window`, across all workers."""
        since = datetime.now(UTC) - window
        total, failed = (
            await self.session.execute(
                select(func.count(), func.count().filter(PlatformCall.ok.is_(False))).where(
                    PlatformCall.platform == platform, PlatformCall.at >= since
                )
            )
        ).one()
        return int(total), int(failed)

    async def breaker(self, platform: str, *, lock: bool = False) -> CircuitBreaker | None:
        statement = select(CircuitBreaker).where(CircuitBreaker.platform == platform)
        if lock:
            statement = statement.with_for_update()
        return await self.session.scalar(statement.execution_options(populate_existing=True))

    async def save_breaker(
        self, platform: str, state: str, opened_at: datetime | None, ratio: float | None
    ) -> None:
        row = await self.breaker(platform)
        value = Decimal(str(round(ratio, 4))) if ratio is not None else None
        if row is None:
            self.session.add(
                CircuitBreaker(
                    platform=platform, state=state, opened_at=opened_at, failure_ratio=value
                )
            )
        else:
            row.state, row.opened_at, row.failure_ratio = state, opened_at, value
        await self.session.flush()
