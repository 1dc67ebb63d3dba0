"""What the action endpoints share: reading a campaign's live state from its platform (what an
action assumes, and what the approval's validator compares), and starting an action's
`ApplyActionWorkflow` with its row.

The workflow is started before the row commits (in the same request), so a row never exists
without its workflow; the workflow's first activity waits for the row if it runs first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from flightdeck.accounts import AccountNotFound
from flightdeck.api.deps import Principal
from flightdeck.api.errors import ApiError
from flightdeck.db.models import AiActionLog, PlatformCampaign
from flightdeck.db.repositories.actions import ActionRepository, PerformanceSettingsRepository
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.domain.metrics_io import ApplyActionInput
from flightdeck.platforms.errors import AuthExpiredError, NonRetryableError, PlatformError
from flightdeck.platforms.reporting import PerformanceDeps, registered, registration
from flightdeck.settings import Settings
from flightdeck.temporal import PLATFORM, TENANT_ID, action_workflow_id
from flightdeck.workflows.apply_action import ApplyActionWorkflow


async def live_states(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    campaigns: Sequence[PlatformCampaign],
) -> dict[uuid.UUID, dict[str, Any]]:
    """Each campaign's state as its platform reports it now (status, budget in major units)."""
    states: dict[uuid.UUID, dict[str, Any]] = {}
    deps = PerformanceDeps(sessions, settings)
    for name in sorted({c.platform for c in campaigns}):
        async with registration(name).open_runtime(deps) as runtime:
            for campaign in (c for c in campaigns if c.platform == name):
                try:
                    states[campaign.id] = (await runtime.operator.read(campaign)).as_json()
                except (AuthExpiredError, AccountNotFound) as exc:
                    raise ApiError(409, "reauth_required", str(exc)) from None
                except NonRetryableError as exc:
                    raise ApiError(422, "platform_rejected", str(exc)) from None
                except PlatformError as exc:
                    raise ApiError(
                        503, "platform_unavailable", str(exc), {"Retry-After": "30"}
                    ) from None
    return states


def observed_for(action: AiActionLog, states: dict[uuid.UUID, dict[str, Any]]) -> dict[str, Any]:
    """The live states in the shape of the action's `previous_state`."""
    if "campaigns" in action.previous_state:
        return {"campaigns": {str(cid): state for cid, state in states.items()}}
    assert action.campaign_id is not None
    return states[action.campaign_id]


def campaign_ids(action: AiActionLog) -> list[uuid.UUID]:
    if "campaigns" in action.previous_state:
        return [uuid.UUID(cid) for cid in action.previous_state["campaigns"]]
    return [action.campaign_id] if action.campaign_id else []


async def start_action(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    principal: Principal,
    *,
    action_type: str,
    platform: str,
    campaign_id: uuid.UUID | None,
    previous_state: dict[str, Any],
    new_state: dict[str, Any],
    reasoning: str | None,
    confidence: Decimal | None = None,
    recommendation_id: uuid.UUID | None = None,
    reverts_action_id: uuid.UUID | None = None,
    commit: bool = True,
) -> AiActionLog:
    """Insert the action, start its workflow, then commit (unless the caller commits more)."""
    tenant = principal.tenant_id
    prefs = await PerformanceSettingsRepository(session).get(tenant)
    expires_at = datetime.now(UTC) + timedelta(hours=prefs.action_expiry_hours)
    action_id = uuid.uuid4()
    workflow_id = action_workflow_id(tenant, action_id)
    action = await ActionRepository(session).propose(
        tenant,
        action_id=action_id,
        action_type=action_type,
        platform=platform,
        campaign_id=campaign_id,
        previous_state=previous_state,
        new_state=new_state,
        reasoning=reasoning,
        confidence=confidence,
        proposed_by=principal.actor,
        expires_at=expires_at,
        workflow_id=workflow_id,
        recommendation_id=recommendation_id,
        reverts_action_id=reverts_action_id,
    )
    await AuditLogRepository(session).add(
        tenant_id=tenant,
        action="ai_action.proposed",
        entity_type="ai_action",
        entity_id=str(action_id),
        details={"actionType": action_type, "newState": new_state, "expiresAt": str(expires_at)},
    )
    await temporal.start_workflow(
        ApplyActionWorkflow.run,
        ApplyActionInput(
            tenant_id=str(tenant),
            action_id=str(action_id),
            expires_at=expires_at,
            write_queues={r.name: r.write_queue(settings) for r in registered()},
            activity_timeout_seconds=settings.publish_activity_timeout_seconds,
        ),
        id=workflow_id,
        task_queue=settings.metrics_task_queue,
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(TENANT_ID, str(tenant)), SearchAttributePair(PLATFORM, platform)]
        ),
        static_summary=f"{action_type} on {platform} · waiting for approval",
    )
    if commit:
        await session.commit()
    return action
