"""PublishPlanWorkflow logic on the time-skipping server, with activities replaced by fakes
registered under the real names."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from flightdeck.activities import names
from flightdeck.activities.errors import at_step, worst
from flightdeck.domain.naming import NamingConvention, generate_names
from flightdeck.domain.plans import CampaignPlanIn
from flightdeck.domain.publish import (
    AdSetPublished,
    AdSetPublishInput,
    CompensateInput,
    CompensationResult,
    EnsureTemplateInput,
    PlanFailureInput,
    PlanStatusInput,
    PublishPlanInput,
    PublishResult,
    RelayCreateInput,
    TrackingCampaign,
    TrackingCampaignInput,
    step_of_local_key,
)
from flightdeck.failures import Failure, failure, failure_type
from flightdeck.settings import Settings
from flightdeck.workflows.publish_plan import PublishPlanWorkflow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.json"


class FakePlatform:
    """Records every call; `fail_step` makes one object type fail non-retryably."""

    def __init__(
        self,
        ad_sets: int,
        fail_type: str | None = None,
        *,
        unavailable_type: str | None = None,
        compensation_fails: bool = False,
        plan_stored: bool = True,
    ) -> None:
        self.unavailable_type = unavailable_type  # this object type's platform stays down
        self.compensation_fails = compensation_fails
        self.plan_stored = plan_stored
        self.calls: list[str] = []
        self.statuses: list[str] = []
        self.failures: list[PlanFailureInput] = []
        self.compensations: list[str] = []
        self.fail_type = fail_type
        self.ad_sets_started = 0
        self.ad_sets_total = ad_sets
        self.all_ad_sets_started = asyncio.Event()

    @activity.defn(name=names.ENSURE_TEMPLATE)
    async def ensure_template(self, inp: EnsureTemplateInput) -> str:
        self.calls.append("template")
        return "tpl_1"

    @activity.defn(name=names.CREATE_RELAY_OBJECT)
    async def create_relay_object(self, inp: RelayCreateInput) -> str:
        self.calls.append(inp.ledger_type)
        if inp.ledger_type == self.fail_type:
            raise ApplicationError("Invalid parameter", type="NonRetryablePlatformError",
                                   non_retryable=True)  # fmt: skip
        if inp.ledger_type == self.unavailable_type:
            raise failure(Failure.PLATFORM_UNAVAILABLE, "503 Service Unavailable")
        if inp.ledger_type == "adset":
            # Every ad set must be in flight at once before any completes: proves the fan-out.
            self.ad_sets_started += 1
            if self.ad_sets_started == self.ad_sets_total:
                self.all_ad_sets_started.set()
            await asyncio.wait_for(self.all_ad_sets_started.wait(), timeout=5)
        return f"{inp.ledger_type}-{inp.client_request_key}"

    @activity.defn(name=names.PUBLISH_AD_SET)
    async def publish_ad_set(self, inp: AdSetPublishInput) -> AdSetPublished:
        """Like the real one: the ad set, its tracking campaign, then each ad's creative and
        the ad, concurrently; a failure names its object."""
        i = inp.ad_set_index

        def create(ledger_type: str, local_key: str) -> Any:
            return self._named(
                RelayCreateInput(
                    ref=inp.ref, object_type="ads", ledger_type=ledger_type, local_key=local_key,
                    client_request_key=f"{local_key}-{inp.request_id}",
                    organization=inp.plan.organization, name=local_key, body={},
                )
            )  # fmt: skip

        async def ad(j: int) -> str:
            await create("creative", f"creative:{i}:{j}")
            return str(await create("ad", f"ad:{i}:{j}"))

        ad_set_id = await create("adset", f"adset:{i}")
        tracking = await self.create_tracking_campaign(
            TrackingCampaignInput(
                ref=inp.ref, organization=inp.plan.organization, ad_set_index=i,
                client_request_key="k", body={}, tracking_base_url=inp.tracking_base_url,
            )
        )  # fmt: skip
        ads = range(len(inp.plan.ad_sets[0].ads))
        outcomes = await asyncio.gather(*(ad(j) for j in ads), return_exceptions=True)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            raise worst(errors)
        return AdSetPublished(
            fb_ad_set_id=ad_set_id, tracking_campaign_id=tracking.id,
            ad_ids=[str(o) for o in outcomes],
        )  # fmt: skip

    async def _named(self, inp: RelayCreateInput) -> str:
        try:
            return await self.create_relay_object(inp)
        except ApplicationError as err:
            raise at_step(err, step_of_local_key(inp.local_key)) from err

    @activity.defn(name=names.CREATE_TRACKING_CAMPAIGN)
    async def create_tracking_campaign(self, inp: TrackingCampaignInput) -> Any:
        self.calls.append("tracking_campaign")
        return TrackingCampaign(
            id=f"stg-{inp.ad_set_index}", tracking_url=f"https://t/{inp.ad_set_index}"
        )

    @activity.defn(name=names.COMPENSATE_PLAN)
    async def compensate_plan(self, inp: CompensateInput) -> CompensationResult:
        self.compensations.append(inp.mode)
        if self.compensation_fails:
            raise ApplicationError("relay refused the pause", type="NonRetryablePlatformError",
                                   non_retryable=True)  # fmt: skip
        return CompensationResult(paused=1)

    @activity.defn(name=names.SET_PLAN_STATUS)
    async def set_status(self, inp: PlanStatusInput) -> None:
        if not self.plan_stored:
            raise failure(Failure.NOT_FOUND, "plan is not stored (yet)", non_retryable=False)
        self.statuses.append(inp.status)

    @activity.defn(name=names.RECORD_PLAN_FAILURE)
    async def record_failure(self, inp: PlanFailureInput) -> None:
        self.failures.append(inp)

    def activities(self) -> list[Any]:
        return [self.ensure_template, self.create_relay_object, self.publish_ad_set,
                self.create_tracking_campaign, self.compensate_plan, self.set_status,
                self.record_failure]  # fmt: skip


TENANT = uuid.UUID("ff5f7dc6-ac78-4d64-b5c0-1e46dee6a6fe")


def publish_input(task_queue: str, **changes: Any) -> PublishPlanInput:
    plan = CampaignPlanIn.model_validate(json.loads(EXAMPLE.read_text()))
    s = Settings()
    convention = NamingConvention(s.campaign_name_format, s.ad_set_name_format, s.ad_name_format)
    return PublishPlanInput(
        tenant_id=str(TENANT),
        plan_id=str(uuid.uuid4()),
        plan=plan,
        names=generate_names(plan, convention),
        template_key="k",
        tracking_base_url="https://r.strateg.is",
        strategis_task_queue=task_queue,
        **changes,
    )


async def run(env: WorkflowEnvironment, fake: FakePlatform, **changes: Any) -> PublishResult:
    queue = f"wf-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[PublishPlanWorkflow],
                      activities=fake.activities()):  # fmt: skip
        return await env.client.execute_workflow(
            PublishPlanWorkflow.run, publish_input(queue, **changes), id=f"publish-{uuid.uuid4()}",
            task_queue=queue,
        )  # fmt: skip


async def test_dag_creates_every_object_once_with_ad_sets_in_parallel(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fake = FakePlatform(ad_sets=2)
    result = await run(time_skipping_env, fake)
    assert result.status == "active" and result.created_objects == 14
    # Every key carries the tenant: another tenant's identical requestId never collides.
    assert result.facebook_campaign_id == f"campaign-campaign-{TENANT.hex}.demo-juvederm-2025-10-21"
    assert Counter(fake.calls) == {
        "template": 1, "campaign": 1, "adset": 2, "tracking_campaign": 2, "creative": 4, "ad": 4
    }  # fmt: skip
    assert fake.statuses == ["creating", "active"]
    assert fake.compensations == [] and fake.failures == []


async def test_non_retryable_failure_pauses_records_the_step_and_fails(
    dev_env: WorkflowEnvironment,
) -> None:
    # On the dev server: the time-skipping test server does not settle sibling activities
    # cancelled with WAIT_CANCELLATION_COMPLETED (the run hangs there; seen with 1.40.0).
    fake = FakePlatform(ad_sets=2, fail_type="ad")
    with pytest.raises(WorkflowFailureError) as failure:
        await run(dev_env, fake)
    assert "facebook_ad[" in str(failure.value.cause)
    assert fake.compensations == ["pause"]
    assert len(fake.failures) == 1 and fake.failures[0].step.startswith("facebook_ad[")
    assert fake.failures[0].error_type == "NonRetryablePlatformError"
    assert fake.statuses == ["creating"]


async def test_a_platform_down_past_the_step_deadline_fails_the_step_and_compensates(
    dev_env: WorkflowEnvironment,
) -> None:
    """Retryable trouble is retried only until the step's schedule-to-close deadline."""
    fake = FakePlatform(ad_sets=2, unavailable_type="adset")
    with pytest.raises(WorkflowFailureError) as failed:
        await run(dev_env, fake, step_deadline_seconds=2, deadline_seconds=60)
    assert failure_type(failed.value) == Failure.PUBLISH_FAILED
    assert fake.calls.count("adset") >= 2, "retried while the deadline allowed"
    assert fake.compensations == ["pause"]
    assert [f.step for f in fake.failures] == ["facebook_adset[0]"] or [
        f.step for f in fake.failures
    ] == ["facebook_adset[1]"]
    assert fake.statuses == ["creating"]


