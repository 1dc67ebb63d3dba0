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
from flightdeck.domain.naming import NamingConvention, generate_names
from flightdeck.domain.plans import CampaignPlanIn
from flightdeck.domain.publish import (
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
)
from flightdeck.settings import Settings
from flightdeck.workflows.publish_plan import PublishPlanWorkflow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan.json"


class FakePlatform:
    """Records every call; `fail_step` makes one object type fail non-retryably."""

    def __init__(self, ad_sets: int, fail_type: str | None = None) -> None:
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
        if inp.ledger_type == "adset":
            # Every ad set must be in flight at once before any completes: proves the fan-out.
            self.ad_sets_started += 1
            if self.ad_sets_started == self.ad_sets_total:
                self.all_ad_sets_started.set()
            await asyncio.wait_for(self.all_ad_sets_started.wait(), timeout=5)
        return f"{inp.ledger_type}-{inp.client_request_key}"

    @activity.defn(name=names.CREATE_TRACKING_CAMPAIGN)
    async def create_tracking_campaign(self, inp: TrackingCampaignInput) -> TrackingCampaign:
        self.calls.append("tracking_campaign")
        return TrackingCampaign(
            id=f"stg-{inp.ad_set_index}", tracking_url=f"https://t/{inp.ad_set_index}"
        )

    @activity.defn(name=names.COMPENSATE_PLAN)
    async def compensate_plan(self, inp: CompensateInput) -> CompensationResult:
        self.compensations.append(inp.mode)
        return CompensationResult(paused=1)

    @activity.defn(name=names.SET_PLAN_STATUS)
    async def set_status(self, inp: PlanStatusInput) -> None:
        self.statuses.append(inp.status)

    @activity.defn(name=names.RECORD_PLAN_FAILURE)
    async def record_failure(self, inp: PlanFailureInput) -> None:
        self.failures.append(inp)

    def activities(self) -> list[Any]:
        return [self.ensure_template, self.create_relay_object, self.create_tracking_campaign,
                self.compensate_plan, self.set_status, self.record_failure]  # fmt: skip


TENANT = uuid.UUID("ff5f7dc6-ac78-4d64-b5c0-1e46dee6a6fe")


def publish_input(task_queue: str) -> PublishPlanInput:
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
    )


async def run(env: WorkflowEnvironment, fake: FakePlatform) -> PublishResult:
    queue = f"wf-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[PublishPlanWorkflow],
                      activities=fake.activities()):  # fmt: skip
        return await env.client.execute_workflow(
            PublishPlanWorkflow.run, publish_input(queue), id=f"publish-{uuid.uuid4()}",
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
