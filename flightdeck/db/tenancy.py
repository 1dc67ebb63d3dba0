"""Tenant scope for database sessions, enforced by Postgres row-level security — closed by
default.

Repositories filter every query by `tenant_id`; underneath, each tenant-owned table has a
row-level-security policy (migration 0003) that only shows — and only accepts — rows of the
tenant named by the transaction setting `flightdeck.tenant_id`, so a query that forgot its
filter still cannot read or write another tenant's rows.

- `tenant_session(sessions, tenant_id)`, or `scope_to_tenant(session, tenant_id)` (the API does
  this right after resolving the API key): every transaction runs in that tenant's scope.
- `system_session(sessions, purpose)` / `scope_to_system(session, purpose)`: every tenant's rows,
  for one of the few named `SystemPurpose`s (tests/db/test_tenancy_call_sites.py fails when a
  new call site appears, so widening the list is a reviewed decision).
- Any other session names no scope and sees **nothing**: forgetting the scope fails closed.
- `statement_scope()`: a statement that is its own transaction (run on `autocommit_engine`)
  names its tenant itself, in the same round trip — for the few writes on a hot path.

The application's connections switch to the `flightdeck_app` role (`db/engine.py`; migration
0003 creates it and lets the login user assume it), which the policies bind even when the login
user owns the tables or is a superuser.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal, get_args

from sqlalchemy import (
    CTE,
    ColumnElement,
    String,
    Text,
    Uuid,
    bindparam,
    cast,
    event,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute, Session, SessionTransaction

TENANT_SETTING = "flightdeck.tenant_id"
SYSTEM_SCOPE = "*"
NO_SCOPE = ""  # matches no tenant: what a session that named no scope sees
APP_ROLE = "flightdeck_app"
_INFO_KEY = "flightdeck_tenant_scope"
_PURPOSE_KEY = "flightdeck_system_purpose"
_SET_SCOPE = text("SELECT set_config('flightdeck.tenant_id', :scope, true)")
# The bind parameter a statement built on `statement_scope()` takes its tenant from.
STATEMENT_SCOPE_PARAM = "scope_tenant_id"

# The only reasons to see every tenant's rows. Each is one call site (or one small module).
SystemPurpose = Literal[
    "cli",  # `flightdeck tenant/user …`: create tenants, users, keys; register publish targets
    "dev.bootstrap",  # `flightdeck dev`: the demo tenant
    "api.authenticate",  # resolve an API key (before the tenant is known)
    "api.oauth_callback",  # the platform's redirect carries no key; its `state` names the tenant
    "sweep.retry_failed_syncs",  # failed campaigns of every tenant, for the retry Schedule
    "sweep.sync_back_accounts",  # connected accounts of every tenant, for the sync-back Schedule
    "sweep.pending_plans",  # plans whose workflow never started, for the housekeeping Schedule
    "circuit_breaker",  # per-platform call log and breaker state, shared by all tenants
    "sweep.meta_maintenance",  # failed Meta publishes and old audit entries of every tenant
    # connected accounts and published campaigns of every tenant, for the metrics Schedule
    "sweep.metrics_accounts",
    # open conflicts and alerts, circuit breakers and metrics lag, for the worker's /metrics
    "metrics.scrape",
    # which Reddit posts any tenant's ad maps (tenants may share a profile): a post is adopted
    # after an ambiguous create only if no ad of any tenant holds it
    "sync.post_adoption",
]
SYSTEM_PURPOSES: tuple[str, ...] = get_args(SystemPurpose)


def tenant_session(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID | str
) -> AsyncSession:
    """A new session whose transactions all run in `tenant_id`'s scope."""
    return sessions(info={_INFO_KEY: str(tenant_id)})


def system_session(
    sessions: async_sessionmaker[AsyncSession], purpose: SystemPurpose
) -> AsyncSession:
    """A new session that sees every tenant's rows, for one named purpose."""
    _check(purpose)
    return sessions(info={_INFO_KEY: SYSTEM_SCOPE, _PURPOSE_KEY: purpose})


async def scope_to_tenant(session: AsyncSession, tenant_id: uuid.UUID | str) -> None:
    """Narrow an open session to one tenant: the current transaction and every later one."""
    await _set(session, str(tenant_id))


async def scope_to_system(session: AsyncSession, purpose: SystemPurpose) -> None:
    """Widen an open session to every tenant, for one named purpose."""
    _check(purpose)
    session.info[_PURPOSE_KEY] = purpose
    await _set(session, SYSTEM_SCOPE)


