"""Import runs and the items each found (seed 003 imports). Items are written idempotently
(`(run_id, item_key)` is unique), processed in `position` order, and counted by state — the
run's progress is always a query, never a counter someone must remember to bump."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import (
    AssetImportItem,
    AssetImportRun,
    CampaignPlan,
    RemoteObject,
)
from flightdeck.db.models.asset_imports import ACTIVE_RUN
from flightdeck.db.repositories.base import TenantScopedRepository
from flightdeck.domain.asset_import import ImportTotals

ACTIVE = ("queued", "running")


class ActiveImportExists(Exception):
    """The space already has an import queued or running."""

    def __init__(self, run: AssetImportRun) -> None:
        super().__init__(f"import {run.id} is already {run.status} for this space")
        self.run = run


@dataclass(frozen=True)
class PublishedFacebookObjects:
    """A Facebook campaign Flightdeck published through the Strategis relay, from the ledger."""

    organization: str
    plan_id: uuid.UUID
    creatives: list[RemoteObject]
    ads: list[RemoteObject]


class AssetImportRepository(TenantScopedRepository[AssetImportRun]):
    model = AssetImportRun

    async def create_run(
        self, tenant_id: uuid.UUID, space_id: uuid.UUID, values: Mapping[str, Any]
    ) -> AssetImportRun:
        """A queued run; ActiveImportExists if the space has one queued or running."""
        run_id = values.get("id") or uuid.uuid4()
        inserted = await self.session.scalar(
            insert(AssetImportRun)
            .values(
                **(dict(values) | {"id": run_id}),
                tenant_id=tenant_id,
                campaign_space_id=space_id,
                workflow_id=f"import-{run_id}",
            )
            .on_conflict_do_nothing(
                index_elements=["campaign_space_id"],
                index_where=ACTIVE_RUN,  # the partial unique index's own predicate
            )
            .returning(AssetImportRun.id)
        )
        if inserted is None:
            active = await self.active_for_space(tenant_id, space_id)
            assert active is not None
            raise ActiveImportExists(active)
        run = await self.get(tenant_id, run_id)
        assert run is not None
        return run

    async def get(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> AssetImportRun | None:
        return await self._one_or_none(
            self._select(tenant_id, AssetImportRun.id == run_id).execution_options(
                populate_existing=True
            )
        )

    async def get_by_workflow_id(
        self, tenant_id: uuid.UUID, workflow_id: str
    ) -> AssetImportRun | None:
        return await self._one_or_none(
            self._select(tenant_id, AssetImportRun.workflow_id == workflow_id)
        )

    async def active_for_space(
        self, tenant_id: uuid.UUID, space_id: uuid.UUID
    ) -> AssetImportRun | None:
        return await self._one_or_none(
            self._select(
                tenant_id,
                AssetImportRun.campaign_space_id == space_id,
                AssetImportRun.status.in_(ACTIVE),
            ).execution_options(populate_existing=True)
        )

    async def set_status(
        self,
        tenant_id: uuid.UUID,
        run_id: uuid.UUID,
        status: str,
        *,
        error: str | None = None,
        total_items: int | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status}
        if status in ("completed", "failed"):
            values |= {"finished_at": datetime.now(UTC), "error": error}
        if total_items is not None:
            values["total_items"] = total_items
        await self.session.execute(
            self._update(tenant_id, AssetImportRun.id == run_id).values(**values)
        )

    # -- items -------------------------------------------------------------------------------

    async def add_items(
        self, tenant_id: uuid.UUID, run_id: uuid.UUID, items: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        """Store found items (key, payload) after those already there; known keys are kept."""
        if not items:
            return
        start = await self.session.scalar(
            select(func.coalesce(func.max(AssetImportItem.position), -1)).where(
                AssetImportItem.tenant_id == tenant_id, AssetImportItem.run_id == run_id
            )
        )
        rows = [
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant_id,
                "run_id": run_id,
                "item_key": key,
                "position": int(start or 0) + 1 + n,
                "payload": payload,
            }
            for n, (key, payload) in enumerate(items)
        ]
        await self.session.execute(
            insert(AssetImportItem)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["run_id", "item_key"])
        )

    async def pending_items(
        self, tenant_id: uuid.UUID, run_id: uuid.UUID, limit: int
    ) -> list[AssetImportItem]:
        statement = (
            select(AssetImportItem)
            .where(
                AssetImportItem.tenant_id == tenant_id,
                AssetImportItem.run_id == run_id,
                AssetImportItem.state == "pending",
            )
            .order_by(AssetImportItem.position)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    async def finish_item(
        self,
        tenant_id: uuid.UUID,
        item_id: uuid.UUID,
        state: str,
        *,
        asset_id: uuid.UUID | None = None,
        error: str | None = None,
    ) -> None:
        await self.session.execute(
            update(AssetImportItem)
            .where(AssetImportItem.tenant_id == tenant_id, AssetImportItem.id == item_id)
            .values(state=state, asset_id=asset_id, error=error)
        )

    async def totals(self, tenant_id: uuid.UUID, run_id: uuid.UUID) -> tuple[ImportTotals, int]:
        """Counts by state, and how many items are still pending."""
        rows = await self.session.execute(
            select(AssetImportItem.state, func.count())
            .where(AssetImportItem.tenant_id == tenant_id, AssetImportItem.run_id == run_id)
            .group_by(AssetImportItem.state)
        )
        counts = {str(state): int(n) for state, n in rows.all()}
        totals = ImportTotals(
            total=sum(counts.values()),
            imported=counts.get("imported", 0),
            skipped=counts.get("skipped", 0),
            failed=counts.get("failed", 0),
        )
        return totals, counts.get("pending", 0)

    async def failed_items(
        self, tenant_id: uuid.UUID, run_id: uuid.UUID, limit: int = 100
    ) -> list[AssetImportItem]:
        statement = (
            select(AssetImportItem)
            .where(
                AssetImportItem.tenant_id == tenant_id,
                AssetImportItem.run_id == run_id,
                AssetImportItem.state == "failed",
            )
            .order_by(AssetImportItem.position)
            .limit(limit)
        )
        return list((await self.session.scalars(statement)).all())

    # -- what Flightdeck published through the relay ------------------------------------------

    async def published_facebook_campaign(
        self, tenant_id: uuid.UUID, facebook_campaign_id: str
    ) -> PublishedFacebookObjects | None:
        """The creatives and ads of the plan that created this Facebook campaign."""
        found = (
            await self.session.execute(
                select(RemoteObject.campaign_plan_id, CampaignPlan.organization)
                .join(CampaignPlan, CampaignPlan.id == RemoteObject.campaign_plan_id)
                .where(
                    RemoteObject.tenant_id == tenant_id,
                    RemoteObject.system == "facebook",
                    RemoteObject.object_type == "campaign",
                    RemoteObject.external_id == facebook_campaign_id,
                )
                .limit(1)
            )
        ).first()
        if found is None or found[0] is None:
            return None
        plan_id: uuid.UUID = found[0]
        organization: str = found[1]
        objects = await self.session.scalars(
            select(RemoteObject)
            .where(
                RemoteObject.tenant_id == tenant_id,
                RemoteObject.campaign_plan_id == plan_id,
                RemoteObject.system == "facebook",
                RemoteObject.object_type.in_(("creative", "ad")),
                RemoteObject.external_id.is_not(None),
            )
            .order_by(RemoteObject.ad_set_index, RemoteObject.ad_index, RemoteObject.object_type)
        )
        rows = list(objects.all())
        return PublishedFacebookObjects(
            organization=organization,
            plan_id=plan_id,
            creatives=[r for r in rows if r.object_type == "creative"],
            ads=[r for r in rows if r.object_type == "ad"],
        )
