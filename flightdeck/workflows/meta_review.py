"""TrackMetaAdReviewWorkflow: follows every published ad through Meta's review to its verdict
(metrics-and-review.md §2), with durable timers: a look after `poll_initial_seconds`, then
backing off (doubling) up to `poll_max_seconds`.

- A rejected ad (DISAPPROVED, WITH_ISSUES) is recorded with Meta's feedback and raises an alert.
- Ads still pending `alert_after_seconds` (48 h) after the publish raise one alert; the polls are
  timed so one lands on that deadline.
- Tracking stops when no ad is pending, after `give_up_seconds`, or when the token is refused
  (an alert says to reconnect); each way ends the run recorded with its reason.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        META_CHECK_REVIEWS,
        META_FINISH_REVIEW,
        META_REVIEW_ALERT,
    )
    from flightdeck.domain.meta_io import (
        FinishReviewInput,
        RefInput,
        ReviewAlertInput,
        ReviewCheck,
        ReviewOutcome,
        TrackReviewInput,
    )
    from flightdeck.failures import Failure, failure, failure_message, failure_type

READ_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,
    non_retryable_error_types=[
        "NonRetryablePlatformError",
        "MetaReconnectRequired",
        "MetaPublishNotReady",
    ],  # fmt: skip
)
BOOKKEEPING_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=20)


@workflow.defn
class TrackMetaAdReviewWorkflow:
    def __init__(self) -> None:
        self._last = ReviewCheck()
        self._polls = 0
        self._stop_kind = Failure.PLATFORM_REJECTED

    @workflow.query
    def last_check(self) -> ReviewCheck:
        return self._last

    @workflow.run
    async def run(self, inp: TrackReviewInput) -> ReviewOutcome:
        settings = inp.review
        started = workflow.now()
        alert_at = started + timedelta(seconds=settings.alert_after_seconds)
        give_up_at = started + timedelta(seconds=settings.give_up_seconds)
        interval = settings.poll_initial_seconds
        alerted = False
        while True:
            now = workflow.now()
            wait = timedelta(seconds=interval)
            if not alerted and now + wait > alert_at:
                wait = max(alert_at - now, timedelta(seconds=1))  # look right at the deadline
            await workflow.sleep(wait)
            try:
                check = await self._check(inp)
            except ActivityError as err:
                reason = _message(err)
                self._stop_kind = Failure(failure_type(err) or Failure.PLATFORM_REJECTED)
                await self._alert(
                    inp, "review_stopped", f"ad review tracking stopped: {reason}", []
                )
                return await self._finish(inp, ReviewOutcome(status="error", reason=reason))
            if check.newly_rejected:
                await self._alert(
                    inp,
                    "ad_rejected",
                    f"{len(check.newly_rejected)} ad(s) rejected by Meta's review",
                    check.newly_rejected,
                )
            if check.pending == 0:
                return await self._finish(inp, self._outcome("decided", check))
            now = workflow.now()
            if not alerted and now >= alert_at:
                alerted = True
                hours = settings.alert_after_seconds / 3600
                await self._alert(
                    inp,
                    "review_pending",
                    f"{check.pending} ad(s) still in Meta's review after {hours:g} h",
                    [],
                )
            if now >= give_up_at:
                outcome = self._outcome("gave_up", check)
                outcome.reason = "still pending when tracking gave up"
                return await self._finish(inp, outcome)
            interval = min(interval * 2, settings.poll_max_seconds)

    async def _check(self, inp: TrackReviewInput) -> ReviewCheck:
        self._polls += 1
        self._last = await workflow.execute_activity(
            META_CHECK_REVIEWS,
            RefInput(ref=inp.ref),
            task_queue=inp.meta_task_queue,
            start_to_close_timeout=timedelta(seconds=inp.activity_timeout_seconds),
            schedule_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(seconds=inp.activity_timeout_seconds),
            retry_policy=READ_RETRY,
            result_type=ReviewCheck,
            summary="check the ads' review status on Meta",
        )
        return self._last

    def _outcome(self, status: str, check: ReviewCheck) -> ReviewOutcome:
        return ReviewOutcome(
            status=status,  # type: ignore[arg-type]
            approved=check.approved,
            rejected=check.rejected,
            pending=check.pending,
            polls=self._polls,
        )

    async def _alert(
        self, inp: TrackReviewInput, kind: str, message: str, ad_ids: list[str]
    ) -> None:
        await workflow.execute_activity(
            META_REVIEW_ALERT,
            ReviewAlertInput(ref=inp.ref, kind=kind, message=message, ad_ids=ad_ids),  # type: ignore[arg-type]
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=BOOKKEEPING_RETRY,
            summary=f"raise an alert: {kind}",
        )

    async def _finish(self, inp: TrackReviewInput, outcome: ReviewOutcome) -> ReviewOutcome:
        outcome.polls = self._polls
        await workflow.execute_activity(
            META_FINISH_REVIEW,
            FinishReviewInput(ref=inp.ref, outcome=outcome),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=BOOKKEEPING_RETRY,
            summary=f"record the review outcome: {outcome}",
        )
        if outcome.status == "error":
            raise failure(
                self._stop_kind,
                f"ad review tracking stopped: {outcome.reason}",
                non_retryable=True,
            )
        return outcome


def _message(err: BaseException) -> str:
    return failure_message(err)
