"""What `ApplyActionWorkflow` does around a person's approval (seed 004).

- `prepare` (metrics queue): the action as proposed — and, for an autonomous one, whether it
  stays inside the tenant's guardrails (kill switch, allowed types, confidence, budget change,
  actions per day); inside them it is approved by `ai_autonomous` at once.
- `execute_step` (the platform's write queue): one campaign's change, through the platform's
  operator (the Graph, the Reddit adapter and client, the Strategis relay). It reads the
  campaign first: if it is no longer in the state the action assumed, nothing is written and
  the step fails `StaleRequest`. Otherwise it writes only what differs, reads the campaign back
  and records that in the registry.
- `finish` (metrics queue): the outcome in `ai_actions_log` (status, `new_state` as read back,
  `executed_at`/`executed_by`, `approved_by`/`approved_at`, or who rejected it), the
  recommendation's status, and an audit entry.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from flightdeck.accounts import AccountNotFound
from flightdeck.activities.errors import to_application_error
from flightdeck.activities.names import ACTIONS_EXECUTE_STEP, ACTIONS_FINISH, ACTIONS_PREPARE
from flightdeck.db.models import AiActionLog
from flightdeck.db.repositories.actions import ActionRepository, PerformanceSettingsRepository
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.platform_campaigns import PlatformCampaignRepository
from flightdeck.db.repositories.recommendations import RecommendationRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.actions import AI_AUTONOMOUS, amount, autonomy, differences
from flightdeck.domain.metrics_io import (
    ActionOutcome,
    FinishActionInput,
    PrepareActionInput,
    PreparedAction,
    StepInput,
    StepResult,
)
from flightdeck.failures import Failure, failure
from flightdeck.platforms.errors import PlatformError
from flightdeck.platforms.reporting import PerformanceRuntimes

ENTITY_TYPE = "ai_action"


class ActionActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], runtimes: PerformanceRuntimes
    ) -> None:
        self._sessions = sessions
        self._runtimes = runtimes

    @activity.defn(name=ACTIONS_PREPARE)
    async def prepare(self, inp: PrepareActionInput) -> PreparedAction:
        tenant, action_uuid = uuid.UUID(inp.tenant_id), uuid.UUID(inp.action_id)
        now = datetime.now(UTC)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            actions = ActionRepository(session)
            action = await actions.get(tenant, action_uuid)
            if action is None:  # the API commits the row right after starting this workflow
                raise failure(
                    Failure.NOT_FOUND, f"action {inp.action_id} not found yet", non_retryable=False
                )
            ids = _campaign_ids(action)
            rows = await PlatformCampaignRepository(session).get_many(tenant, ids)
            platforms = {row.id: row.platform for row in rows}
            missing = [str(i) for i in ids if i not in platforms]
            if missing:
                raise failure(Failure.NOT_FOUND, f"campaigns {missing} are not in the registry")
            prepared = _prepared(action, [(str(i), platforms[i]) for i in ids])
            if not inp.autonomous or action.status != "pending_approval":
                return prepared
            settings = await PerformanceSettingsRepository(session).get(tenant)
            verdict = autonomy(
                action.action_type,
                action.previous_state,
                action.new_state,
                action.confidence,
                settings.autonomous,
                await actions.autonomous_today(tenant, now),
            )
            prepared.autonomy_reason = verdict.reason
            if verdict.allowed:
                await actions.set(
                    tenant, action_uuid, status="approved", approval_required=False,
                    approved_by=AI_AUTONOMOUS, approved_at=now,
                )  # fmt: skip
                prepared.status = "approved"
                prepared.auto_approved = True
            else:
                await actions.set(tenant, action_uuid, outcome=f"needs approval: {verdict.reason}")
        return prepared

    @activity.defn(name=ACTIONS_EXECUTE_STEP)
    async def execute_step(self, inp: StepInput) -> StepResult:
        tenant, campaign_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.campaign_id)
        async with tenant_session(self._sessions, tenant) as session:
            campaign = await PlatformCampaignRepository(session).get(tenant, campaign_id)
        if campaign is None:
            raise failure(Failure.NOT_FOUND, f"campaign {inp.campaign_id} is not in the registry")
        operator = self._runtimes.operator(campaign.platform)
        try:
            before = (await operator.read(campaign)).as_json()
            stale = differences(inp.assumed, before)
            if stale:
                raise failure(
                    Failure.STALE,
                    f"campaign {campaign.name or campaign.platform_campaign_id} changed since the "
                    f"action was proposed ({'; '.join(stale)}): nothing was changed",
                    {"observed": before},
                )
            wanted_status = inp.wanted.get("status")
            if wanted_status is not None and wanted_status != before["status"]:
                await operator.set_status(campaign, str(wanted_status))
            wanted_budget = amount(inp.wanted.get("budgetAmount"))
            if wanted_budget is not None and wanted_budget != amount(before["budgetAmount"]):
                await operator.set_budget(campaign, wanted_budget)
            after_state = await operator.read(campaign)
        except PlatformError as exc:
            raise to_application_error(exc) from exc
        except AccountNotFound as exc:
            raise failure(Failure.REAUTH_REQUIRED, str(exc)) from exc
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await PlatformCampaignRepository(session).set_state(tenant, campaign_id, after_state)
        return StepResult(campaign_id=inp.campaign_id, before=before, after=after_state.as_json())

    @activity.defn(name=ACTIONS_FINISH)
    async def finish(self, inp: FinishActionInput) -> ActionOutcome:
        tenant, action_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.action_id)
        now = datetime.now(UTC)
        values: dict[str, object] = {"outcome": inp.outcome[:4000]}
        if inp.status == "executed":
            values |= {
                "executed_at": now,
                "executed_by": inp.executed_by,
                "approved_by": inp.approved_by,
                "approved_at": inp.approved_at,
                "new_state": inp.new_state or {},
            }
        elif inp.decided_by is not None:
            values |= {"decided_by": inp.decided_by, "decided_at": now}
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            actions = ActionRepository(session)
            closed = await actions.finish(tenant, action_id, status=inp.status, **values)
            action = closed or await actions.get(tenant, action_id)
            if action is None:
                raise failure(Failure.NOT_FOUND, f"action {inp.action_id} not found")
            if closed is not None:
                await self._record(session, action, inp, now)
        return ActionOutcome(
            action_id=inp.action_id,
            status=action.status,
            outcome=action.outcome or inp.outcome,
            new_state=action.new_state if action.status == "executed" else None,
            executed_by=action.executed_by,
            approved_by=action.approved_by,
        )

    async def _record(
        self, session: AsyncSession, action: AiActionLog, inp: FinishActionInput, now: datetime
    ) -> None:
        if action.recommendation_id is not None:
            status = {"executed": "executed", "failed": "failed"}.get(inp.status, "rejected")
            result = {"outcome": inp.outcome, "newState": inp.new_state}
            await RecommendationRepository(session).finish(
                action.tenant_id,
                action.recommendation_id,
                status=status,
                at=now if inp.status == "executed" else None,
                result=result,
            )
        await AuditLogRepository(session).add(
            tenant_id=action.tenant_id,
            actor=inp.executed_by or inp.decided_by or "worker",
            user_id=inp.user_id,
            action=f"ai_action.{inp.status}",
            entity_type=ENTITY_TYPE,
            entity_id=str(action.id),
            details={
                "actionType": action.action_type,
                "campaignId": str(action.campaign_id) if action.campaign_id else None,
                "previousState": action.previous_state,
                "newState": action.new_state,
                "approvedBy": action.approved_by,
                "outcome": inp.outcome,
            },
        )


def _campaign_ids(action: AiActionLog) -> list[uuid.UUID]:
    if action.action_type == "REALLOCATE":
        return [uuid.UUID(cid) for cid in sorted(action.new_state.get("campaigns", {}))]
    if action.campaign_id is None:
        raise failure(Failure.INVALID_STATE, f"action {action.id} names no campaign")
    return [action.campaign_id]


def _prepared(action: AiActionLog, campaigns: list[tuple[str, str]]) -> PreparedAction:
    return PreparedAction(
        status=action.status,
        action_type=action.action_type,
        platform=action.platform,
        previous_state=action.previous_state,
        new_state=action.new_state,
        campaigns=campaigns,
        autonomy_reason=None,
    )
