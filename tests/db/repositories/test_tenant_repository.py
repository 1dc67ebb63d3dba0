"""Tenants, users and API keys: keys are shown once, stored hashed, speak for one user of one
tenant, and stop working when revoked or when their user is disabled."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import ApiKey, Tenant, User
from flightdeck.db.repositories.tenants import (
    ApiKeyRepository,
    PublishTargetRepository,
    TenantRepository,
    UserRepository,
)


async def test_tenants_by_id_and_name(session: AsyncSession) -> None:
    tenants = TenantRepository(session)
    acme = await tenants.create("acme")

    assert await tenants.get(acme.id) is acme
    assert await tenants.get_by_name("acme") is acme
    assert await tenants.get_by_name("nobody") is None


async def test_get_or_create_reuses_an_existing_tenant(session: AsyncSession) -> None:
    tenants = TenantRepository(session)
    first, created = await tenants.get_or_create("globex")
    again, created_again = await tenants.get_or_create("globex")

    assert (created, created_again) == (True, False)
    assert again.id == first.id


async def user_of(session: AsyncSession, tenant: Tenant, role: str = "editor") -> User:
    return await UserRepository(session).create(tenant.id, f"u-{uuid.uuid4().hex[:6]}", role)


async def test_a_key_resolves_to_its_tenant_and_is_stored_only_hashed(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    keys = ApiKeyRepository(session)
    alice, bob = await user_of(session, tenant, "approver"), await user_of(session, other_tenant)
    key, plaintext = await keys.create_for(tenant.id, alice.id)
    _, other_plaintext = await keys.create_for(other_tenant.id, bob.id)

    assert plaintext.startswith("fd_") and len(plaintext) > 40
    assert key.prefix == plaintext[:8]
    assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    stored = await session.scalars(select(ApiKey.key_hash).where(ApiKey.tenant_id == tenant.id))
    assert plaintext not in list(stored)
    owner = await keys.resolve(plaintext)
    assert owner is not None and owner.tenant is tenant and owner.user is alice
    assert owner.user.role == "approver" and owner.key_id == key.id
    resolved_other = await keys.resolve(other_plaintext)
    assert resolved_other is not None and resolved_other.tenant.id == other_tenant.id
    assert resolved_other.user.id == bob.id


async def test_unknown_and_revoked_keys_resolve_to_nobody(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    keys = ApiKeyRepository(session)
    user = await user_of(session, tenant)
    key, plaintext = await keys.create_for(tenant.id, user.id)
    _, still_valid = await keys.create_for(tenant.id, user.id)

    assert await keys.resolve("fd_not-a-key") is None
    assert await keys.resolve("") is None
    assert await keys.revoke(other_tenant.id, key.id) is None  # not theirs to revoke
    assert (await keys.resolve(plaintext)).tenant is tenant  # type: ignore[union-attr]

    revoked = await keys.revoke(tenant.id, key.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert await keys.resolve(plaintext) is None
    assert (await keys.resolve(still_valid)).tenant is tenant  # type: ignore[union-attr]
    assert [k.id for k in await keys.list_for(tenant.id)].count(key.id) == 1


async def test_a_disabled_users_keys_resolve_to_nobody(
    session: AsyncSession, tenant: Tenant
) -> None:
    keys, users = ApiKeyRepository(session), UserRepository(session)
    user = await user_of(session, tenant)
    _, plaintext = await keys.create_for(tenant.id, user.id)
    assert await keys.resolve(plaintext) is not None
    await users.update(tenant.id, user.id, disabled_at=datetime.now(UTC))
    assert await keys.resolve(plaintext) is None
    await users.update(tenant.id, user.id, disabled_at=None)
    assert await keys.resolve(plaintext) is not None


async def test_publish_targets_are_per_tenant_and_registered_once(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    targets = PublishTargetRepository(session)
    first = await targets.add(tenant.id, "strategis_organization", "Interlincx")
    again = await targets.add(tenant.id, "strategis_organization", "Interlincx")
    await targets.add(other_tenant.id, "strategis_organization", "Interlincx")  # shared: allowed
    await targets.add(tenant.id, "facebook_ad_account", "act_1")
    assert again.id == first.id
    assert (await targets.values(tenant.id, "strategis_organization")) == {
        "strategis_organization": {"Interlincx"}
    }
    assert (await targets.values(tenant.id, "facebook_ad_account")) == {
        "facebook_ad_account": {"act_1"}
    }
    assert await targets.values(other_tenant.id, "facebook_ad_account") == {
        "facebook_ad_account": set()
    }
    both = await targets.values(tenant.id, "strategis_organization", "facebook_ad_account")
    assert both == {"strategis_organization": {"Interlincx"}, "facebook_ad_account": {"act_1"}}
    assert await targets.remove(other_tenant.id, first.id) is None  # not theirs
    assert await targets.remove(tenant.id, first.id) is not None
    assert (await targets.values(tenant.id, "strategis_organization"))[
        "strategis_organization"
    ] == set()
