"""Campaign plans: create, look up (by id, requestId, Facebook campaign id), list newest first
with keyset pagination, and status/template updates. Always tenant-scoped."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime

from sqlalchemy import Select, select

from flightdeck.db.models import CampaignPlan, RemoteObject
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.db.repositories.pagination import Keyset, Page, desc
from flightdeck.domain.plans import CampaignPlanIn, GeneratedNames

# Newest first; the id breaks ties between plans created in the same microsecond.
PLAN_ORDER = Keyset("campaign-plans", desc(CampaignPlan.created_at), desc(CampaignPlan.id))


class CampaignPlanRepository(TenantScopedRepository[CampaignPlan]):
    model = CampaignPlan

    async def create(
        self,
        tenant_id: uuid.UUID,
        plan: CampaignPlanIn,
        names: GeneratedNames,
        workflow_id: str,
        *,
        plan_id: uuid.UUID | None = None,
    ) -> CampaignPlan:
        """Store a validated plan (status `pending`) with its generated names."""
        row = CampaignPlan(
            id=plan_id or uuid.uuid4(),
            tenant_id=tenant_id,
            request_id=plan.request_id,
            brand=plan.brand,
            objective=plan.objective,
            hook_set_id=plan.hook_set_id,
            market=plan.market,
            channel=plan.channel,
            date=plan.date,
            category=plan.category,
            ad_account_id=plan.ad_account_id,
            organization=plan.organization,
            domain=plan.domain,
            destination=plan.destination,
            # Recorded by the publish run once the template is resolved (a counted step), even
            # when the plan names one.
            strategis_template_id=None,
            campaign_name=names.campaign_name,
            ad_set_names=list(names.ad_set_names),
            ad_names=[list(ad_names) for ad_names in names.ad_names],
            plan=plan.model_dump(mode="json", by_alias=True),
            status="pending",
            workflow_id=workflow_id,
        )
        return await self._add(row)

    async def get(self, tenant_id: uuid.UUID, plan_id: uuid.UUID) -> CampaignPlan | None:
        return await self._one_or_none(self._select(tenant_id, CampaignPlan.id == plan_id))

    async def get_by_request_id(self, tenant_id: uuid.UUID, request_id: str) -> CampaignPlan | None:
        return await self._one_or_none(
            self._select(tenant_id, CampaignPlan.request_id == request_id)
        )

    async def find_by_facebook_campaign_id(
        self, tenant_id: uuid.UUID, fb_campaign_id: str
    ) -> CampaignPlan | None:
        """The plan whose ledger holds this Facebook campaign id."""
        statement = (
            self._select(tenant_id)
            .join(RemoteObject, RemoteObject.campaign_plan_id == CampaignPlan.id)
            .where(
                RemoteObject.tenant_id == tenant_id,
                RemoteObject.system == "facebook",
                RemoteObject.object_type == "campaign",
                RemoteObject.external_id == fb_campaign_id,
            )
            .limit(1)
        )
        return await self._one_or_none(statement)

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        hook_set_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[CampaignPlan]:
        """A page of plans, newest first, and the cursor of the next page (None on the last)."""
        statement = self._filtered(tenant_id, hook_set_id=hook_set_id, status=status)
        return await PLAN_ORDER.scalars(self.session, statement, limit=limit, cursor=cursor)

    async def stale_pending(self, older_than: datetime, limit: int) -> builtins.list[CampaignPlan]:
        """Plans of every tenant still `pending` since before `older_than`, oldest first (the
        pending-plans sweep; a system session)."""
        statement = (
            select(CampaignPlan)
            .where(CampaignPlan.status == "pending", CampaignPlan.created_at < older_than)
            .order_by(CampaignPlan.created_at, CampaignPlan.id)
            .limit(limit)
        )
        return await self._all(statement)

    def _filtered(
        self, tenant_id: uuid.UUID, *, hook_set_id: str | None, status: str | None
    ) -> Select[CampaignPlan]:
        statement = self._select(tenant_id)
        if hook_set_id is not None:
            statement = statement.where(CampaignPlan.hook_set_id == hook_set_id)
        if status is not None:
            statement = statement.where(CampaignPlan.status == status)
        return statement

    async def set_status(
        self, tenant_id: uuid.UUID, plan_id: uuid.UUID, status: str
    ) -> CampaignPlan | None:
        return await self._update_returning(
            tenant_id, [CampaignPlan.id == plan_id], {"status": status}
        )

    async def set_template_id(
        self, tenant_id: uuid.UUID, plan_id: uuid.UUID, template_id: str
    ) -> CampaignPlan | None:
        return await self._update_returning(
            tenant_id, [CampaignPlan.id == plan_id], {"strategis_template_id": template_id}
        )
