"""A push reads its account's row once (`accounts/reads.py`); everything else reads afresh."""

from __future__ import annotations

import asyncio

from flightdeck.accounts.reads import forget, keep, kept, one_read_per_push


class Reads:
    def __init__(self) -> None:
        self.count = 0

    async def __call__(self) -> str:
        self.count += 1
        return f"row {self.count}"


async def test_inside_a_push_the_row_is_read_once_outside_every_time() -> None:
    reads = Reads()
    assert await kept("a", reads) == "row 1"
    assert await kept("a", reads) == "row 2"  # no push: a fresh read each time

    with one_read_per_push():
        assert await kept("a", reads) == "row 3"
        assert await kept("a", reads) == "row 3"
        assert await kept("b", reads) == "row 4"  # another row is its own read
    assert await kept("a", reads) == "row 5"  # the push is over


async def test_a_token_refresh_forgets_what_the_push_kept() -> None:
    reads = Reads()
    with one_read_per_push():
        await kept("a", reads)
        forget()
        assert await kept("a", reads) == "row 2"


async def test_rows_read_along_are_kept_only_inside_a_push() -> None:
    reads = Reads()
    keep("a", "outside")  # no push: nothing is kept
    assert await kept("a", reads) == "row 1"
    with one_read_per_push():
        keep("a", "read with the push's own rows")
        assert await kept("a", reads) == "read with the push's own rows"
    assert reads.count == 1


async def test_two_pushes_at_once_never_share_a_row() -> None:
    reads = Reads()

    async def push() -> list[str]:
        with one_read_per_push():
            first = await kept("a", reads)
            await asyncio.sleep(0)
            return [first, await kept("a", reads)]

    one, two = await asyncio.gather(push(), push())
    assert one[0] == one[1] and two[0] == two[1] and one[0] != two[0]
