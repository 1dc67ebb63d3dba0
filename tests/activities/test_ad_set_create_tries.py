"""A create inside an ad set's activity (`strategis._tried`): tried again in the attempt after a
retryable failure, never after a refusal, and never sent when its call could outlive the
attempt (the next attempt, running beside a late one, looks first)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from flightdeck.activities.strategis import _tried
from flightdeck.failures import Failure, failure
from tests.activities.attempts import attempt


class Platform:
    """Answers each try from `answers` (an exception is raised); records the `again` flags."""

    def __init__(self, *answers: object) -> None:
        self.answers, self.tries = list(answers), []

    async def create(self, again: bool) -> str:
        self.tries.append(again)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return str(answer)


async def test_retryable_failures_are_tried_again_in_the_attempt_as_possibly_created() -> None:
    platform = Platform(
        failure(Failure.PLATFORM_UNAVAILABLE, "503"), failure(Failure.PLATFORM_UNAVAILABLE, "502"),
        "tc_1",
    )  # fmt: skip
    got = await attempt(0).run(_tried, platform.create, "tracking_campaign[0]")
    assert got == "tc_1"
    assert platform.tries == [False, True, True], "a try after a failure looks first"


async def test_a_refusal_is_not_tried_again_and_names_its_step() -> None:
    refused = failure(Failure.PLATFORM_REJECTED, "relay answered 400: bad creative")
    platform = Platform(refused)
    with pytest.raises(ApplicationError) as raised:
        await attempt(0).run(_tried, platform.create, "facebook_creative[1][0]")
    assert platform.tries == [False]
    assert raised.value.non_retryable and raised.value.type == Failure.PLATFORM_REJECTED
    assert raised.value.details[0]["step"] == "facebook_creative[1][0]"
    assert raised.value.message.startswith("facebook_creative[1][0]: relay answered 400")


async def test_a_create_that_could_outlive_its_attempt_is_not_sent() -> None:
    platform = Platform("never")
    with pytest.raises(ApplicationError) as raised:
        # 45 s into a 60 s attempt: a call with a 30 s timeout could end after the attempt.
        await attempt(45).run(_tried, platform.create, "tracking_campaign[2]")
    assert platform.tries == [], "nothing was sent"
    assert not raised.value.non_retryable, "the next attempt looks first, then creates"
    assert raised.value.details[0]["step"] == "tracking_campaign[2]"


async def test_a_wait_that_does_not_fit_goes_to_temporals_retry() -> None:
    limited = failure(Failure.RATE_LIMITED, "429", next_retry_delay=timedelta(seconds=40))
    platform = Platform(limited, "too late")
    with pytest.raises(ApplicationError) as raised:
        await attempt(0).run(_tried, platform.create, "facebook_ad[0][0]")
    assert platform.tries == [False], "40 s + a call's 30 s do not fit in a 60 s attempt"
    assert raised.value.next_retry_delay == timedelta(seconds=40)