def statement_scope() -> CTE:
    """The tenant scope of one statement that is its own transaction: a CTE that sets
    `flightdeck.tenant_id` (transaction-local, so it ends with the statement) and yields it as
    `tenant_id`. A statement built on it makes its rows *from* this CTE (`INSERT … SELECT …
    FROM scope`), so no row exists before the scope is set, and the policies check every row
    against it; the tenant comes from the `STATEMENT_SCOPE_PARAM` bind parameter (see
    `statement_scope_params`). Run such statements on `autocommit_engine`: one round trip
    instead of four (BEGIN, set_config, the statement, COMMIT)."""
    tenant = func.set_config(TENANT_SETTING, bindparam(STATEMENT_SCOPE_PARAM, type_=String), True)
    # MATERIALIZED: evaluated once, before anything reads it (a volatile CTE is never inlined
    # anyway; this says so).
    return select(cast(tenant, Uuid).label("tenant_id")).cte("scope").prefix_with("MATERIALIZED")


def insert_in_scope(model: Any, values: Mapping[str, Any]) -> PgInsert:
    """`INSERT INTO <model> (tenant_id, <values' columns>) SELECT scope.tenant_id, <values> FROM
    scope`: rows made from the statement's own tenant scope (`statement_scope`), never naming
    their tenant themselves. `values`: column name -> expression (bind parameters, literals)."""
    scope = statement_scope()
    source = select(scope.c.tenant_id, *values.values()).select_from(scope)
    return pg_insert(model).from_select(["tenant_id", *values], source).add_cte(scope)


def statement_scope_params(tenant_id: uuid.UUID | str) -> dict[str, str]:
    """The bind parameter naming the tenant of a `statement_scope()` statement (a uuid, never
    the system scope: system work keeps its explicit, reviewed sessions)."""
    return {STATEMENT_SCOPE_PARAM: str(uuid.UUID(str(tenant_id)))}


async def execute_in_scope(
    engine: AsyncEngine, statement: Any, tenant_id: uuid.UUID | str, params: Mapping[str, Any]
) -> Any:
    """Run a `statement_scope()` statement in `tenant_id`'s scope on an `autocommit_engine`: one
    round trip, its own transaction."""
    async with engine.connect() as connection:
        return await connection.execute(statement, {**params, **statement_scope_params(tenant_id)})


def autocommit_engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The sessions' engine (same pool) with every statement its own transaction: only for
    statements that name their scope themselves (`statement_scope`) — any other statement run
    there names no scope and sees nothing."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine), "the sessionmaker is bound to one async engine"
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def narrowing_to(tenant_id: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[str]:
    """A column to select in a system-scope lookup by a *unique* key (the API key's hash): reading
    the row narrows the transaction to the row's tenant in the same round trip (later rows of the
    statement could see the narrowed scope, so at most one row may match). The caller then
    records the scope with `narrowed_to`, or — no row — closes it with `scope_to_tenant(session,
    NO_SCOPE)`: until then the transaction is still in the system scope."""
    return func.set_config(TENANT_SETTING, cast(tenant_id, Text), True)


def narrowed_to(session: AsyncSession, tenant_id: uuid.UUID | str) -> None:
    """Record that a `narrowing_to` lookup narrowed the current transaction to `tenant_id`: it
    and every later transaction of the session run in that tenant's scope."""
    session.info[_INFO_KEY] = str(tenant_id)


def scope_of(session: AsyncSession | Session) -> str:
    return str(session.info.get(_INFO_KEY, NO_SCOPE))


def _check(purpose: str) -> None:
    if purpose not in SYSTEM_PURPOSES:
        raise ValueError(f"{purpose!r} is not a system purpose ({', '.join(SYSTEM_PURPOSES)})")


async def _set(session: AsyncSession, scope: str) -> None:
    session.info[_INFO_KEY] = scope
    if session.in_transaction():
        await session.execute(_SET_SCOPE, {"scope": scope})


@event.listens_for(Session, "after_begin")
def _apply_scope(session: Session, transaction: SessionTransaction, connection: Connection) -> Any:
    """Every transaction starts by naming its scope (transaction-local, so a pooled connection
    never carries one tenant's scope into another's transaction)."""
    connection.execute(_SET_SCOPE, {"scope": scope_of(session)})
