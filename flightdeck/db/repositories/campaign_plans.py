"""Campaign plans: create, look up (by id, requestId, Facebook campaign id), list with keyset
pagination, and status/template updates. Always tenant-scoped."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select, update

from flightdeck.db.models import CampaignPlan, RemoteObject
from flightdeck.db.repositories.base import Repository
from flightdeck.domain.plans import CampaignPlanIn, GeneratedNames


def encode_cursor(plan: CampaignPlan) -> str:
    raw = json.dumps([plan.created_at.isoformat(), str(plan.id)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created, plan_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(created), uuid.UUID(plan_id)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ValueError("invalid cursor") from exc


class CampaignPlanRepository(Repository):
    async def create(
        self, tenant_id: uuid.UUID, plan: CampaignPlanIn, names: GeneratedNames, workflow_id: str
    ) -> CampaignPlan:
        row = CampaignPlan(
            id=uuid.uuid4(),
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
            strategis_template_id=None,
            campaign_name=names.campaign_name,
            ad_set_names=names.ad_set_names,
            ad_names=names.ad_names,
            plan=plan.model_dump(mode="json", by_alias=True),
            status="pending",
            workflow_id=workflow_id,
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return row

    async def get(self, tenant_id: uuid.UUID, plan_id: uuid.UUID) -> CampaignPlan | None:
        return await self.session.scalar(
            select(CampaignPlan).where(
                CampaignPlan.tenant_id == tenant_id, CampaignPlan.id == plan_id
            )
        )

    async def get_by_request_id(self, tenant_id: uuid.UUID, request_id: str) -> CampaignPlan | None:
        return await self.session.scalar(
            select(CampaignPlan).where(
                CampaignPlan.tenant_id == tenant_id, CampaignPlan.request_id == request_id
            )
        )

    async def find_by_facebook_campaign_id(
        self, tenant_id: uuid.UUID, fb_campaign_id: str
    ) -> CampaignPlan | None:
        query = (
            select(CampaignPlan)
            .join(RemoteObject, RemoteObject.campaign_plan_id == CampaignPlan.id)
            .where(
                CampaignPlan.tenant_id == tenant_id,
                RemoteObject.tenant_id == tenant_id,
                RemoteObject.system == "facebook",
                RemoteObject.object_type == "campaign",
                RemoteObject.external_id == fb_campaign_id,
            )
        )
        return await self.session.scalar(query)

    async def list(
        self,
        tenant_id: uuid.UUID,
        *,
        hook_set_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[CampaignPlan], str | None]:
        """Newest first; the cursor is the (created_at, id) of the last item returned."""
        query = select(CampaignPlan).where(CampaignPlan.tenant_id == tenant_id)
        if hook_set_id is not None:
            query = query.where(CampaignPlan.hook_set_id == hook_set_id)
        if status is not None:
            query = query.where(CampaignPlan.status == status)
        if cursor is not None:
            created, plan_id = decode_cursor(cursor)
            query = query.where(
                or_(
                    CampaignPlan.created_at < created,
                    and_(CampaignPlan.created_at == created, CampaignPlan.id < plan_id),
                )
            )
        query = query.order_by(CampaignPlan.created_at.desc(), CampaignPlan.id.desc())
        rows = list((await self.session.scalars(query.limit(limit + 1))).all())
        next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
        return rows[:limit], next_cursor

    async def set_status(self, tenant_id: uuid.UUID, plan_id: uuid.UUID, status: str) -> None:
        await self.session.execute(
            update(CampaignPlan)
            .where(CampaignPlan.tenant_id == tenant_id, CampaignPlan.id == plan_id)
            .values(status=status)
        )

    async def set_template_id(
        self, tenant_id: uuid.UUID, plan_id: uuid.UUID, template_id: str
    ) -> None:
        await self.session.execute(
            update(CampaignPlan)
            .where(CampaignPlan.tenant_id == tenant_id, CampaignPlan.id == plan_id)
            .values(strategis_template_id=template_id)
        )
