"""Creates of objects that carry no marker of ours — Reddit posts — and the lookup that finds
the post of a create whose answer was lost, without ever taking another create's post.

Every other object we create carries our entity's marker (`domain.adoption`), so a retry finds
exactly its own. A Reddit post has no name or other free field (reddit-ads-api.md): after a
lost answer the retry can only look for an unpromoted post with the ad's copy that nobody
holds. Tenants may connect the same profile with the same copy, so "nobody holds" must include
a post another create *has just made and not yet recorded*. Waiting a moment only narrows
that; this closes it, but for the tie below (where, too, no post is mapped twice). Each
create and each lookup writes a row (`unmarked_creates`, one table for every tenant) before
it checks the others' — like Dekker's mutual exclusion, one of the two always sees the other:

- **A create** writes `in_flight`, then checks for a lookup of the same content under way. If
  there is one, it withdraws (`done`, nothing sent) and waits for that lookup to end. Otherwise
  it sends; the post's record closes the row holding the post id (`claim`), a refusal closes it
  empty, and an unknown outcome leaves it `lost`.
- **A lookup** first retires its owner's earlier rows (their attempts are over: an `in_flight`
  one becomes `lost`). It writes `looking`, then waits until no other owner's create of that
  content is `in_flight`. New creates now see the lookup and wait, so this ends. Only then does
  it list the posts: any post another create made is recorded by now, or is that create's
  `lost` one. The wait is bounded (`IN_FLIGHT_WAIT`, and half the attempt's time): a create
  whose worker died is only `in_flight` until its owner's retry retires it or its deadline
  passes. A create still `in_flight` when the wait ends counts as a possible owner below.
- **The pick.** The lookup takes a post nobody claimed: not mapped by any ad of any tenant, not
  in any row. If other owners may also have made a post of the same copy (lost answers, or
  creates still in flight), candidates and owners are matched in creation order. The claim
  itself is unique. Such a tie is two creates of identical posts on one profile whose
  outcomes were unknown at the same moment. Either post is then the same copy on the same
  profile, unpromoted, and no post is ever mapped twice.

A row whose worker died stops counting at its `deadline`: for a create, when its call must have
ended (the attempt's end: `_time_to_create` sends nothing later); a lookup renews its own while
it waits. No connection is held between statements, and no lock across a platform call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from flightdeck.db.repositories.unmarked_creates import UnmarkedCreates, UnmarkedKey

# How long a lookup row stays alive without renewal (it renews on each wait): a lookup whose
# worker died holds up creates of its content at most this long.
LOOKUP_LEASE = timedelta(seconds=30)
# After a create's call can no longer be running, how long before its row stops counting: the
# platform may finish a request just after the client gave up on it.
CREATE_MARGIN = timedelta(seconds=5)
# How long a lookup waits at most for other owners' creates in flight: an answered create
# records its post within milliseconds; one still in flight after this counts as a possible
# owner instead (its worker may have died).
IN_FLIGHT_WAIT = 5.0
FIRST_PAUSE, LONGEST_PAUSE = 0.05, 1.0


def content_key(fields: dict[str, object]) -> str:
    """A hash of what a lookup compares (the post's copy), so rows reveal nothing."""
    encoded = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


class Waiting:
    """Backoff between checks, with the attempt's heartbeat and time check on each. `enough`:
    whether a bounded wait should end now (e.g. half the attempt's time is gone)."""

    def __init__(
        self,
        heartbeat: Callable[[], None],
        time_left: Callable[[], None],
        enough: Callable[[], bool] = lambda: False,
    ) -> None:
        self._heartbeat, self._time_left, self._enough = heartbeat, time_left, enough
        self._pause, self._started = FIRST_PAUSE, time.monotonic()

    def enough(self, at_most: float) -> bool:
        return time.monotonic() - self._started >= at_most or self._enough()

    async def pause(self) -> None:
        self._heartbeat()
        self._time_left()
        await asyncio.sleep(self._pause * (1 + random.random()))
        self._pause = min(self._pause * 2, LONGEST_PAUSE)


class UnmarkedCreateGuard:
    def __init__(self, rows: UnmarkedCreates) -> None:
        self.rows = rows

    async def before_create(self, key: UnmarkedKey, waiting: Waiting, sent_by: timedelta) -> int:
        """The create's row, once no lookup of the same content is under way: send now.
        `sent_by`: how long from now the create's call may still be running at most."""
        while True:
            row = await self.rows.open(key, "in_flight", sent_by + CREATE_MARGIN)
            if not await self.rows.others_alive(key, "looking"):
                return row
            await self.rows.close(row)  # withdrawn: nothing was sent
            while await self.rows.others_alive(key, "looking"):
                await waiting.pause()

    async def lookup(
        self,
        key: UnmarkedKey,
        candidates: Callable[[], Awaitable[list[str]]],
        mapped: Callable[[list[str]], Awaitable[set[str]]],
        take: Callable[[int, str | None], Awaitable[bool]],
        waiting: Waiting,
    ) -> str | None:
        """The post `key.owner`'s lost create made, if any. `candidates`: the platform's posts
        with the copy, oldest first; `mapped`: those any entity of any tenant maps; `take`:
        record the pick (or None) and `UnmarkedCreates.claim` the row in one transaction —
        False if another owner claimed the post first (then the pick is made again)."""
        await self.rows.retire(key)
        row = await self.rows.open(key, "looking", LOOKUP_LEASE)
        try:
            while not waiting.enough(IN_FLIGHT_WAIT):
                if not await self.rows.others_alive(key, "in_flight"):
                    break
                await waiting.pause()
                await self.rows.renew(row, LOOKUP_LEASE)
            listed = await candidates()
            await self.rows.renew(row, LOOKUP_LEASE)
            while True:
                held = await mapped(listed) | await self.rows.claimed(key.platform, listed)
                free = [post for post in listed if post not in held]
                owners = await self.rows.possible_owners(key)
                rank = owners.index(key.owner) if key.owner in owners else len(free)
                pick = free[rank] if rank < len(free) else None
                if await take(row, pick):
                    return pick
                listed = free  # claimed by another owner just now: pick again
        finally:
            await self.rows.close(row)
