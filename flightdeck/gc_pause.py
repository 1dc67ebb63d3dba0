"""Pausing Python's cyclic garbage collector around bulk work that allocates hundreds of
thousands of long-lived objects at once (a sync-back cycle reads 70,000 platform objects and
sync records): each full collection scans the worker's whole heap (over a million objects:
the Temporal sandbox, the app), and such a burst triggers several. Measured at 10,000
campaigns: loading the account took 8 s with the collector, 2.6 s without (bench/sync_back.py).

Reference counting still frees everything that is not in a cycle; cycles made meanwhile are
collected when the last pause ends. Pauses nest and overlap (concurrent activities share the
event loop thread): the collector resumes when the last one ends, and only if it ran before.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_pauses = 0
_was_enabled = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    global _pauses, _was_enabled
    if _pauses == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _pauses += 1
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0 and _was_enabled:
            gc.enable()
