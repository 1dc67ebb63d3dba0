"""What pushing a new campaign's whole tree in one request (`activities/sync_tree.py`) reads and
writes besides the per-entity calls: which of the tree's entities ever had a sync record, and
the keywords' own platform ids (Google Ads criteria) or the refusal of one."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Keyword, SyncRecord


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

    async def keywords_created(self, tenant_id: uuid.UUID, created: dict[uuid.UUID, str]) -> None:
        """Each keyword is on the platform as its own object (a Google criterion): synced, with
        that object's id."""
        for keyword_id, platform_id in created.items():
            await self.session.execute(
                update(Keyword)
                .where(Keyword.tenant_id == tenant_id, Keyword.id == keyword_id)
                .values(sync_status="synced", sync_reason=None, platform_keyword_id=platform_id)
            )

    async def keyword_refused(
        self, tenant_id: uuid.UUID, keyword_id: uuid.UUID, reason: str
    ) -> None:
        await self.session.execute(
            update(Keyword)
            .where(Keyword.tenant_id == tenant_id, Keyword.id == keyword_id)
            .values(sync_status="failed", sync_reason=reason)
        )
