"""The AI actions log (seed 004's `ai_actions_log`): every action from proposal to outcome, and
the per-tenant performance settings the actions, alerts and recommendations follow."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from flightdeck.crypto import TokenCipher
from flightdeck.db.models import AiActionLog, PerformanceSettingsRow, PlatformCampaign
from flightdeck.db.repositories.base import RepositoryBase, TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, asc, desc, nulls_last
from flightdeck.domain.performance_settings import PerformanceSettings

OPEN = ("pending_approval", "approved")


# The seed's actions history: most recently executed first, then the ones not executed yet.
ACTION_ORDER = Keyset(
    "actions",
    *nulls_last(AiActionLog.executed_at, descending=True, filler=datetime(1970, 1, 1, tzinfo=UTC)),
    desc(AiActionLog.created_at),
    asc(AiActionLog.id),
)


class ActionRepository(TenantScopedRepository[AiActionLog]):
    model = AiActionLog

    async def propose(
        self,
        tenant_id: uuid.UUID,
        *,
        action_id: uuid.UUID,
        action_type: str,
        platform: str,
        campaign_id: uuid.UUID | None,
        previous_state: dict[str, Any],
        new_state: dict[str, Any],
        reasoning: str | None,
        confidence: Decimal | None,
        proposed_by: str,
        expires_at: datetime,
        workflow_id: str,
        recommendation_id: uuid.UUID | None = None,
        reverts_action_id: uuid.UUID | None = None,
        autonomous: bool = False,
    ) -> AiActionLog:
        return await self._add(
            AiActionLog(
                id=action_id,
                tenant_id=tenant_id,
                action_type=action_type,
                platform=platform,
                campaign_id=campaign_id,
                previous_state=previous_state,
                new_state=new_state,
                reasoning=reasoning,
                confidence=confidence,
                proposed_by=proposed_by,
                expires_at=expires_at,
                workflow_id=workflow_id,
                recommendation_id=recommendation_id,
                reverts_action_id=reverts_action_id,
                autonomous=autonomous,
                approval_required=True,
                status="pending_approval",
            )
        )

    async def get(self, tenant_id: uuid.UUID, action_id: uuid.UUID) -> AiActionLog | None:
        statement = self._select(tenant_id, AiActionLog.id == action_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def set(
        self, tenant_id: uuid.UUID, action_id: uuid.UUID, **values: Any
    ) -> AiActionLog | None:
        return await self._update_returning(tenant_id, [AiActionLog.id == action_id], values)

    async def finish(
        self, tenant_id: uuid.UUID, action_id: uuid.UUID, *, status: str, **values: Any
    ) -> AiActionLog | None:
        """Close an open action (None when it was already closed: a retried activity)."""
        return await self._update_returning(
            tenant_id,
            [AiActionLog.id == action_id, AiActionLog.status.in_(OPEN)],
            {"status": status, **values},
        )

    async def open_for_campaign(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID
    ) -> builtins.list[AiActionLog]:
        return await self._all(
            self._select(
                tenant_id, AiActionLog.campaign_id == campaign_id, AiActionLog.status.in_(OPEN)
            )
        )

    async def autonomous_today(self, tenant_id: uuid.UUID, now: datetime) -> int:
        """Autonomous actions executed in the last 24 hours (the daily guardrail)."""
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    AiActionLog.tenant_id == tenant_id,
                    AiActionLog.executed_by == "ai_autonomous",
                    AiActionLog.executed_at >= now - timedelta(hours=24),
                )
            )
            or 0
        )

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        status: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[tuple[AiActionLog, str | None]]:
        """The seed's actions-history query: with the campaign's name, most recently executed
        first (waiting and refused ones, which have not executed, by creation time after)."""
        statement = (
            select(AiActionLog, PlatformCampaign.name)
            .outerjoin(PlatformCampaign, PlatformCampaign.id == AiActionLog.campaign_id)
            .where(AiActionLog.tenant_id == tenant_id)
        )
        if status is not None:
            statement = statement.where(AiActionLog.status == status)
        if since is not None:
            statement = statement.where(
                func.coalesce(AiActionLog.executed_at, AiActionLog.created_at) >= since
            )
        page = await ACTION_ORDER.page(self.session, statement, limit=limit, cursor=cursor)
        return Page([(r[0], r[1]) for r in page.items], page.next_cursor)


class PerformanceSettingsRepository(RepositoryBase[PerformanceSettingsRow]):
    model = PerformanceSettingsRow

    async def get(self, tenant_id: uuid.UUID) -> PerformanceSettings:
        row = await self.session.get(PerformanceSettingsRow, tenant_id)
        return PerformanceSettings.model_validate(row.settings if row else {})

    async def put(self, tenant_id: uuid.UUID, settings: PerformanceSettings) -> PerformanceSettings:
        data = settings.model_dump(mode="json", by_alias=True)
        await self.session.execute(
            insert(PerformanceSettingsRow)
            .values(tenant_id=tenant_id, settings=data)
            .on_conflict_do_update(
                index_elements=[PerformanceSettingsRow.tenant_id],
                set_={"settings": data, "updated_at": datetime.now(UTC)},
            )
        )
        return settings

    async def set_webhook_secret(
        self, tenant_id: uuid.UUID, secret: str, cipher: TokenCipher
    ) -> None:
        blob = cipher.encrypt(secret, secret_context(tenant_id))
        await self.session.execute(
            insert(PerformanceSettingsRow)
            .values(tenant_id=tenant_id, settings={}, webhook_secret_encrypted=blob)
            .on_conflict_do_update(
                index_elements=[PerformanceSettingsRow.tenant_id],
                set_={"webhook_secret_encrypted": blob, "updated_at": datetime.now(UTC)},
            )
        )

    async def webhook_secret(self, tenant_id: uuid.UUID, cipher: TokenCipher) -> str | None:
        row = await self.session.get(PerformanceSettingsRow, tenant_id)
        if row is None or row.webhook_secret_encrypted is None:
            return None
        return cipher.decrypt(row.webhook_secret_encrypted, secret_context(tenant_id))


def secret_context(tenant_id: uuid.UUID) -> str:
    return f"performance_settings:{tenant_id}:webhook_secret"
