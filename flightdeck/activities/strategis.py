"""Activities that create, adopt and compensate objects on Strategis and, through its relay, on
Facebook. Each one records the remote object in the ledger before and right after the call, in
the same activity, so a retry, a lost response or a worker crash never creates a second object.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from flightdeck.activities.attempts import wait_fits
from flightdeck.activities.errors import at_step, to_application_error, worst
from flightdeck.activities.names import (
    COMPENSATE_PLAN,
    CREATE_RELAY_OBJECT,
    CREATE_TRACKING_CAMPAIGN,
    ENSURE_TEMPLATE,
    PUBLISH_AD_SET,
)
from flightdeck.db.models import RemoteObject
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_plans import CampaignPlanRepository
from flightdeck.db.repositories.ledger_writes import LedgerWrites
from flightdeck.db.repositories.remote_objects import RemoteObjectLedger
from flightdeck.db.repositories.strategis_templates import StrategisTemplateRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.plans import CampaignPlanIn
from flightdeck.domain.publish import (
    AdSetPublished,
    AdSetPublishInput,
    CompensateInput,
    CompensationResult,
    EnsureTemplateInput,
    PlanRef,
    RelayCreateInput,
    RelayObjectType,
    TrackingCampaign,
    TrackingCampaignInput,
    step_of_local_key,
)
from flightdeck.domain.transforms import (
    ad_key,
    ad_payload,
    adset_key,
    adset_payload,
    creative_key,
    creative_payload,
    relay_object_keys,
    tenant_template_key,
    tracking_campaign_key,
    tracking_campaign_name,
    tracking_campaign_payload,
    tracking_url,
)
from flightdeck.failures import Failure, failure
from flightdeck.platforms.errors import NonRetryableError, PlatformError
from flightdeck.platforms.strategis import StrategisClient, StrategisRelayClient

ACTOR = "worker"
# A create in an ad set's activity is tried this often in the attempt, the waits doubling from
# FIRST_RETRY_SECONDS (or a rate limit's delay); each try is sent only while CALL_MARGIN — the
# platform clients' HTTP timeout (`http_timeout_seconds`, 30 s), at most half the attempt —
# still fits in the attempt.
CREATE_TRIES = 4
FIRST_RETRY_SECONDS = 0.25
CALL_MARGIN = timedelta(seconds=30)
T = TypeVar("T")
# Relay objects deleted on cleanup, children first (creatives cannot be deleted via the relay,
# and a creative without an ad never spends).
DELETE_ORDER = ("ad", "adset", "campaign")
RELAY_TYPE = {"campaign": "campaigns", "adset": "adsets", "ad": "ads"}
# The relay's path for each ledger type an ad set's activity creates.
RELAY_CREATE_TYPE: dict[str, RelayObjectType] = {
    "adset": "adsets",
    "creative": "adcreatives",
    "ad": "ads",
}


def default_template_value(tracking_base_url: str) -> dict[str, Any]:
    return {
        "networkName": "facebook",
        "route": tracking_base_url.rstrip("/") + "/route?campaignId={campaignId}&fbclid={fbclid}",
    }


class StrategisActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        strategis: StrategisClient,
        relay: StrategisRelayClient,
        tracking_base_url: str,
    ) -> None:
        self._sessions = sessions
        self._ledger = LedgerWrites(sessions)
        self._strategis = strategis
        self._relay = relay
        self._tracking_base_url = tracking_base_url

    @activity.defn(name=ENSURE_TEMPLATE)
    async def ensure_template(self, inp: EnsureTemplateInput) -> str:
        """Get-or-create the organization's tracking template; cached in strategis_templates."""
        tenant = uuid.UUID(inp.ref.tenant_id)
        template_id = inp.template_id
        if template_id is None:
            async with tenant_session(self._sessions, tenant) as session:
                cached = await StrategisTemplateRepository(session).get(
                    tenant, inp.organization, inp.key
                )
            template_id = cached.strategis_template_id if cached else None
        if template_id is None:
            template_id = await self._find_or_create_template(
                inp.organization, tenant_template_key(inp.ref.tenant_id, inp.key)
            )
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await StrategisTemplateRepository(session).upsert(
                tenant, inp.organization, inp.key, template_id
            )
            plans = CampaignPlanRepository(session)
            plan = await plans.get(tenant, uuid.UUID(inp.ref.plan_id))
            if plan is not None and plan.strategis_template_id is None:
                await plans.set_template_id(tenant, plan.id, template_id)
        return template_id

    async def _find_or_create_template(self, organization: str, key: str) -> str:
        try:
            found = await self._strategis.find_template(organization, key)
            if found is not None:
                return str(found["id"])
            value = default_template_value(self._tracking_base_url)
            try:
                created = await self._strategis.create_template(organization, key, value)
            except NonRetryableError as exc:
                # Another run created it between our lookup and our create: adopt that one.
                if exc.status_code != 409:
                    raise
                found = await self._strategis.find_template(organization, key)
                if found is None:
                    raise
                return str(found["id"])
            return str(created["id"])
        except PlatformError as exc:
            raise to_application_error(exc) from exc

    @activity.defn(name=CREATE_RELAY_OBJECT)
    async def create_relay_object(self, inp: RelayCreateInput) -> str:
        """Create a Facebook object through the relay, which dedups on clientRequestKey.

        The key (derived from the plan, tenant-scoped) is the record of intent: a retry gets the
        first object back from the relay, and a compensation finds it under the key even when no
        answer ever arrived — so the ledger row is written once, after the call, in one
        statement with its audit entry (one round trip per create on the publish's hot path).
        """
        try:
            external_id = await self._relay.create(
                inp.object_type,
                organization=inp.organization,
                client_request_key=inp.client_request_key,
                body=inp.body,
            )
        except PlatformError as exc:
            if isinstance(exc, NonRetryableError):
                await self._record_refused(inp, exc)
            raise to_application_error(exc) from exc
        await self._ledger.record_created(
            **_relay_row(inp),
            external_id=external_id,
            parent_external_id=inp.parent_external_id,
            actor=ACTOR,
            action="remote_object.created",
            details={"clientRequestKey": inp.client_request_key, "planId": inp.ref.plan_id},
            user_id=inp.ref.requested_by,
        )
        return external_id

    @activity.defn(name=PUBLISH_AD_SET)
    async def publish_ad_set(self, inp: AdSetPublishInput) -> AdSetPublished:
        """Publish one ad set of a plan: the ad set (through the relay), its Strategis tracking
        campaign, then per ad its creative and the ad, every ad concurrently.

        One activity for the ad set's 2 + 2 × ads creates, not one per create: a Temporal
        activity costs the server and the worker more CPU than the create it wraps, and 20
        plans at once were CPU-bound on that (bench/publish.py). Each create is the same step
        as on its own (`create_relay_object`, `create_tracking_campaign`), recorded in the
        ledger the moment it answers; the relay dedups on clientRequestKey and a tracking
        campaign is looked up before a retry creates it, so a retry of the ad set gets the same
        objects back, and skips what the ledger already maps. Every ad runs to its end even
        when another fails, so no answer goes unrecorded; then the activity fails with `worst`
        of the errors, naming the object's step (e.g. `facebook_ad[1][2]`).
        """
        i, plan = inp.ad_set_index, inp.plan
        [ad_set] = plan.ad_sets
        retry = activity.info().attempt > 1  # an earlier attempt may have created some
        mapped = await self._mapped(inp.ref) if retry else {}
        key = adset_key(inp.request_id, i)
        fb_ad_set_id = mapped.get(key) or await self._step_create(
            _of_ad_set(
                inp, "adset", key, inp.ad_set_name,
                adset_payload(plan, ad_set, inp.ad_set_name, inp.fb_campaign_id),
                parent=inp.fb_campaign_id,
            )
        )  # fmt: skip
        tracking_input = TrackingCampaignInput(
            ref=inp.ref,
            organization=plan.organization,
            ad_set_index=i,
            client_request_key=tracking_campaign_key(inp.request_id, i),
            body=tracking_campaign_payload(
                plan,
                name=tracking_campaign_name(inp.campaign_name, inp.ad_set_name),
                template_id=inp.template_id,
                fb_campaign_id=inp.fb_campaign_id,
                fb_ad_set_id=fb_ad_set_id,
            ),
            tracking_base_url=inp.tracking_base_url,
        )
        tracking = await _tried(
            lambda again: self._tracking_campaign(tracking_input, adopt=again or retry),
            f"tracking_campaign[{i}]",
        )
        outcomes = await asyncio.gather(
            *(
                self._publish_ad(inp, j, fb_ad_set_id, tracking.tracking_url, mapped)
                for j in range(len(ad_set.ads))
            ),
            return_exceptions=True,
        )
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            raise worst(errors)
        return AdSetPublished(
            fb_ad_set_id=fb_ad_set_id,
            tracking_campaign_id=tracking.id,
            ad_ids=[str(o) for o in outcomes],
        )

    async def _publish_ad(
        self, inp: AdSetPublishInput, j: int, fb_ad_set_id: str, link: str, mapped: dict[str, str]
    ) -> str:
        """An ad's creative, then the ad (which names the creative)."""
        i, plan, name = inp.ad_set_index, inp.plan, inp.ad_names[j]
        key = ad_key(inp.request_id, i, j)
        if key in mapped:
            return mapped[key]
        key_of_creative = creative_key(inp.request_id, i, j)
        creative_id = mapped.get(key_of_creative) or await self._step_create(
            _of_ad_set(
                inp, "creative", key_of_creative, name,
                creative_payload(plan, plan.ad_sets[0].ads[j], name, link), ad_index=j,
            )
        )  # fmt: skip
        return await self._step_create(
            _of_ad_set(
                inp, "ad", key, name, ad_payload(name, fb_ad_set_id, creative_id), ad_index=j,
                parent=fb_ad_set_id,
            )
        )  # fmt: skip

    async def _step_create(self, inp: RelayCreateInput) -> str:
        """`create_relay_object`, tried again in the attempt (`_tried`)."""
        return await _tried(
            lambda _: self.create_relay_object(inp), step_of_local_key(inp.local_key)
        )

    async def _mapped(self, ref: PlanRef) -> dict[str, str]:
        """The plan's objects already created, by client request key (a retry's skip list)."""
        async with tenant_session(self._sessions, ref.tenant_id) as session:
            rows = await RemoteObjectLedger(session).list_for_plan(
                uuid.UUID(ref.tenant_id), uuid.UUID(ref.plan_id)
            )
        return {
            r.client_request_key: r.external_id
            for r in rows
            if r.external_id and r.state == "created"
        }

    async def _record_refused(self, inp: RelayCreateInput, exc: PlatformError) -> None:
        async with tenant_session(self._sessions, inp.ref.tenant_id) as session, session.begin():
            await RemoteObjectLedger(session).record_failed(**_relay_row(inp), error=str(exc))

    @activity.defn(name=CREATE_TRACKING_CAMPAIGN)
    async def create_tracking_campaign(self, inp: TrackingCampaignInput) -> TrackingCampaign:
        """Create (or, after an ambiguous failure, adopt) the ad set's Strategis campaign."""
        return await self._tracking_campaign(inp, adopt=activity.info().attempt > 1)

    async def _tracking_campaign(
        self, inp: TrackingCampaignInput, *, adopt: bool
    ) -> TrackingCampaign:
        """Strategis has no idempotency key: when an earlier try may have created the campaign
        (`adopt`), look it up by its deterministic name and the Facebook ad set it tracks
        before creating."""
        properties = inp.body["properties"]
        row = await self._begin(
            inp.ref,
            system="strategis",
            object_type="tracking_campaign",
            client_request_key=inp.client_request_key,
            local_key=f"tracking_campaign:{inp.ad_set_index}",
            name=inp.body["name"],
            parent_external_id=properties["fbAdSetId"],
            ad_set_index=inp.ad_set_index,
        )
        if row.state != "requested" and row.external_id:
            return TrackingCampaign(id=row.external_id, tracking_url=row.attributes["tracking_url"])
        try:
            campaign_id = None
            if adopt:
                campaign_id = await self._find_tracking_campaign(
                    inp.organization, inp.body["name"], properties["fbAdSetId"]
                )
            if campaign_id is None:
                created = await self._strategis.create_campaign(inp.body)
                campaign_id = str(created["id"])
        except PlatformError as exc:
            await self._failed_attempt(row, exc)
            raise to_application_error(exc) from exc
        url = tracking_url(inp.tracking_base_url, campaign_id)
        await self._created(inp.ref, row, campaign_id, {"tracking_url": url})
        return TrackingCampaign(id=campaign_id, tracking_url=url)

    @activity.defn(name=COMPENSATE_PLAN)
    async def compensate_plan(self, inp: CompensateInput) -> CompensationResult:
        """Pause (on failure) or delete (on cancel with cleanup) what a plan created.

        First, ledger rows left `requested` (a create whose answer was lost, in a run that
        stopped before its retry) are looked up on the platform — the relay by the row's
        clientRequestKey, Strategis by the tracking campaign's name and ad set — and mapped if
        found, so they are paused or deleted like the rest instead of staying live, unmapped.
        Only this plan's own ledger rows are ever touched. Idempotent: rows already in the
        target state are skipped, so a retry resumes; it heartbeats after every object.
        """
        tenant, plan_id = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.plan_id)
        await self._find_lost_relay_objects(inp)
        async with tenant_session(self._sessions, tenant) as session:
            rows = await RemoteObjectLedger(session).list_for_plan(tenant, plan_id)
        result = CompensationResult()
        for row in [r for r in rows if r.state == "requested"]:
            await self._resolve_requested(inp, row)
            activity.heartbeat(f"resolved {row.client_request_key}")
        live = [r for r in rows if r.external_id and r.state in ("created", "paused")]
        facebook = {t: [r for r in live if r.system == "facebook" and r.object_type == t]
                    for t in DELETE_ORDER}  # fmt: skip
        if inp.mode == "delete":
            for object_type in DELETE_ORDER:
                for row in facebook[object_type]:
                    await self._set_relay_status(inp, row, "DELETED")
                    result.deleted += 1
                    activity.heartbeat(f"deleted {row.external_id}")
        else:
            for row in facebook["campaign"]:
                if row.state == "created":
                    await self._set_relay_status(inp, row, "PAUSED")
                    result.paused += 1
        for row in live:
            if row.system == "strategis" and row.object_type == "tracking_campaign":
                if row.state == "created":
                    await self._call(
                        self._strategis.update_campaign(row.external_id or "", {"status": "paused"})
                    )
                    await self._mark(inp.ref, row, "paused")
                    result.paused += 1
                    activity.heartbeat(f"paused {row.external_id}")
        return result

    async def _find_lost_relay_objects(self, inp: CompensateInput) -> None:
        """Every relay create the plan's run may have made and that is not in the ledger (its
        answer was lost, and the run stopped before a retry) is looked up at the relay by its
        key and, if it exists, recorded — so it is paused or deleted with the rest."""
        tenant, plan_id = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.plan_id)
        async with tenant_session(self._sessions, tenant) as session:
            plan = await CampaignPlanRepository(session).get(tenant, plan_id)
            rows = await RemoteObjectLedger(session).list_for_plan(tenant, plan_id)
        if plan is None:
            return
        known = {r.client_request_key for r in rows if r.system == "facebook" and r.external_id}
        plan_in = CampaignPlanIn.model_validate(plan.plan)
        for key in relay_object_keys(plan_in, inp.ref.tenant_id):
            if key.client_request_key in known:
                continue
            found = await self._call(
                self._relay.find_created(key.client_request_key, organization=inp.organization)
            )
            activity.heartbeat(key.client_request_key)
            if found is None:
                continue
            async with tenant_session(self._sessions, tenant) as session, session.begin():
                await RemoteObjectLedger(session).record_created(
                    tenant,
                    campaign_plan_id=plan_id,
                    system="facebook",
                    object_type=key.object_type,
                    local_key=key.local_key,
                    client_request_key=key.client_request_key,
                    external_id=found,
                    name=None,
                    parent_external_id=None,
                    ad_set_index=key.ad_set_index,
                    ad_index=key.ad_index,
                    actor=ACTOR,
                    action="remote_object.found_after_lost_answer",
                    details={"clientRequestKey": key.client_request_key, "planId": inp.ref.plan_id},
                    user_id=inp.ref.requested_by,
                )

    async def _resolve_requested(self, inp: CompensateInput, row: RemoteObject) -> None:
        """Find the object a `requested` row may have created; map it, or mark the row failed
        (nothing was created under its key)."""
        if row.system == "facebook":
            found = await self._call(
                self._relay.find_created(row.client_request_key, organization=inp.organization)
            )
        else:
            found = await self._call(
                self._find_tracking_campaign(inp.organization, row.name, row.parent_external_id)
            )
        async with tenant_session(self._sessions, row.tenant_id) as session, session.begin():
            ledger = RemoteObjectLedger(session)
            if found is None:
                await ledger.mark_failed(row.id, "not created (checked on the platform)")
                return
            attributes: dict[str, Any] = {}
            if row.object_type == "tracking_campaign":
                attributes["tracking_url"] = tracking_url(self._tracking_base_url, found)
            await ledger.mark_created_audited(
                row.id,
                found,
                attributes,
                actor=ACTOR,
                action="remote_object.found_after_lost_answer",
                entity_type=f"{row.system}.{row.object_type}",
                details={"clientRequestKey": row.client_request_key, "planId": inp.ref.plan_id},
                user_id=inp.ref.requested_by,
            )
        row.external_id, row.state = found, "created"

    async def _find_tracking_campaign(
        self, organization: str, name: str | None, fb_ad_set_id: str | None
    ) -> str | None:
        """The Strategis campaign tracking *our* Facebook ad set (its deterministic name and the
        ad set it names): an ad set id only this run created, so nothing foreign is adopted."""
        if name is None or fb_ad_set_id is None:
            return None
        for campaign in await self._strategis.find_campaigns(organization, name):
            if campaign.get("properties", {}).get("fbAdSetId") == fb_ad_set_id:
                activity.logger.info("found Strategis campaign %s", campaign["id"])
                return str(campaign["id"])
        return None

    async def _set_relay_status(self, inp: CompensateInput, row: RemoteObject, status: str) -> None:
        try:
            await self._relay.update(
                RELAY_TYPE[row.object_type],  # type: ignore[arg-type]
                row.external_id or "",
                organization=inp.organization,
                fields={"status": status},
            )
        except NonRetryableError as exc:
            # Already deleted on the platform (Graph error 100/33): nothing left to do.
            if exc.subcode != 33:
                raise to_application_error(exc) from exc
        except PlatformError as exc:
            raise to_application_error(exc) from exc
        await self._mark(inp.ref, row, "deleted" if status == "DELETED" else "paused")

    async def _call(self, coro: Any) -> Any:
        try:
            return await coro
        except PlatformError as exc:
            raise to_application_error(exc) from exc

    # -- ledger bookkeeping --------------------------------------------------------------------

    async def _begin(self, ref: PlanRef, **fields: Any) -> RemoteObject:
        return await self._ledger.begin(
            ref.tenant_id, campaign_plan_id=uuid.UUID(ref.plan_id), **fields
        )

    async def _created(
        self, ref: PlanRef, row: RemoteObject, external_id: str, attributes: dict[str, Any]
    ) -> None:
        """The `requested` row `_begin` returned, completed (by its key) and audited."""
        assert row.campaign_plan_id is not None
        await self._ledger.record_created(
            row.tenant_id,
            campaign_plan_id=row.campaign_plan_id,
            system=row.system,
            object_type=row.object_type,
            local_key=row.local_key,
            client_request_key=row.client_request_key,
            external_id=external_id,
            name=row.name,
            parent_external_id=row.parent_external_id,
            ad_set_index=row.ad_set_index,
            ad_index=row.ad_index,
            attributes=attributes,
            actor=ACTOR,
            action="remote_object.created",
            details={"clientRequestKey": row.client_request_key, "planId": ref.plan_id},
            user_id=ref.requested_by,
        )

    async def _mark(self, ref: PlanRef, row: RemoteObject, state: str) -> None:
        async with tenant_session(self._sessions, ref.tenant_id) as session, session.begin():
            await RemoteObjectLedger(session).mark_state(row.id, state)
            await AuditLogRepository(session).add(
                tenant_id=uuid.UUID(ref.tenant_id),
                actor=ACTOR,
                user_id=ref.requested_by,
                action=f"remote_object.{state}",
                entity_type=f"{row.system}.{row.object_type}",
                entity_id=row.external_id or row.client_request_key,
                details={"planId": ref.plan_id},
            )

    async def _failed_attempt(self, row: RemoteObject, exc: PlatformError) -> None:
        if isinstance(exc, NonRetryableError):
            async with tenant_session(self._sessions, row.tenant_id) as session, session.begin():
                await RemoteObjectLedger(session).mark_failed(row.id, str(exc))


