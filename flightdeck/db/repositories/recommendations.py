"""Recommendations and budget allocations.

`publish` writes one analysis run's recommendations: a change already pending (same
`change_key`) is refreshed in place — never a second pending one for the same change — and
pending recommendations the run no longer makes are `superseded` (the data moved on).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, true, update
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import AiRecommendation, BudgetAllocation, PlatformCampaign
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, asc, desc
from flightdeck.db.repositories.platform_campaigns import INSERTED
from flightdeck.domain.recommendations import Recommendation


@dataclass(frozen=True)
class Published:
    recommendation_id: uuid.UUID
    new: bool


class RecommendationRepository(TenantScopedRepository[AiRecommendation]):
    model = AiRecommendation

    async def publish(
        self,
        tenant_id: uuid.UUID,
        found: Sequence[Recommendation],
        narratives: dict[str, str | None],
    ) -> builtins.list[Published]:
        published = []
        for rec in found:
            published.append(await self._upsert(tenant_id, rec, narratives.get(rec.change_key)))
        keys = [rec.change_key for rec in found]
        await self.session.execute(
            update(AiRecommendation)
            .where(
                AiRecommendation.tenant_id == tenant_id,
                AiRecommendation.status == "pending",
                AiRecommendation.change_key.not_in(keys) if keys else true(),
            )
            .values(status="superseded"),
            execution_options={"synchronize_session": False},
        )
        return published

    async def _upsert(
        self, tenant_id: uuid.UUID, rec: Recommendation, narrative: str | None
    ) -> Published:
        allocation_id = None
        if rec.allocation is not None:
            pending = await self.session.scalar(
                select(AiRecommendation.allocation_id).where(
                    AiRecommendation.tenant_id == tenant_id,
                    AiRecommendation.change_key == rec.change_key,
                    AiRecommendation.status == "pending",
                )
            )
            allocation_id = await self._allocation(tenant_id, rec, pending)
        values: dict[str, Any] = {
            "campaign_id": uuid.UUID(rec.campaign_id) if rec.campaign_id else None,
            "recommendation_type": rec.recommendation_type,
            "recommendation_text": rec.reasoning,
            "confidence_score": rec.confidence,
            "action_type": rec.action_type,
            "proposed_change": rec.proposed_change,
            "data": {**rec.data, "previousState": rec.previous_state, "platform": rec.platform},
            "narrative": narrative,
            "allocation_id": allocation_id,
        }
        statement = (
            insert(AiRecommendation)
            .values(id=uuid.uuid4(), tenant_id=tenant_id, change_key=rec.change_key, **values)
            .on_conflict_do_update(
                index_elements=[AiRecommendation.tenant_id, AiRecommendation.change_key],
                # A literal, not a bind parameter: Postgres infers the partial index from it
                # (with `status = $1` a cached generic plan cannot, and the insert fails).
                index_where=text("status = 'pending'"),
                set_={**values, "updated_at": func.now()},
            )
            .returning(AiRecommendation.id, INSERTED)
        )
        row = (await self.session.execute(statement)).one()
        return Published(row[0], bool(row[1]))

    async def _allocation(
        self, tenant_id: uuid.UUID, rec: Recommendation, existing: uuid.UUID | None
    ) -> uuid.UUID:
        """The recommendation's period split: a new row, or the pending one's refreshed."""
        allocation = rec.allocation
        assert allocation is not None
        values: dict[str, Any] = {
            "period_start": allocation.period_start,
            "period_end": allocation.period_end,
            "total_budget": allocation.total_budget,
            "currency": allocation.currency,
            # JSON numbers of whole cents: exact as floats
            "allocations": {p: float(a) for p, a in allocation.allocations.items()},
            "details": allocation.details,
        }
        if existing is not None:
            await self.session.execute(
                update(BudgetAllocation)
                .where(BudgetAllocation.tenant_id == tenant_id, BudgetAllocation.id == existing)
                .values(**values),
                execution_options={"synchronize_session": False},
            )
            return existing
        row = BudgetAllocation(
            id=uuid.uuid4(), tenant_id=tenant_id, ai_suggested=True, created_by="ai", **values
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def get(
        self, tenant_id: uuid.UUID, recommendation_id: uuid.UUID
    ) -> AiRecommendation | None:
        statement = self._select(tenant_id, AiRecommendation.id == recommendation_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def decide(
        self,
        tenant_id: uuid.UUID,
        recommendation_id: uuid.UUID,
        *,
        status: str,
        by: str,
        at: datetime,
        action_id: uuid.UUID | None = None,
    ) -> AiRecommendation | None:
        """Accept or reject a pending recommendation (None if it is not pending any more)."""
        values: dict[str, Any] = {"status": status, "decided_by": by, "decided_at": at}
        if action_id is not None:
            values["action_id"] = action_id
        return await self._update_returning(
            tenant_id,
            [AiRecommendation.id == recommendation_id, AiRecommendation.status == "pending"],
            values,
        )

    async def finish(
        self,
        tenant_id: uuid.UUID,
        recommendation_id: uuid.UUID,
        *,
        status: str,
        at: datetime | None,
        result: dict[str, Any] | None,
    ) -> None:
        await self._update_returning(
            tenant_id,
            [AiRecommendation.id == recommendation_id],
            {"status": status, "executed_at": at, "result_metrics": result},
        )

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        status: str | None = "pending",
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[tuple[AiRecommendation, str | None, str | None]]:
        """The seed's pending-recommendations query: with the campaign's name and platform,
        most confident first, then oldest."""
        statement = (
            select(AiRecommendation, PlatformCampaign.name, PlatformCampaign.platform)
            .outerjoin(PlatformCampaign, PlatformCampaign.id == AiRecommendation.campaign_id)
            .where(AiRecommendation.tenant_id == tenant_id)
        )
        if status is not None:
            statement = statement.where(AiRecommendation.status == status)
        page = await RECOMMENDATION_ORDER.page(self.session, statement, limit=limit, cursor=cursor)
        return Page([(r[0], r[1], r[2]) for r in page.items], page.next_cursor)


class BudgetAllocationRepository(TenantScopedRepository[BudgetAllocation]):
    model = BudgetAllocation

    async def list(
        self, tenant_id: uuid.UUID, *, limit: int = 50, cursor: str | None = None
    ) -> Page[BudgetAllocation]:
        """A page of the tenant's allocations, newest first."""
        statement = self._select(tenant_id)
        return await ALLOCATION_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)


RECOMMENDATION_ORDER = Keyset(
    "recommendations",
    desc(AiRecommendation.confidence_score),
    asc(AiRecommendation.created_at),
    asc(AiRecommendation.id),
)
ALLOCATION_ORDER = Keyset(
    "budget-allocations", desc(BudgetAllocation.created_at), desc(BudgetAllocation.id)
)
