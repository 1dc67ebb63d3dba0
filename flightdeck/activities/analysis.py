"""After each metrics cycle, per tenant (metrics queue): the alert rules and the recommendations
engine on the fresh series, and the signed webhook of each alert a person should hear about.

- `analyze`: evaluates every campaign with data (`domain/alerts.py`) and applies the outcome
  (open, update, resolve, cool down — `repositories/alerts.py`); runs the recommendations
  engine (`domain/recommendations.py`) on the active campaigns, adds the optional narrative,
  publishes them (one pending per change); under autonomous mode, turns each new
  recommendation of an allowed type into an action the workflow then starts.
- `notify`: POSTs the alert to the tenant's webhook (if any), signed with HMAC-SHA256 of
  `{timestamp}.{body}` under the tenant's secret (`X-Flightdeck-Signature: t=…,v1=…`); a 5xx,
  429 or unreachable endpoint is retried by Temporal with backoff; the outcome is recorded on
  the alert.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from flightdeck.activities.names import ALERTS_NOTIFY, METRICS_ANALYZE
from flightdeck.crypto import TokenCipher
from flightdeck.db.models import PlatformCampaign
from flightdeck.db.repositories.actions import ActionRepository, PerformanceSettingsRepository
from flightdeck.db.repositories.alerts import AlertLifecycle, as_payload
from flightdeck.db.repositories.metrics import MetricsStore
from flightdeck.db.repositories.platform_campaigns import PlatformCampaignRepository
from flightdeck.db.repositories.recommendations import RecommendationRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.alerts import DayTotals, evaluate
from flightdeck.domain.metrics_io import AnalyzeInput, AnalyzeResult, AutonomousStart, NotifyInput
from flightdeck.domain.narrative import NarrativeProvider
from flightdeck.domain.performance_settings import PerformanceSettings
from flightdeck.domain.recommendations import CampaignFacts, Recommendation, recommend
from flightdeck.failures import Failure, failure
from flightdeck.platforms.safe_fetch import FetchFailed, FetchRefused, SafeFetcher
from flightdeck.temporal import action_workflow_id

SIGNATURE_HEADER = "X-Flightdeck-Signature"


class AnalysisActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        narrative: NarrativeProvider,
        cipher: TokenCipher,
        webhooks: SafeFetcher,
    ) -> None:
        self._sessions = sessions
        self._narrative = narrative
        self._cipher = cipher
        self._webhooks = webhooks

    @activity.defn(name=METRICS_ANALYZE)
    async def analyze(self, inp: AnalyzeInput) -> AnalyzeResult:
        tenant = uuid.UUID(inp.tenant_id)
        now = datetime.now(UTC)
        today = now.date()
        result = AnalyzeResult()
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            settings = await PerformanceSettingsRepository(session).get(tenant)
            campaigns = await PlatformCampaignRepository(session).active(tenant)
            series = await self._series(session, tenant, today, settings)
            await self._alerts(session, tenant, campaigns, series, settings, now, result)
            found = recommend(
                [_facts(c, series.get(c.id, [])) for c in campaigns],
                today,
                settings.recommendations,
                settings.alerts,
            )
            narratives = {r.change_key: self._narrative.narrate(r) for r in found}
            published = await RecommendationRepository(session).publish(tenant, found, narratives)
            result.recommendations_new = sum(1 for p in published if p.new)
            result.recommendations_pending = len(published)
            new = [rec for rec, p in zip(found, published, strict=True) if p.new]
            ids = [p.recommendation_id for p in published if p.new]
            result.autonomous = await self._autonomous(session, tenant, new, ids, settings, now)
        activity.logger.info("analysis for %s: %s", tenant, result.model_dump())
        return result

    async def _series(
        self,
        session: AsyncSession,
        tenant: uuid.UUID,
        today: date,
        settings: PerformanceSettings,
    ) -> dict[uuid.UUID, list[DayTotals]]:
        alerts, recs = settings.alerts, settings.recommendations
        days = max(alerts.recent_days + alerts.baseline_days, recs.evaluation_days) + 1
        rows = await MetricsStore(session).daily(tenant, today - timedelta(days=days), today)
        series: dict[uuid.UUID, list[DayTotals]] = defaultdict(list)
        for row in rows:
            t = row.totals
            series[row.campaign_id].append(
                DayTotals(row.day, t.impressions, t.clicks, t.spend, t.conversions, t.revenue)
            )
        return series

    async def _alerts(
        self,
        session: AsyncSession,
        tenant: uuid.UUID,
        campaigns: list[PlatformCampaign],
        series: dict[uuid.UUID, list[DayTotals]],
        settings: PerformanceSettings,
        now: datetime,
        result: AnalyzeResult,
    ) -> None:
        lifecycle = AlertLifecycle(session)
        cooldown = timedelta(hours=settings.alerts.cooldown_hours)
        for campaign in sorted(campaigns, key=lambda c: str(c.id)):
            rows = series.get(campaign.id)
            if not rows:
                continue
            for evaluation in evaluate(rows, now.date(), settings.alerts, campaign.currency or ""):
                applied = await lifecycle.apply(
                    tenant, campaign.id, campaign.platform, evaluation, now=now, cooldown=cooldown
                )
                result.alerts_opened += applied.outcome == "opened"
                result.alerts_updated += applied.outcome in ("updated", "escalated")
                result.alerts_resolved += applied.outcome == "resolved"
                result.alerts_suppressed += applied.outcome == "cooling_down"
                if applied.notify and applied.alert_id is not None:
                    result.notify.append(str(applied.alert_id))

    async def _autonomous(
        self,
        session: AsyncSession,
        tenant: uuid.UUID,
        found: list[Recommendation],
        ids: list[uuid.UUID],
        settings: PerformanceSettings,
        now: datetime,
    ) -> list[AutonomousStart]:
        """New recommendations the AI may act on by itself become actions; whether each stays
        within the guardrails is decided when it runs (else it waits for a person)."""
        mode = settings.autonomous
        if not mode.enabled or mode.kill_switch:
            return []
        starts = []
        actions = ActionRepository(session)
        recommendations = RecommendationRepository(session)
        expires = now + timedelta(hours=settings.action_expiry_hours)
        for rec, rec_id in zip(found, ids, strict=True):
            if rec.action_type not in mode.action_types:
                continue
            action_id = uuid.uuid4()
            await actions.propose(
                tenant,
                action_id=action_id,
                action_type=rec.action_type,
                platform=rec.platform,
                campaign_id=uuid.UUID(rec.campaign_id) if rec.campaign_id else None,
                previous_state=rec.previous_state,
                new_state=rec.proposed_change,
                reasoning=rec.reasoning,
                confidence=rec.confidence,
                proposed_by="ai",
                expires_at=expires,
                workflow_id=action_workflow_id(tenant, action_id),
                recommendation_id=rec_id,
                autonomous=True,
            )
            await recommendations.decide(
                tenant, rec_id, status="accepted", by="ai_autonomous", at=now, action_id=action_id
            )
            starts.append(AutonomousStart(action_id=str(action_id), expires_at=expires))
        return starts

    @activity.defn(name=ALERTS_NOTIFY)
    async def notify(self, inp: NotifyInput) -> bool:
        """Deliver one alert to the tenant's webhook; False when the tenant has none."""
        tenant, alert_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.alert_id)
        async with tenant_session(self._sessions, tenant) as session:
            settings_repo = PerformanceSettingsRepository(session)
            settings = await settings_repo.get(tenant)
            secret = await settings_repo.webhook_secret(tenant, self._cipher)
            alert = await AlertLifecycle(session).get(tenant, alert_id)
        if alert is None or not settings.webhook_url or secret is None:
            return False
        body = json.dumps(
            {"event": "alert", "alert": as_payload(alert)}, separators=(",", ":"), default=str
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Flightdeck-Event": "alert",
            "X-Flightdeck-Delivery": f"{alert.id}-{alert.fire_count}",
            SIGNATURE_HEADER: signature(secret, body, int(datetime.now(UTC).timestamp())),
        }
        error: str | None = None
        try:
            status = await self._webhooks.post(settings.webhook_url, body, headers)
        except FetchRefused as exc:
            await self._record(tenant, alert_id, f"refused: {exc}")
            raise failure(Failure.PLATFORM_REJECTED, f"webhook refused: {exc}") from exc
        except FetchFailed as exc:
            error = str(exc)
        else:
            if 200 <= status < 300:
                await self._record(tenant, alert_id, None)
                return True
            error = f"the webhook answered {status}"
            if status < 500 and status != 429:
                await self._record(tenant, alert_id, error)
                raise failure(Failure.PLATFORM_REJECTED, error)
        await self._record(tenant, alert_id, error)
        raise failure(Failure.PLATFORM_UNAVAILABLE, f"webhook delivery failed: {error}")

    async def _record(self, tenant: uuid.UUID, alert_id: uuid.UUID, error: str | None) -> None:
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await AlertLifecycle(session).mark_notified(
                tenant, alert_id, at=None if error else datetime.now(UTC), error=error
            )


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes it with
    the shared secret and refuses stale timestamps (replays)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _facts(campaign: PlatformCampaign, rows: list[DayTotals]) -> CampaignFacts:
    return CampaignFacts(
        campaign_id=str(campaign.id),
        name=campaign.name,
        platform=campaign.platform,
        status=campaign.status,
        budget_amount=None if campaign.budget_amount is None else Decimal(campaign.budget_amount),
        budget_type=campaign.budget_type,
        currency=campaign.currency,
        rows=rows,
    )
