"""Generic repository bases: one session, typed statements, and tenant scoping by default."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import Select, Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert, ReturningUpdate

from flightdeck.db.models.base import Base, TenantOwned

M = TypeVar("M", bound=Base)
T = TypeVar("T", bound=TenantOwned)


class RepositoryBase(Generic[M]):
    """Queries for one model, bound to the caller's session. Flushes; never commits."""

    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> Self:
        return cls(session)

    async def _one_or_none(self, statement: Select[M]) -> M | None:
        return await self.session.scalar(statement)

    async def _all(self, statement: Select[M]) -> list[M]:
        return list((await self.session.scalars(statement)).all())

    async def _add(self, row: M) -> M:
        self.session.add(row)
        await self.session.flush()
        return row

    async def _returning(self, statement: ReturningInsert[M] | ReturningUpdate[M]) -> M | None:
        """Run an INSERT/UPDATE … RETURNING the model; the session sees the fresh row."""
        result = await self.session.scalars(
            statement, execution_options={"populate_existing": True}
        )
        return result.one_or_none()


class TenantScopedRepository(RepositoryBase[T]):
    """A repository whose every statement starts filtered by `tenant_id`."""

    def _select(self, tenant_id: uuid.UUID, *where: Any) -> Select[T]:
        return select(self.model).where(self.model.tenant_id == tenant_id, *where)

    def _update(self, tenant_id: uuid.UUID, *where: Any) -> Update:
        return update(self.model).where(self.model.tenant_id == tenant_id, *where)

    async def _update_returning(
        self, tenant_id: uuid.UUID, where: Sequence[Any], values: dict[str, Any]
    ) -> T | None:
        statement = self._update(tenant_id, *where).values(**values).returning(self.model)
        return await self._returning(statement)
