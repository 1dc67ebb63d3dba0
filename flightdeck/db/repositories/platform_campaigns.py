"""The platform-campaign registry (seed 004's `campaigns`): every campaign on every connected
account, and every campaign Flightdeck published, once per tenant and platform.

- `register_published` adds what Flightdeck created (relay plans, Meta direct publishes, Reddit
  sets) from its own records — so they are known even on an account no one connected — and
  links rows discovered earlier to the Flightdeck object they came from.
- `upsert_discovered` writes one account's campaign list (bulk, one statement); a campaign
  seen again keeps its origin and gets the platform's latest name, status and budget.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Boolean, Label, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import PlatformCampaign
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.db.repositories.pagination import Page, newest_first
from flightdeck.platforms.reporting import CampaignState, DiscoveredCampaign, ReportingAccount

# Flightdeck's own campaigns, as registry rows (account, name, status, origin, link).
_RELAY = text(
    """
    INSERT INTO platform_campaigns (tenant_id, platform, account_id, platform_campaign_id, name,
        status, origin, campaign_plan_id, attributes)
    SELECT r.tenant_id, 'meta', p.ad_account_id, r.external_id, r.name,
        CASE r.state WHEN 'paused' THEN 'paused' WHEN 'deleted' THEN 'deleted' ELSE 'active' END,
        'relay', p.id,
        jsonb_build_object('organization', p.organization, 'adSetIds', COALESCE((
            SELECT jsonb_agg(a.external_id ORDER BY a.ad_set_index) FROM remote_objects a
            WHERE a.tenant_id = r.tenant_id AND a.system = 'facebook' AND a.object_type = 'adset'
              AND a.parent_external_id = r.external_id AND a.external_id IS NOT NULL
        ), '[]'::jsonb))
    FROM remote_objects r JOIN campaign_plans p ON p.id = r.campaign_plan_id
    WHERE (CAST(:tenant AS uuid) IS NULL OR r.tenant_id = :tenant)
      AND r.system = 'facebook' AND r.object_type = 'campaign'
      AND r.external_id IS NOT NULL
    ON CONFLICT (tenant_id, platform, platform_campaign_id) DO UPDATE
    SET origin = 'relay', campaign_plan_id = EXCLUDED.campaign_plan_id,
        attributes = platform_campaigns.attributes || jsonb_build_object(
            'organization', EXCLUDED.attributes -> 'organization')
    WHERE platform_campaigns.campaign_plan_id IS DISTINCT FROM EXCLUDED.campaign_plan_id
    """
)
_META = text(
    """
    INSERT INTO platform_campaigns (tenant_id, platform, account_id, connection_id,
        platform_campaign_id, name, status, origin, meta_campaign_id)
    SELECT r.tenant_id, 'meta', c.selected_ad_account_id, c.id, r.external_id, m.name,
        CASE r.state WHEN 'paused' THEN 'paused' WHEN 'deleted' THEN 'deleted' ELSE 'active' END,
        'meta', m.id
    FROM remote_objects r
    JOIN meta_campaigns m ON m.id = r.meta_campaign_id
    JOIN campaign_meta_connections c ON c.id = m.meta_connection_id
    WHERE (CAST(:tenant AS uuid) IS NULL OR r.tenant_id = :tenant)
      AND r.system = 'meta' AND r.object_type = 'campaign'
      AND r.external_id IS NOT NULL AND c.selected_ad_account_id IS NOT NULL
    ON CONFLICT (tenant_id, platform, platform_campaign_id) DO UPDATE
    SET origin = 'meta', meta_campaign_id = EXCLUDED.meta_campaign_id
    WHERE platform_campaigns.meta_campaign_id IS DISTINCT FROM EXCLUDED.meta_campaign_id
    """
)
_REDDIT = text(
    """
    INSERT INTO platform_campaigns (tenant_id, platform, account_id, connection_id,
        platform_campaign_id, name, status, origin, generated_campaign_id, budget_amount,
        budget_type, currency)
    SELECT g.tenant_id, s.platform, a.platform_account_id, a.id, g.platform_campaign_id, g.name,
        CASE WHEN g.deleted_at IS NOT NULL THEN 'deleted'
             WHEN g.status = 'paused' THEN 'paused' ELSE 'active' END,
        'campaign_set', g.id, g.budget_amount, g.budget_type, g.currency
    FROM generated_campaigns g
    JOIN campaign_sets s ON s.id = g.campaign_set_id
    JOIN ad_accounts a ON a.id = s.ad_account_id
    WHERE (CAST(:tenant AS uuid) IS NULL OR g.tenant_id = :tenant)
      AND g.platform_campaign_id IS NOT NULL
      AND a.platform_account_id IS NOT NULL
    ON CONFLICT (tenant_id, platform, platform_campaign_id) DO UPDATE
    SET origin = 'campaign_set', generated_campaign_id = EXCLUDED.generated_campaign_id
    WHERE platform_campaigns.generated_campaign_id IS DISTINCT FROM
          EXCLUDED.generated_campaign_id
    """
)
# A set's other targets (issue 14 item 2): each target's campaign, its id from the target's
# sync record (the mapping of every target; `generated_campaigns.platform_campaign_id` mirrors
# the first target only, registered above).
_SET_TARGETS = text(
    """
    INSERT INTO platform_campaigns (tenant_id, platform, account_id, connection_id,
        platform_campaign_id, name, status, origin, generated_campaign_id, budget_amount,
        budget_type, currency)
    SELECT g.tenant_id, t.platform, a.platform_account_id, a.id, r.platform_id, g.name,
        CASE WHEN g.deleted_at IS NOT NULL OR r.state = 'deleted' THEN 'deleted'
             WHEN g.status = 'paused' THEN 'paused' ELSE 'active' END,
        'campaign_set', g.id, g.budget_amount, g.budget_type, g.currency
    FROM generated_campaigns g
    JOIN campaign_set_targets t ON t.campaign_set_id = g.campaign_set_id AND t.position > 0
    JOIN sync_records r ON r.tenant_id = g.tenant_id AND r.entity_type = 'campaign'
        AND r.entity_id = g.id AND r.platform = t.platform
    JOIN ad_accounts a ON a.id = t.ad_account_id
    WHERE (CAST(:tenant AS uuid) IS NULL OR g.tenant_id = :tenant)
      AND r.platform_id IS NOT NULL
      AND a.platform_account_id IS NOT NULL
    ON CONFLICT (tenant_id, platform, platform_campaign_id) DO UPDATE
    SET origin = 'campaign_set', generated_campaign_id = EXCLUDED.generated_campaign_id
    WHERE platform_campaigns.generated_campaign_id IS DISTINCT FROM
          EXCLUDED.generated_campaign_id
    """
)
# `xmax = 0`: true for a row the upsert inserted, false for one it updated.
INSERTED: Label[bool] = literal_column("(xmax = 0)", Boolean).label("inserted")
REGISTRY_COLUMNS = (
    "name",
    "status",
    "platform_status",
    "objective",
    "budget_amount",
    "budget_type",
    "budget_owner",
    "currency",
    "start_date",
    "end_date",
)


class PlatformCampaignRepository(TenantScopedRepository[PlatformCampaign]):
    model = PlatformCampaign

    async def register_published(self, tenant_id: uuid.UUID | None) -> int:
        """Flightdeck's own campaigns into the registry (and linked); how many rows changed.
        Every tenant's when `tenant_id` is None (a system session: the metrics Schedule)."""
        changed = 0
        for statement in (_RELAY, _META, _REDDIT, _SET_TARGETS):
            result = await self.session.execute(statement, {"tenant": tenant_id})
            changed += int(getattr(result, "rowcount", 0) or 0)
        return changed

    async def upsert_discovered(
        self,
        account: ReportingAccount,
        campaigns: Sequence[DiscoveredCampaign],
        seen_at: datetime,
    ) -> int:
        """One account's campaigns as the platform lists them; how many were new."""
        if not campaigns:
            return 0
        rows = [
            {
                "tenant_id": account.tenant_id,
                "platform": account.platform,
                "account_id": account.account_id,
                "connection_id": account.connection_id,
                "platform_campaign_id": c.platform_campaign_id,
                "name": (c.name or "")[:500] or None,
                "status": c.status,
                "platform_status": (c.platform_status or "")[:50] or None,
                "objective": c.objective,
                "budget_amount": c.budget_amount,
                "budget_type": c.budget_type,
                "budget_owner": c.budget_owner,
                "currency": c.currency,
                "start_date": c.start_date,
                "end_date": c.end_date,
                "attributes": c.attributes,
                "last_seen_at": seen_at,
            }
            for c in campaigns
        ]
        values = insert(PlatformCampaign).values(rows)
        excluded = values.excluded
        statement = values.on_conflict_do_update(
            index_elements=[
                PlatformCampaign.tenant_id,
                PlatformCampaign.platform,
                PlatformCampaign.platform_campaign_id,
            ],
            set_={
                **{name: excluded[name] for name in REGISTRY_COLUMNS},
                "account_id": excluded.account_id,
                "connection_id": excluded.connection_id,
                "last_seen_at": excluded.last_seen_at,
                "attributes": PlatformCampaign.attributes.op("||")(excluded.attributes),
                "updated_at": func.now(),
            },
        ).returning(INSERTED)
        result = await self.session.execute(statement)
        return sum(1 for (inserted,) in result.all() if inserted)

    async def add_unknown(
        self, account: ReportingAccount, campaign_id: str, name: str | None, currency: str
    ) -> None:
        """A campaign a report mentions but the list did not (e.g. deleted since)."""
        await self.session.execute(
            insert(PlatformCampaign)
            .values(
                tenant_id=account.tenant_id,
                platform=account.platform,
                account_id=account.account_id,
                connection_id=account.connection_id,
                platform_campaign_id=campaign_id,
                name=name,
                status="unknown",
                currency=currency,
                attributes={},
            )
            .on_conflict_do_nothing()
        )

    async def ids_for_account(
        self, tenant_id: uuid.UUID, platform: str, account_id: str
    ) -> dict[str, uuid.UUID]:
        """platform campaign id -> registry id, for one account."""
        rows = await self.session.execute(
            select(PlatformCampaign.platform_campaign_id, PlatformCampaign.id).where(
                PlatformCampaign.tenant_id == tenant_id,
                PlatformCampaign.platform == platform,
                PlatformCampaign.account_id == account_id,
            )
        )
        return {pid: rid for pid, rid in rows.all()}

    async def count_for_account(self, tenant_id: uuid.UUID, platform: str, account_id: str) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    PlatformCampaign.tenant_id == tenant_id,
                    PlatformCampaign.platform == platform,
                    PlatformCampaign.account_id == account_id,
                    PlatformCampaign.status != "deleted",
                )
            )
            or 0
        )

    async def get(self, tenant_id: uuid.UUID, campaign_id: uuid.UUID) -> PlatformCampaign | None:
        statement = self._select(tenant_id, PlatformCampaign.id == campaign_id)
        return await self._one_or_none(statement.execution_options(populate_existing=True))

    async def get_many(
        self, tenant_id: uuid.UUID, campaign_ids: Sequence[uuid.UUID]
    ) -> builtins.list[PlatformCampaign]:
        return await self._all(self._select(tenant_id, PlatformCampaign.id.in_(campaign_ids)))

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        platform: str | None = None,
        status: str | None = None,
        origin: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[PlatformCampaign]:
        """A page of the registry, newest first."""
        statement = self._select(tenant_id)
        if platform is not None:
            statement = statement.where(PlatformCampaign.platform == platform)
        if status is not None:
            statement = statement.where(PlatformCampaign.status == status)
        if origin is not None:
            statement = statement.where(PlatformCampaign.origin == origin)
        order = newest_first("metrics-campaigns", PlatformCampaign.created_at, PlatformCampaign.id)
        return await order.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def active(self, tenant_id: uuid.UUID) -> builtins.list[PlatformCampaign]:
        return await self._all(
            self._select(tenant_id, PlatformCampaign.status.in_(("active", "paused")))
        )

    async def set_state(
        self, tenant_id: uuid.UUID, campaign_id: uuid.UUID, state: CampaignState
    ) -> None:
        """What an action read back from the platform."""
        await self.session.execute(
            update(PlatformCampaign)
            .where(PlatformCampaign.tenant_id == tenant_id, PlatformCampaign.id == campaign_id)
            .values(
                status=state.status,
                budget_amount=state.budget_amount,
                budget_type=state.budget_type,
                updated_at=func.now(),
            )
        )

    async def touch_metrics(
        self, tenant_id: uuid.UUID, campaign_ids: Sequence[uuid.UUID], at: datetime
    ) -> None:
        if campaign_ids:
            await self.session.execute(
                update(PlatformCampaign)
                .where(
                    PlatformCampaign.tenant_id == tenant_id,
                    PlatformCampaign.id.in_(campaign_ids),
                )
                .values(last_metrics_at=at),
                execution_options={"synchronize_session": False},
            )
