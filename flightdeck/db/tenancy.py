"""Tenant scope for database sessions, enforced by Postgres row-level security.

Repositories filter every query by `tenant_id`; underneath, each tenant-owned table has a
row-level-security policy (migration 0003) that only shows — and only accepts — rows of the
tenant named by the transaction setting `flightdeck.tenant_id`, so a query that forgot its
filter still cannot read or write another tenant's rows.

- A session opened with `tenant_session(sessions, tenant_id)`, or narrowed with
  `scope_to_tenant(session, tenant_id)` (the API does this right after resolving the API key),
  runs every transaction in that tenant's scope.
- Any other session runs in the system scope (`*`): migrations, the CLI, API-key lookup before
  the tenant is known, and sweeps that work across tenants.

The application's connections switch to the `flightdeck_app` role (`db/engine.py`; migration
0003 creates it and lets the login user assume it), which the policies bind even when the login
user owns the tables or is a superuser.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

TENANT_SETTING = "flightdeck.tenant_id"
SYSTEM_SCOPE = "*"
APP_ROLE = "flightdeck_app"
_INFO_KEY = "flightdeck_tenant_scope"
_SET_SCOPE = text("SELECT set_config('flightdeck.tenant_id', :scope, true)")


def tenant_session(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID | str
) -> AsyncSession:
    """A new session whose transactions all run in `tenant_id`'s scope."""
    return sessions(info={_INFO_KEY: str(tenant_id)})


async def scope_to_tenant(session: AsyncSession, tenant_id: uuid.UUID | str) -> None:
    """Narrow an open session to one tenant: the current transaction and every later one."""
    session.info[_INFO_KEY] = str(tenant_id)
    if session.in_transaction():
        await session.execute(_SET_SCOPE, {"scope": str(tenant_id)})


def scope_of(session: AsyncSession | Session) -> str:
    return str(session.info.get(_INFO_KEY, SYSTEM_SCOPE))


@event.listens_for(Session, "after_begin")
def _apply_scope(session: Session, transaction: SessionTransaction, connection: Connection) -> Any:
    """Every transaction starts by naming its scope (transaction-local, so a pooled connection
    never carries one tenant's scope into another's transaction)."""
    connection.execute(_SET_SCOPE, {"scope": scope_of(session)})
