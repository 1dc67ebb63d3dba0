"""An activity attempt at a given point of its time, for tests of what an attempt does as its
start-to-close timeout nears."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from temporalio.testing import ActivityEnvironment


def attempt(started_ago: float, limit: float = 60.0) -> ActivityEnvironment:
    """An activity environment whose attempt started `started_ago` s ago, of `limit` s."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info,
        started_time=datetime.now(UTC) - timedelta(seconds=started_ago),
        start_to_close_timeout=timedelta(seconds=limit),
    )
    return env
