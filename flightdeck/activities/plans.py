"""Bookkeeping activities of the publish workflow: plan status, progress step, failures.

They run as local activities on the workflow's own task queue (a few ms each), since they
touch only Postgres.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from flightdeck.activities.names import RECORD_PLAN_FAILURE, SET_PLAN_STATUS
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_errors import CampaignErrorRepository
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.campaign_requests import CampaignRequestRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.publish import PlanFailureInput, PlanStatusInput


class PlanActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=SET_PLAN_STATUS)
    async def set_status(self, inp: PlanStatusInput) -> None:
        tenant, plan_id = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.plan_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await CampaignPlanRepository(session).set_status(tenant, plan_id, inp.status)
            await CampaignRequestRepository(session).update_progress(
                tenant, plan_id, status=inp.status, step=inp.step, done=inp.done
            )
            await AuditLogRepository(session).add(
                tenant_id=tenant,
                actor="worker",
                action=f"campaign_plan.{inp.status}",
                entity_type="campaign_plan",
                entity_id=inp.ref.plan_id,
                details={"step": inp.step},
            )

    @activity.defn(name=RECORD_PLAN_FAILURE)
    async def record_failure(self, inp: PlanFailureInput) -> None:
        tenant, plan_id = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.plan_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await CampaignErrorRepository(session).add(
                tenant,
                campaign_plan_id=plan_id,
                request_id=inp.ref.request_id,
                step=inp.step,
                error_type=inp.error_type,
                message=inp.message,
                details=inp.details,
            )
            await CampaignPlanRepository(session).set_status(tenant, plan_id, "failed")
            await CampaignRequestRepository(session).update_progress(
                tenant, plan_id, status="failed", step=inp.step, done=inp.done
            )
            await AuditLogRepository(session).add(
                tenant_id=tenant,
                actor="worker",
                action="campaign_plan.failed",
                entity_type="campaign_plan",
                entity_id=inp.ref.plan_id,
                details={"step": inp.step, "error": inp.message},
            )
