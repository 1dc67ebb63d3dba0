"""The remote-object ledger's writes on a publish's hot path, one statement and one round trip
each (`RemoteObjectLedger` has the same writes for a session's transaction).

Every create of a publish writes the ledger once or twice on its critical path. Through a
tenant session that is BEGIN, `set_config` for the scope, the write and COMMIT — four round
trips and most of the activity's CPU. Here each write is a single statement built once, that
names its tenant scope itself (`tenancy.statement_scope`) and is its own transaction (an
autocommit connection): the rows it writes are made from the scope, so row-level security
checks them exactly as in a tenant session.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Integer, String, Text, Uuid, bindparam, func, literal, select
from sqlalchemy import insert as insert_into
from sqlalchemy.dialects.postgresql import JSONB, Insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import Insert as CoreInsert

from flightdeck.db.models import AuditLogEntry, RemoteObject
from flightdeck.db.tenancy import autocommit_engine, execute_in_scope, insert_in_scope

_KEY = [RemoteObject.tenant_id, RemoteObject.system, RemoteObject.client_request_key]
_AUDIT_COLUMNS = ["tenant_id", "actor", "action", "entity_type", "entity_id", "details", "user_id"]


def _new_row(state: str) -> Insert:
    """INSERT INTO remote_objects … SELECT scope.tenant_id, <bind parameters> FROM scope."""
    return insert_in_scope(
        RemoteObject,
        {
            "id": bindparam("id", type_=Uuid),
            "campaign_plan_id": bindparam("campaign_plan_id", type_=Uuid),
            "system": bindparam("system", type_=String),
            "object_type": bindparam("object_type", type_=String),
            "local_key": bindparam("local_key", type_=String),
            "client_request_key": bindparam("client_request_key", type_=String),
            "external_id": bindparam("external_id", type_=String),
            "state": literal(state, String),
            "name": bindparam("name", type_=Text),
            "parent_external_id": bindparam("parent_external_id", type_=String),
            "ad_set_index": bindparam("ad_set_index", type_=Integer),
            "ad_index": bindparam("ad_index", type_=Integer),
            "attributes": bindparam("attributes", type_=JSONB),
        },
    )


def _record_created() -> CoreInsert:
    """The row as `created` (or a `requested`/`failed` one completed, its attributes merged) and
    its audit entry; a row that already has its object is left as it is (a replayed create)."""
    row = _new_row("created")
    upserted = (
        row.on_conflict_do_update(
            index_elements=_KEY,
            set_={
                "state": "created",
                "external_id": row.excluded.external_id,
                "last_error": None,
                "attributes": RemoteObject.attributes.op("||")(row.excluded.attributes),
                "updated_at": func.now(),
            },
            where=RemoteObject.external_id.is_(None),
        )
        .returning(RemoteObject.tenant_id)
        .cte("upserted")
    )
    entry = select(
        upserted.c.tenant_id,
        bindparam("actor", type_=String),
        bindparam("action", type_=String),
        bindparam("entity_type", type_=String),
        bindparam("external_id", type_=String),
        bindparam("details", type_=JSONB),
        bindparam("user_id", type_=Uuid),
    ).select_from(upserted)
    return insert_into(AuditLogEntry).from_select(_AUDIT_COLUMNS, entry).add_cte(upserted)


def _begin() -> CoreInsert:
    """Insert-or-get: the `requested` row, or the existing one as it is. The conflict branch
    rewrites nothing (it sets the key to itself) only so that RETURNING yields that row."""
    return (
        _new_row("requested")
        .on_conflict_do_update(
            index_elements=_KEY, set_={"client_request_key": RemoteObject.client_request_key}
        )
        .returning(*RemoteObject.__table__.columns)
    )


RECORD_CREATED = _record_created()
BEGIN = _begin()


class LedgerWrites:
    """`begin` and `record_created` of the ledger, each one statement in its own transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._engine = autocommit_engine(sessions)

    async def begin(
        self,
        tenant_id: uuid.UUID | str,
        *,
        campaign_plan_id: uuid.UUID,
        system: str,
        object_type: str,
        local_key: str,
        client_request_key: str,
        name: str | None = None,
        parent_external_id: str | None = None,
        ad_set_index: int | None = None,
        ad_index: int | None = None,
    ) -> RemoteObject:
        """Record the intent to create (state `requested`), or return the existing record as is
        (a detached row: read it, write through the ledger)."""
        params = {
            "id": uuid.uuid4(), "campaign_plan_id": campaign_plan_id, "system": system,
            "object_type": object_type, "local_key": local_key,
            "client_request_key": client_request_key, "external_id": None, "name": name,
            "parent_external_id": parent_external_id, "ad_set_index": ad_set_index,
            "ad_index": ad_index, "attributes": {},
        }  # fmt: skip
        row = (await execute_in_scope(self._engine, BEGIN, tenant_id, params)).one()
        return RemoteObject(**row._asdict())

    async def record_created(
        self,
        tenant_id: uuid.UUID | str,
        *,
        campaign_plan_id: uuid.UUID,
        system: str,
        object_type: str,
        local_key: str,
        client_request_key: str,
        external_id: str,
        name: str | None,
        parent_external_id: str | None,
        ad_set_index: int | None,
        ad_index: int | None,
        actor: str,
        action: str,
        details: dict[str, Any],
        attributes: dict[str, Any] | None = None,
        user_id: uuid.UUID | str | None = None,
    ) -> None:
        """Insert the row as `created` (or complete a `requested`/`failed` one) and audit it;
        a row that already has its object is left as it is (a replayed create)."""
        params = {
            "id": uuid.uuid4(), "campaign_plan_id": campaign_plan_id, "system": system,
            "object_type": object_type, "local_key": local_key,
            "client_request_key": client_request_key, "external_id": external_id, "name": name,
            "parent_external_id": parent_external_id, "ad_set_index": ad_set_index,
            "ad_index": ad_index, "attributes": attributes or {}, "actor": actor,
            "action": action, "entity_type": f"{system}.{object_type}", "details": details,
            "user_id": uuid.UUID(str(user_id)) if user_id else None,
        }  # fmt: skip
        await execute_in_scope(self._engine, RECORD_CREATED, tenant_id, params)
