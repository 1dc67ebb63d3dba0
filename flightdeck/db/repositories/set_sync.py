"""What the set-sync activities read and write besides sync records: entities with their
parents (soft-deleted ones too, so removals reach the platform), the set's sync state, and the
platform call log behind the circuit breaker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
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

    async def campaign_ids_to_sync(
        self,
        tenant_id: uuid.UUID,
        set_id: uuid.UUID,
        only: list[uuid.UUID] | None,
        with_platform_id: bool = False,
    ) -> list[uuid.UUID]:
        """Live campaigns in position order, then removed ones that still exist remotely."""
        statement = (
            select(GeneratedCampaign.id)
            .where(
                GeneratedCampaign.tenant_id == tenant_id,
                GeneratedCampaign.campaign_set_id == set_id,
                or_(
                    GeneratedCampaign.deleted_at.is_(None),
                    GeneratedCampaign.platform_campaign_id.is_not(None),
                ),
            )
            .order_by(GeneratedCampaign.deleted_at.is_not(None), GeneratedCampaign.position)
        )
        if only is not None:
            statement = statement.where(GeneratedCampaign.id.in_(only))
        if with_platform_id:
            statement = statement.where(GeneratedCampaign.platform_campaign_id.is_not(None))
        return list((await self.session.scalars(statement)).all())

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
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, status: str, error: str | None
    ) -> None:
        """A campaign's outcome, unless it is in conflict (that waits for a person)."""
        values: dict[str, Any] = {"sync_status": status, "sync_error": error}
        if status == "synced":
            values["last_synced_at"] = datetime.now(UTC)
        await self.session.execute(
            update(GeneratedCampaign)
            .where(
                GeneratedCampaign.tenant_id == tenant_id,
                GeneratedCampaign.id == campaign_id,
                GeneratedCampaign.sync_status != "conflict",
            )
            .values(**values)
        )

    async def lock_profile(self, profile_id: str) -> None:
        """Serialise post adoption per Reddit profile until this transaction ends."""
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(f"post:{profile_id}", 0)))
        )

    async def mapped_post_ids(self, post_ids: list[str]) -> set[str]:
        """Which of these posts an ad (of this tenant) already maps or has ledgered."""
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
        """Failed campaigns out of attempts: permanently failed now (returned, for the audit)."""
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
        return list(rows.all())

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
