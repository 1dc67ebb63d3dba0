"""Recommendations of the analytics engine, and the budget allocations behind reallocations.

GET  /recommendations?status=pending      the seed's order: most confident first, then oldest
GET  /recommendations/{id}
POST /recommendations/{id}/accept         → an action waiting for approval (202)
POST /recommendations/{id}/reject
GET  /budget-allocations
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.api.action_requests import start_action
from flightdeck.api.deps import PrincipalDep, SessionDep, SettingsDep, TemporalDep
from flightdeck.api.errors import ApiError, not_found
from flightdeck.api.paging import PageDep
from flightdeck.api.performance_models import (
    ActionStarted,
    AllocationOut,
    AllocationPage,
    RecommendationOut,
    RecommendationPage,
    recommendation_out,
)
from flightdeck.api.publishing import parse_uuid
from flightdeck.db.models import AiRecommendation
from flightdeck.db.repositories.platform_campaigns import PlatformCampaignRepository
from flightdeck.db.repositories.recommendations import (
    BudgetAllocationRepository,
    RecommendationRepository,
)

router = APIRouter(tags=["recommendations"])
Status = Literal["pending", "accepted", "rejected", "executed", "superseded", "failed", "all"]


@router.get("/recommendations", response_model=RecommendationPage)
async def list_recommendations(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[Status, Query()] = "pending",
) -> RecommendationPage:
    rows = await RecommendationRepository(session).list(
        principal.tenant_id, status=None if status == "all" else status, limit=page.limit,
        cursor=page.cursor,
    )  # fmt: skip
    return RecommendationPage(
        items=[recommendation_out(r, name, platform) for r, name, platform in rows.items],
        next_cursor=rows.next_cursor,
    )


@router.get("/recommendations/{recommendation_id}", response_model=RecommendationOut)
async def get_recommendation(
    recommendation_id: str, principal: PrincipalDep, session: SessionDep
) -> RecommendationOut:
    rec = await _load(session, principal.tenant_id, recommendation_id)
    return await _out(session, principal.tenant_id, rec)


@router.post(
    "/recommendations/{recommendation_id}/accept", status_code=202, response_model=ActionStarted
)
async def accept_recommendation(
    recommendation_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ActionStarted:
    """Accepting proposes the change as an action; it runs once an approver approves it."""
    rec = await _load(session, principal.tenant_id, recommendation_id)
    if rec.status != "pending":
        raise ApiError(409, "stale_request", f"the recommendation is {rec.status}")
    action = await start_action(
        session, temporal, settings, principal,
        action_type=rec.action_type, platform=str(rec.data.get("platform", "multi")),
        campaign_id=rec.campaign_id, previous_state=dict(rec.data.get("previousState") or {}),
        new_state=rec.proposed_change, reasoning=rec.recommendation_text,
        confidence=Decimal(rec.confidence_score), recommendation_id=rec.id, commit=False,
    )  # fmt: skip
    await RecommendationRepository(session).decide(
        principal.tenant_id, rec.id, status="accepted", by=principal.actor,
        at=datetime.now(UTC), action_id=action.id,
    )  # fmt: skip
    await session.commit()
    return ActionStarted(
        action_id=str(action.id),
        workflow_id=action.workflow_id,
        status=action.status,
        expires_at=action.expires_at,
    )


@router.post("/recommendations/{recommendation_id}/reject", response_model=RecommendationOut)
async def reject_recommendation(
    recommendation_id: str, principal: PrincipalDep, session: SessionDep
) -> RecommendationOut:
    rec = await _load(session, principal.tenant_id, recommendation_id)
    decided = await RecommendationRepository(session).decide(
        principal.tenant_id, rec.id, status="rejected", by=principal.actor, at=datetime.now(UTC)
    )
    if decided is None:
        raise ApiError(409, "stale_request", f"the recommendation is {rec.status}")
    await session.commit()
    return await _out(session, principal.tenant_id, decided)


@router.get("/budget-allocations", response_model=AllocationPage)
async def list_allocations(
    principal: PrincipalDep, session: SessionDep, page: PageDep
) -> AllocationPage:
    rows = await BudgetAllocationRepository(session).list(
        principal.tenant_id, limit=page.limit, cursor=page.cursor
    )
    return AllocationPage(
        next_cursor=rows.next_cursor,
        items=[
            AllocationOut(
                id=str(a.id),
                period_start=a.period_start,
                period_end=a.period_end,
                total_budget=str(a.total_budget),
                currency=a.currency,
                allocations=a.allocations,
                details=a.details,
                ai_suggested=a.ai_suggested,
                created_by=a.created_by,
                created_at=a.created_at,
            )
            for a in rows.items
        ],
    )


async def _load(
    session: AsyncSession, tenant_id: uuid.UUID, recommendation_id: str
) -> AiRecommendation:
    parsed = parse_uuid(recommendation_id)
    rec = await RecommendationRepository(session).get(tenant_id, parsed) if parsed else None
    if rec is None:
        raise not_found("recommendation")
    return rec


async def _out(
    session: AsyncSession, tenant_id: uuid.UUID, rec: AiRecommendation
) -> RecommendationOut:
    campaign = (
        await PlatformCampaignRepository(session).get(tenant_id, rec.campaign_id)
        if rec.campaign_id
        else None
    )
    return recommendation_out(
        rec, campaign.name if campaign else None, campaign.platform if campaign else None
    )
