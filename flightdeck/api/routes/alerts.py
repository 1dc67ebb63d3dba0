"""Alerts: performance alerts (ROAS_DROP, CPA_SPIKE, ZERO_CONVERSIONS) and operational ones
(conflicts waiting too long, ads rejected in review, failed compensations), one list.

GET  /alerts?status=open|resolved|all&alertType=&campaignId=   the seed's order: severity
                                                               (CRITICAL first), then newest
GET  /alerts/{id}
POST /alerts/{id}/acknowledge      who and when (the first acknowledgement stands)
POST /alerts/{id}/resolve          who and when; a resolved performance alert does not fire
                                   again for that campaign until the cooldown has passed
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.api.deps import PrincipalDep, SessionDep, TenantDep
from flightdeck.api.errors import field_error, not_found
from flightdeck.api.paging import PageDep
from flightdeck.api.performance_models import AlertOut, AlertPage
from flightdeck.api.publishing import parse_uuid
from flightdeck.db.models import Alert, PlatformCampaign
from flightdeck.db.repositories.alerts import AlertLifecycle
from flightdeck.db.repositories.audit_log import AuditLogRepository

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", response_model=AlertPage)
async def list_alerts(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
    alert_type: Annotated[str | None, Query(alias="alertType", max_length=100)] = None,
    campaign_id: Annotated[str | None, Query(alias="campaignId")] = None,
) -> AlertPage:
    campaign = None
    if campaign_id is not None:
        campaign = parse_uuid(campaign_id)
        if campaign is None:
            raise field_error("campaignId", "must be a campaign id (UUID)")
    rows = await AlertLifecycle(session).list(
        tenant.id, status=status, alert_type=alert_type, campaign_id=campaign,
        limit=page.limit, cursor=page.cursor,
    )  # fmt: skip
    names = await _names(session, tenant.id, rows.items)
    return AlertPage(
        items=[alert_out(a, names.get(a.campaign_id)) for a in rows.items],
        next_cursor=rows.next_cursor,
    )


@router.get("/{alert_id}", response_model=AlertOut)
async def get_alert(alert_id: str, tenant: TenantDep, session: SessionDep) -> AlertOut:
    alert = await _load(session, tenant.id, alert_id)
    return alert_out(alert, (await _names(session, tenant.id, [alert])).get(alert.campaign_id))


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
async def acknowledge_alert(
    alert_id: str, principal: PrincipalDep, session: SessionDep
) -> AlertOut:
    alert = await _load(session, principal.tenant_id, alert_id)
    updated = await AlertLifecycle(session).acknowledge(
        principal.tenant_id, alert.id, by=principal.actor, now=datetime.now(UTC)
    )
    return await _audited(session, principal.tenant_id, updated, "alert.acknowledged")


@router.post("/{alert_id}/resolve", response_model=AlertOut)
async def resolve_alert(alert_id: str, principal: PrincipalDep, session: SessionDep) -> AlertOut:
    alert = await _load(session, principal.tenant_id, alert_id)
    updated = await AlertLifecycle(session).resolve(
        principal.tenant_id, alert.id, by=principal.actor, now=datetime.now(UTC)
    )
    return await _audited(session, principal.tenant_id, updated, "alert.resolved")


async def _audited(
    session: AsyncSession, tenant_id: uuid.UUID, alert: Alert | None, action: str
) -> AlertOut:
    assert alert is not None
    await AuditLogRepository(session).add(
        tenant_id=tenant_id, action=action, entity_type="alert", entity_id=str(alert.id),
        details={"alertType": alert.alert_type, "severity": alert.severity},
    )  # fmt: skip
    await session.commit()
    return alert_out(alert, (await _names(session, tenant_id, [alert])).get(alert.campaign_id))


async def _load(session: AsyncSession, tenant_id: uuid.UUID, alert_id: str) -> Alert:
    parsed = parse_uuid(alert_id)
    alert = await AlertLifecycle(session).get(tenant_id, parsed) if parsed else None
    if alert is None:
        raise not_found("alert")
    return alert


async def _names(
    session: AsyncSession, tenant_id: uuid.UUID, alerts: list[Alert]
) -> dict[uuid.UUID | None, str | None]:
    ids = {a.campaign_id for a in alerts if a.campaign_id}
    if not ids:
        return {}
    rows = await session.execute(
        select(PlatformCampaign.id, PlatformCampaign.name).where(
            PlatformCampaign.tenant_id == tenant_id, PlatformCampaign.id.in_(ids)
        )
    )
    return {cid: name for cid, name in rows.all()}


def alert_out(a: Alert, campaign_name: str | None = None) -> AlertOut:
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return AlertOut(
        id=str(a.id),
        alert_type=a.alert_type,
        severity=a.severity,
        campaign_id=text(a.campaign_id),
        campaign_name=campaign_name,
        platform=a.platform,
        entity_type=a.entity_type,
        entity_id=a.entity_id,
        message=a.message,
        metric_name=a.metric_name,
        metric_value=text(a.metric_value),
        threshold_value=text(a.threshold_value),
        details=a.details,
        fire_count=a.fire_count,
        created_at=a.created_at,
        last_fired_at=a.last_fired_at,
        acknowledged_at=a.acknowledged_at,
        acknowledged_by=a.acknowledged_by,
        resolved_at=a.resolved_at,
        resolved_by=a.resolved_by,
        notified_at=a.notified_at,
        notification_error=a.notification_error,
    )
