"""RetryFailedSyncsWorkflow: the failed-sync sweep, run by a Temporal Schedule (every 5 min).

Seed 002 §7.2: campaigns whose sync failed are tried again with exponential backoff until
they have failed `max_attempts` times; then they are marked permanently failed, with an audit
entry. Each set with campaigns due gets a push of just those campaigns, asked of the set's entity
workflow (`campaign-set-{setId}`, through an activity: signal-with-start), which runs it after
whatever the set is doing; a push already waiting there takes these campaigns in. The sweep
does not wait for them.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import FIND_RETRYABLE_SYNCS, REQUEST_SET_OPERATION
    from flightdeck.domain.sync import (
        RetrySweepInput,
        RetrySweepPlan,
        RetrySweepResult,
        SyncSetInput,
    )
    from flightdeck.temporal import CAMPAIGN_SET_ID, PLATFORM, TENANT_ID, sync_workflow_id
    from flightdeck.workflows.campaign_set_entity import (
        CampaignSetEntityInput,
        SetEntityCall,
        SetOperationRequest,
    )
    from flightdeck.workflows.sync_campaign_set import SyncCampaignSetWorkflow

# Sweeps started before the set entity workflow existed start their syncs directly.
THROUGH_SET_ENTITY = "retry-sweep-through-set-entity"


@workflow.defn
class RetryFailedSyncsWorkflow:
    @workflow.run
    async def run(self, inp: RetrySweepInput) -> RetrySweepResult:
        plan = await workflow.execute_activity(
            FIND_RETRYABLE_SYNCS,
            inp,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=5),
            result_type=RetrySweepPlan,
            summary="find failed syncs to retry",
        )
        result = RetrySweepResult(given_up=plan.given_up)
        for due in plan.due:
            sync = SyncSetInput(
                tenant_id=due.tenant_id,
                set_id=due.set_id,
                platform=inp.platform,
                operation="push",
                campaign_ids=due.campaign_ids,
                batch_size=inp.batch_size,
                window=inp.window,
                platform_task_queue=inp.platform_task_queue,
                activity_timeout_seconds=inp.activity_timeout_seconds,
                max_batches_per_run=inp.max_batches_per_run,
                call_max_attempts=inp.call_max_attempts,
                retry_initial_seconds=inp.retry_initial_seconds,
                trigger="retry_sweep",
            )
            workflow_id = sync_workflow_id(due.set_id)
            if workflow.patched(THROUGH_SET_ENTITY):
                # Through the set's entity workflow: never beside a pause, resume or push.
                await workflow.execute_activity(
                    REQUEST_SET_OPERATION,
                    SetEntityCall(
                        entity=CampaignSetEntityInput(
                            tenant_id=due.tenant_id, set_id=due.set_id, platform=inp.platform
                        ),
                        request=SetOperationRequest(operation="push", sync=sync),
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(maximum_attempts=5),
                )
                result.started.append(workflow_id)
                continue
            try:
                await workflow.start_child_workflow(
                    SyncCampaignSetWorkflow.run,
                    sync,
                    id=workflow_id,
                    parent_close_policy=ParentClosePolicy.ABANDON,
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(TENANT_ID, due.tenant_id),
                            SearchAttributePair(CAMPAIGN_SET_ID, due.set_id),
                            SearchAttributePair(PLATFORM, inp.platform),
                        ]
                    ),
                    static_summary=(
                        f"Retry {len(due.campaign_ids)} failed campaigns of set {due.set_id}"
                    ),
                )
            except WorkflowAlreadyStartedError:
                result.skipped_running.append(workflow_id)
                continue
            result.started.append(workflow_id)
        return result
