"""Operating a published campaign on Meta (pause, resume, delete, push a new name or budget: just
that change) and the maintenance sweeps (failed publish attempts after 30 days, audit archive).
Every step lands in the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from flightdeck.activities.meta_support import MetaActivityBase, meta_failure, not_ready
from flightdeck.activities.names import META_ARCHIVE_AUDIT, META_CLEAN_FAILED, META_OPERATE
from flightdeck.db.models import MetaPublishedCampaign
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.meta import (
    AuditArchiveRepository,
    CampaignStateRepository,
    MetaAdRepository,
    MetaCampaignRepository,
    MetaPublishedRepository,
)
from flightdeck.db.repositories.meta_ledger import MetaObjectLedger
from flightdeck.db.tenancy import system_session, tenant_session
from flightdeck.domain.meta_io import (
    MaintenanceInput,
    MetaRef,
    OperateInput,
    OperateResult,
)
from flightdeck.domain.meta_publish import ledger_key, marked_name, marker
from flightdeck.domain.meta_rules import to_minor
from flightdeck.platforms.errors import NonRetryableError, PlatformError

ARCHIVE_BATCH = 5000


class MetaOperationActivities(MetaActivityBase):
    @activity.defn(name=META_OPERATE)
    async def operate(self, inp: OperateInput) -> OperateResult:
        tenant, campaign_id = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id)
        async with self.session(inp.ref) as session:
            published = await MetaPublishedRepository(session).get(tenant, campaign_id)
            state = await CampaignStateRepository(session).get(tenant, campaign_id)
        if published is None or published.meta_campaign_id is None:
            raise not_ready("the campaign is not on Meta")
        account = (
            str((state.publish_data or {}).get("metadata", {}).get("adAccountId")) if state else ""
        )
        token = await self.token(inp.ref)
        changes = self._changes(inp, published, state.publish_data if state else None)
        try:
            for object_id, fields in changes:
                await self.pace(account)
                if inp.operation == "delete":
                    await self._delete(object_id, token, account)
                else:
                    await self._graph.post(object_id, token, fields, account=account)
        except PlatformError as exc:
            raise meta_failure(exc) from exc
        status = await self._record(inp, published, state.publish_data if state else None)
        return OperateResult(
            operation=inp.operation,
            status=status,
            changed=[f"{object_id}:{','.join(sorted(fields))}" for object_id, fields in changes],
        )

    def _changes(
        self,
        inp: OperateInput,
        published: MetaPublishedCampaign,
        data: dict[str, Any] | None,
    ) -> list[tuple[str, dict[str, Any]]]:
        campaign = str(published.meta_campaign_id)
        if inp.operation == "pause":
            return [(campaign, {"status": "PAUSED"})]
        if inp.operation == "resume":
            return [(campaign, {"status": "ACTIVE"})]
        if inp.operation == "delete":
            return [(campaign, {})]  # Graph deletes the ad sets and ads with it
        if data is None:
            raise not_ready("the campaign has no prepared publish_data")
        changes: list[tuple[str, dict[str, Any]]] = []
        if inp.name is not None:
            key = ledger_key(inp.ref.tenant_id, inp.ref.campaign_id, inp.ref.generation, "campaign")
            changes.append(
                (campaign, {"name": marked_name(inp.name, marker(inp.ref.tenant_id, key))})
            )
        if inp.budget_amount is not None:
            currency = str(data["metadata"].get("currency", "USD"))
            cbo = any(k.endswith("_budget") for k in data["campaign"])
            owner = data["campaign"] if cbo else data["adset"]
            field = "daily_budget" if "daily_budget" in owner else "lifetime_budget"
            target = campaign if cbo else str(published.meta_adset_id)
            amount = to_minor(Decimal(str(inp.budget_amount)), currency)
            changes.append((target, {field: amount}))
        if not changes:
            raise not_ready("nothing to change: give a name or a budget")
        return changes

    async def _delete(self, object_id: str, token: str, account: str) -> None:
        try:
            await self._graph.delete(object_id, token, account=account)
        except NonRetryableError as exc:
            if exc.subcode != 33:  # already gone on Meta
                raise

    async def _record(
        self, inp: OperateInput, published: MetaPublishedCampaign, data: dict[str, Any] | None
    ) -> str:
        tenant, campaign_id = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id)
        now = datetime.now(UTC)
        async with self.session(inp.ref) as session, session.begin():
            published_repo = MetaPublishedRepository(session)
            campaigns = MetaCampaignRepository(session)
            status = published.publish_status
            if inp.operation in ("pause", "resume"):
                status = "paused" if inp.operation == "pause" else "active"
                await published_repo.update(
                    tenant, campaign_id, publish_status=status,
                    paused_at=now if status == "paused" else None,
                )  # fmt: skip
                await campaigns.update(tenant, campaign_id, published_status=status)
            elif inp.operation == "delete":
                status = "deleted"
                await self._forget(session, inp.ref)
            else:
                await self._apply_edit(session, inp, data)
            await AuditLogRepository(session).add(
                tenant_id=tenant,
                actor=inp.actor,
                user_id=inp.ref.user_id,
                action=f"meta_campaign.{inp.operation}",
                entity_type="meta_campaign",
                entity_id=inp.ref.campaign_id,
                details={
                    "metaCampaignId": published.meta_campaign_id,
                    "name": inp.name,
                    "budgetAmount": inp.budget_amount,
                    "status": status,
                },
            )
        return status

    async def _forget(self, session: AsyncSession, ref: MetaRef) -> None:
        """Deleted on Meta: the ledger rows say so, the ads are drafts again, and a later
        publish is a new generation (new ledger keys, nothing adopted from this one)."""
        tenant, campaign_id = uuid.UUID(ref.tenant_id), uuid.UUID(ref.campaign_id)
        ledger = MetaObjectLedger(session)
        for row in await ledger.list_for_campaign(tenant, campaign_id):
            if row.object_type != "image" and row.external_id and row.state != "deleted":
                await ledger.mark_state(row.id, "deleted")
        await MetaPublishedRepository(session).update(
            tenant, campaign_id, publish_status="deleted", meta_campaign_id=None,
            meta_adset_id=None, meta_ad_ids=[],
        )  # fmt: skip
        await MetaCampaignRepository(session).update(
            tenant, campaign_id, published_status="deleted", status="ready"
        )
        await MetaAdRepository(session).clear_meta_ids(tenant, campaign_id)

    async def _apply_edit(
        self, session: AsyncSession, inp: OperateInput, data: dict[str, Any] | None
    ) -> None:
        tenant, campaign_id = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id)
        if inp.name is not None:
            await MetaCampaignRepository(session).update(tenant, campaign_id, name=inp.name)
        if inp.budget_amount is not None and data is not None:
            states = CampaignStateRepository(session)
            state = await states.get(tenant, campaign_id)
            if state is not None and state.budget_data is not None:
                budget = {**state.budget_data, "amount": inp.budget_amount}
                await states.set_columns(tenant, campaign_id, budget_data=budget)

    # -- maintenance -----------------------------------------------------------------------

    @activity.defn(name=META_CLEAN_FAILED)
    async def clean_failed_publishes(self, inp: MaintenanceInput) -> int:
        """Publish attempts still in `error` after the retention period: what they left on
        Meta is deleted (when the token still works) and the campaign returns to a draft
        that publishes as a new generation. Returns how many were cleaned."""
        cutoff = datetime.now(UTC) - timedelta(days=inp.failed_publish_retention_days)
        async with system_session(self._sessions, "sweep.meta_maintenance") as session:
            failed = await MetaPublishedRepository(session).failed_before(cutoff)
        for index, row in enumerate(failed):
            activity.heartbeat(index)
            await self._clean(row)
        return len(failed)

    async def _clean(self, row: MetaPublishedCampaign) -> None:
        async with tenant_session(self._sessions, row.tenant_id) as session:
            campaign = await MetaCampaignRepository(session).get(row.tenant_id, row.campaign_id)
        if campaign is None:
            return
        ref = MetaRef(
            tenant_id=str(row.tenant_id),
            campaign_id=str(row.campaign_id),
            connection_id=str(campaign.meta_connection_id),
            generation=row.generation,
        )
        deleted_on_meta = False
        if row.meta_campaign_id and campaign.meta_connection_id:
            try:
                token = await self.token(ref)
                await self._delete(row.meta_campaign_id, token, "")
                deleted_on_meta = True
            except (PlatformError, Exception) as exc:  # noqa: BLE001 - best effort, audited
                activity.logger.info("failed publish %s: not deleted on Meta (%s)", row.id, exc)
        async with self.session(ref) as session, session.begin():
            await self._forget(session, ref)
            await MetaCampaignRepository(session).update(
                row.tenant_id, row.campaign_id, published_status=None, status="ready"
            )
            await AuditLogRepository(session).add(
                tenant_id=row.tenant_id,
                actor="maintenance",
                action="meta_publish.cleaned_up",
                entity_type="meta_campaign",
                entity_id=str(row.campaign_id),
                details={
                    "error": row.error_message,
                    "failedAt": row.updated_at.isoformat(),
                    "deletedOnMeta": deleted_on_meta,
                },
            )

    @activity.defn(name=META_ARCHIVE_AUDIT)
    async def archive_audit(self, inp: MaintenanceInput) -> int:
        """Move audit entries older than the retention into audit_log_archive, in batches."""
        retention = timedelta(days=inp.audit_retention_days)
        total = 0
        while True:
            system = system_session(self._sessions, "sweep.meta_maintenance")
            async with system as session, session.begin():
                moved = await AuditArchiveRepository(session).archive_before(
                    retention, ARCHIVE_BATCH
                )
            total += moved
            activity.heartbeat(total)
            if moved < ARCHIVE_BATCH:
                return total
