"""Tenants and API keys. Keys are random, shown once, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy import select

from flightdeck.db.models import ApiKey, Tenant
from flightdeck.db.repositories.base import Repository

KEY_PREFIX = "fd_"


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


class TenantRepository(Repository):
    async def create(self, name: str) -> Tenant:
        tenant = Tenant(id=uuid.uuid4(), name=name)
        self.session.add(tenant)
        await self.session.flush()
        return tenant

    async def get(self, tenant_id: uuid.UUID) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def get_by_name(self, name: str) -> Tenant | None:
        return await self.session.scalar(select(Tenant).where(Tenant.name == name))


class ApiKeyRepository(Repository):
    async def create_for(self, tenant_id: uuid.UUID) -> tuple[ApiKey, str]:
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=uuid.uuid4(), tenant_id=tenant_id, key_hash=hash_key(plaintext), prefix=plaintext[:8]
        )
        self.session.add(key)
        await self.session.flush()
        return key, plaintext

    async def resolve(self, plaintext: str) -> Tenant | None:
        """The tenant a (non-revoked) key belongs to; the hash lookup is constant-time enough
        since an attacker cannot choose hash prefixes."""
        query = (
            select(Tenant)
            .join(ApiKey, ApiKey.tenant_id == Tenant.id)
            .where(ApiKey.key_hash == hash_key(plaintext), ApiKey.revoked_at.is_(None))
        )
        return await self.session.scalar(query)
