"""Tenants, their users and API keys, and their publish targets. A key is random, shown once,
and stored only as its SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import ApiKey, PublishTarget, Tenant, User
from flightdeck.db.repositories.base import RepositoryBase, TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, asc
from flightdeck.db.tenancy import narrowed_to, narrowing_to

USER_ORDER = Keyset("users", asc(User.created_at), asc(User.id))
# (kind, value) is unique per tenant.
TARGET_ORDER = Keyset("publish-targets", asc(PublishTarget.kind), asc(PublishTarget.value))

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


@dataclass(frozen=True)
class KeyOwner:
    """Who an API key speaks for."""

    tenant: Tenant
    user: User
    key_id: uuid.UUID


class UserRepository(TenantScopedRepository[User]):
    model = User

    async def create(self, tenant_id: uuid.UUID, name: str, role: str) -> User:
        return await self._add(User(tenant_id=tenant_id, name=name, role=role))

    async def get(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
        return await self._one_or_none(self._select(tenant_id, User.id == user_id))

    async def get_by_name(self, tenant_id: uuid.UUID, name: str) -> User | None:
        return await self._one_or_none(self._select(tenant_id, User.name == name))

    async def list(self, tenant_id: uuid.UUID) -> list[User]:
        return await self._all(self._select(tenant_id).order_by(*USER_ORDER.order_by()))

    async def page(self, tenant_id: uuid.UUID, *, limit: int, cursor: str | None) -> Page[User]:
        """A page of the tenant's users, oldest first."""
        statement = self._select(tenant_id)
        return await USER_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def update(self, tenant_id: uuid.UUID, user_id: uuid.UUID, **values: Any) -> User | None:
        return await self._update_returning(tenant_id, [User.id == user_id], values)

    async def count_admins(self, tenant_id: uuid.UUID) -> int:
        statement = (
            select(func.count())
            .select_from(User)
            .where(User.tenant_id == tenant_id, User.role == "admin", User.disabled_at.is_(None))
        )
        return int(await self.session.scalar(statement) or 0)


# Every API request runs this lookup: built once (building a joined select costs more CPU than
# SQLAlchemy's cached compilation of it), the hash bound per call.
_RESOLVE_KEY = (
    select(ApiKey.id, Tenant, User)
    .join(Tenant, ApiKey.tenant_id == Tenant.id)
    .join(User, ApiKey.user_id == User.id)
    .where(
        ApiKey.key_hash == bindparam("key_hash"),
        ApiKey.revoked_at.is_(None),
        User.disabled_at.is_(None),
    )
)

_RESOLVE_KEY_NARROWING = _RESOLVE_KEY.add_columns(narrowing_to(ApiKey.tenant_id))


class ApiKeyRepository(TenantScopedRepository[ApiKey]):
    model = ApiKey

    async def create_for(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> tuple[ApiKey, str]:
        """A new key for the user: the row, and the plaintext (never stored, shown once)."""
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            tenant_id=tenant_id,
            user_id=user_id,
            key_hash=hash_key(plaintext),
            prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
        )
        return await self._add(key), plaintext

    async def resolve(self, plaintext: str, *, narrow_scope: bool = False) -> KeyOwner | None:
        """The tenant and user a live key belongs to, or None (revoked key, disabled user).

        The lookup is by hash through a unique index, so response timing tells an attacker
        nothing useful about stored keys. With `narrow_scope` (a session in the system scope, as
        the API authenticates) the same statement narrows the transaction to the key's tenant
        (`tenancy.narrowing_to`); without a key it stays wide, for the caller to close.
        """
        statement = _RESOLVE_KEY_NARROWING if narrow_scope else _RESOLVE_KEY
        row = (
            await self.session.execute(statement, {"key_hash": hash_key(plaintext)})
        ).one_or_none()
        if row is None:
            return None
        if narrow_scope:
            narrowed_to(self.session, row[1].id)
        return KeyOwner(tenant=row[1], user=row[2], key_id=row[0])

    async def list_for(
        self, tenant_id: uuid.UUID, user_id: uuid.UUID | None = None
    ) -> list[ApiKey]:
        where = [ApiKey.user_id == user_id] if user_id else []
        return await self._all(
            self._select(tenant_id, *where).order_by(ApiKey.created_at, ApiKey.id)
        )

    async def revoke(self, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
        """Revoke a key (idempotent: revoking twice keeps the first revocation time)."""
        key = await self._one_or_none(self._select(tenant_id, ApiKey.id == key_id))
        if key is not None and key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
            await self.session.flush()
        return key


class PublishTargetRepository(TenantScopedRepository[PublishTarget]):
    """The Strategis organizations and Facebook ad accounts a tenant may publish to."""

    model = PublishTarget

    async def add(self, tenant_id: uuid.UUID, kind: str, value: str) -> PublishTarget:
        """Register a target (idempotent: the existing row if it is already registered)."""
        created = await self._returning(
            insert(PublishTarget)
            .values(id=uuid.uuid4(), tenant_id=tenant_id, kind=kind, value=value)
            .on_conflict_do_nothing(index_elements=["tenant_id", "kind", "value"])
            .returning(PublishTarget)
        )
        if created is not None:
            return created
        existing = await self._one_or_none(
            self._select(tenant_id, PublishTarget.kind == kind, PublishTarget.value == value)
        )
        assert existing is not None, "ON CONFLICT fired, so the target exists"
        return existing

    async def list(self, tenant_id: uuid.UUID) -> list[PublishTarget]:
        return await self._all(self._select(tenant_id).order_by(*TARGET_ORDER.order_by()))

    async def page(
        self, tenant_id: uuid.UUID, *, limit: int, cursor: str | None
    ) -> Page[PublishTarget]:
        """A page of the tenant's publish targets, by kind then value."""
        statement = self._select(tenant_id)
        return await TARGET_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def values(self, tenant_id: uuid.UUID, *kinds: str) -> dict[str, set[str]]:
        """The tenant's registered values of each kind asked for (one query for all)."""
        rows = await self.session.execute(
            select(PublishTarget.kind, PublishTarget.value).where(
                PublishTarget.tenant_id == tenant_id, PublishTarget.kind.in_(kinds)
            )
        )
        found: dict[str, set[str]] = {kind: set() for kind in kinds}
        for kind, value in rows.all():
            found[kind].add(value)
        return found

    async def remove(self, tenant_id: uuid.UUID, target_id: uuid.UUID) -> PublishTarget | None:
        target = await self._one_or_none(self._select(tenant_id, PublishTarget.id == target_id))
        if target is not None:
            await self.session.delete(target)
            await self.session.flush()
        return target
