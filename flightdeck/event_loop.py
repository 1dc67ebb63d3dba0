"""The event loop every long-running Flightdeck process runs on: uvloop (from
`uvicorn[standard]`), whose transports and scheduling cost a fraction of the stdlib loop's CPU
per socket operation — the worker's platform calls and Temporal bridge traffic, the API's
requests, the simulators' answers. Where uvloop has no build, the stdlib loop serves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or None (the stdlib loop) when uvloop is not installed."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the loop Flightdeck's processes use (benchmarks measure that)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
