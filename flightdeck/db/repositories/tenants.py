"""Tenants and their API keys. A key is random, shown once, and stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import ApiKey, Tenant
from flightdeck.db.repositories.base import RepositoryBase, TenantScopedRepository

KEY_PREFIX = "fd_"
DISPLAY_PREFIX_LENGTH = 8


def hash_key(plaintext: str) -> str:
    """SHA-256 hex of a key: what is stored and looked up (keys are random, so no salt)."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


class TenantRepository(RepositoryBase[Tenant]):
    """Tenants are the one model that is not itself tenant-scoped."""

    model = Tenant

    async def create(self, name: str) -> Tenant:
        return await self._add(Tenant(name=name))

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def get_by_name(self, name: str) -> Tenant | None:
        return await self._one_or_none(select(Tenant).where(Tenant.name == name))

    async def get_or_create(self, name: str) -> tuple[Tenant, bool]:
        """The tenant named `name` and whether it was created now (safe under concurrency)."""
        created = await self._returning(
            insert(Tenant)
            .values(id=uuid.uuid4(), name=name)
            .on_conflict_do_nothing(index_elements=[Tenant.name])
            .returning(Tenant)
        )
        if created is not None:
            return created, True
        existing = await self.get_by_name(name)
        assert existing is not None, "ON CONFLICT fired, so the tenant exists"
        return existing, False


class ApiKeyRepository(TenantScopedRepository[ApiKey]):
    model = ApiKey

    async def create_for(self, tenant_id: uuid.UUID) -> tuple[ApiKey, str]:
        """A new key for the tenant: the row, and the plaintext (never stored, shown once)."""
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            tenant_id=tenant_id,
            key_hash=hash_key(plaintext),
            prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
        )
        return await self._add(key), plaintext

    async def resolve(self, plaintext: str) -> Tenant | None:
        """The tenant a non-revoked key belongs to, or None.

        The lookup is by hash through a unique index, so response timing tells an attacker
        nothing useful about stored keys.
        """
        statement = (
            select(Tenant)
            .join(ApiKey, ApiKey.tenant_id == Tenant.id)
            .where(ApiKey.key_hash == hash_key(plaintext), ApiKey.revoked_at.is_(None))
        )
        return await self.session.scalar(statement)

    async def list_for(self, tenant_id: uuid.UUID) -> list[ApiKey]:
        return await self._all(self._select(tenant_id).order_by(ApiKey.created_at, ApiKey.id))

    async def revoke(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
        """Revoke a key (idempotent: revoking twice keeps the first revocation time)."""
        key = await self._one_or_none(self._select(tenant_id, ApiKey.id == key_id))
        if key is not None and key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
            await self.session.flush()
        return key
