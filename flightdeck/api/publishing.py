"""What the API does with a plan besides storing it: start its workflow, read its mapping and
progress. Shared by the campaign-plan, mapping and job routes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)

from flightdeck.db.models import CampaignPlan
from flightdeck.db.repositories.campaign_errors import CampaignErrorRepository
from flightdeck.db.repositories.remote_objects import RemoteObjectLedger
from flightdeck.domain.mapping import CampaignMapping, LedgerEntry, MappingError, build_mapping
from flightdeck.domain.plans import CampaignPlanIn, GeneratedNames
from flightdeck.domain.publish import PublishPlanInput
from flightdeck.settings import Settings
from flightdeck.temporal import CAMPAIGN_PLAN_ID, HOOK_SET_ID, TENANT_ID
from flightdeck.workflows.publish_plan import PublishPlanWorkflow

TERMINAL_PLAN_STATUSES = frozenset({"active", "failed", "cancelled", "paused"})


async def start_publish(temporal: Client, settings: Settings, plan: CampaignPlan) -> None:
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
        ),
        id=plan.workflow_id,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        execution_timeout=timedelta(days=7),
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(TENANT_ID, str(plan.tenant_id)),
                SearchAttributePair(CAMPAIGN_PLAN_ID, str(plan.id)),
                SearchAttributePair(HOOK_SET_ID, plan.hook_set_id),
            ]
        ),
    )


async def load_mapping(session: AsyncSession, plan: CampaignPlan) -> CampaignMapping:
    rows = await RemoteObjectLedger(session).list_for_plan(plan.tenant_id, plan.id)
    errors = await CampaignErrorRepository(session).list_for_plan(plan.tenant_id, plan.id)
    template_id = plan.strategis_template_id
    return build_mapping(
        plan_id=str(plan.id),
        request_id=plan.request_id,
        plan_status=plan.status,
        strategis_template_id=template_id,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        entries=[
            LedgerEntry(
                system=r.system,
                object_type=r.object_type,
                external_id=r.external_id,
                state=r.state,
                ad_set_index=r.ad_set_index,
                ad_index=r.ad_index,
                name=r.name,
                client_request_key=r.client_request_key,
                attributes=dict(r.attributes or {}),
            )
            for r in rows
        ],
        errors=[
            MappingError(step=e.step, error=e.error_message, timestamp=e.created_at) for e in errors
        ],
    )


async def workflow_status(temporal: Client, workflow_id: str) -> str | None:
    """Temporal's view of the run (`running`, `completed`, `failed`, …), or None if unknown."""
    try:
        description = await temporal.get_workflow_handle(workflow_id).describe()
    except Exception:  # noqa: BLE001 - Temporal unreachable or run unknown: fall back to Postgres
        return None
    status = description.status
    return status.name.lower() if isinstance(status, WorkflowExecutionStatus) else None


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
