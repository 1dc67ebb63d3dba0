"""PublishMetaCampaignWorkflow on the time-skipping server, with its activities replaced by
fakes: the publish deadline is a timer that ends the run through the normal failure path
(paused, recorded as error), and a refused step records its reason."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from flightdeck.activities import names
from flightdeck.domain.meta_io import (
    ActivateInput,
    AdInput,
    AdSetInput,
    BeginInput,
    CreativeInput,
    FinishInput,
    ImageInput,
    MetaRef,
    PublishMetaInput,
    PublishPlan,
    RefInput,
    VerifyResult,
)
from flightdeck.failures import Failure, failure, failure_type
from flightdeck.workflows.meta_review import TrackMetaAdReviewWorkflow
from flightdeck.workflows.publish_meta import PublishMetaCampaignWorkflow


class FakeGraph:
    """Campaign creation keeps being throttled (`throttle`) or is refused (`refuse`)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.finished: list[FinishInput] = []
        self.compensated = 0
        self.campaign_attempts = 0

    @activity.defn(name=names.META_BEGIN_PUBLISH)
    async def begin(self, inp: BeginInput) -> PublishPlan:
        return PublishPlan(ad_ids=["a1"], ad_image_urls=["https://i/1.png"],
                           image_urls=["https://i/1.png"])  # fmt: skip

    @activity.defn(name=names.META_UPLOAD_IMAGE)
    async def image(self, inp: ImageInput) -> str:
        return "hash1"

    @activity.defn(name=names.META_CREATE_CREATIVE)
    async def creative(self, inp: CreativeInput) -> str:
        return "cr1"

    @activity.defn(name=names.META_CREATE_CAMPAIGN)
    async def campaign(self, inp: RefInput) -> str:
        self.campaign_attempts += 1
        if self.mode == "refuse":
            raise failure(Failure.PLATFORM_REJECTED, "Invalid parameter [fields: goal.goal]")
        raise failure(
            Failure.RATE_LIMITED, "throttled", next_retry_delay=timedelta(minutes=20), benign=True
        )

    @activity.defn(name=names.META_CREATE_ADSET)
    async def adset(self, inp: AdSetInput) -> str:
        return "as1"

    @activity.defn(name=names.META_CREATE_AD)
    async def ad(self, inp: AdInput) -> str:
        return "ad1"

    @activity.defn(name=names.META_ACTIVATE)
    async def activate(self, inp: ActivateInput) -> None:
        return None

    @activity.defn(name=names.META_VERIFY)
    async def verify(self, inp: RefInput) -> VerifyResult:
        return VerifyResult()

    @activity.defn(name=names.META_COMPENSATE)
    async def compensate(self, inp: RefInput) -> None:
        self.compensated += 1

    @activity.defn(name=names.META_FINISH_PUBLISH)
    async def finish(self, inp: FinishInput) -> None:
        self.finished.append(inp)

    def all(self) -> list[object]:
        return [self.begin, self.image, self.creative, self.campaign, self.adset, self.ad,
                self.activate, self.verify, self.compensate, self.finish]  # fmt: skip


async def run(env: WorkflowEnvironment, fake: FakeGraph) -> None:
    queue = f"meta-publish-{uuid.uuid4().hex[:8]}"
    ref = MetaRef(tenant_id=str(uuid.uuid4()), campaign_id=str(uuid.uuid4()), connection_id="c")
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[PublishMetaCampaignWorkflow, TrackMetaAdReviewWorkflow],
        activities=fake.all(),
    ):
        await env.client.execute_workflow(
            PublishMetaCampaignWorkflow.run,
            PublishMetaInput(
                ref=ref,
                meta_task_queue=queue,
                deadline_seconds=2 * 3600,
                step_timeout_seconds=24 * 3600,
            ),
            id=f"meta-publish-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )


async def test_the_deadline_ends_a_throttled_publish_through_the_failure_path(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakeGraph("throttle")
    with pytest.raises(WorkflowFailureError) as caught:
        await run(time_skipping_env, fake)
    assert failure_type(caught.value) == Failure.DEADLINE_EXCEEDED
    assert fake.compensated == 1
    assert [f.status for f in fake.finished] == ["error"]
    assert fake.finished[0].step == "deadline" and "7200 s" in (fake.finished[0].error or "")
    assert 5 <= fake.campaign_attempts <= 8  # every 20 minutes for two hours, not a hot loop


async def test_a_refused_step_is_recorded_with_its_reason(dev_env: WorkflowEnvironment) -> None:
    # The dev server: the time-skipping test server loses track of sibling activities cancelled
    # with WAIT_CANCELLATION_COMPLETED ("ACTIVITY_UNKNOWN") and the run hangs there.
    fake = FakeGraph("refuse")
    with pytest.raises(WorkflowFailureError) as caught:
        await run(dev_env, fake)
    assert failure_type(caught.value) == Failure.PUBLISH_FAILED
    assert fake.campaign_attempts == 1  # refused once: never retried
    assert fake.finished[0].step == "campaign" and "goal.goal" in (fake.finished[0].error or "")
