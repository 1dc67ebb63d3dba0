"""Housekeeping: plans that were stored but whose run never started (or ended without saying
so) are started now, or — past `pending_plan_expiry_seconds` — ended `failed` with the reason.

The API stores a plan only after Temporal accepted its run, so a plan left `pending` is rare:
an older API version, or a run whose first write never landed. This sweep makes sure none is
left waiting forever with nobody told.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from flightdeck.activities.names import SWEEP_PENDING_PLANS
from flightdeck.db.models import CampaignPlan
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_errors import CampaignErrorRepository
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.campaign_requests import CampaignRequestRepository
from flightdeck.db.repositories.jobs import JobRepository
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.publish import PendingSweepInput, PendingSweepResult
from flightdeck.runs import start_publish
from flightdeck.settings import Settings

ACTOR = "housekeeping"
DESCRIBE_TIMEOUT = timedelta(seconds=5)


class HousekeepingActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], client: Client, settings: Settings
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._settings = settings

    @activity.defn(name=SWEEP_PENDING_PLANS)
    async def sweep_pending_plans(self, inp: PendingSweepInput) -> PendingSweepResult:
        now = datetime.now(UTC)
        async with system_session(self._sessions, "sweep.pending_plans") as session:
            plans = await CampaignPlanRepository(session).stale_pending(
                now - timedelta(seconds=inp.grace_seconds), inp.limit
            )
        result = PendingSweepResult(checked=len(plans))
        for plan in plans:
            status = await self._run_status(plan.workflow_id)
            expired = now - plan.created_at > timedelta(seconds=inp.expiry_seconds)
            if status is None and not expired:
                # Its POST may never have registered the job: clients poll /jobs/{workflowId}.
                async with tenant_session(self._sessions, plan.tenant_id) as session:
                    async with session.begin():
                        await JobRepository(session).record(
                            plan.tenant_id, plan.workflow_id, "plan_publish", plan.id
                        )
                await start_publish(self._client, self._settings, plan)
                result.started.append(str(plan.id))
            elif status is None:
                await self._fail(plan, "never_started", "its run was never started and expired")
                result.expired.append(str(plan.id))
            elif status != WorkflowExecutionStatus.RUNNING:
                reason = f"its run ended {status.name.lower()} without recording an outcome"
                await self._fail(plan, "run_ended_unrecorded", reason)
                result.expired.append(str(plan.id))
            activity.heartbeat(str(plan.id))
        return result

    async def _run_status(self, workflow_id: str) -> WorkflowExecutionStatus | None:
        """The run's status, or None when Temporal has no run under that id."""
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            description = await handle.describe(rpc_timeout=DESCRIBE_TIMEOUT)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        return description.status

    async def _fail(self, plan: CampaignPlan, step: str, reason: str) -> None:
        async with system_session(self._sessions, "sweep.pending_plans") as session:
            async with session.begin():
                await CampaignErrorRepository(session).add(
                    plan.tenant_id,
                    campaign_plan_id=plan.id,
                    request_id=plan.request_id,
                    step=step,
                    error_type="NeverStarted",
                    message=f"the plan was stored but {reason}; submit it again to publish",
                )
                await CampaignPlanRepository(session).set_status(plan.tenant_id, plan.id, "failed")
                await CampaignRequestRepository(session).update_progress(
                    plan.tenant_id, plan.id, status="failed", step=step
                )
                await AuditLogRepository(session).add(
                    tenant_id=plan.tenant_id,
                    actor=ACTOR,
                    action="campaign_plan.failed",
                    entity_type="campaign_plan",
                    entity_id=str(plan.id),
                    details={"step": step, "error": reason},
                )
