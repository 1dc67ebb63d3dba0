"""Tenants and API keys: keys are shown once, stored hashed, and stop working when revoked."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import ApiKey, Tenant
from flightdeck.db.repositories.tenants import ApiKeyRepository, TenantRepository


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


async def test_a_key_resolves_to_its_tenant_and_is_stored_only_hashed(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    keys = ApiKeyRepository(session)
    key, plaintext = await keys.create_for(tenant.id)
    _, other_plaintext = await keys.create_for(other_tenant.id)

    assert plaintext.startswith("fd_") and len(plaintext) > 40
    assert key.prefix == plaintext[:8]
    assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    stored = await session.scalars(select(ApiKey.key_hash).where(ApiKey.tenant_id == tenant.id))
    assert plaintext not in list(stored)
    assert await keys.resolve(plaintext) is tenant
    resolved_other = await keys.resolve(other_plaintext)
    assert resolved_other is not None and resolved_other.id == other_tenant.id


async def test_unknown_and_revoked_keys_resolve_to_nobody(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    keys = ApiKeyRepository(session)
    key, plaintext = await keys.create_for(tenant.id)
    _, still_valid = await keys.create_for(tenant.id)

    assert await keys.resolve("fd_not-a-key") is None
    assert await keys.resolve("") is None
    assert await keys.revoke(other_tenant.id, key.id) is None  # not theirs to revoke
    assert await keys.resolve(plaintext) is tenant

    revoked = await keys.revoke(tenant.id, key.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert await keys.resolve(plaintext) is None
    assert await keys.resolve(still_valid) is tenant
    assert [k.id for k in await keys.list_for(tenant.id)].count(key.id) == 1
