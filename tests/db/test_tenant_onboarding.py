"""Onboarding: one tenant per name with its first admin, a new key every time, users with roles,
publish targets — each step audited."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.tenants import ApiKeyRepository, PublishTargetRepository
from flightdeck.db.tenants import (
    create_tenant_with_key,
    create_user_with_key,
    register_publish_targets,
)


async def test_reuses_the_tenant_and_issues_a_new_key_each_time(session: AsyncSession) -> None:
    tenant, first_key = await create_tenant_with_key(session, "initech")
    again, second_key = await create_tenant_with_key(session, "initech")

    assert again.id == tenant.id
    assert first_key != second_key
    keys = ApiKeyRepository(session)
    for key in (first_key, second_key):
        resolved = await keys.resolve(key)
        assert resolved is not None and resolved.tenant.id == tenant.id
        assert (resolved.user.name, resolved.user.role) == ("admin", "admin")

    actions = [e.action for e in await AuditLogRepository(session).list(tenant.id)]
    assert sorted(actions) == [
        "api_key.created",
        "api_key.created",
        "tenant.created",
        "user.created",
    ]


async def test_users_get_their_own_keys_and_roles(session: AsyncSession) -> None:
    tenant, _ = await create_tenant_with_key(session, "hooli")
    _, viewer, key = await create_user_with_key(session, "hooli", "gavin", "viewer")
    again_tenant, again, second = await create_user_with_key(session, "hooli", "gavin", "admin")
    assert again.id == viewer.id and again.role == "viewer", "an existing user keeps its role"
    assert again_tenant.id == tenant.id and key != second
    resolved = await ApiKeyRepository(session).resolve(key)
    assert resolved is not None and resolved.user.name == "gavin"
    with pytest.raises(LookupError):
        await create_user_with_key(session, "no-such-tenant", "x", "viewer")


async def test_publish_targets_are_registered_by_tenant_name(session: AsyncSession) -> None:
    tenant, _ = await create_tenant_with_key(session, "pied-piper")
    await register_publish_targets(
        session, "pied-piper", organizations=["Interlincx"], ad_accounts=["act_9"]
    )
    targets = PublishTargetRepository(session)
    assert await targets.values(tenant.id, "strategis_organization", "facebook_ad_account") == {
        "strategis_organization": {"Interlincx"},
        "facebook_ad_account": {"act_9"},
    }