async def _tried(create: Callable[[bool], Awaitable[T]], step: str) -> T:
    """One create of an ad set's activity, tried again inside the attempt after a retryable
    failure (`create(True)`: a try after one that may have created; the relay dedups on
    clientRequestKey, a tracking campaign is looked up first) — one create's 503 must not send
    the whole ad set into Temporal's growing backoff. A refusal, the last try, or a wait that
    does not fit (a long rate limit) goes to the activity's retry; its error names `step`.

    Temporal does not stop an attempt that outlives its start-to-close timeout (only a heartbeat
    would tell it), and the next attempt runs beside it: a Strategis campaign (no idempotency
    key) sent that late could commit after the next attempt looked for it, and both would
    create. So a try is sent only while its call can end inside the attempt; otherwise the
    attempt gives up unsent, and the next one looks first."""
    delay = FIRST_RETRY_SECONDS
    for tries in itertools.count(1):
        if wait_fits(0, CALL_MARGIN) is False:
            late = failure(
                Failure.PLATFORM_UNAVAILABLE,
                "this attempt's time is nearly over: not sent; the next attempt looks first",
            )
            raise at_step(late, step)
        try:
            return await create(tries > 1)
        except ApplicationError as err:
            wait = err.next_retry_delay.total_seconds() if err.next_retry_delay else delay
            if err.non_retryable or tries >= CREATE_TRIES or wait_fits(wait, CALL_MARGIN) is False:
                raise at_step(err, step) from err
            await asyncio.sleep(wait)
            delay *= 2
    raise AssertionError("unreachable")


