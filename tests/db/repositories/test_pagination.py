"""The cursor codec and the keyset condition behind every list: a cursor round-trips its key
exactly (times with their zone, ids, numbers, text, flags), refuses anything else — another
list's cursor included — and the condition is a row comparison when one direction orders every
key, so Postgres can answer it from an index."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Column, Date, DateTime, Integer, MetaData, Numeric, String, Table
from sqlalchemy import Uuid as UuidType
from sqlalchemy.dialects import postgresql

from flightdeck.db.repositories.pagination import (
    InvalidCursor,
    Keyset,
    asc,
    desc,
    nulls_last,
)

table = Table(
    "things",
    MetaData(),
    Column("id", UuidType, primary_key=True),
    Column("created_at", DateTime(timezone=True)),
    Column("day", Date),
    Column("rank", Integer),
    Column("amount", Numeric),
    Column("name", String),
    Column("flag", Boolean),
)
c = table.c
EVERY_TYPE = Keyset(
    "things", desc(c.created_at), asc(c.day), asc(c.rank), desc(c.amount), asc(c.name),
    asc(c.flag), desc(c.id),
)  # fmt: skip
KEY = (
    datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=UTC),
    date(2026, 5, 1),
    3,
    Decimal("12.345600"),
    'Ünïcode, "quoted"',
    True,
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
)


def raw(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def test_a_cursor_round_trips_its_key_exactly() -> None:
    cursor = EVERY_TYPE.encode(KEY)
    assert EVERY_TYPE.decode(cursor) == KEY
    assert "=" not in cursor and "/" not in cursor and "+" not in cursor  # URL-safe as is
    assert EVERY_TYPE.decode(cursor)[3] == Decimal("12.345600")  # no float in between


def test_a_cursor_keeps_the_time_zone() -> None:
    order = Keyset("times", desc(c.created_at), desc(c.id))
    later = datetime.fromisoformat("2026-05-01T14:30:00+02:00")
    decoded = order.decode(order.encode((later, KEY[-1])))[0]
    assert decoded == later and decoded.utcoffset() is not None


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%",
        raw("not a list"),
        raw([]),
        raw(
            [
                "other-list",
                *json.loads(base64.urlsafe_b64decode(EVERY_TYPE.encode(KEY) + "==="))[1:],
            ]
        ),
        raw(["things", KEY[0].isoformat()]),  # too short
        raw(
            ["things", "2026-05-01T12:00:00", "2026-05-01", 3, "1", "x", True, str(KEY[-1])]
        ),  # naive
        raw(["things", KEY[0].isoformat(), "2026-05-01", "3", "1", "x", True, str(KEY[-1])]),  # "3"
        raw(["things", KEY[0].isoformat(), "2026-05-01", 3, 1.5, "x", True, str(KEY[-1])]),  # float
        raw(["things", KEY[0].isoformat(), "2026-05-01", 3, "1", 7, True, str(KEY[-1])]),  # 7
        raw(["things", KEY[0].isoformat(), "2026-05-01", 3, "1", "x", 1, str(KEY[-1])]),  # 1
        raw(["things", KEY[0].isoformat(), "2026-05-01", 3, "1", "x", True, "not-a-uuid"]),
        raw(["things", None, "2026-05-01", 3, "1", "x", True, str(KEY[-1])]),
        "A" * 1001,
    ],
)
def test_anything_else_is_an_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        EVERY_TYPE.decode(cursor)


def sql(condition: object) -> str:
    return str(condition.compile(dialect=postgresql.dialect()))  # type: ignore[attr-defined]


def test_one_direction_is_a_row_comparison() -> None:
    newest = Keyset("n", desc(c.created_at), desc(c.id))
    oldest = Keyset("o", asc(c.created_at), asc(c.id))
    assert sql(newest.after(KEY[::6])).startswith("(things.created_at, things.id) <")
    assert sql(oldest.after(KEY[::6])).startswith("(things.created_at, things.id) >")


def test_mixed_directions_expand_key_by_key() -> None:
    mixed = Keyset("m", asc(c.rank), desc(c.created_at), asc(c.id))
    text = sql(mixed.after((3, KEY[0], KEY[-1])))
    assert "things.rank >" in text
    assert "things.rank = " in text and "things.created_at <" in text
    assert "things.created_at = " in text and "things.id >" in text


def test_nulls_last_is_two_keys_a_cursor_can_hold() -> None:
    missing, value = nulls_last(c.created_at, descending=True, filler=KEY[0])
    assert not missing.descending and missing.python_type() is int
    assert value.descending and value.python_type() is datetime
    assert "CASE WHEN" in sql(missing.expression) and "coalesce" in sql(value.expression)


def test_a_list_the_client_ordered_pages_after_the_cursors_item() -> None:
    order = Keyset("asked", asc(c.id))
    ids = [uuid.uuid4() for _ in range(5)]
    seen, cursor = [], None
    while True:
        page = order.following(ids, lambda i: (i,), limit=2, cursor=cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids
    with pytest.raises(InvalidCursor):
        order.following(ids[:2], lambda i: (i,), limit=2, cursor=order.encode((uuid.uuid4(),)))
