"""The simulators keep their state across restarts of `flightdeck dev` / `flightdeck simulators`
(a file under the data dir, as Temporal's and Postgres' state already are): objects, id
sequences, the relay's idempotency cache, OAuth apps and tokens, hosted media. What only makes
sense while the process runs — the request log, fault rules, rate-limit windows, the lock — is
not kept. `POST /_sim/reset` still empties everything (and the file with the next save).

Saved at most once a second after something changed, atomically (write a temporary file, then
rename), and once more on shutdown. A file from an incompatible version is set aside, and the
simulators start empty rather than half-restored.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from dataclasses import fields
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from flightdeck.simulators.state import SimulatorState

logger = logging.getLogger(__name__)

# Process-local parts of the state: never saved, never restored.
TRANSIENT = frozenset(
    {"lock", "requests", "faults", "relay_calls", "dirty", "edits", "reddit_indexes"}
)
FORMAT_VERSION = 1
SAVE_INTERVAL_SECONDS = 1.0


def snapshot(state: SimulatorState) -> bytes:
    kept = {f.name: getattr(state, f.name) for f in fields(state) if f.name not in TRANSIENT}
    return pickle.dumps({"version": FORMAT_VERSION, "state": kept})


def restore(state: SimulatorState, data: bytes) -> None:
    loaded = pickle.loads(data)  # noqa: S301 - our own file, written by `snapshot`
    if not isinstance(loaded, dict) or loaded.get("version") != FORMAT_VERSION:
        raise ValueError("simulator state file of another format version")
    known = {f.name for f in fields(state)} - TRANSIENT
    for name, value in loaded["state"].items():
        if name in known:
            setattr(state, name, value)
    state.reddit.limits.reset()  # windows are process-local (monotonic clock)
    state.google.minute_windows.clear()


def load(state: SimulatorState, path: Path) -> bool:
    """Restore `state` from `path` if it holds a usable snapshot; True if it did."""
    if not path.exists():
        return False
    try:
        restore(state, path.read_bytes())
    except Exception as exc:  # noqa: BLE001 - any unreadable file: start empty, keep it aside
        aside = path.with_suffix(path.suffix + ".unreadable")
        path.replace(aside)
        logger.warning("simulator state in %s unreadable (%s); moved to %s", path, exc, aside)
        return False
    return True


def save(state: SimulatorState, path: Path) -> None:
    _write(path, snapshot(state))


async def keep_saved(state: SimulatorState, path: Path) -> None:
    """Save after changes, at most once per interval, until cancelled (the caller saves once
    more when it stops: `save_on_stop`)."""
    while True:
        await asyncio.sleep(SAVE_INTERVAL_SECONDS)
        if state.dirty:
            state.dirty = False
            async with state.lock:
                data = snapshot(state)
            await asyncio.to_thread(_write, path, data)


def save_on_stop(state: SimulatorState, path: Path) -> None:
    """The last save, when the simulators stop — by the caller, not in `keep_saved`'s
    `finally`: a task cancelled before it first ran never enters its `try`, and a short-lived
    app (a test's) stopped before the saver ever ran, so nothing was saved."""
    try:
        save(state, path)
    except Exception:  # noqa: BLE001 - a failed last save must not fail the shutdown
        logger.exception("could not save the simulator state to %s", path)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


class MarkDirty:
    """ASGI middleware: any request that may change state marks it for the next save."""

    def __init__(self, app: ASGIApp, *, state: SimulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            self.state.dirty = True
        await self.app(scope, receive, send)
