"""`GET /api/v1/audit-log`: every platform call's outcome and every sync operation, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from flightdeck.api.deps import SessionDep, TenantDep
from flightdeck.api.paging import PageDep
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.domain.campaign_sets import CamelModel

router = APIRouter(prefix="/audit-log", tags=["audit log"])


class AuditEntryOut(CamelModel):
    id: int
    at: datetime
    actor: str
    user_id: str | None
    action: str
    entity_type: str
    entity_id: str
    details: dict[str, Any] | None


class AuditLogPage(CamelModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


@router.get("", response_model=AuditLogPage)
async def list_audit_log(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    entity: Annotated[str | None, Query(description="an entity id, or an entity type")] = None,
    action: Annotated[
        str | None, Query(description="an action, or a prefix ending in '.' (e.g. 'campaign.')")
    ] = None,
    since: Annotated[datetime | None, Query(description="ISO-8601 time, inclusive")] = None,
) -> AuditLogPage:
    rows = await AuditLogRepository(session).page(
        tenant.id, entity=entity, action=action, since=since, limit=page.limit, cursor=page.cursor
    )
    return AuditLogPage(
        next_cursor=rows.next_cursor,
        items=[
            AuditEntryOut(
                id=r.id,
                at=r.created_at,
                actor=r.actor,
                user_id=str(r.user_id) if r.user_id else None,
                action=r.action,
                entity_type=r.entity_type,
                entity_id=r.entity_id,
                details=r.details,
            )
            for r in rows.items
        ],
    )
