"""TrackMetaAdReviewWorkflow over days on the time-skipping server: polls back off, an alert
fires when ads are still pending after 48 h (a poll lands on the deadline), a rejection raises
its own alert, tracking gives up in time, and a refused token ends it asking to reconnect.

The review check is a fake registered under the activity's name; it answers from the
(time-skipped) clock the server gives each attempt: Meta's verdicts arrive on a schedule."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from flightdeck.activities import names
from flightdeck.domain.meta_io import (
    FinishReviewInput,
    MetaRef,
    RefInput,
    ReviewAlertInput,
    ReviewCheck,
    ReviewOutcome,
    ReviewSettings,
    TrackReviewInput,
)
from flightdeck.failures import Failure, failure, failure_type
from flightdeck.workflows.meta_review import TrackMetaAdReviewWorkflow

HOUR = 3600.0


class MetaReview:
    """Ad "a" is approved 30 h after publishing, ad "b" rejected at `reject_after` hours (never,
    when None); a token refused from `token_dies_after` hours on."""

    def __init__(self, reject_after: float | None = 60, token_dies_after: float | None = None):
        self.reject_after = reject_after
        self.token_dies_after = token_dies_after
        self.started: datetime | None = None
        self.polls: list[float] = []
        self.alerts: list[tuple[float, ReviewAlertInput]] = []
        self.finished: list[ReviewOutcome] = []
        self._rejected_seen = False

    def hours(self) -> float:
        now = activity.info().current_attempt_scheduled_time
        # The first look comes poll_initial_seconds (60 s) after the publish.
        self.started = self.started or now - timedelta(seconds=60)
        return (now - self.started).total_seconds() / HOUR

    @activity.defn(name=names.META_CHECK_REVIEWS)
    async def check(self, inp: RefInput) -> ReviewCheck:
        hours = self.hours()
        self.polls.append(hours)
        if self.token_dies_after is not None and hours >= self.token_dies_after:
            raise failure(Failure.REAUTH_REQUIRED, "Meta refused the token: reconnect")
        approved = 1 if hours >= 30 else 0
        rejected = self.reject_after is not None and hours >= self.reject_after
        newly = ["b"] if rejected and not self._rejected_seen else []
        self._rejected_seen = self._rejected_seen or rejected
        pending = (1 - approved) + (0 if rejected else 1)
        return ReviewCheck(
            pending=pending, approved=approved, rejected=int(rejected), newly_rejected=newly
        )

    @activity.defn(name=names.META_REVIEW_ALERT)
    async def alert(self, inp: ReviewAlertInput) -> None:
        self.alerts.append((self.hours() if self.started else 0.0, inp))

    @activity.defn(name=names.META_FINISH_REVIEW)
    async def finish(self, inp: FinishReviewInput) -> None:
        self.finished.append(inp.outcome)


async def track(env: WorkflowEnvironment, fake: MetaReview, **review: float) -> ReviewOutcome:
    queue = f"review-{uuid.uuid4().hex[:8]}"
    settings = ReviewSettings(
        alert_after_seconds=48 * HOUR,
        poll_initial_seconds=60,
        poll_max_seconds=HOUR,
        give_up_seconds=review.get("give_up_seconds", 14 * 24 * HOUR),
    )
    ref = MetaRef(tenant_id=str(uuid.uuid4()), campaign_id=str(uuid.uuid4()), connection_id="c")
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[TrackMetaAdReviewWorkflow],
        activities=[fake.check, fake.alert, fake.finish],
    ):
        return await env.client.execute_workflow(
            TrackMetaAdReviewWorkflow.run,
            TrackReviewInput(ref=ref, meta_task_queue=queue, review=settings),
            id=f"review-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            result_type=ReviewOutcome,
        )


async def test_review_is_followed_over_days_with_backoff_and_alerts(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = MetaReview(reject_after=60)
    outcome = await track(time_skipping_env, fake)
    assert outcome.status == "decided" and (outcome.approved, outcome.rejected) == (1, 1)
    kinds = [(round(at, 1), a.kind) for at, a in fake.alerts]
    pending_at = [at for at, kind in kinds if kind == "review_pending"]
    assert len(pending_at) == 1 and 48 <= pending_at[0] < 48.1  # a poll on the deadline
    rejected_at = [at for at, kind in kinds if kind == "ad_rejected"]
    assert len(rejected_at) == 1 and 60 <= rejected_at[0] <= 61
    assert fake.alerts[-1][1].ad_ids == ["b"]
    gaps = [b - a for a, b in zip(fake.polls, fake.polls[1:], strict=False)]
    assert gaps[0] < gaps[1] < gaps[2]  # backing off
    assert max(gaps) <= 1.01  # never more than poll_max_seconds apart
    assert len(fake.polls) < 70  # ~2.5 days followed in about an hourly rhythm, not per minute
    assert fake.finished[-1].status == "decided"


async def test_tracking_gives_up_in_time(time_skipping_env: WorkflowEnvironment) -> None:
    fake = MetaReview(reject_after=None)
    outcome = await track(time_skipping_env, fake, give_up_seconds=72 * HOUR)
    assert outcome.status == "gave_up" and outcome.pending == 1
    assert 72 <= fake.polls[-1] <= 73
    assert [a.kind for _, a in fake.alerts] == ["review_pending"]


async def test_a_refused_token_ends_tracking_asking_to_reconnect(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = MetaReview(token_dies_after=10)
    with pytest.raises(WorkflowFailureError) as caught:
        await track(time_skipping_env, fake)
    assert failure_type(caught.value) == Failure.REAUTH_REQUIRED
    assert [a.kind for _, a in fake.alerts] == ["review_stopped"]
    assert "reconnect" in fake.alerts[0][1].message
    assert fake.finished[-1].status == "error"
    assert 10 <= fake.polls[-1] < 11  # one refused look, no retry loop
