"""The remote-object ledger (ARCHITECTURE.md decision 1).

`begin` is insert-or-get on (tenant, system, client request key): calling it again for the same
object returns the same row and never resets one already `created`, which is what makes a
retried activity safe. The `mark_*` methods take the row id `begin` returned.

`record_created` / `record_failed` are for creates whose key the platform honours (the relay's
`clientRequestKey`): no row is needed before the call — the key, derived from the plan, is the
record of intent, and a retry or a compensation finds the object under it — so the row is
written once, after the call, in one statement with its audit entry.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, case, func, literal, select, update
from sqlalchemy import insert as insert_into
from sqlalchemy.dialects.postgresql import JSONB, insert

from flightdeck.db.models import LEDGER_STATES, AuditLogEntry, CampaignPlan, RemoteObject
from flightdeck.db.repositories.base import TenantScopedRepository

# Parents before children, so a listing reads like the object tree.
_TYPE_RANK = case(
    {"template": 0, "campaign": 1, "adset": 2, "tracking_campaign": 3, "creative": 4, "ad": 5},
    value=RemoteObject.object_type,
    else_=9,
)
# One row per (tenant, system, key): what `begin` and the `record_*` upserts meet on.
_KEY = [RemoteObject.tenant_id, RemoteObject.system, RemoteObject.client_request_key]
# A failure is recorded only while nothing exists remotely; it never overwrites a created object.
_FAILABLE_STATES = ("requested", "failed")


class RemoteObjectLedger(TenantScopedRepository[RemoteObject]):
    model = RemoteObject

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
        """Record the intent to create (state `requested`), or return the existing record as is."""
        inserted = await self._returning(
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
            .on_conflict_do_nothing(index_elements=_KEY)
            .returning(RemoteObject)
        )
        row = inserted or await self.get(tenant_id, system, client_request_key)
        assert row is not None, "ON CONFLICT fired, so the row exists"
        return row

    async def get(
        self, tenant_id: uuid.UUID, system: str, client_request_key: str
    ) -> RemoteObject | None:
        statement = self._select(
            tenant_id,
            RemoteObject.system == system,
            RemoteObject.client_request_key == client_request_key,
        ).execution_options(populate_existing=True)
        return await self._one_or_none(statement)

    async def find_by_external_id(
        self, tenant_id: uuid.UUID, system: str, object_type: str, external_id: str
    ) -> RemoteObject | None:
        """The ledger row of a platform object, by the id the platform gave it."""
        statement = self._select(
            tenant_id,
            RemoteObject.system == system,
            RemoteObject.object_type == object_type,
            RemoteObject.external_id == external_id,
        ).limit(1)
        return await self._one_or_none(statement)

    async def mark_created(
        self, row_id: uuid.UUID, external_id: str, attributes: dict[str, Any] | None = None
    ) -> RemoteObject | None:
        """The platform created it: store its id now, merging `attributes` into the row's."""
        merged = RemoteObject.attributes.op("||")(literal(attributes or {}, JSONB))
        values = {
            "state": "created",
            "external_id": external_id,
            "last_error": None,
            "attributes": merged,
        }
        return await self._update_row(row_id, values)

    async def mark_created_audited(
        self,
        row_id: uuid.UUID,
        external_id: str,
        attributes: dict[str, Any],
        *,
        actor: str,
        action: str,
        entity_type: str,
        details: dict[str, Any],
        user_id: uuid.UUID | str | None = None,
    ) -> None:
        """`mark_created` and its audit-log entry in one statement (one round trip: this sits
        on the critical path of every publish step)."""
        merged = RemoteObject.attributes.op("||")(literal(attributes, JSONB))
        created = (
            update(RemoteObject)
            .where(RemoteObject.id == row_id)
            .values(state="created", external_id=external_id, last_error=None, attributes=merged)
            .returning(RemoteObject.tenant_id)
            .cte("created")
        )
        entry = select(
            created.c.tenant_id,
            literal(actor),
            literal(action),
            literal(entity_type),
            literal(external_id),
            literal(details, JSONB),
            literal(uuid.UUID(str(user_id)) if user_id else None, Uuid()),
        ).select_from(created)
        columns = ["tenant_id", "actor", "action", "entity_type", "entity_id", "details", "user_id"]
        await self.session.execute(
            insert_into(AuditLogEntry).from_select(columns, entry).add_cte(created)
        )

    async def record_created(
        self,
        tenant_id: uuid.UUID,
        *,
        campaign_plan_id: uuid.UUID,
        system: str,
        object_type: str,
        local_key: str,
        client_request_key: str,
        external_id: str,
        name: str | None,
        parent_external_id: str | None,
        ad_set_index: int | None,
        ad_index: int | None,
        actor: str,
        action: str,
        details: dict[str, Any],
        user_id: uuid.UUID | str | None = None,
    ) -> None:
        """Insert the row as `created` (or complete a `requested`/`failed` one) and audit it, in
        one statement; a row that already has its object is left as it is (a replayed create)."""
        values = {
            "id": uuid.uuid4(),
            "tenant_id": tenant_id,
            "campaign_plan_id": campaign_plan_id,
            "system": system,
            "object_type": object_type,
            "local_key": local_key,
            "client_request_key": client_request_key,
            "external_id": external_id,
            "state": "created",
            "name": name,
            "parent_external_id": parent_external_id,
            "ad_set_index": ad_set_index,
            "ad_index": ad_index,
            "attributes": {},
        }
        upserted = (
            insert(RemoteObject)
            .values(**values)
            .on_conflict_do_update(
                index_elements=_KEY,
                set_={"state": "created", "external_id": external_id, "last_error": None},
                where=RemoteObject.external_id.is_(None),
            )
            .returning(RemoteObject.tenant_id)
            .cte("upserted")
        )  # fmt: skip
        entry = select(
            upserted.c.tenant_id,
            literal(actor),
            literal(action),
            literal(f"{system}.{object_type}"),
            literal(external_id),
            literal(details, JSONB),
            literal(uuid.UUID(str(user_id)) if user_id else None, Uuid()),
        ).select_from(upserted)
        columns = ["tenant_id", "actor", "action", "entity_type", "entity_id", "details", "user_id"]
        await self.session.execute(
            insert_into(AuditLogEntry).from_select(columns, entry).add_cte(upserted)
        )

    async def record_failed(
        self,
        tenant_id: uuid.UUID,
        *,
        campaign_plan_id: uuid.UUID,
        system: str,
        object_type: str,
        local_key: str,
        client_request_key: str,
        name: str | None,
        ad_set_index: int | None,
        ad_index: int | None,
        error: str,
    ) -> None:
        """The platform refused the create: a `failed` row with the reason (never over a row
        that has its object)."""
        await self.session.execute(
            insert(RemoteObject)
            .values(
                id=uuid.uuid4(), tenant_id=tenant_id, campaign_plan_id=campaign_plan_id,
                system=system, object_type=object_type, local_key=local_key,
                client_request_key=client_request_key, state="failed", name=name,
                ad_set_index=ad_set_index, ad_index=ad_index, attributes={}, last_error=error,
            )
            .on_conflict_do_update(
                index_elements=_KEY,
                set_={"state": "failed", "last_error": error},
                where=RemoteObject.external_id.is_(None),
            )
        )  # fmt: skip

    async def mark_state(
        self, row_id: uuid.UUID, state: str, last_error: str | None = None
    ) -> RemoteObject | None:
        """Move the row to `state` (e.g. `paused`, `deleted`); `last_error` is kept unless given."""
        if state not in LEDGER_STATES:
            raise ValueError(f"unknown ledger state {state!r}")
        values: dict[str, Any] = {"state": state}
        if last_error is not None:
            values["last_error"] = last_error
        return await self._update_row(row_id, values)

    async def mark_failed(self, row_id: uuid.UUID, error: str) -> RemoteObject | None:
        """Record a failed create; a row that already has a remote object is left unchanged
        (returns None then)."""
        values = {"state": "failed", "last_error": error}
        return await self._update_row(row_id, values, RemoteObject.state.in_(_FAILABLE_STATES))

    async def live_progress(
        self, tenant_id: uuid.UUID, plan_id: uuid.UUID
    ) -> tuple[int, str | None]:
        """A running publish's steps done — its objects that exist, plus the tracking template
        once the plan has one — and the `local_key` of the newest of them, in one statement."""
        mine = (RemoteObject.tenant_id == tenant_id, RemoteObject.campaign_plan_id == plan_id,
                RemoteObject.external_id.is_not(None))  # fmt: skip
        created = select(func.count()).select_from(RemoteObject).where(*mine).scalar_subquery()
        template = (
            select(case((CampaignPlan.strategis_template_id.is_(None), 0), else_=1))
            .where(CampaignPlan.tenant_id == tenant_id, CampaignPlan.id == plan_id)
            .scalar_subquery()
        )
        newest = (
            select(RemoteObject.local_key)
            .where(*mine)
            .order_by(RemoteObject.updated_at.desc(), RemoteObject.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        row = (await self.session.execute(select(created, template, newest))).one()
        return int(row[0]) + int(row[1] or 0), row[2]

    async def list_for_plan(self, tenant_id: uuid.UUID, plan_id: uuid.UUID) -> list[RemoteObject]:
        """A plan's ledger, by object type (parents first), then ad set and ad index."""
        statement = self._select(tenant_id, RemoteObject.campaign_plan_id == plan_id).order_by(
            _TYPE_RANK,
            RemoteObject.object_type,
            RemoteObject.ad_set_index.asc().nulls_first(),
            RemoteObject.ad_index.asc().nulls_first(),
            RemoteObject.system,
            RemoteObject.created_at,
        )
        return await self._all(statement)

    async def _update_row(
        self, row_id: uuid.UUID, values: dict[str, Any], *where: Any
    ) -> RemoteObject | None:
        # By id alone: the id came from a tenant-scoped `begin`, and ids are unguessable UUIDs.
        return await self._returning(
            update(RemoteObject)
            .where(RemoteObject.id == row_id, *where)
            .values(**values)
            .returning(RemoteObject)
        )
