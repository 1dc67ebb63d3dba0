"""Bookkeeping activities of the publish workflow: plan status, progress step, failures.

They run as local activities on the workflow's own task queue (a few ms each), since they
touch only Postgres. Each writes its audit entry as the user who started the run.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from flightdeck.activities.names import RECORD_PLAN_FAILURE, SET_PLAN_STATUS
from flightdeck.db.repositories.audit_log import AuditLogRepository, act_as
from flightdeck.db.repositories.campaign_errors import CampaignErrorRepository
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.campaign_requests import CampaignRequestRepository
from flightdeck.db.repositories.sync_back import AlertRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.publish import PlanFailureInput, PlanRef, PlanStatusInput
from flightdeck.failures import Failure, failure
from flightdeck.observability.metrics import TERMINAL_PLAN_STATUSES, record_publish

ACTOR = "worker"


class PlanActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=SET_PLAN_STATUS)
    async def set_status(self, inp: PlanStatusInput) -> None:
        tenant, plan_id = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.plan_id)
        async with self._session(inp.ref) as session, session.begin():
            plan = await CampaignPlanRepository(session).set_status(tenant, plan_id, inp.status)
            if plan is None:
                # Retryable: the API commits the plan right after Temporal accepted the run.
                raise failure(
                    Failure.NOT_FOUND, f"plan {plan_id} is not stored (yet)", non_retryable=False
                )
            await CampaignRequestRepository(session).update_progress(
                tenant, plan_id, status=inp.status, step=inp.step, done=inp.done
            )
            await AuditLogRepository(session).add(
                tenant_id=tenant,
                action=f"campaign_plan.{inp.status}",
                entity_type="campaign_plan",
                entity_id=inp.ref.plan_id,
                details={"step": inp.step},
            )
        if inp.status in TERMINAL_PLAN_STATUSES:
            record_publish("plan", inp.status)

    @activity.defn(name=RECORD_PLAN_FAILURE)
    async def record_failure(self, inp: PlanFailureInput) -> None:
        """The run's error (its step, type and message), the plan's final status and, when the
        compensation could not finish, an alert: objects may still be live on the platform."""
        tenant, plan_id = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.plan_id)
        async with self._session(inp.ref) as session, session.begin():
            await CampaignErrorRepository(session).add(
                tenant,
                campaign_plan_id=plan_id,
                request_id=inp.ref.request_id,
                step=inp.step,
                error_type=inp.error_type,
                message=inp.message,
                details=inp.details,
            )
            await CampaignPlanRepository(session).set_status(tenant, plan_id, inp.status)
            await CampaignRequestRepository(session).update_progress(
                tenant, plan_id, status=inp.status, step=inp.step, done=inp.done
            )
            if inp.compensation_error is not None:
                await AlertRepository(session).add(
                    tenant,
                    kind="compensation_failed",
                    entity_type="campaign_plan",
                    entity_id=inp.ref.plan_id,
                    message=(
                        f"publishing {inp.ref.request_id} stopped at {inp.step}, and pausing what "
                        f"it created failed ({inp.compensation_error}): check the mapping's "
                        "objects, some may still be live"
                    ),
                    details={"step": inp.step, "error": inp.compensation_error},
                    severity="HIGH",
                )
            await AuditLogRepository(session).add(
                tenant_id=tenant,
                action=f"campaign_plan.{inp.status}",
                entity_type="campaign_plan",
                entity_id=inp.ref.plan_id,
                details={"step": inp.step, "error": inp.message},
            )
        record_publish("plan", inp.status)

    def _session(self, ref: PlanRef) -> AsyncSession:
        session = tenant_session(self._sessions, ref.tenant_id)
        act_as(session, ACTOR, ref.requested_by)
        return session
