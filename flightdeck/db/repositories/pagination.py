"""Keyset pagination shared by the library's lists: an opaque cursor holding the sort key of a
page's last row — `(created_at, id)`, or `(rank, created_at, id)` for ranked search."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, tuple_


@dataclass(frozen=True)
class Position:
    created_at: datetime
    id: uuid.UUID
    rank: float | None = None


def encode_cursor(position: Position) -> str:
    values: list[Any] = [position.created_at.isoformat(), str(position.id)]
    if position.rank is not None:
        values.append(position.rank)
    raw = json.dumps(values, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, ranked: bool) -> Position:
    """ValueError("invalid cursor") for anything `encode_cursor` did not make for this query."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != (3 if ranked else 2):
            raise ValueError("shape")
        created, row_id = datetime.fromisoformat(values[0]), uuid.UUID(values[1])
        rank = float(values[2]) if ranked else None
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("invalid cursor") from exc
    if created.tzinfo is None:
        raise ValueError("invalid cursor")
    return Position(created, row_id, rank)


def after(
    position: Position, created_at: Any, row_id: Any, rank: ColumnElement[Any] | None = None
) -> ColumnElement[bool]:
    """Rows after `position` in (rank DESC,) created_at DESC, id DESC order."""
    older = tuple_(created_at, row_id) < tuple_(position.created_at, position.id)
    if rank is None or position.rank is None:
        return older
    return or_(rank < position.rank, and_(rank == position.rank, older))
