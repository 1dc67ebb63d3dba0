"""Tenant onboarding: create (or reuse) a tenant and issue it a new API key."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Tenant
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.tenants import ApiKeyRepository, TenantRepository


async def create_tenant_with_key(session: AsyncSession, name: str) -> tuple[Tenant, str]:
    """Returns the tenant and the plaintext key — the only time the key is ever visible."""
    tenants = TenantRepository(session)
    tenant = await tenants.get_by_name(name) or await tenants.create(name)
    key, plaintext = await ApiKeyRepository(session).create_for(tenant.id)
    await AuditLogRepository(session).add(
        tenant_id=tenant.id,
        actor="cli",
        action="api_key.created",
        entity_type="api_key",
        entity_id=key.prefix,
    )
    await session.commit()
    return tenant, plaintext