def _of_ad_set(
    inp: AdSetPublishInput,
    ledger_type: str,
    key: str,
    name: str,
    body: dict[str, Any],
    *,
    ad_index: int | None = None,
    parent: str | None = None,
) -> RelayCreateInput:
    """A relay create of an ad set's activity: the ad set, or (with `ad_index`) an ad's
    creative or the ad, with its ledger coordinates (`adset:1`, `creative:1:0`, `ad:1:0`)."""
    indexes = [inp.ad_set_index] if ad_index is None else [inp.ad_set_index, ad_index]
    return RelayCreateInput(
        ref=inp.ref,
        object_type=RELAY_CREATE_TYPE[ledger_type],
        ledger_type=ledger_type,
        local_key=":".join([ledger_type, *map(str, indexes)]),
        client_request_key=key,
        organization=inp.plan.organization,
        name=name,
        body=body,
        parent_external_id=parent,
        ad_set_index=inp.ad_set_index,
        ad_index=ad_index,
    )


def _relay_row(inp: RelayCreateInput) -> dict[str, Any]:
    """The ledger coordinates of a relay create."""
    return {
        "tenant_id": uuid.UUID(inp.ref.tenant_id),
        "campaign_plan_id": uuid.UUID(inp.ref.plan_id),
        "system": "facebook",
        "object_type": inp.ledger_type,
        "local_key": inp.local_key,
        "client_request_key": inp.client_request_key,
        "name": inp.name,
        "ad_set_index": inp.ad_set_index,
        "ad_index": inp.ad_index,
    }
