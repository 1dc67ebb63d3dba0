"""PublishMetaCampaignWorkflow: a wizard-built campaign onto the Meta Graph API (seed 001).

    begin (token valid for the whole publish) ─┬─ image ─► creative ─┐   (per ad, concurrently;
                                               │                     ├─► ad   images deduplicated)
                                               └─ campaign ─► ad set ─┘
    ─► activate (campaign created PAUSED, turned on last) ─► verify (read back) ─► finish
    ─► TrackMetaAdReviewWorkflow (child, abandoned: follows review for days)

Every create records its Meta id the moment it exists (activities/meta.py). A failure stops
the DAG (siblings cancelled and settled first), makes sure the campaign is paused, records the
run as `error` with the reason and fails; everything created stays mapped, and publishing again
continues where this run stopped. The publish deadline is a timer in the workflow that ends the
run through the same path. A refused token ends it with "reconnect", never a retry loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        META_ACTIVATE,
        META_BEGIN_PUBLISH,
        META_COMPENSATE,
        META_CREATE_AD,
        META_CREATE_ADSET,
        META_CREATE_CAMPAIGN,
        META_CREATE_CREATIVE,
        META_FINISH_PUBLISH,
        META_UPLOAD_IMAGE,
        META_VERIFY,
    )
    from flightdeck.domain.meta_io import (
        ActivateInput,
        AdInput,
        AdSetInput,
        BeginInput,
        CreativeInput,
        FinishInput,
        ImageInput,
        PublishMetaInput,
        PublishOutcome,
        PublishPlan,
        PublishProgress,
        RefInput,
        TrackReviewInput,
        VerifyResult,
    )
    from flightdeck.domain.run_summaries import describe_meta_step
    from flightdeck.failures import (
        NON_RETRYABLE,
        Failure,
        failure,
        failure_message,
        failure_type,
    )
    from flightdeck.workflows.meta_review import TrackMetaAdReviewWorkflow
    from flightdeck.workflows.publish_plan import _all

T = TypeVar("T")

# Throttling (next_retry_delay from the usage headers) and 5xx retry until the step's
# schedule-to-close timeout; refused requests and dead tokens end the step at once.
GRAPH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)
BOOKKEEPING_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_attempts=20,
    non_retryable_error_types=NON_RETRYABLE,
)


class StepFailed(Exception):
    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(step)
        self.step = step
        self.cause = cause


class DeadlinePassed(Exception):
    pass


# Outside the sandbox, like PublishPlanWorkflow (see there): a 50-ad publish is ~100
# activations, each paying the sandbox's per-payload `exec`; replay tests still check it.
@workflow.defn(sandboxed=False)
class PublishMetaCampaignWorkflow:
    def __init__(self) -> None:
        self._progress = PublishProgress()
        self._input: PublishMetaInput | None = None
        self._ids: dict[str, Any] = {"ads": {}}

    @workflow.query
    def progress(self) -> PublishProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: PublishMetaInput) -> PublishOutcome:
        self._input = inp
        try:
            plan = await self._bookkeeping(
                META_BEGIN_PUBLISH,
                BeginInput(
                    ref=inp.ref,
                    workflow_id=workflow.info().workflow_id,
                    token_min_validity_seconds=inp.token_min_validity_seconds,
                ),
                PublishPlan,
            )
        except ActivityError as err:
            return await self._fail(StepFailed("begin", err), compensate=False)
        self._progress = PublishProgress(
            step="publishing",
            total=len(plan.image_urls) + 2 * len(plan.ad_ids) + 2,
            status="publishing",
        )
        try:
            await self._within_deadline(self._dag(plan))
            if plan.launch_status == "ACTIVE":
                await self._step(
                    "activate",
                    META_ACTIVATE,
                    ActivateInput(ref=inp.ref, status="ACTIVE"),
                    type(None),
                )
            verify = await self._step("verify", META_VERIFY, RefInput(ref=inp.ref), VerifyResult)
        except StepFailed as failed:
            return await self._fail(failed)
        except DeadlinePassed:
            message = f"the publish did not finish within {inp.deadline_seconds:.0f} s"
            deadline = failure(Failure.DEADLINE_EXCEEDED, message)
            return await self._fail(StepFailed("deadline", deadline))
        except asyncio.CancelledError:
            # Cancelled from outside (the Web UI, the CLI): pause, record, then end cancelled.
            with contextlib.suppress(ApplicationError):  # recorded; the run ends cancelled
                await self._fail(
                    StepFailed("cancelled", failure(Failure.INVALID_STATE, "cancelled"))
                )
            raise
        except Exception as exc:  # noqa: BLE001 - a bug: recorded, and the run ends failed
            return await self._fail(StepFailed("unexpected", exc), bug=True)
        status = "active" if plan.launch_status == "ACTIVE" else "paused"
        await self._bookkeeping(
            META_FINISH_PUBLISH, FinishInput(ref=inp.ref, status=status), type(None)
        )
        self._progress.status, self._progress.step = status, "done"
        await self._follow_review(inp)
        return PublishOutcome(
            campaign_id=inp.ref.campaign_id,
            status=status,
            meta_campaign_id=self._ids.get("campaign"),
            meta_adset_id=self._ids.get("adset"),
            meta_ad_ids=[self._ids["ads"][i] for i in sorted(self._ids["ads"])],
            verify=verify,
        )

    # -- the DAG -------------------------------------------------------------------------

    async def _dag(self, plan: PublishPlan) -> None:
        assert self._input is not None
        ref = self._input.ref
        images = {
            url: asyncio.ensure_future(
                self._step(f"image[{n}]", META_UPLOAD_IMAGE, ImageInput(ref=ref, url=url), str)
            )
            for n, url in enumerate(plan.image_urls)
        }

        async def creative(i: int) -> str:
            image_hash = await images[plan.ad_image_urls[i]]
            arg = CreativeInput(ref=ref, ad_index=i, image_hash=image_hash)
            return await self._step(f"creative[{i}]", META_CREATE_CREATIVE, arg, str)

        async def campaign_and_adset() -> str:
            campaign = await self._step("campaign", META_CREATE_CAMPAIGN, RefInput(ref=ref), str)
            self._ids["campaign"] = campaign
            arg = AdSetInput(ref=ref, campaign_id=campaign)
            adset = await self._step("adset", META_CREATE_ADSET, arg, str)
            self._ids["adset"] = adset
            return adset

        creatives = [asyncio.ensure_future(creative(i)) for i in range(len(plan.ad_ids))]
        adset_task = asyncio.ensure_future(campaign_and_adset())

        async def ad(i: int) -> str:
            adset, creative_id = await adset_task, await creatives[i]
            arg = AdInput(ref=ref, ad_index=i, adset_id=adset, creative_id=creative_id)
            ad_id = await self._step(f"ad[{i}]", META_CREATE_AD, arg, str)
            self._ids["ads"][i] = ad_id
            return ad_id

        ads = [asyncio.ensure_future(ad(i)) for i in range(len(plan.ad_ids))]
        await _all([*images.values(), *creatives, adset_task, *ads])

    async def _within_deadline(self, work: Any) -> None:
        """Run `work`, unless the publish deadline (a timer) passes first."""
        assert self._input is not None
        task = asyncio.ensure_future(work)
        timer = asyncio.ensure_future(
            workflow.sleep(timedelta(seconds=self._input.deadline_seconds))
        )
        await workflow.wait([task, timer], return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            timer.cancel()
            task.result()
            return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise DeadlinePassed()

    # -- steps -----------------------------------------------------------------------------

    async def _step(self, step: str, activity: str, arg: Any, result_type: type[T]) -> T:
        assert self._input is not None
        self._progress.step = step
        try:
            result = await workflow.execute_activity(
                activity,
                arg,
                task_queue=self._input.meta_task_queue,
                start_to_close_timeout=timedelta(seconds=self._input.activity_timeout_seconds),
                schedule_to_close_timeout=timedelta(seconds=self._input.step_timeout_seconds),
                heartbeat_timeout=timedelta(seconds=self._input.activity_timeout_seconds),
                retry_policy=GRAPH_RETRY,
                # A create in flight finishes (and reaches the ledger) before compensation.
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                result_type=result_type,
                summary=describe_meta_step(step),
            )
        except ActivityError as err:
            raise StepFailed(step, err) from err
        self._progress.done += 1
        return result

    async def _bookkeeping(self, activity: str, arg: Any, result_type: type[T]) -> T:
        return await workflow.execute_activity(
            activity,
            arg,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(minutes=10),
            retry_policy=BOOKKEEPING_RETRY,
            result_type=result_type,
            summary=activity.replace("_", " ").replace(".", ": "),
        )

    async def _fail(
        self, failed: StepFailed, *, compensate: bool = True, bug: bool = False
    ) -> PublishOutcome:
        """Pause what exists, record the error and its reason, and fail the run."""
        assert self._input is not None
        ref = self._input.ref
        message = f"{failed.step}: {_message(failed.cause)}"
        self._progress.status = "error"
        if compensate:
            try:
                await workflow.execute_activity(
                    META_COMPENSATE,
                    RefInput(ref=ref),
                    task_queue=self._input.meta_task_queue,
                    start_to_close_timeout=timedelta(seconds=self._input.activity_timeout_seconds),
                    schedule_to_close_timeout=timedelta(minutes=15),
                    retry_policy=GRAPH_RETRY,
                    summary="delete what this publish created on Meta",
                )
            except ActivityError as err:
                message += f" (and pausing the campaign failed: {_message(err)})"
        await self._bookkeeping(
            META_FINISH_PUBLISH,
            FinishInput(ref=ref, status="error", error=message, step=failed.step),
            type(None),
        )
        kind = Failure.PUBLISH_FAILED
        if bug:
            kind = Failure.BUG
        elif failure_type(failed.cause) == Failure.DEADLINE_EXCEEDED:
            kind = Failure.DEADLINE_EXCEEDED
        raise failure(kind, message, non_retryable=True)

    async def _follow_review(self, inp: PublishMetaInput) -> None:
        """Hand the ads' review to a child that outlives this run (days, timers)."""
        workflow_id = inp.review_workflow_id or f"{workflow.info().workflow_id}-review"
        try:
            await workflow.start_child_workflow(
                TrackMetaAdReviewWorkflow.run,
                TrackReviewInput(
                    ref=inp.ref,
                    meta_task_queue=inp.meta_task_queue,
                    activity_timeout_seconds=inp.activity_timeout_seconds,
                    review=inp.review,
                ),
                id=workflow_id,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                # Findable in the Web UI by the same TenantId / Platform / MetaCampaignId.
                search_attributes=workflow.info().typed_search_attributes,
                static_summary=f"Follow the ad review of Meta campaign {inp.ref.campaign_id}",
            )
        except WorkflowAlreadyStartedError:
            pass  # already following this publication's review


def _message(err: BaseException) -> str:
    return failure_message(err)
