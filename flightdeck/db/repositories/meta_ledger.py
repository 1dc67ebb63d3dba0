"""The remote-object ledger for Meta objects (system `meta`, linked to the `meta_campaigns` row).

Graph has no idempotency key, so each create is bracketed:

    claim      insert-or-get the row by its key (tenant, campaign, generation, object), lock it
               and note that an attempt is in flight; returns whether an earlier attempt was
               still in flight, i.e. ended without a known outcome (a crash, a timeout, a lost
               response): only then may the caller look the object up on Meta and adopt it
    created    the id, the moment Meta returned it (the in-flight note cleared)
    settled    the attempt failed with a known outcome (throttled, refused): nothing exists,
               so the next attempt creates without a lookup
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import JSONB, insert

from flightdeck.db.models import RemoteObject
from flightdeck.db.repositories.remote_objects import RemoteObjectLedger

SYSTEM = "meta"
INFLIGHT = "inflight"


@dataclass(frozen=True)
class Claim:
    row: RemoteObject
    previous_attempt_unsettled: bool

    @property
    def external_id(self) -> str | None:
        return self.row.external_id if self.row.state != "requested" else None


class MetaObjectLedger(RemoteObjectLedger):
    async def claim(
        self,
        tenant_id: uuid.UUID,
        *,
        meta_campaign_id: uuid.UUID,
        object_type: str,
        key: str,
        local_key: str,
        name: str | None = None,
        parent_external_id: str | None = None,
        ad_index: int | None = None,
    ) -> Claim:
        """Run inside a transaction: the row stays locked until it commits."""
        await self.session.execute(
            insert(RemoteObject)
            .values(
                id=uuid.uuid4(),
                tenant_id=tenant_id,
                meta_campaign_id=meta_campaign_id,
                system=SYSTEM,
                object_type=object_type,
                local_key=local_key,
                client_request_key=key,
                state="requested",
                name=name,
                parent_external_id=parent_external_id,
                ad_index=ad_index,
                attributes={},
            )
            .on_conflict_do_nothing(
                index_elements=[
                    RemoteObject.tenant_id,
                    RemoteObject.system,
                    RemoteObject.client_request_key,
                ]
            )
        )
        row = await self.session.scalar(
            select(RemoteObject)
            .where(
                RemoteObject.tenant_id == tenant_id,
                RemoteObject.system == SYSTEM,
                RemoteObject.client_request_key == key,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None, "inserted or already there"
        unsettled = bool((row.attributes or {}).get(INFLIGHT))
        if row.state == "requested":
            attempts = int((row.attributes or {}).get("attempts", 0)) + 1
            await self._merge(row.id, {INFLIGHT: True, "attempts": attempts})
        return Claim(row, unsettled)

    async def created(
        self, row: RemoteObject, external_id: str, attributes: dict[str, Any], **audit: Any
    ) -> None:
        await self.mark_created_audited(
            row.id,
            external_id,
            {**attributes, INFLIGHT: False},
            actor="worker",
            action="remote_object.created",
            entity_type=f"{SYSTEM}.{row.object_type}",
            details=audit,
        )

    async def settled(self, row: RemoteObject, error: str | None, *, failed: bool) -> None:
        """The attempt ended with a known outcome: nothing was created."""
        await self._merge(row.id, {INFLIGHT: False})
        if failed and error:
            await self.mark_failed(row.id, error)

    async def list_for_campaign(
        self, tenant_id: uuid.UUID, meta_campaign_id: uuid.UUID
    ) -> builtins.list[RemoteObject]:
        statement = self._select(
            tenant_id,
            RemoteObject.system == SYSTEM,
            RemoteObject.meta_campaign_id == meta_campaign_id,
        ).order_by(RemoteObject.created_at)
        return await self._all(statement.execution_options(populate_existing=True))

    async def _merge(self, row_id: uuid.UUID, attributes: dict[str, Any]) -> None:
        merged = RemoteObject.attributes.op("||")(literal(attributes, JSONB))
        await self._update_row(row_id, {"attributes": merged})
