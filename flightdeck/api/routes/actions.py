"""Actions that run on a platform only after a person approves them (seed 004).

GET  /actions?status=&sinceHours=        the seed's history: newest executed first, with the
                                         campaign's name
GET  /actions/{id}
POST /actions                            propose one by hand: {actionType: PAUSE |
                                         BUDGET_CHANGE, campaignId, budgetAmount?, reasoning?}
                                         → 202, waiting for approval (expires after the
                                         tenant's `actionExpiryHours`, default 24)
POST /actions/{id}/approve               approver role: a Temporal update; its validator
                                         refuses an expired or decided action (409) and one
                                         whose campaign moved on since (409 stale_request);
                                         answers once the platform changed and was read back
POST /actions/{id}/reject                approver role: nothing touches the platform
POST /actions/{id}/revert                a new action restoring the executed one's
                                         `previous_state`, approved the same way
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from flightdeck.api.action_requests import (
    campaign_ids,
    live_states,
    observed_for,
    start_action,
)
from flightdeck.api.deps import ApproverDep, PrincipalDep, SessionDep, SettingsDep, TemporalDep
from flightdeck.api.errors import ApiError, field_error, from_failure, not_found
from flightdeck.api.paging import PageDep
from flightdeck.api.performance_models import (
    ActionOut,
    ActionPage,
    ActionStarted,
    DecisionIn,
    ProposeIn,
    action_out,
)
from flightdeck.api.publishing import parse_uuid
from flightdeck.db.models import AiActionLog
from flightdeck.db.repositories.actions import ActionRepository
from flightdeck.db.repositories.platform_campaigns import PlatformCampaignRepository
from flightdeck.domain.actions import revert_of
from flightdeck.domain.metrics_io import ActionWorkflowState, ApprovalRequest, RejectRequest
from flightdeck.workflows.apply_action import ApplyActionWorkflow

router = APIRouter(prefix="/actions", tags=["actions"])
WAIT_FOR_WORKFLOW_SECONDS = 10.0
ActionStatus = Literal[
    "pending_approval", "approved", "executed", "rejected", "expired", "stale", "failed"
]


@router.get("", response_model=ActionPage)
async def list_actions(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[
        Literal[
            "pending_approval", "approved", "executed", "rejected", "expired", "stale", "failed"
        ]
        | None,
        Query(),
    ] = None,
    since_hours: Annotated[int | None, Query(alias="sinceHours", ge=1, le=24 * 366)] = None,
) -> ActionPage:
    since = datetime.now(UTC) - timedelta(hours=since_hours) if since_hours else None
    rows = await ActionRepository(session).list(
        principal.tenant_id, status=status, since=since, limit=page.limit, cursor=page.cursor
    )
    return ActionPage(
        items=[action_out(a, name) for a, name in rows.items], next_cursor=rows.next_cursor
    )


@router.get("/{action_id}", response_model=ActionOut)
async def get_action(action_id: str, principal: PrincipalDep, session: SessionDep) -> ActionOut:
    return action_out(await _load(session, principal.tenant_id, action_id))


@router.post("", status_code=202, response_model=ActionStarted)
async def propose_action(
    body: ProposeIn,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ActionStarted:
    parsed = parse_uuid(body.campaign_id)
    if parsed is None:
        raise field_error("campaignId", "must be a campaign id (UUID)")
    campaign = await PlatformCampaignRepository(session).get(principal.tenant_id, parsed)
    if campaign is None:
        raise not_found("campaign")
    if await ActionRepository(session).open_for_campaign(principal.tenant_id, campaign.id):
        raise ApiError(409, "conflict", "an action on this campaign is already waiting or running")
    current = (await live_states(request.app.state.sessions, settings, [campaign]))[campaign.id]
    wanted: dict[str, Any]
    if body.action_type == "PAUSE":
        if current["status"] != "active":
            raise ApiError(409, "conflict", f"the campaign is {current['status']}, not active")
        wanted = {"status": "paused"}
    else:
        if body.budget_amount is None:
            raise field_error("budgetAmount", "is required for BUDGET_CHANGE")
        if current["budgetAmount"] is None:
            raise ApiError(409, "conflict", "the campaign has no budget Flightdeck can change")
        wanted = {"budgetAmount": str(body.budget_amount)}
    action = await start_action(
        session, temporal, settings, principal,
        action_type=body.action_type, platform=campaign.platform, campaign_id=campaign.id,
        previous_state=current, new_state=wanted, reasoning=body.reasoning,
    )  # fmt: skip
    return _started(action)


@router.post("/{action_id}/approve", response_model=ActionOut)
async def approve_action(
    action_id: str,
    request: Request,
    principal: ApproverDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ActionOut:
    action = await _load(session, principal.tenant_id, action_id)
    _still_open(action)
    campaigns = await PlatformCampaignRepository(session).get_many(
        principal.tenant_id, campaign_ids(action)
    )
    states = await live_states(request.app.state.sessions, settings, campaigns)
    approval = ApprovalRequest(
        actor=principal.actor,
        user_id=str(principal.user_id),
        role=principal.role,
        observed=observed_for(action, states),
    )
    await _decide(temporal, action, ApplyActionWorkflow.approve, approval)
    return action_out(await _load(session, principal.tenant_id, action_id))


@router.post("/{action_id}/reject", response_model=ActionOut)
async def reject_action(
    action_id: str,
    principal: ApproverDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: DecisionIn | None = None,
) -> ActionOut:
    action = await _load(session, principal.tenant_id, action_id)
    _still_open(action)
    rejection = RejectRequest(
        actor=principal.actor,
        user_id=str(principal.user_id),
        role=principal.role,
        reason=body.reason if body else None,
    )
    await _decide(temporal, action, ApplyActionWorkflow.reject, rejection)
    return action_out(await _load(session, principal.tenant_id, action_id))


@router.post("/{action_id}/revert", status_code=202, response_model=ActionStarted)
async def revert_action(
    action_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> ActionStarted:
    original = await _load(session, principal.tenant_id, action_id)
    if original.status != "executed":
        raise ApiError(409, "conflict", f"only an executed action can be reverted; this one is "
                       f"{original.status}")  # fmt: skip
    assumed, wanted = revert_of(original.previous_state, original.new_state)
    if not wanted or wanted == {"campaigns": {}}:
        raise ApiError(409, "conflict", "the action changed nothing there is to put back")
    action = await start_action(
        session, temporal, settings, principal,
        action_type=original.action_type, platform=original.platform,
        campaign_id=original.campaign_id, previous_state=assumed, new_state=wanted,
        reasoning=f"Revert of action {original.id}: restore {wanted}",
        reverts_action_id=original.id,
    )  # fmt: skip
    return _started(action)


async def _decide(
    temporal: Client,
    action: AiActionLog,
    update: Any,
    request: ApprovalRequest | RejectRequest,
) -> None:
    handle = temporal.get_workflow_handle(action.workflow_id)
    await _until_waiting(handle)
    try:
        await handle.execute_update(update, request)
    except WorkflowUpdateFailedError as exc:
        raise from_failure(exc) from None
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(409, "stale_request", "the action is no longer waiting") from None
        raise


async def _until_waiting(handle: Any) -> None:
    """A just-proposed action is still being prepared for a moment: wait for it to wait."""
    deadline = asyncio.get_running_loop().time() + WAIT_FOR_WORKFLOW_SECONDS
    while True:
        try:
            state: ActionWorkflowState = await handle.query(ApplyActionWorkflow.state)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ApiError(409, "stale_request", "the action is no longer waiting") from None
            raise
        if state.status != "preparing" or asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.1)


def _still_open(action: AiActionLog) -> None:
    if action.status != "pending_approval":
        raise ApiError(409, "stale_request", f"the action is {action.status}, not waiting")


async def _load(session: AsyncSession, tenant_id: uuid.UUID, action_id: str) -> AiActionLog:
    parsed = parse_uuid(action_id)
    action = await ActionRepository(session).get(tenant_id, parsed) if parsed else None
    if action is None:
        raise not_found("action")
    return action


def _started(action: AiActionLog) -> ActionStarted:
    return ActionStarted(
        action_id=str(action.id),
        workflow_id=action.workflow_id,
        status=action.status,
        expires_at=action.expires_at,
    )
