"""How business runs are started in Temporal, shared by the API and the sweeps that start
what the API could not (e.g. a plan left `pending`)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from flightdeck.db.models import CampaignPlan
from flightdeck.domain.plans import CampaignPlanIn, GeneratedNames
from flightdeck.domain.publish import PublishPlanInput
from flightdeck.domain.run_summaries import publish_plan_summary
from flightdeck.settings import Settings
from flightdeck.temporal import CAMPAIGN_PLAN_ID, HOOK_SET_ID, TENANT_ID
from flightdeck.workflows.publish_plan import PublishPlanWorkflow


async def start_publish(
    temporal: Client,
    settings: Settings,
    plan: CampaignPlan,
    requested_by: uuid.UUID | None = None,
) -> None:
    """Start the plan's workflow; attaches to the existing run if there is one (never a second)."""
    plan_in = CampaignPlanIn.model_validate(plan.plan)
    await temporal.start_workflow(
        PublishPlanWorkflow.run,
        PublishPlanInput(
            tenant_id=str(plan.tenant_id),
            plan_id=str(plan.id),
            plan=plan_in,
            names=GeneratedNames(
                campaign_name=plan.campaign_name,
                ad_set_names=list(plan.ad_set_names),
                ad_names=[list(names) for names in plan.ad_names],
            ),
            template_key=settings.strategis_template_key,
            tracking_base_url=settings.strategis_tracking_base_url,
            strategis_task_queue=settings.strategis_task_queue,
            activity_timeout_seconds=settings.publish_activity_timeout_seconds,
            retry_initial_seconds=settings.publish_retry_initial_seconds,
            step_deadline_seconds=settings.publish_step_deadline_seconds,
            deadline_seconds=settings.publish_deadline_seconds,
            requested_by=str(requested_by) if requested_by else None,
        ),
        id=plan.workflow_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A failed run may be started again only for a plan that was never stored (the API
        # checks Postgres first): a stored plan's run is never repeated.
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        rpc_timeout=timedelta(seconds=settings.temporal_rpc_timeout_seconds),
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(TENANT_ID, str(plan.tenant_id)),
                SearchAttributePair(CAMPAIGN_PLAN_ID, str(plan.id)),
                SearchAttributePair(HOOK_SET_ID, plan.hook_set_id),
            ]
        ),
        static_summary=publish_plan_summary(
            plan_in.brand,
            plan_in.hook_set_id,
            len(plan_in.ad_sets),
            sum(len(a.ads) for a in plan_in.ad_sets),
        ),
    )
