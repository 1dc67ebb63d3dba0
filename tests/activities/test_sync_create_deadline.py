"""A create goes out only while it can end inside its attempt's time (issue 8: an attempt that
outlives its start-to-close timeout runs beside the next one; a create it sent that late
could commit after the next attempt looked, and both would create)."""

from __future__ import annotations

from typing import Any

import pytest

from flightdeck.activities.sync import SyncActivities
from flightdeck.platforms.errors import RetryableError
from tests.activities.attempts import attempt


def _activities() -> SyncActivities:
    nothing: Any = None  # the check touches no session, adapter or breaker
    return SyncActivities(nothing, nothing, nothing, call_timeout_seconds=30)


def test_a_create_goes_out_while_the_call_fits_in_theattempt() -> None:
    attempt(started_ago=5, limit=60).run(_activities()._time_to_create, "reddit")


def test_a_create_too_late_in_its_attempt_is_not_sent() -> None:
    # 40 s into a 60 s attempt: a 30 s call could end after the next attempt has looked.
    with pytest.raises(RetryableError, match="too little of this attempt's time left"):
        attempt(started_ago=40, limit=60).run(_activities()._time_to_create, "reddit")


def test_a_short_attempt_keeps_half_its_time_for_the_call() -> None:
    attempt(started_ago=4, limit=10).run(_activities()._time_to_create, "reddit")
    with pytest.raises(RetryableError):
        attempt(started_ago=6, limit=10).run(_activities()._time_to_create, "reddit")
