"""The time an activity attempt has left: Temporal does not stop an attempt that outlives its
start-to-close timeout (only a heartbeat would tell it), so work inside an attempt checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio import activity


def attempt_end() -> datetime | None:
    """When this activity attempt's time is over (None: it has no time limit)."""
    info = activity.info()
    limit = info.start_to_close_timeout
    return info.started_time + limit if limit else None


def wait_fits(seconds: float, margin: timedelta) -> bool | None:
    """Waiting `seconds` still leaves this attempt `margin` (at most half its time) after it —
    e.g. for a call whose HTTP timeout is `margin`; None when the attempt has no time limit."""
    info = activity.info()
    limit = info.start_to_close_timeout
    if not limit:
        return None
    later = datetime.now(UTC) + timedelta(seconds=seconds)
    return later + min(margin, limit / 2) < info.started_time + limit
