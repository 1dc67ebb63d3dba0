"""Tenant onboarding: create (or reuse) a tenant with its first admin, add users, issue keys,
register publish targets. The CLI and `flightdeck dev` use these (in the system scope)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Tenant, User
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.tenants import (
    ApiKeyRepository,
    PublishTargetRepository,
    TenantRepository,
    UserRepository,
)
from flightdeck.domain.users import Role

ACTOR = "system"
FIRST_ADMIN = "admin"


async def create_tenant_with_key(
    session: AsyncSession, name: str, *, user: str = FIRST_ADMIN, role: Role = "admin"
) -> tuple[Tenant, str]:
    """The tenant named `name` (created if missing, with its first admin) and a new plaintext
    API key for `user` (created with `role` if missing) — the only time the key is ever
    visible. Commits."""
    tenant, created = await TenantRepository(session).get_or_create(name)
    if created:
        await _audit(session, tenant, "tenant.created", "tenant", str(tenant.id), {"name": name})
    key = await _issue_key(session, tenant, user, role)
    await session.commit()
    return tenant, key


async def create_user_with_key(
    session: AsyncSession, tenant_name: str, user: str, role: Role
) -> tuple[Tenant, User, str]:
    """A user of an existing tenant (created with `role` if missing) and a new key. Commits."""
    tenant = await TenantRepository(session).get_by_name(tenant_name)
    if tenant is None:
        raise LookupError(f"no tenant named {tenant_name!r}")
    key = await _issue_key(session, tenant, user, role)
    found = await UserRepository(session).get_by_name(tenant.id, user)
    assert found is not None
    await session.commit()
    return tenant, found, key


async def register_publish_targets(
    session: AsyncSession,
    tenant_name: str,
    *,
    organizations: Sequence[str] = (),
    ad_accounts: Sequence[str] = (),
) -> Tenant:
    """Let the tenant publish to these Strategis organizations and Facebook ad accounts."""
    tenant = await TenantRepository(session).get_by_name(tenant_name)
    if tenant is None:
        raise LookupError(f"no tenant named {tenant_name!r}")
    targets = PublishTargetRepository(session)
    for kind, values in (
        ("strategis_organization", organizations),
        ("facebook_ad_account", ad_accounts),
    ):
        for value in values:
            await targets.add(tenant.id, kind, value)
            await _audit(session, tenant, "publish_target.added", kind, value, {})
    await session.commit()
    return tenant


async def _issue_key(session: AsyncSession, tenant: Tenant, user: str, role: Role) -> str:
    users = UserRepository(session)
    found = await users.get_by_name(tenant.id, user)
    if found is None:
        found = await users.create(tenant.id, user, role)
        await _audit(
            session, tenant, "user.created", "user", str(found.id), {"name": user, "role": role}
        )
    key, plaintext = await ApiKeyRepository(session).create_for(tenant.id, found.id)
    await _audit(
        session, tenant, "api_key.created", "api_key", str(key.id),
        {"prefix": key.prefix, "user": found.name},
    )  # fmt: skip
    return plaintext


async def _audit(
    session: AsyncSession,
    tenant: Tenant,
    action: str,
    entity_type: str,
    entity_id: str,
    details: dict[str, object],
) -> None:
    await AuditLogRepository(session).add(
        tenant_id=tenant.id,
        actor=ACTOR,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details=details,
    )
