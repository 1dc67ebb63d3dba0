"""PublishPlanWorkflow: seed 000's six steps as a parallel DAG.

    template ─┐
              ├─► per ad set (concurrently): ad set ─► tracking campaign ─► per ad: creative ─► ad
    campaign ─┘

A non-retryable failure stops the DAG, pauses what was created (compensation), records the
failing step and fails the run; everything created stays in the ledger, so the mapping is
complete. A cancel request with `cleanup` deletes/pauses what was created instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        COMPENSATE_PLAN,
        CREATE_RELAY_OBJECT,
        CREATE_TRACKING_CAMPAIGN,
        ENSURE_TEMPLATE,
        RECORD_PLAN_FAILURE,
        SET_PLAN_STATUS,
    )
    from flightdeck.domain import transforms as t
    from flightdeck.domain.publish import (
        CancelRequest,
        CompensateInput,
        CompensationResult,
        EnsureTemplateInput,
        PlanFailureInput,
        PlanRef,
        PlanStatusInput,
        Progress,
        PublishPlanInput,
        PublishResult,
        RelayCreateInput,
        TrackingCampaign,
        TrackingCampaignInput,
        total_remote_steps,
    )
    from flightdeck.failures import NON_RETRYABLE, Failure

T = TypeVar("T")

# Rate limits and 5xx are retried for a long time (the platform decides when); validation and
# permission errors are raised non-retryable by the activities and end the run at once.
PLATFORM_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
BOOKKEEPING_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=20)


class StepFailed(Exception):
    """A DAG step failed for good; carries the step name for the campaign_errors row."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(step)
        self.step = step
        self.cause = cause


