"""Strategis template ids cached per (tenant, organization, key) (seed 000, step 2)."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import StrategisTemplate
from flightdeck.db.repositories.base import TenantScopedRepository


class StrategisTemplateRepository(TenantScopedRepository[StrategisTemplate]):
    model = StrategisTemplate

    async def get(
        self, tenant_id: uuid.UUID, organization: str, key: str
    ) -> StrategisTemplate | None:
        return await self._one_or_none(
            self._select(
                tenant_id,
                StrategisTemplate.organization == organization,
                StrategisTemplate.key == key,
            )
        )

    async def upsert(
        self, tenant_id: uuid.UUID, organization: str, key: str, strategis_template_id: str
    ) -> StrategisTemplate:
        """Insert, or point the existing (tenant, organization, key) at the new template id."""
        statement = insert(StrategisTemplate).values(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            organization=organization,
            key=key,
            strategis_template_id=strategis_template_id,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[
                StrategisTemplate.tenant_id,
                StrategisTemplate.organization,
                StrategisTemplate.key,
            ],
            set_={"strategis_template_id": statement.excluded.strategis_template_id},
        )
        row = await self._returning(statement.returning(StrategisTemplate))
        assert row is not None, "an upsert always returns its row"
        return row
