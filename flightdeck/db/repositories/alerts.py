"""Alerts: one table for every kind (performance and operational), one lifecycle.

Performance alerts are applied from a rule's evaluation (`apply`):
- firing with an alert of that campaign and type already open → that alert is updated
  (severity, metric, message, `fire_count`, `last_fired_at`): never a second one (a partial
  unique index holds it under concurrency too);
- firing with none open → a new one, unless one was resolved less than the cooldown ago;
- recovered (below the threshold with hysteresis) with one open → resolved by `auto`.

Listing follows the seed's order: severity (CRITICAL first), then newest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import Alert
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, asc, desc
from flightdeck.domain.alerts import Evaluation

SEVERITY_RANK = case(
    {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 3, "LOW": 4}, value=Alert.severity, else_=5
)
ALERT_ORDER = Keyset("alerts", asc(SEVERITY_RANK, int), desc(Alert.created_at), asc(Alert.id))
ENTITY_TYPE = "platform_campaign"
AUTO = "auto"
Outcome = Literal["opened", "updated", "escalated", "resolved", "cooling_down", "unchanged"]


@dataclass(frozen=True)
class Applied:
    outcome: Outcome
    alert_id: uuid.UUID | None = None

    @property
    def notify(self) -> bool:
        """A person should hear about it: new, or worse than before."""
        return self.outcome in ("opened", "escalated")


class AlertLifecycle(TenantScopedRepository[Alert]):
    model = Alert

    async def apply(
        self,
        tenant_id: uuid.UUID,
        campaign_id: uuid.UUID,
        platform: str,
        evaluation: Evaluation,
        *,
        now: datetime,
        cooldown: timedelta,
    ) -> Applied:
        open_alert = await self.open_for(tenant_id, campaign_id, evaluation.alert_type)
        if evaluation.firing:
            if open_alert is not None:
                return await self._refire(tenant_id, open_alert, evaluation, now)
            resolved = await self.last_resolved_at(tenant_id, campaign_id, evaluation.alert_type)
            if resolved is not None and now - resolved < cooldown:
                return Applied("cooling_down")
            return await self._open(tenant_id, campaign_id, platform, evaluation, now)
        if open_alert is not None and evaluation.recovered:
            await self.resolve(tenant_id, open_alert.id, by=AUTO, now=now)
            return Applied("resolved", open_alert.id)
        return Applied("unchanged", open_alert.id if open_alert else None)

    async def _open(
        self,
        tenant_id: uuid.UUID,
        campaign_id: uuid.UUID,
        platform: str,
        evaluation: Evaluation,
        now: datetime,
    ) -> Applied:
        inserted = await self._returning(
            insert(Alert)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                alert_type=evaluation.alert_type,
                severity=evaluation.severity or "LOW",
                entity_type=ENTITY_TYPE,
                entity_id=str(campaign_id),
                campaign_id=campaign_id,
                platform=platform,
                message=evaluation.message,
                metric_name=evaluation.metric_name,
                metric_value=evaluation.metric_value,
                threshold_value=evaluation.threshold_value,
                details=evaluation.details,
                last_fired_at=now,
            )
            .on_conflict_do_nothing(
                index_elements=[Alert.tenant_id, Alert.campaign_id, Alert.alert_type],
                index_where=Alert.resolved_at.is_(None) & Alert.campaign_id.is_not(None),
            )
            .returning(Alert)
        )
        if inserted is None:  # opened concurrently: that one fires again instead
            existing = await self.open_for(tenant_id, campaign_id, evaluation.alert_type)
            assert existing is not None
            return await self._refire(tenant_id, existing, evaluation, now)
        return Applied("opened", inserted.id)

    async def _refire(
        self, tenant_id: uuid.UUID, alert: Alert, evaluation: Evaluation, now: datetime
    ) -> Applied:
        severity = evaluation.severity or alert.severity
        escalated = _rank(severity) < _rank(alert.severity)
        await self._update_returning(
            tenant_id,
            [Alert.id == alert.id],
            {
                "severity": severity,
                "message": evaluation.message,
                "metric_value": evaluation.metric_value,
                "threshold_value": evaluation.threshold_value,
                "details": evaluation.details,
                "fire_count": Alert.fire_count + 1,
                "last_fired_at": now,
            },
        )
        return Applied("escalated" if escalated else "updated", alert.id)

    async def open_for(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, alert_type: str
    ) -> Alert | None:
        statement = self._select(
            tenant_id,
            Alert.campaign_id == campaign_id,
            Alert.alert_type == alert_type,
            Alert.resolved_at.is_(None),
        )
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def last_resolved_at(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, alert_type: str
    ) -> datetime | None:
        value: datetime | None = await self.session.scalar(
            select(func.max(Alert.resolved_at)).where(
                Alert.tenant_id == tenant_id,
                Alert.campaign_id == campaign_id,
                Alert.alert_type == alert_type,
            )
        )
        return value

    async def get(self, tenant_id: uuid.UUID, alert_id: uuid.UUID) -> Alert | None:
        statement = self._select(tenant_id, Alert.id == alert_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def acknowledge(
        self, tenant_id: uuid.UUID, alert_id: uuid.UUID, *, by: str, now: datetime
    ) -> Alert | None:
        """First acknowledgement wins (who and when); acknowledging again changes nothing."""
        updated = await self._update_returning(
            tenant_id,
            [Alert.id == alert_id, Alert.acknowledged_at.is_(None)],
            {"acknowledged_at": now, "acknowledged_by": by},
        )
        return updated or await self.get(tenant_id, alert_id)

    async def resolve(
        self, tenant_id: uuid.UUID, alert_id: uuid.UUID, *, by: str, now: datetime
    ) -> Alert | None:
        updated = await self._update_returning(
            tenant_id,
            [Alert.id == alert_id, Alert.resolved_at.is_(None)],
            {"resolved_at": now, "resolved_by": by},
        )
        return updated or await self.get(tenant_id, alert_id)

    async def mark_notified(
        self, tenant_id: uuid.UUID, alert_id: uuid.UUID, *, at: datetime | None, error: str | None
    ) -> None:
        await self._update_returning(
            tenant_id,
            [Alert.id == alert_id],
            {"notified_at": at, "notification_error": error},
        )

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        status: Literal["open", "resolved", "all"] = "open",
        alert_type: str | None = None,
        campaign_id: uuid.UUID | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Alert]:
        """A page in the seed's "active alerts" order: severity, then newest first."""
        statement = self._select(tenant_id)
        if status == "open":
            statement = statement.where(Alert.resolved_at.is_(None))
        elif status == "resolved":
            statement = statement.where(Alert.resolved_at.is_not(None))
        if alert_type is not None:
            statement = statement.where(Alert.alert_type == alert_type)
        if campaign_id is not None:
            statement = statement.where(Alert.campaign_id == campaign_id)
        return await ALERT_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)


def _rank(severity: str) -> int:
    return {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 3, "LOW": 4}.get(severity, 5)


def as_payload(alert: Alert, campaign_name: str | None = None) -> dict[str, Any]:
    """An alert as the API and the webhook show it (camelCase JSON)."""
    return {
        "id": str(alert.id),
        "alertType": alert.alert_type,
        "severity": alert.severity,
        "campaignId": str(alert.campaign_id) if alert.campaign_id else None,
        "campaignName": campaign_name,
        "platform": alert.platform,
        "entityType": alert.entity_type,
        "entityId": alert.entity_id,
        "message": alert.message,
        "metricName": alert.metric_name,
        "metricValue": None if alert.metric_value is None else str(alert.metric_value),
        "thresholdValue": None if alert.threshold_value is None else str(alert.threshold_value),
        "details": alert.details,
        "fireCount": alert.fire_count,
        "createdAt": alert.created_at.isoformat(),
        "lastFiredAt": alert.last_fired_at.isoformat() if alert.last_fired_at else None,
        "acknowledgedAt": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledgedBy": alert.acknowledged_by,
        "resolvedAt": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "resolvedBy": alert.resolved_by,
    }