@workflow.defn
class PublishPlanWorkflow:
    def __init__(self) -> None:
        self._progress = Progress()
        self._cleanup_on_cancel = False
        self._fb_campaign_id: str | None = None
        self._input: PublishPlanInput | None = None

    @workflow.query
    def progress(self) -> Progress:
        return self._progress

    @workflow.signal
    def set_cleanup_on_cancel(self, request: CancelRequest) -> None:
        """Sent by the API right before it cancels the run: compensate by deleting, not pausing."""
        self._cleanup_on_cancel = request.cleanup

    @workflow.run
    async def run(self, inp: PublishPlanInput) -> PublishResult:
        self._input = inp
        self._progress = Progress(
            step="starting", total=total_remote_steps(inp.plan), status="creating"
        )
        await self._set_status("creating", "starting")
        try:
            await self._publish(inp)
        except asyncio.CancelledError:
            await self._compensate("delete" if self._cleanup_on_cancel else "pause")
            await self._set_status("cancelled", self._progress.step)
            raise
        except StepFailed as failure:
            await self._compensate("pause")
            await self._record_failure(failure)
            raise ApplicationError(
                f"publishing failed at step {failure.step}: {_message(failure.cause)}",
                type=Failure.PUBLISH_FAILED,
                non_retryable=True,
            ) from None
        await self._set_status("active", "done")
        return PublishResult(
            plan_id=inp.plan_id,
            status="active",
            facebook_campaign_id=self._fb_campaign_id,
            created_objects=self._progress.done,
        )

    # -- the DAG -------------------------------------------------------------------------------

    async def _publish(self, inp: PublishPlanInput) -> None:
        template_id, fb_campaign_id = await _all(
            [self._ensure_template(inp), self._create_campaign(inp)]
        )
        self._fb_campaign_id = fb_campaign_id
        await _all(
            [
                self._publish_ad_set(inp, i, template_id, fb_campaign_id)
                for i in range(len(inp.plan.ad_sets))
            ]
        )

    async def _ensure_template(self, inp: PublishPlanInput) -> str:
        arg = EnsureTemplateInput(
            ref=self._ref,
            organization=inp.plan.organization,
            key=inp.template_key,
            template_id=inp.plan.template_id,
        )
        return await self._step("template", ENSURE_TEMPLATE, arg, str)

    async def _create_campaign(self, inp: PublishPlanInput) -> str:
        plan, rid = inp.plan, t.scoped_request_id(inp.tenant_id, inp.plan.request_id)
        arg = RelayCreateInput(
            ref=self._ref,
            object_type="campaigns",
            ledger_type="campaign",
            local_key="campaign",
            client_request_key=t.campaign_key(rid),
            organization=plan.organization,
            name=inp.names.campaign_name,
            body=t.campaign_payload(plan, inp.names.campaign_name),
        )
        return await self._step("facebook_campaign", CREATE_RELAY_OBJECT, arg, str)

    async def _publish_ad_set(
        self, inp: PublishPlanInput, i: int, template_id: str, fb_campaign_id: str
    ) -> None:
        plan, rid, names = (
            inp.plan,
            t.scoped_request_id(inp.tenant_id, inp.plan.request_id),
            inp.names,
        )
        ad_set = plan.ad_sets[i]
        fb_ad_set_id = await self._step(
            f"facebook_adset[{i}]",
            CREATE_RELAY_OBJECT,
            RelayCreateInput(
                ref=self._ref,
                object_type="adsets",
                ledger_type="adset",
                local_key=f"adset:{i}",
                client_request_key=t.adset_key(rid, i),
                organization=plan.organization,
                name=names.ad_set_names[i],
                body=t.adset_payload(plan, ad_set, names.ad_set_names[i], fb_campaign_id),
                parent_external_id=fb_campaign_id,
                ad_set_index=i,
            ),
            str,
        )
        tracking_name = t.tracking_campaign_name(names.campaign_name, names.ad_set_names[i])
        tracking = await self._step(
            f"tracking_campaign[{i}]",
            CREATE_TRACKING_CAMPAIGN,
            TrackingCampaignInput(
                ref=self._ref,
                organization=plan.organization,
                ad_set_index=i,
                client_request_key=t.tracking_campaign_key(rid, i),
                body=t.tracking_campaign_payload(
                    plan,
                    name=tracking_name,
                    template_id=template_id,
                    fb_campaign_id=fb_campaign_id,
                    fb_ad_set_id=fb_ad_set_id,
                ),
                tracking_base_url=inp.tracking_base_url,
            ),
            TrackingCampaign,
        )
        await _all(
            [
                self._publish_ad(inp, i, j, fb_ad_set_id, tracking.tracking_url)
                for j in range(len(ad_set.ads))
            ]
        )

    async def _publish_ad(
        self, inp: PublishPlanInput, i: int, j: int, fb_ad_set_id: str, link: str
    ) -> None:
        plan, rid = inp.plan, t.scoped_request_id(inp.tenant_id, inp.plan.request_id)
        ad_name = inp.names.ad_names[i][j]
        creative_id = await self._step(
            f"facebook_creative[{i}][{j}]",
            CREATE_RELAY_OBJECT,
            RelayCreateInput(
                ref=self._ref,
                object_type="adcreatives",
                ledger_type="creative",
                local_key=f"creative:{i}:{j}",
                client_request_key=t.creative_key(rid, i, j),
                organization=plan.organization,
                name=ad_name,
                body=t.creative_payload(plan, plan.ad_sets[i].ads[j], ad_name, link),
                ad_set_index=i,
                ad_index=j,
            ),
            str,
        )
        await self._step(
            f"facebook_ad[{i}][{j}]",
            CREATE_RELAY_OBJECT,
            RelayCreateInput(
                ref=self._ref,
                object_type="ads",
                ledger_type="ad",
                local_key=f"ad:{i}:{j}",
                client_request_key=t.ad_key(rid, i, j),
                organization=plan.organization,
                name=ad_name,
                body=t.ad_payload(ad_name, fb_ad_set_id, creative_id),
                parent_external_id=fb_ad_set_id,
                ad_set_index=i,
                ad_index=j,
            ),
            str,
        )

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _ref(self) -> PlanRef:
        assert self._input is not None
        return PlanRef(
            tenant_id=self._input.tenant_id,
            plan_id=self._input.plan_id,
            request_id=self._input.plan.request_id,
        )

    async def _step(self, step: str, activity: str, arg: Any, result_type: type[T]) -> T:
        assert self._input is not None
        self._progress.step = step
        try:
            result = await workflow.execute_activity(
                activity,
                arg,
                task_queue=self._input.strategis_task_queue,
                start_to_close_timeout=timedelta(seconds=self._input.activity_timeout_seconds),
                retry_policy=PLATFORM_RETRY,
                # Let an in-flight create finish (and reach the ledger) before compensating.
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                result_type=result_type,
            )
        except ActivityError as err:
            raise StepFailed(step, err) from err
        self._progress.done += 1
        return result

    async def _set_status(self, status: str, step: str) -> None:
        self._progress.status = status
        await workflow.execute_local_activity(
            SET_PLAN_STATUS,
            PlanStatusInput(ref=self._ref, status=status, step=step, done=self._progress.done),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=BOOKKEEPING_RETRY,
        )

    async def _record_failure(self, failure: StepFailed) -> None:
        cause = failure.cause.cause if isinstance(failure.cause, ActivityError) else failure.cause
        details: dict[str, Any] = {}
        error_type = type(cause).__name__
        if isinstance(cause, ApplicationError):
            error_type = cause.type or error_type
            if cause.details and isinstance(cause.details[0], dict):
                details = cause.details[0]
        self._progress.status = "failed"
        await workflow.execute_local_activity(
            RECORD_PLAN_FAILURE,
            PlanFailureInput(
                ref=self._ref,
                step=failure.step,
                error_type=error_type,
                message=_message(failure.cause),
                details=details,
                done=self._progress.done,
            ),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=BOOKKEEPING_RETRY,
        )

    async def _compensate(self, mode: str) -> CompensationResult:
        assert self._input is not None
        self._progress.step = f"compensate:{mode}"
        return await workflow.execute_activity(
            COMPENSATE_PLAN,
            CompensateInput(ref=self._ref, organization=self._input.plan.organization, mode=mode),
            task_queue=self._input.strategis_task_queue,
            start_to_close_timeout=timedelta(seconds=120),
            retry_policy=PLATFORM_RETRY,
            result_type=CompensationResult,
        )


async def _all(awaitables: list[Awaitable[T]]) -> list[T]:
    """Run branches concurrently; on the first failure cancel the siblings, let them settle, and
    re-raise it, so compensation never races a create that is still in flight."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await workflow.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
    if failed:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise failed[0].exception()  # type: ignore[misc]
    return [task.result() for task in tasks]


def _message(err: BaseException) -> str:
    while isinstance(err, ActivityError) and err.cause is not None:
        err = err.cause
    return str(err)
