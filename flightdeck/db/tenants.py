"""Tenant onboarding: create (or reuse) a tenant and issue it a new API key."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Tenant
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.tenants import ApiKeyRepository, TenantRepository

ACTOR = "system"


async def create_tenant_with_key(session: AsyncSession, name: str) -> tuple[Tenant, str]:
    """The tenant named `name` (created if missing) and a new plaintext API key — the only time
    the key is ever visible. Commits."""
    tenant, created = await TenantRepository(session).get_or_create(name)
    key, plaintext = await ApiKeyRepository(session).create_for(tenant.id)
    audit = AuditLogRepository(session)
    if created:
        await audit.add(
            tenant_id=tenant.id,
            actor=ACTOR,
            action="tenant.created",
            entity_type="tenant",
            entity_id=str(tenant.id),
            details={"name": name},
        )
    await audit.add(
        tenant_id=tenant.id,
        actor=ACTOR,
        action="api_key.created",
        entity_type="api_key",
        entity_id=str(key.id),
        details={"prefix": key.prefix},
    )
    await session.commit()
    return tenant, plaintext
