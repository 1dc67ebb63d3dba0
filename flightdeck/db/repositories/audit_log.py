"""The audit log: append and read, newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from flightdeck.db.models import AuditEntry
from flightdeck.db.repositories.base import Repository


class AuditLogRepository(Repository):
    async def add(
        self,
        *,
        tenant_id: uuid.UUID | None,
        actor: str,
        action: str,
        entity_type: str,
        entity_id: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditEntry(
                tenant_id=tenant_id,
                actor=actor,
                action=action,
                entity_type=entity_type,
                entity_id=entity_id,
                details=details,
            )
        )
        await self.session.flush()

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        entity_type: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        query = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
        if entity_type is not None:
            query = query.where(AuditEntry.entity_type == entity_type)
        if since is not None:
            query = query.where(AuditEntry.created_at >= since)
        query = query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())
