"""`create_tenant_with_key`: one tenant per name, a new key every time, each one audited."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.tenants import ApiKeyRepository
from flightdeck.db.tenants import create_tenant_with_key


async def test_reuses_the_tenant_and_issues_a_new_key_each_time(session: AsyncSession) -> None:
    tenant, first_key = await create_tenant_with_key(session, "initech")
    again, second_key = await create_tenant_with_key(session, "initech")

    assert again.id == tenant.id
    assert first_key != second_key
    keys = ApiKeyRepository(session)
    for key in (first_key, second_key):
        resolved = await keys.resolve(key)
        assert resolved is not None and resolved.id == tenant.id

    actions = [e.action for e in await AuditLogRepository(session).list(tenant.id)]
    assert sorted(actions) == ["api_key.created", "api_key.created", "tenant.created"]
