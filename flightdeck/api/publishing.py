"""What the API does with a plan besides storing it: start its workflow, read its mapping and
progress. Shared by the campaign-plan, mapping and job routes."""

from __future__ import annotations

import json
import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowExecutionStatus

from flightdeck.db.models import CampaignPlan
from flightdeck.db.repositories.campaign_errors import CampaignErrorRepository
from flightdeck.db.repositories.remote_objects import RemoteObjectLedger
from flightdeck.db.repositories.tenants import PublishTargetRepository
from flightdeck.domain.mapping import CampaignMapping, LedgerEntry, MappingError, build_mapping
from flightdeck.domain.plans import CampaignPlanIn, platform_problems
from flightdeck.domain.publish import total_remote_steps
from flightdeck.settings import Settings

TERMINAL_PLAN_STATUSES = frozenset({"active", "failed", "cancelled", "paused"})
# A plan id is derived from (tenant, requestId): a workflow started for a plan whose row was
# never committed (the API lost Postgres right after starting it) and the plan a retried POST
# stores are the same plan, so the retry attaches instead of starting a stranger.
PLAN_ID_NAMESPACE = uuid.UUID("5f1d3c1e-6a4b-4c1f-9a57-0b1d7a0c2f3e")


def plan_id_for(tenant_id: uuid.UUID, request_id: str) -> uuid.UUID:
    return uuid.uuid5(PLAN_ID_NAMESPACE, f"{tenant_id}/{request_id}")


async def publish_problems(
    session: AsyncSession, tenant_id: uuid.UUID, plan: CampaignPlanIn, settings: Settings
) -> list[dict[str, str]]:
    """Why this plan cannot be published, field by field (empty: it can): targets the tenant has
    not registered, and plans too big to run as one workflow."""
    problems = platform_problems(plan)
    registered = await PublishTargetRepository(session).values(
        tenant_id, "strategis_organization", "facebook_ad_account"
    )
    if plan.organization not in registered["strategis_organization"]:
        problems.append({"field": "organization", "message": _unregistered(plan.organization)})
    if plan.ad_account_id not in registered["facebook_ad_account"]:
        problems.append({"field": "adAccountId", "message": _unregistered(plan.ad_account_id)})
    steps = total_remote_steps(plan)
    if steps > settings.publish_max_remote_objects:
        problems.append({
            "field": "adSets",
            "message": f"creates {steps} remote objects; at most "
            f"{settings.publish_max_remote_objects} per plan (split it into several plans)",
        })  # fmt: skip
    for i, ad_set in enumerate(plan.ad_sets):
        size = len(json.dumps(ad_set.targeting))
        if size > settings.publish_max_targeting_bytes:
            problems.append({
                "field": f"adSets.{i}.targeting",
                "message": f"is {size} bytes; at most {settings.publish_max_targeting_bytes}",
            })  # fmt: skip
    return problems


def _unregistered(value: str) -> str:
    return (
        f"{value!r} is not registered to this tenant; an admin registers it with "
        "POST /api/v1/publish-targets"
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
