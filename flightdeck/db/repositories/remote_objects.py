"""The remote-object ledger (ARCHITECTURE.md decision 1).

`begin` is insert-or-get on (tenant, system, client request key): calling it again for the same
object returns the same row and never resets one already `created`, which is what makes a
retried activity safe.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert

from flightdeck.db.models import RemoteObject
from flightdeck.db.repositories.base import Repository

_TYPE_ORDER = case(
    {"template": 0, "campaign": 1, "adset": 2, "tracking_campaign": 3, "creative": 4, "ad": 5},
    value=RemoteObject.object_type,
    else_=9,
)


class RemoteObjectLedger(Repository):
    async def begin(
        self,
        tenant_id: uuid.UUID,
        *,
        system: str,
        object_type: str,
        client_request_key: str,
        local_key: str,
        campaign_plan_id: uuid.UUID | None = None,
        name: str | None = None,
        parent_external_id: str | None = None,
        ad_set_index: int | None = None,
        ad_index: int | None = None,
    ) -> RemoteObject:
        """Record the intent to create (state `requested`), or return the existing record."""
        await self.session.execute(
            insert(RemoteObject)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                campaign_plan_id=campaign_plan_id,
                system=system,
                object_type=object_type,
                local_key=local_key,
                client_request_key=client_request_key,
                state="requested",
                name=name,
                parent_external_id=parent_external_id,
                ad_set_index=ad_set_index,
                ad_index=ad_index,
                attributes={},
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "system", "client_request_key"])
        )
        row = await self.get(tenant_id, system, client_request_key)
        assert row is not None
        return row

    async def get(
        self, tenant_id: uuid.UUID, system: str, client_request_key: str
    ) -> RemoteObject | None:
        return await self.session.scalar(
            select(RemoteObject)
            .where(
                RemoteObject.tenant_id == tenant_id,
                RemoteObject.system == system,
                RemoteObject.client_request_key == client_request_key,
            )
            .execution_options(populate_existing=True)
        )

    async def mark_created(
        self, row_id: uuid.UUID, external_id: str, attributes: dict[str, Any] | None = None
    ) -> None:
        row = await self.session.get(RemoteObject, row_id, populate_existing=True)
        assert row is not None
        row.external_id = external_id
        row.state = "created"
        row.last_error = None
        row.attributes = {**(row.attributes or {}), **(attributes or {})}
        await self.session.flush()

    async def mark_state(
        self, row_id: uuid.UUID, state: str, last_error: str | None = None
    ) -> None:
        values: dict[str, Any] = {"state": state}
        if last_error is not None:
            values["last_error"] = last_error
        await self.session.execute(
            update(RemoteObject).where(RemoteObject.id == row_id).values(**values)
        )

    async def mark_failed(self, row_id: uuid.UUID, error: str) -> None:
        await self.mark_state(row_id, "failed", last_error=error)

    async def list_for_plan(self, tenant_id: uuid.UUID, plan_id: uuid.UUID) -> list[RemoteObject]:
        query = (
            select(RemoteObject)
            .where(RemoteObject.tenant_id == tenant_id, RemoteObject.campaign_plan_id == plan_id)
            .order_by(
                _TYPE_ORDER,
                RemoteObject.ad_set_index.nulls_first(),
                RemoteObject.ad_index.nulls_first(),
            )
        )
        return list((await self.session.scalars(query)).all())
