"""PublishPlanWorkflow: seed 000's six steps as a parallel DAG.

    template ─┐
              ├─► per ad set (concurrently): ad set ─► tracking campaign ─► per ad: creative ─► ad
    campaign ─┘

Every run ends recorded, whatever happens — each way out goes through `_finish`:

    the DAG completes            → plan `active`
    a step fails for good        → compensate (pause) → plan `failed` + the step's error
    the run's deadline passes    → (a timer in the workflow) the DAG is cancelled → compensate
                                   → plan `failed` ("deadline")
    a person cancels             → compensate (pause, or delete with `cleanup`) → `cancelled`
    anything unexpected (a bug)  → compensate (pause) → plan `failed` with the error

A compensation that itself fails is recorded (an error row and an alert: objects may still be
live) and the run still ends recorded. Each step has a `schedule_to_close_timeout`, so a
platform down for hours fails the step instead of retrying for a week. Compensation also finds
and maps objects whose create answer was lost (ledger rows left `requested`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.exceptions import CancelledError as TemporalCancelledError

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        COMPENSATE_PLAN,
        CREATE_RELAY_OBJECT,
        CREATE_TRACKING_CAMPAIGN,
        ENSURE_TEMPLATE,
        PUBLISH_AD_SET,
        RECORD_PLAN_FAILURE,
        SET_PLAN_STATUS,
    )
    from flightdeck.domain import transforms as t
    from flightdeck.domain.publish import (
        AdSetPublished,
        AdSetPublishInput,
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
    from flightdeck.domain.run_summaries import short
    from flightdeck.failures import (
        NON_RETRYABLE,
        Failure,
        failure,
        failure_details,
        failure_message,
        failure_type,
    )

T = TypeVar("T")

# Rate limits and 5xx are retried until the step's deadline (the platform decides when);
# validation and permission errors are raised non-retryable by the activities.
PLATFORM_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
# The run's first write: the plan row must exist (the API commits it right after Temporal
# accepted the run). If it never appears, the POST that started the run was rolled back.
PLAN_STORED_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=3)
# Recording how the run ended must eventually happen (Postgres may be down for a while).
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=0,
)
# The patch that made an ad set one activity (PUBLISH_AD_SET) instead of one per create: a
# Temporal activity cost more CPU than the create it wrapped (bench/publish.py, 20 plans).
AD_SET_IN_ONE_ACTIVITY = "ad-set-in-one-activity"
COMPENSATION_DEADLINE = timedelta(hours=1)
COMPENSATION_HEARTBEAT = timedelta(seconds=30)


class StepFailed(Exception):
    """A DAG step failed for good; carries the step name for the campaign_errors row."""

    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(step)
        self.step = step
        self.cause = cause


# Outside the sandbox: in temporalio 1.35 a sandboxed workflow re-executes its module for every
# new run and `exec`s a compiled string for every payload of every activation (to find the
# payload's serialization context) — ~a fifth of the worker's CPU in a 20-plan round
# (bench/publish.py, py-spy). The code is workflow APIs and pure functions of its input
# (flightdeck.domain.transforms): nothing the sandbox would catch; replay tests still check it
# (tests/workflows/test_replay.py).
@workflow.defn(sandboxed=False)
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
        try:
            await self._begin("creating")
        except asyncio.CancelledError:
            # Cancelled before the first write: nothing was created, nothing to compensate,
            # but the plan must still end recorded.
            await self._begin("cancelled")
            raise
        dag = asyncio.ensure_future(self._publish(inp))
        try:
            await workflow.wait_condition(dag.done, timeout=timedelta(seconds=inp.deadline_seconds))
        except TimeoutError:
            await _settle(dag)
            await self._fail("pause", "deadline", failure(
                Failure.DEADLINE_EXCEEDED,
                f"the run did not finish within {inp.deadline_seconds:g} s "
                f"(last step: {self._progress.step})",
            ))  # fmt: skip
        except asyncio.CancelledError:
            await _settle(dag)
            await self._end_cancelled()
            raise
        error = dag.exception()
        if isinstance(error, StepFailed):
            await self._fail("pause", error.step, error.cause)
        if error is not None:
            await self._fail("pause", self._progress.step, error, bug=True)
        await self._record_status("active", "done")
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
        # Runs started before an ad set became one activity keep their per-create steps.
        publish = self._publish_ad_set
        if not workflow.patched(AD_SET_IN_ONE_ACTIVITY):
            publish = self._publish_ad_set_per_create
        await _all(
            [publish(inp, i, template_id, fb_campaign_id) for i in range(len(inp.plan.ad_sets))]
        )

    async def _ensure_template(self, inp: PublishPlanInput) -> str:
        arg = EnsureTemplateInput(
            ref=self._ref,
            organization=inp.plan.organization,
            key=inp.template_key,
            template_id=inp.plan.template_id,
        )
        return await self._step(
            "template", ENSURE_TEMPLATE, arg, str, "ensure the Strategis tracking template"
        )

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
        return await self._step(
            "facebook_campaign",
            CREATE_RELAY_OBJECT,
            arg,
            str,
            f"create campaign '{short(inp.names.campaign_name)}' on Facebook",
        )

    async def _publish_ad_set(
        self, inp: PublishPlanInput, i: int, template_id: str, fb_campaign_id: str
    ) -> None:
        """The ad set, its tracking campaign, its creatives and ads: one activity (its creates
        are still recorded one by one, and a failure names the object it failed at)."""
        plan, names = inp.plan, inp.names
        ad_set = plan.ad_sets[i]
        await self._step(
            f"ad_set[{i}]",
            PUBLISH_AD_SET,
            AdSetPublishInput(
                ref=self._ref,
                plan=plan.model_copy(update={"ad_sets": [ad_set]}),
                ad_set_index=i,
                campaign_name=names.campaign_name,
                ad_set_name=names.ad_set_names[i],
                ad_names=names.ad_names[i],
                request_id=t.scoped_request_id(inp.tenant_id, plan.request_id),
                template_id=template_id,
                fb_campaign_id=fb_campaign_id,
                tracking_base_url=inp.tracking_base_url,
            ),
            AdSetPublished,
            f"publish ad set {i + 1} '{short(names.ad_set_names[i])}': the ad set, its tracking "
            f"campaign, {len(ad_set.ads)} creatives and {len(ad_set.ads)} ads",
            creates=2 + 2 * len(ad_set.ads),
        )

    async def _publish_ad_set_per_create(
        self, inp: PublishPlanInput, i: int, template_id: str, fb_campaign_id: str
    ) -> None:
        """Before AD_SET_IN_ONE_ACTIVITY: an activity per create (kept for runs in flight)."""
        plan, names = inp.plan, inp.names
        rid = t.scoped_request_id(inp.tenant_id, plan.request_id)
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
            f"create ad set {i + 1} '{short(names.ad_set_names[i])}' on Facebook",
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
            f"create Strategis tracking campaign {i + 1}",
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
        plan = inp.plan
        rid = t.scoped_request_id(inp.tenant_id, plan.request_id)
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
            f"create creative {i + 1}.{j + 1} '{short(ad_name)}' on Facebook",
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
            f"create ad {i + 1}.{j + 1} '{short(ad_name)}' on Facebook",
        )

    # -- ways out ------------------------------------------------------------------------------

    async def _fail(self, mode: str, step: str, cause: BaseException, *, bug: bool = False) -> None:
        """Compensate, record the failure (always), and end the run failed."""
        compensation_error = await self._compensate(mode)
        kind = Failure.BUG if bug else failure_type(cause) or type(cause).__name__
        await self._record_failure(step, kind, cause, compensation_error)
        end_type = Failure.DEADLINE_EXCEEDED if kind == Failure.DEADLINE_EXCEEDED else None
        raise ApplicationError(
            f"publishing failed at step {step}: {failure_message(cause)}",
            type=end_type or (Failure.BUG if bug else Failure.PUBLISH_FAILED),
            non_retryable=True,
        )

    async def _end_cancelled(self) -> None:
        compensation_error = await self._compensate(
            "delete" if self._cleanup_on_cancel else "pause"
        )
        if compensation_error is not None:
            await self._record_failure(
                f"compensate:{'delete' if self._cleanup_on_cancel else 'pause'}",
                Failure.PLATFORM_UNAVAILABLE,
                ApplicationError(compensation_error),
                compensation_error,
                status="cancelled",
            )
        await self._record_status("cancelled", self._progress.step)

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _ref(self) -> PlanRef:
        assert self._input is not None
        return PlanRef(
            tenant_id=self._input.tenant_id,
            plan_id=self._input.plan_id,
            request_id=self._input.plan.request_id,
            requested_by=self._input.requested_by,
        )

    def _platform_retry(self) -> RetryPolicy:
        """PLATFORM_RETRY from the input's first delay (the settings' publish_retry_initial)."""
        assert self._input is not None
        initial = timedelta(seconds=self._input.retry_initial_seconds)
        return dataclasses.replace(PLATFORM_RETRY, initial_interval=initial)

    async def _step(
        self,
        step: str,
        activity: str,
        arg: Any,
        result_type: type[T],
        summary: str | None = None,
        *,
        creates: int = 1,
    ) -> T:
        assert self._input is not None
        self._progress.step = step
        try:
            result = await workflow.execute_activity(
                activity,
                arg,
                task_queue=self._input.strategis_task_queue,
                start_to_close_timeout=timedelta(seconds=self._input.activity_timeout_seconds),
                schedule_to_close_timeout=timedelta(seconds=self._input.step_deadline_seconds),
                retry_policy=self._platform_retry(),
                # Let an in-flight create finish (and reach the ledger) before compensating.
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                result_type=result_type,
                summary=summary or step,
            )
        except ActivityError as err:
            # An ad set's activity names the object it failed at (e.g. facebook_ad[1][2]).
            raise StepFailed(failure_details(err).get("step", step), err) from err
        self._progress.done += creates
        return result

    async def _begin(self, status: str) -> None:
        """Mark the plan `creating` (or `cancelled`, when cancelled before that); waits (durable
        timers, backing off) for the API's commit of the plan row, and gives up after
        `plan_wait_seconds`: then its POST was rolled back."""
        assert self._input is not None
        self._progress.status = status
        deadline = workflow.now() + timedelta(seconds=self._input.plan_wait_seconds)
        delay = 0.2
        while True:
            try:
                await workflow.execute_local_activity(
                    SET_PLAN_STATUS,
                    PlanStatusInput(ref=self._ref, status=status, step="starting", done=0),
                    start_to_close_timeout=timedelta(seconds=10),
                    retry_policy=PLAN_STORED_RETRY,
                    summary=f"mark the plan {status}",
                )
                return
            # A local activity's failure may arrive as the bare failure (an ApplicationError,
            # a timeout), not wrapped in ActivityError: every FailureError is a failed attempt.
            except FailureError as err:
                if _is_cancellation(err):
                    raise asyncio.CancelledError() from err
                remaining = (deadline - workflow.now()).total_seconds()
                if remaining <= 0:
                    # Nothing was created, and no row exists to record anything on.
                    raise failure(
                        Failure.NOT_FOUND, f"the plan was never stored ({failure_message(err)})"
                    ) from None
                await workflow.sleep(min(delay, remaining))
                delay = min(delay * 2, 30.0)

    async def _record_status(self, status: str, step: str | None) -> None:
        self._progress.status = status
        await workflow.execute_local_activity(
            SET_PLAN_STATUS,
            PlanStatusInput(ref=self._ref, status=status, step=step, done=self._progress.done),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RECORD_RETRY,
            summary=f"mark the plan {status}",
        )

    async def _record_failure(
        self,
        step: str,
        error_type: str,
        cause: BaseException,
        compensation_error: str | None,
        status: str = "failed",
    ) -> None:
        self._progress.status = status
        details: dict[str, Any] = failure_details(cause)
        if compensation_error is not None:
            details["compensationError"] = compensation_error
        await workflow.execute_local_activity(
            RECORD_PLAN_FAILURE,
            PlanFailureInput(
                ref=self._ref,
                step=step,
                error_type=error_type,
                message=failure_message(cause),
                details=details,
                done=self._progress.done,
                status=status,
                compensation_error=compensation_error,
            ),
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RECORD_RETRY,
            summary=f"record the failure at {step}",
        )

    async def _compensate(self, mode: str) -> str | None:
        """Pause or delete what the run created (and find what it created but never heard
        back about). Returns why it failed, if it did; it never stops the run's recording."""
        assert self._input is not None
        self._progress.step = f"compensate:{mode}"
        try:
            await workflow.execute_activity(
                COMPENSATE_PLAN,
                CompensateInput(
                    ref=self._ref, organization=self._input.plan.organization, mode=mode
                ),
                task_queue=self._input.strategis_task_queue,
                start_to_close_timeout=timedelta(minutes=10),
                schedule_to_close_timeout=COMPENSATION_DEADLINE,
                heartbeat_timeout=COMPENSATION_HEARTBEAT,
                retry_policy=self._platform_retry(),
                result_type=CompensationResult,
                summary=f"compensate ({mode})",
            )
        except ActivityError as err:
            return failure_message(err)
        return None


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


def _is_cancellation(err: BaseException) -> bool:
    """The run itself was cancelled while this activity ran (not a failure of the activity)."""
    if isinstance(err, TemporalCancelledError):
        return True
    return isinstance(err, ActivityError) and isinstance(err.cause, TemporalCancelledError)


async def _settle(task: asyncio.Future[Any]) -> None:
    """Cancel the DAG and wait until every branch (and its in-flight activity) has settled."""
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