async def test_the_runs_deadline_is_a_timer_that_ends_it_recorded(
    dev_env: WorkflowEnvironment,
) -> None:
    fake = FakePlatform(ad_sets=2, unavailable_type="ad")
    with pytest.raises(WorkflowFailureError) as failed:
        await run(dev_env, fake, step_deadline_seconds=600, deadline_seconds=3)
    assert failure_type(failed.value) == Failure.DEADLINE_EXCEEDED
    assert fake.compensations == ["pause"]
    [recorded] = fake.failures
    assert recorded.step == "deadline" and recorded.error_type == Failure.DEADLINE_EXCEEDED
    assert "ad_set[" in recorded.message, "names the step it was stuck at"
    assert recorded.status == "failed"


async def test_a_failed_compensation_is_recorded_and_the_run_still_ends(
    dev_env: WorkflowEnvironment,
) -> None:
    fake = FakePlatform(ad_sets=2, fail_type="ad", compensation_fails=True)
    with pytest.raises(WorkflowFailureError):
        await run(dev_env, fake)
    [recorded] = fake.failures
    assert recorded.step.startswith("facebook_ad[") and recorded.status == "failed"
    assert recorded.compensation_error is not None
    assert "relay refused the pause" in recorded.compensation_error


async def test_an_unexpected_error_in_the_run_is_recorded_not_left_running(
    dev_env: WorkflowEnvironment,
) -> None:
    fake = FakePlatform(ad_sets=2)
    queue = f"wf-{uuid.uuid4()}"
    broken = publish_input(queue)
    broken.names.ad_names = broken.names.ad_names[:1]  # inconsistent with the plan: an IndexError
    async with Worker(dev_env.client, task_queue=queue, workflows=[PublishPlanWorkflow],
                      activities=fake.activities()):  # fmt: skip
        with pytest.raises(WorkflowFailureError) as failed:
            await dev_env.client.execute_workflow(
                PublishPlanWorkflow.run, broken, id=f"publish-{uuid.uuid4()}", task_queue=queue
            )
    assert failure_type(failed.value) == Failure.BUG
    assert fake.compensations == ["pause"]
    [recorded] = fake.failures
    assert recorded.error_type == Failure.BUG and recorded.status == "failed"
    assert "index" in recorded.message


