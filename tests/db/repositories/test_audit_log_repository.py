"""Audit log: newest first, filtered by tenant, entity type and time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Tenant
from flightdeck.db.repositories.audit_log import AuditLogRepository


async def test_entries_are_listed_newest_first_with_filters(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    audit = AuditLogRepository(session)
    old = await audit.add(
        tenant_id=tenant.id,
        actor="api:fd_abcde",
        action="campaign_plan.created",
        entity_type="campaign_plan",
        entity_id="p1",
        details={"requestId": "r1"},
    )
    old.created_at = old.created_at - timedelta(hours=1)
    await session.flush()
    for action, entity_type in [
        ("remote_object.created", "facebook.adset"),
        ("x", "campaign_plan"),
    ]:
        await audit.add(
            tenant_id=tenant.id,
            actor="worker",
            action=action,
            entity_type=entity_type,
            entity_id="e",
        )
    await audit.add(
        tenant_id=other_tenant.id, actor="worker", action="y", entity_type="t", entity_id="e"
    )
    await audit.add(tenant_id=None, actor="system", action="z", entity_type="t", entity_id="e")

    assert [e.action for e in await audit.list(tenant.id)] == [
        "x",
        "remote_object.created",
        "campaign_plan.created",
    ]
    by_type = await audit.list(tenant.id, entity_type="campaign_plan")
    assert [e.action for e in by_type] == ["x", "campaign_plan.created"]
    recent = await audit.list(tenant.id, since=old.created_at + timedelta(minutes=1))
    assert "campaign_plan.created" not in [e.action for e in recent] and len(recent) == 2
    assert len(await audit.list(tenant.id, limit=1)) == 1
    assert by_type[-1].details == {"requestId": "r1"} and by_type[-1].actor == "api:fd_abcde"
