"""`unmarked_creates`: the shared rows through which creates and lookups of objects without a
marker of ours (Reddit posts) coordinate (`activities.unmarked_creates` has the protocol).

Each call is one statement and its own transaction (an autocommit connection): the protocol
needs each write visible to every other worker before its writer reads what the others wrote.
The table names no tenant (opaque hashes only), so no tenant scope applies; `claim` is the one
write made inside the caller's transaction, with the post's record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from flightdeck.db.models import UnmarkedCreate
from flightdeck.db.tenancy import autocommit_engine

T = UnmarkedCreate
LOST_COUNTS_FOR = timedelta(days=1)
PRUNE_BATCH = 5000
OPEN_BY_ATTEMPT = ("in_flight", "looking")


@dataclass(frozen=True)
class UnmarkedKey:
    """One owner's object: `scope` is where it lives (the profile), `content_key` a hash of
    what a lookup compares (the copy), `owner` our entity's adoption ref."""

    platform: str
    scope: str
    content_key: str
    owner: str


def _same_content(key: UnmarkedKey) -> ColumnElement[bool]:
    return and_(T.platform == key.platform, T.scope == key.scope, T.content_key == key.content_key)


class UnmarkedCreates:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._engine: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = autocommit_engine(self._sessions)
        return self._engine

    async def open(self, key: UnmarkedKey, state: str, lease: timedelta) -> int:
        """A new row (`in_flight` for a create, `looking` for a lookup), alive until `lease`
        from now unless renewed or closed."""
        statement = (
            insert(T)
            .values(
                platform=key.platform,
                scope=key.scope,
                content_key=key.content_key,
                owner=key.owner,
                state=state,
                deadline=func.now() + lease,
            )  # fmt: skip
            .returning(T.id)
        )
        async with self.engine.connect() as connection:
            return int((await connection.execute(statement)).scalar_one())

    async def renew(self, row_id: int, lease: timedelta) -> None:
        statement = update(T).where(T.id == row_id).values(deadline=func.now() + lease)
        async with self.engine.connect() as connection:
            await connection.execute(statement)

    async def close(self, row_id: int, state: str = "done") -> None:
        """`done` (settled, nothing claimed) or `lost` (a create whose answer never came)."""
        statement = update(T).where(T.id == row_id, T.state != "done").values(state=state)
        async with self.engine.connect() as connection:
            await connection.execute(statement)

    async def others_alive(self, key: UnmarkedKey, state: str) -> bool:
        """Another owner's row of this content is in `state` and its worker alive: `looking`
        (a lookup is under way), or `in_flight` (a create may still be reaching the platform,
        or be answered and not yet recorded)."""
        statement = select(
            exists().where(
                _same_content(key),
                T.state == state,
                T.owner != key.owner,
                T.deadline > func.now(),
            )  # fmt: skip
        )
        async with self.engine.connect() as connection:
            return bool((await connection.execute(statement)).scalar())

    async def retire(self, key: UnmarkedKey) -> None:
        """The owner's earlier attempts are over: its `in_flight` rows become `lost` (their
        outcome unknown) and its `looking` rows `done`."""
        statement = (
            update(T)
            .where(T.platform == key.platform, T.owner == key.owner, T.state.in_(OPEN_BY_ATTEMPT))
            .values(state=case((T.state == "in_flight", "lost"), else_="done"))
        )
        async with self.engine.connect() as connection:
            await connection.execute(statement)

    async def possible_owners(self, key: UnmarkedKey) -> list[str]:
        """The owners whose create of this content may have made a post nobody recorded yet (an
        answer lost, a create still in flight, a worker that died mid-create), first create
        first — `key.owner` among them if it is one."""
        # Another owner's row counts for a day: by then its own retries and the run's
        # settling have long looked for its post (a row left over counts no more).
        recent = T.created_at > func.now() - LOST_COUNTS_FOR
        open_create = T.state.in_(("in_flight", "lost"))
        statement = (
            select(T.owner)
            .where(_same_content(key), open_create, or_(T.owner == key.owner, recent))
            .group_by(T.owner)
            .order_by(func.min(T.id))
        )
        async with self.engine.connect() as connection:
            return list((await connection.execute(statement)).scalars())

    async def claimed(self, platform: str, remote_ids: list[str]) -> set[str]:
        if not remote_ids:
            return set()
        statement = select(T.remote_id).where(T.platform == platform, T.remote_id.in_(remote_ids))
        async with self.engine.connect() as connection:
            return {r for r in (await connection.execute(statement)).scalars() if r}

    async def prune(self, platform: str, batch: int = PRUNE_BATCH) -> int:
        """Forget settled rows older than a day (oldest first, `batch` at most): by then each
        claimed post is held by its ad's record, which every lookup checks too."""
        old = (
            select(T.id)
            .where(
                T.platform == platform,
                T.state == "done",
                T.created_at < func.now() - LOST_COUNTS_FOR,
            )  # fmt: skip
            .order_by(T.id)
            .limit(batch)
        )
        async with self.engine.connect() as connection:
            result = await connection.execute(delete(T).where(T.id.in_(old.scalar_subquery())))
            return int(result.rowcount or 0)

    @staticmethod
    async def claim(
        session: AsyncSession, key: UnmarkedKey, row_id: int, remote_id: str | None
    ) -> None:
        """In the caller's transaction (with the post's record): `row_id` ends `done` holding
        `remote_id`, and every other open row of the owner ends `done` (its creates are
        settled by this). Raises `AlreadyClaimed` when another owner holds `remote_id`; the
        caller's transaction is then spoilt (roll it back)."""
        try:
            await session.execute(
                update(T).where(T.id == row_id).values(state="done", remote_id=remote_id)
            )
        except IntegrityError as exc:
            raise AlreadyClaimed(remote_id or "") from exc
        await session.execute(
            update(T)
            .where(T.platform == key.platform, T.owner == key.owner, T.state != "done")
            .values(state="done")
        )


class AlreadyClaimed(Exception):
    """Another owner has just claimed this object."""