async def test_a_plan_that_was_never_stored_ends_the_run_before_any_call(
    dev_env: WorkflowEnvironment,
) -> None:
    # (Local-activity retries wait in real time: the dev server, with a short wait.)
    fake = FakePlatform(ad_sets=1, plan_stored=False)
    with pytest.raises(WorkflowFailureError) as failed:
        await run(dev_env, fake, plan_wait_seconds=3)
    assert failure_type(failed.value) == Failure.NOT_FOUND
    assert fake.calls == [] and fake.failures == [] and fake.compensations == []


async def test_a_run_cancelled_before_its_first_write_records_cancelled(
    dev_env: WorkflowEnvironment,
) -> None:
    fake = FakePlatform(ad_sets=1)
    attempted = asyncio.Event()

    @activity.defn(name=names.SET_PLAN_STATUS)
    async def set_status(inp: PlanStatusInput) -> None:
        attempted.set()
        if inp.status == "creating":  # the API's commit has not landed when the user cancels
            raise failure(Failure.NOT_FOUND, "plan is not stored (yet)", non_retryable=False)
        fake.statuses.append(inp.status)

    queue = f"wf-{uuid.uuid4()}"
    activities = [a for a in fake.activities() if a != fake.set_status] + [set_status]
    async with Worker(dev_env.client, task_queue=queue, workflows=[PublishPlanWorkflow],
                      activities=activities):  # fmt: skip
        handle = await dev_env.client.start_workflow(
            PublishPlanWorkflow.run, publish_input(queue, plan_wait_seconds=30),
            id=f"publish-{uuid.uuid4()}", task_queue=queue,
        )  # fmt: skip
        await asyncio.wait_for(attempted.wait(), timeout=10)  # waiting for the plan row
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    assert fake.statuses == ["cancelled"], "the run ends recorded, never `creating`"
    assert fake.calls == [] and fake.compensations == [] and fake.failures == []


async def test_a_plan_row_committed_late_is_waited_for(dev_env: WorkflowEnvironment) -> None:
    # A local activity's failure reaches the workflow as the bare ApplicationError (not wrapped
    # in ActivityError): the wait for the API's commit must still retry, not fail the run.
    fake = FakePlatform(ad_sets=1, plan_stored=False)

    async def commit_later() -> None:
        await asyncio.sleep(1.5)
        fake.plan_stored = True

    committing = asyncio.ensure_future(commit_later())
    result = await run(dev_env, fake, plan_wait_seconds=30)
    await committing
    assert result.status == "active"
    assert fake.statuses[0] == "creating" and fake.statuses[-1] == "active"
