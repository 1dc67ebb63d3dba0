"""One read of an account's row per platform push (`SyncActivities.push_entity`).

A push used to read the same ad account (and, for Meta, its connection) two or three times
within milliseconds: once for the account's context (ids, defaults), once per HTTP call for
its token, once for Google's manager login. Each read was its own transaction (BEGIN, the
tenant scope, the SELECT, ROLLBACK): on a busy sync, more database work than the push's
bookkeeping. Inside `one_read_per_push()` the account services keep what they read for the
rest of that push (its own asyncio task); outside it (the API, sync-back, publishes) every
call reads afresh, as before. A token refresh forgets what was kept, so a push never reuses a
token it has just replaced; a reconnect or a `reauth_required` mark is seen by the next push.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.db.models import AdAccount, CampaignMetaConnection
from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.repositories.meta import MetaConnectionRepository
from flightdeck.db.tenancy import tenant_session

T = TypeVar("T")

_KEPT: ContextVar[dict[Hashable, Any] | None] = ContextVar("flightdeck_account_reads", default=None)


@contextlib.contextmanager
def one_read_per_push() -> Iterator[None]:
    """Within this block (one push), each account row is read at most once."""
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


async def kept(key: Hashable, read: Callable[[], Awaitable[T]]) -> T:
    """`read()`'s answer, read once per push (every time outside a push)."""
    reads = _KEPT.get()
    if reads is None:
        return await read()
    if key not in reads:
        reads[key] = await read()
    value: T = reads[key]
    return value


def keep(key: Hashable, value: Any) -> None:
    """Keep a row read along with another (Meta: the connection read with its ad account)."""
    reads = _KEPT.get()
    if reads is not None:
        reads[key] = value


def forget() -> None:
    """Tokens were replaced: the next read goes to the database again."""
    reads = _KEPT.get()
    if reads is not None:
        reads.clear()


async def kept_ad_account(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, account_id: uuid.UUID
) -> AdAccount | None:
    """The ad account's row: kept for the push, else read in the tenant's scope."""

    async def read() -> AdAccount | None:
        async with tenant_session(sessions, tenant_id) as session:
            return await AdAccountRepository(session).get(tenant_id, account_id)

    return await kept(("ad_account", account_id), read)


async def kept_meta_connection(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID, connection_id: uuid.UUID
) -> CampaignMetaConnection | None:
    """The Meta connection's row: kept for the push, else read in the tenant's scope."""

    async def read() -> CampaignMetaConnection | None:
        async with tenant_session(sessions, tenant_id) as session:
            return await MetaConnectionRepository(session).get(tenant_id, connection_id)

    return await kept(("meta_connection", connection_id), read)


async def read_along(
    session: AsyncSession, tenant_id: uuid.UUID, account_id: uuid.UUID | None
) -> None:
    """Inside a push, read the ad account's row (and its Meta connection's, if any) in the
    push's own read transaction and keep them: the account services find them there instead
    of opening transactions of their own."""
    if _KEPT.get() is None or account_id is None:
        return
    account = await AdAccountRepository(session).get(tenant_id, account_id)
    keep(("ad_account", account_id), account)
    if account is not None and account.meta_connection_id is not None:
        connection = await MetaConnectionRepository(session).get(
            tenant_id, account.meta_connection_id
        )
        keep(("meta_connection", account.meta_connection_id), connection)
