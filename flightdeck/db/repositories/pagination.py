"""Keyset pagination for every list: a `Keyset` names a list's sort key (a few columns, each
ascending or descending, the last one unique), orders a statement by it, and hands out an opaque
cursor holding the key of a page's last row; the next page is the rows after that key — in SQL,
index-friendly, never OFFSET, so rows inserted meanwhile neither repeat nor hide older ones."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

R = TypeVar("R")

MAX_CURSOR_LENGTH = 1000


class InvalidCursor(ValueError):
    """A `cursor` this list did not hand out (malformed, or another list's)."""

    def __init__(self) -> None:
        super().__init__("invalid cursor")


@dataclass(frozen=True)
class SortKey:
    """One column (or expression) of a list's order; `kind` when SQLAlchemy cannot tell the
    Python type of the expression (e.g. a full-text rank)."""

    expression: ColumnElement[Any]
    descending: bool = True
    kind: type | None = None

    def python_type(self) -> type:
        if self.kind is not None:
            return self.kind
        return self.expression.type.python_type  # type: ignore[no-any-return]


def desc(expression: Any, kind: type | None = None) -> SortKey:
    return SortKey(expression, True, kind)


def asc(expression: Any, kind: type | None = None) -> SortKey:
    return SortKey(expression, False, kind)


class Page(NamedTuple, Generic[R]):
    """One page of a list: its rows, and the cursor of the next page (None on the last)."""

    items: list[R]
    next_cursor: str | None


@dataclass(frozen=True)
class Keyset:
    """A list's order. `name` is written into its cursors, so one list refuses another's."""

    name: str
    keys: tuple[SortKey, ...]

    def __init__(self, name: str, *keys: SortKey) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "keys", keys)

    def order_by(self) -> list[ColumnElement[Any]]:
        return [k.expression.desc() if k.descending else k.expression.asc() for k in self.keys]

    def after(self, values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after the row whose key is `values`, in this order."""
        if len({k.descending for k in self.keys}) == 1:
            # One direction: a row comparison, which Postgres answers from a matching index.
            columns = tuple_(*(k.expression for k in self.keys))
            bound = tuple_(*values)
            return columns < bound if self.keys[0].descending else columns > bound
        clauses: list[ColumnElement[bool]] = []
        for i, key in enumerate(self.keys):
            equal = [k.expression == v for k, v in zip(self.keys[:i], values[:i], strict=True)]
            beyond = key.expression < values[i] if key.descending else key.expression > values[i]
            clauses.append(and_(*equal, beyond))
        return or_(false(), *clauses)

    def encode(self, values: Sequence[Any]) -> str:
        raw = json.dumps([self.name, *(_plain(v) for v in values)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def decode(self, cursor: str) -> tuple[Any, ...]:
        """The key `encode` wrote; `InvalidCursor` for anything else."""
        try:
            if len(cursor) > MAX_CURSOR_LENGTH:
                raise ValueError("too long")
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            values = json.loads(raw)
            if not isinstance(values, list) or values[:1] != [self.name]:
                raise ValueError("another list's cursor")
            if len(values) != len(self.keys) + 1:
                raise ValueError("shape")
            return tuple(
                _typed(value, key.python_type())
                for key, value in zip(self.keys, values[1:], strict=True)
            )
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, InvalidOperation):
            raise InvalidCursor() from None

    def paged(
        self, statement: Select[*tuple[Any, ...]], *, limit: int, cursor: str | None
    ) -> Select[*tuple[Any, ...]]:
        """The statement `page` runs: `statement` plus the key columns, after `cursor`, in the
        keyset's order, one row more than `limit` (to tell whether a next page exists)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        statement = statement.add_columns(*(k.expression for k in self.keys))
        if cursor is not None:
            statement = statement.where(self.after(self.decode(cursor)))
        return statement.order_by(None).order_by(*self.order_by()).limit(limit + 1)

    async def page(
        self,
        session: AsyncSession,
        statement: Select[*tuple[Any, ...]],
        *,
        limit: int,
        cursor: str | None,
    ) -> Page[tuple[Any, ...]]:
        """Run `statement` for one page: its rows (without the key columns) after `cursor`, and
        the next page's cursor (None on the last page). The key must not be an aggregate of
        the statement's own GROUP BY (sum in a subquery first, as `MetricsStore` does)."""
        width = len(statement.column_descriptions)
        rows = (await session.execute(self.paged(statement, limit=limit, cursor=cursor))).all()
        next_cursor = self.encode(tuple(rows[limit - 1])[width:]) if len(rows) > limit else None
        return Page([tuple(r)[:width] for r in rows[:limit]], next_cursor)

    def following(
        self, items: Sequence[R], key_of: Callable[[R], Sequence[Any]], *, limit: int,
        cursor: str | None,
    ) -> Page[R]:  # fmt: skip
        """A page of a short list whose order the client fixed (e.g. the ids it asked for, in
        its order): the items after the one whose key the cursor holds."""
        start = 0
        if cursor is not None:
            last = self.decode(cursor)
            keys = [tuple(key_of(item)) for item in items]
            if last not in keys:
                raise InvalidCursor()
            start = keys.index(last) + 1
        page = list(items[start : start + limit])
        more = start + limit < len(items)
        return Page(page, self.encode(key_of(page[-1])) if more and page else None)

    async def scalars(
        self, session: AsyncSession, statement: Select[Any], *, limit: int, cursor: str | None
    ) -> Page[Any]:
        """`page` for a statement selecting one entity: its objects."""
        page = await self.page(session, statement, limit=limit, cursor=cursor)
        return Page([row[0] for row in page.items], page.next_cursor)


def nulls_last(expression: Any, *, descending: bool, filler: Any) -> tuple[SortKey, SortKey]:
    """A nullable sort column as two keys a cursor can hold: rows with a value first (in its
    order), then those without; `filler` stands in for NULL and must be of the column's type."""
    missing = case((expression.is_(None), 1), else_=0)
    return asc(missing, int), SortKey(func.coalesce(expression, filler), descending)


def newest_first(
    name: str, created_at: Any, row_id: Any, rank: ColumnElement[Any] | None = None
) -> Keyset:
    """Newest first — or, when searching, best match (`rank`) first, then newest."""
    if rank is None:
        return Keyset(name, desc(created_at), desc(row_id))
    return Keyset(f"{name}:ranked", desc(rank, float), desc(created_at), desc(row_id))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot page on a {type(value).__name__}")


def _typed(value: Any, kind: type) -> Any:
    if value is None:
        raise ValueError("null key")
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed
    if kind is date:
        return date.fromisoformat(value)
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError("boolean")
        return value
    if kind is Decimal:
        if not isinstance(value, str):
            raise ValueError("decimal")
        return Decimal(value)
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("number")
        return float(value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("integer")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ValueError("text")
        return value
    raise ValueError(f"cannot page on a {kind.__name__}")
