"""The set sync's writes around each platform call, one statement and one round trip each.

A push records its intent in the entity's sync record before a create (`begin`) and feeds
every call's outcome to the circuit breaker (`record_call`). Through a tenant session each was
BEGIN, `set_config` for the scope, the write and COMMIT — four round trips, and with the
account and bookkeeping reads about a third of a push's database work. Here each is a single
statement that names its tenant scope itself (`tenancy.statement_scope`) and is its own
transaction (an autocommit connection), as `ledger_writes` does for a publish: its rows are
made from the scope, so row-level security checks them exactly as in a tenant session.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Integer, String, Uuid, bindparam, literal
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from flightdeck.db.models import PlatformCall, SyncRecord
from flightdeck.db.tenancy import autocommit_engine, execute_in_scope, insert_in_scope


def _record_call() -> Any:
    return insert_in_scope(
        PlatformCall,
        {
            "platform": bindparam("platform", type_=String),
            "ok": bindparam("ok", type_=Boolean),
            "status_code": bindparam("status_code", type_=Integer),
        },
    )


def _begin() -> Any:
    """`SyncRecordRepository.begin` (without `reset_failures`): the record `requested`,
    `syncing`; an existing one keeps its platform id and snapshot. Never another tenant's:
    the conflict branch only takes a row of the scope's tenant, and row-level security
    refuses the rest."""
    statement = insert_in_scope(
        SyncRecord,
        {
            "id": bindparam("id", type_=Uuid),
            "entity_type": bindparam("entity_type", type_=String),
            "entity_id": bindparam("entity_id", type_=Uuid),
            "platform": bindparam("platform", type_=String),
            "state": literal("requested", String),
            "sync_status": literal("syncing", String),
            "requested_at": bindparam("requested_at", type_=DateTime(timezone=True)),
        },
    )
    return statement.on_conflict_do_update(
        index_elements=[SyncRecord.entity_type, SyncRecord.entity_id, SyncRecord.platform],
        set_={
            "state": statement.excluded.state,
            "sync_status": statement.excluded.sync_status,
            "requested_at": statement.excluded.requested_at,
        },
        where=SyncRecord.tenant_id == statement.excluded.tenant_id,
    ).returning(SyncRecord.entity_id)


RECORD_CALL = _record_call()
BEGIN = _begin()


class PushWrites:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine | None = None

    async def record_call(
        self, platform: str, tenant_id: uuid.UUID, ok: bool, status_code: int | None
    ) -> None:
        """One platform call for the circuit breaker (`platform_calls`), in the tenant's scope."""
        params = {"platform": platform, "ok": ok, "status_code": status_code}
        await self._execute(RECORD_CALL, tenant_id, params)

    async def begin(
        self, tenant_id: uuid.UUID, entity_type: str, entity_id: uuid.UUID, platform: str
    ) -> None:
        """A push of this entity is starting (its create may reach the platform)."""
        params = {
            "id": uuid.uuid4(), "entity_type": entity_type, "entity_id": entity_id,
            "platform": platform, "requested_at": datetime.now(UTC),
        }  # fmt: skip
        taken = (await self._execute(BEGIN, tenant_id, params)).first()
        if taken is None:
            raise LookupError(f"{entity_type} {entity_id} has a sync record of another tenant")

    async def _execute(self, statement: Any, tenant_id: uuid.UUID, params: dict[str, Any]) -> Any:
        if self._engine is None:
            self._engine = autocommit_engine(self._sessions)
        return await execute_in_scope(self._engine, statement, tenant_id, params)
