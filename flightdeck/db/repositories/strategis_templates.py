"""Strategis template ids cached per (tenant, organization, key) (seed step 2)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import StrategisTemplate
from flightdeck.db.repositories.base import Repository


class StrategisTemplateRepository(Repository):
    async def get(
        self, tenant_id: uuid.UUID, organization: str, key: str
    ) -> StrategisTemplate | None:
        return await self.session.scalar(
            select(StrategisTemplate).where(
                StrategisTemplate.tenant_id == tenant_id,
                StrategisTemplate.organization == organization,
                StrategisTemplate.key == key,
            )
        )

    async def upsert(
        self, tenant_id: uuid.UUID, organization: str, key: str, strategis_template_id: str
    ) -> None:
        statement = insert(StrategisTemplate).values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            organization=organization,
            key=key,
            strategis_template_id=strategis_template_id,
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["tenant_id", "organization", "key"],
                set_={"strategis_template_id": statement.excluded.strategis_template_id},
            )
        )
