"""The one way a list endpoint takes its page: `?limit=` (1–200, default 100) and `?cursor=`
(the `nextCursor` of the previous page, opaque). Repositories page with
`flightdeck.db.repositories.pagination.Keyset`; a cursor they cannot read raises
`InvalidCursor`, which `api/errors.py` answers with a 422 naming `cursor`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from flightdeck.db.repositories.pagination import MAX_CURSOR_LENGTH

DEFAULT_LIMIT = 100  # what most lists answered before they paged; at most MAX_LIMIT
MAX_LIMIT = 200


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


async def page_request(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"rows per page (at most {MAX_LIMIT})")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_LENGTH,
            description="the previous page's `nextCursor`; omit for the first page",
        ),
    ] = None,
) -> PageRequest:
    return PageRequest(limit, cursor or None)


PageDep = Annotated[PageRequest, Depends(page_request)]
