"""Strategis template cache: one id per (tenant, organization, key), replaced by upsert."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Tenant
from flightdeck.db.repositories.strategis_templates import StrategisTemplateRepository


async def test_upsert_inserts_then_replaces_the_template_id(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    templates = StrategisTemplateRepository(session)
    assert await templates.get(tenant.id, "Interlincx", "fb") is None

    first = await templates.upsert(tenant.id, "Interlincx", "fb", "tpl-1")
    second = await templates.upsert(tenant.id, "Interlincx", "fb", "tpl-2")
    theirs = await templates.upsert(other_tenant.id, "Interlincx", "fb", "tpl-9")

    assert second.id == first.id and second.strategis_template_id == "tpl-2"
    cached = await templates.get(tenant.id, "Interlincx", "fb")
    assert cached is not None and cached.strategis_template_id == "tpl-2"
    assert theirs.id != first.id
    assert await templates.get(tenant.id, "Interlincx", "other-key") is None
