"""The audit log: append entries, read them back newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import AuditLogEntry
from flightdeck.db.repositories.base import RepositoryBase
from flightdeck.db.repositories.pagination import Keyset, Page, desc

_ACTING_AS = "flightdeck_acting_as"
SYSTEM_ACTOR = "system"


def act_as(session: AsyncSession, actor: str, user_id: uuid.UUID | str | None) -> None:
    """Every audit entry this session writes without naming its actor is this user's (the API
    calls this once it knows who is asking; a run does it for the user who started it)."""
    session.info[_ACTING_AS] = (actor, user_id)


class AuditLogRepository(RepositoryBase[AuditLogEntry]):
    """Entries may belong to no tenant (system actions), so scoping is explicit here."""

    model = AuditLogEntry

    async def add(
        self,
        *,
        tenant_id: uuid.UUID | None,
        action: str,
        entity_type: str,
        entity_id: str,
        details: dict[str, Any] | None = None,
        actor: str | None = None,
        user_id: uuid.UUID | str | None = None,
    ) -> AuditLogEntry:
        if actor is None:
            actor, acting_user = self.session.info.get(_ACTING_AS, (SYSTEM_ACTOR, None))
            user_id = user_id or acting_user
        entry = AuditLogEntry(
            tenant_id=tenant_id,
            actor=actor,
            user_id=uuid.UUID(str(user_id)) if user_id else None,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            details=details,
        )
        return await self._add(entry)

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        entity_type: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        entity: str | None = None,
        action: str | None = None,
    ) -> list[AuditLogEntry]:
        """The tenant's newest `limit` entries (filters as in `page`)."""
        statement = _filtered(tenant_id, entity_type, entity, action, since)
        return await self._all(statement.order_by(*AUDIT_ORDER.order_by()).limit(limit))

    async def page(
        self,
        tenant_id: uuid.UUID,
        *,
        limit: int,
        cursor: str | None,
        entity: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
    ) -> Page[AuditLogEntry]:
        """A page of the tenant's entries, newest first, optionally of one entity (its id or
        its type), one action (or action prefix ending in '.'), and since a time."""
        statement = _filtered(tenant_id, None, entity, action, since)
        return await AUDIT_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)


AUDIT_ORDER = Keyset("audit-log", desc(AuditLogEntry.created_at), desc(AuditLogEntry.id))


def _filtered(
    tenant_id: uuid.UUID,
    entity_type: str | None,
    entity: str | None,
    action: str | None,
    since: datetime | None,
) -> Select[Any]:
    statement = select(AuditLogEntry).where(AuditLogEntry.tenant_id == tenant_id)
    if entity_type is not None:
        statement = statement.where(AuditLogEntry.entity_type == entity_type)
    if entity is not None:
        statement = statement.where(
            or_(AuditLogEntry.entity_id == entity, AuditLogEntry.entity_type == entity)
        )
    if action is not None:
        statement = statement.where(
            AuditLogEntry.action.startswith(action)
            if action.endswith(".")
            else AuditLogEntry.action == action
        )
    if since is not None:
        statement = statement.where(AuditLogEntry.created_at >= since)
    return statement
