"""The steps of publishing a campaign to Meta (seed 001): images, creatives, campaign, ad set,
ads, activation, read-back verification, and the bookkeeping around them.

Effectively once without an idempotency key (ARCHITECTURE decision 1): each create claims its
ledger row first (`MetaObjectLedger.claim`) and records the id the moment Meta returns it, in
the same activity, with the Meta id columns (`meta_published_campaigns`, `meta_ads`,
`publish_data.metadata.creativeIds`). Only when an earlier attempt ended without a known
outcome (a timeout, a lost response, a 5xx, a crashed worker) does the next one look the object
up on Meta by the marker in its name (`[fd:<hash of tenant + ledger key>]`) and adopt it; a
throttled or refused attempt created nothing, so the next one simply creates.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from flightdeck.accounts.meta import MetaConnectionService
from flightdeck.activities.meta_support import (
    MetaActivityBase,
    PublishContext,
    meta_failure,
    not_ready,
)
from flightdeck.activities.names import (
    META_ACTIVATE,
    META_BEGIN_PUBLISH,
    META_COMPENSATE,
    META_CREATE_AD,
    META_CREATE_ADSET,
    META_CREATE_CAMPAIGN,
    META_CREATE_CREATIVE,
    META_FINISH_PUBLISH,
    META_UPLOAD_IMAGE,
    META_VERIFY,
)
from flightdeck.db.models import RemoteObject
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.meta import (
    CampaignStateRepository,
    MetaAdRepository,
    MetaCampaignRepository,
    MetaPublishedRepository,
)
from flightdeck.db.repositories.meta_ledger import MetaObjectLedger
from flightdeck.domain.meta_io import (
    ActivateInput,
    AdInput,
    AdSetInput,
    BeginInput,
    CreativeInput,
    FinishInput,
    ImageInput,
    MetaRef,
    PublishPlan,
    RefInput,
    VerifyResult,
)
from flightdeck.domain.meta_publish import (
    MARKER_PREFIX,
    creative_params,
    ledger_key,
    marked_name,
    marker,
)
from flightdeck.failures import Failure, failure
from flightdeck.observability.metrics import record_publish
from flightdeck.platforms.errors import NonRetryableError, PlatformError
from flightdeck.platforms.meta import MetaGraphClient
from flightdeck.platforms.meta_errors import is_ambiguous
from flightdeck.platforms.safe_fetch import FetchLimits, ImageFetchError, fetch_image

OnCreated = Callable[[AsyncSession, str], Awaitable[None]]
ADS_PAGE = 100  # ads per page of an ad set's `ads` edge
LIVE_STATUSES = ["ACTIVE", "PAUSED", "PENDING_REVIEW", "DISAPPROVED", "PREAPPROVED",
                 "PENDING_BILLING_INFO", "CAMPAIGN_PAUSED", "ADSET_PAUSED", "IN_PROCESS",
                 "WITH_ISSUES", "ARCHIVED"]  # fmt: skip


class MetaPublishActivities(MetaActivityBase):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        graph: MetaGraphClient,
        connections: MetaConnectionService,
        image_limits: FetchLimits,
    ) -> None:
        super().__init__(sessions, graph, connections)
        self._image_limits = image_limits

    # -- bookkeeping (main queue) ----------------------------------------------------------

    @activity.defn(name=META_BEGIN_PUBLISH)
    async def begin_publish(self, inp: BeginInput) -> PublishPlan:
        """Check the token stays valid for the whole publish and mark the campaign publishing;
        the DAG's shape (ad ids and image URLs), no payloads."""
        await self.token(inp.ref, timedelta(seconds=inp.token_min_validity_seconds))
        ctx = await self.context(inp.ref)
        tenant, campaign = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id)
        urls = [c["imageUrl"] for c in ctx.publish_data["creatives"]]
        if len(urls) != len(ctx.ads):
            raise not_ready("the prepared ads and the campaign's ads differ: prepare again")
        async with self.session(inp.ref) as session, session.begin():
            await MetaCampaignRepository(session).update(
                tenant, campaign, published_status="publishing"
            )
            await MetaPublishedRepository(session).update(
                tenant, campaign, publish_status="publishing", workflow_id=inp.workflow_id
            )
            await _audit(session, inp.ref, "meta_publish.started", workflowId=inp.workflow_id)
        return PublishPlan(
            ad_ids=[str(ctx.ads[i].id) for i in sorted(ctx.ads)],
            ad_image_urls=urls,
            image_urls=list(dict.fromkeys(urls)),
            launch_status=ctx.publish_data["metadata"].get("launchStatus", "ACTIVE"),
        )

    @activity.defn(name=META_FINISH_PUBLISH)
    async def finish_publish(self, inp: FinishInput) -> None:
        tenant, campaign = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id)
        now = datetime.now(UTC)
        published: dict[str, Any] = {"publish_status": inp.status, "error_message": inp.error}
        if inp.status != "error":
            published["published_at"] = now
        if inp.status == "paused":
            published["paused_at"] = now
        async with self.session(inp.ref) as session, session.begin():
            await MetaPublishedRepository(session).update(tenant, campaign, **published)
            values: dict[str, Any] = {"published_status": inp.status}
            if inp.status != "error":
                values["status"] = "published"
            await MetaCampaignRepository(session).update(tenant, campaign, **values)
            action = "meta_publish.failed" if inp.status == "error" else "meta_publish.finished"
            await _audit(
                session, inp.ref, action, status=inp.status, error=inp.error, step=inp.step
            )
        record_publish("meta", "failed" if inp.status == "error" else "completed")

    # -- Graph steps (meta queue) ----------------------------------------------------------

    @activity.defn(name=META_UPLOAD_IMAGE)
    async def upload_image(self, inp: ImageInput) -> str:
        """The image's hash on the ad account: the campaign's cache (`imageHashes`) first, then
        the ledger by content (the same bytes under two URLs upload once), else an upload."""
        ctx = await self.part(inp.ref)
        cached = ctx.publish_data["metadata"].get("imageHashes", {}).get(inp.url)
        if cached:
            return str(cached)
        token = await self.token(inp.ref)
        activity.heartbeat("fetching")
        try:
            image = await fetch_image(inp.url, limits=self._image_limits)
        except ImageFetchError as exc:
            index = next(
                (
                    i
                    for i, c in enumerate(ctx.publish_data["creatives"])
                    if c["imageUrl"] == inp.url
                ),
                0,
            )
            kind = (
                Failure.PLATFORM_UNAVAILABLE
                if exc.reason == "unreachable"
                else Failure.PLATFORM_REJECTED
            )
            raise failure(
                kind,
                f"the image {inp.url} cannot be used ({exc.reason}): {exc}",
                {"fields": [f"adPreview.ads.{index}.imageUrl"], "reason": exc.reason},
            ) from None
        tenant, campaign = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id)
        key = ledger_key(inp.ref.tenant_id, ctx.account, 0, f"image/{image.sha256}")
        async with self.session(inp.ref) as session, session.begin():
            claim = await MetaObjectLedger(session).claim(
                tenant, meta_campaign_id=campaign, object_type="image", key=key,
                local_key=f"image:{image.sha256}", name=inp.url,
            )  # fmt: skip
        # Meta names an image `<account id>:<hash>` (its AdImage id): the ledger's external id.
        image_hash = claim.external_id.split(":")[-1] if claim.external_id else None
        if image_hash is None:
            await self.pace(ctx.account)
            activity.heartbeat("uploading")
            try:
                uploaded = await self._graph.upload_image(ctx.account, token, image.data)
            except PlatformError as exc:
                await self._settle(inp.ref, claim.row, exc)
                raise meta_failure(exc) from exc
            image_hash = str(uploaded["hash"])
            await self._record_image(inp, ctx, claim.row, image_hash, image.width, image.height)
        async with self.session(inp.ref) as session, session.begin():
            await CampaignStateRepository(session).remember_image_hash(
                tenant, campaign, inp.url, image_hash
            )
        return image_hash

    async def _record_image(
        self, inp: ImageInput, ctx: PublishContext, row: RemoteObject, image_hash: str,
        width: int, height: int,
    ) -> None:  # fmt: skip
        image_id = f"{ctx.account.removeprefix('act_')}:{image_hash}"
        try:
            async with self.session(inp.ref) as session, session.begin():
                await MetaObjectLedger(session).created(
                    row, image_id, {"width": width, "height": height},
                    url=inp.url, campaignId=inp.ref.campaign_id,
                )  # fmt: skip
        except IntegrityError:
            # Images are content-addressed and shared within an ad account: another tenant
            # connected to the same account already holds this AdImage's ledger row.
            activity.logger.info("image %s already in another ledger row; using it", image_id)

    @activity.defn(name=META_CREATE_CAMPAIGN)
    async def create_campaign(self, inp: RefInput) -> str:
        ctx = await self.part(inp.ref, "campaign")
        params = {**ctx.publish_data["campaign"], "status": "PAUSED"}  # turned on last

        async def record(session: AsyncSession, meta_id: str) -> None:
            await MetaPublishedRepository(session).update(
                uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id),
                meta_campaign_id=meta_id,
            )  # fmt: skip

        return await self._create_or_adopt(
            inp.ref, ctx, "campaign", "campaign", "campaigns", params, record
        )

    @activity.defn(name=META_CREATE_ADSET)
    async def create_adset(self, inp: AdSetInput) -> str:
        ctx = await self.part(inp.ref, "adset")
        params = {**ctx.publish_data["adset"], "campaign_id": inp.campaign_id}

        async def record(session: AsyncSession, meta_id: str) -> None:
            await MetaPublishedRepository(session).update(
                uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id), meta_adset_id=meta_id
            )

        return await self._create_or_adopt(
            inp.ref, ctx, "adset", "adset", "adsets", params, record,
            parent=("campaign_id", inp.campaign_id),
        )  # fmt: skip

    @activity.defn(name=META_CREATE_CREATIVE)
    async def create_creative(self, inp: CreativeInput) -> str:
        ctx = await self.part(inp.ref, index=inp.ad_index)
        creative = ctx.publish_data["creatives"][inp.ad_index]
        ad = ctx.ads[inp.ad_index]
        params = creative_params(creative, inp.image_hash, creative["name"])
        tenant, campaign = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id)

        async def record(session: AsyncSession, meta_id: str) -> None:
            await MetaAdRepository(session).update(tenant, ad.id, meta_creative_id=meta_id)
            await CampaignStateRepository(session).remember_creative_id(tenant, campaign, meta_id)

        return await self._create_or_adopt(
            inp.ref, ctx, "creative", f"creative/{ad.id}", "adcreatives", params, record,
            ad_index=inp.ad_index,
        )  # fmt: skip

    @activity.defn(name=META_CREATE_AD)
    async def create_ad(self, inp: AdInput) -> str:
        ctx = await self.part(inp.ref, index=inp.ad_index)
        ad = ctx.ads[inp.ad_index]
        params = {
            **ctx.publish_data["ads"][inp.ad_index],
            "adset_id": inp.adset_id,
            "creative": {"creative_id": inp.creative_id},
        }
        tenant, campaign = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id)

        async def record(session: AsyncSession, meta_id: str) -> None:
            await MetaAdRepository(session).update(
                tenant, ad.id, meta_ad_id=meta_id, status="pending_review",
                meta_review_status="PENDING_REVIEW", published_at=datetime.now(UTC),
            )  # fmt: skip
            await MetaPublishedRepository(session).add_ad_id(tenant, campaign, meta_id)

        return await self._create_or_adopt(
            inp.ref, ctx, "ad", f"ad/{ad.id}", "ads", params, record,
            parent=("adset_id", inp.adset_id), ad_index=inp.ad_index,
        )  # fmt: skip

    @activity.defn(name=META_ACTIVATE)
    async def activate(self, inp: ActivateInput) -> None:
        """Turn the campaign on last (it was created paused), when the wizard asked for it."""
        ctx = await self.part(inp.ref)
        row = await self._ledger_row(inp.ref, "campaign")
        if row is None or row.external_id is None:
            raise not_ready("the campaign does not exist on Meta")
        token = await self.token(inp.ref)
        await self.pace(ctx.account)
        try:
            await self._graph.post(
                row.external_id, token, {"status": inp.status}, account=ctx.account
            )
        except PlatformError as exc:
            raise meta_failure(exc) from exc
        async with self.session(inp.ref) as session, session.begin():
            await _audit(session, inp.ref, "meta_campaign.status", metaCampaignId=row.external_id,
                         status=inp.status)  # fmt: skip

    @activity.defn(name=META_VERIFY)
    async def verify(self, inp: RefInput) -> VerifyResult:
        """Read every object back and compare it with what was sent (names, statuses,
        budgets, objective and optimization, parents, creatives)."""
        ctx = await self.part(inp.ref, "campaign", "adset")
        token = await self.token(inp.ref)
        rows = await self._ledger_rows(inp.ref)
        by_id = {r.external_id: r for r in rows if r.external_id and r.object_type != "image"}
        fields = ("name,status,effective_status,objective,daily_budget,lifetime_budget,"
                  "optimization_goal,billing_event,campaign_id,adset_id,creative")  # fmt: skip
        # One read per object above the ads, and the ads through their ad set's edge (a list
        # is one call, where `?ids=` would count every id against the ad account).
        parents = [i for i, r in by_id.items() if r.object_type in ("campaign", "adset")]
        seen: dict[str, Any] = {}
        try:
            for object_id in parents:
                activity.heartbeat(object_id)
                await self.pace(ctx.account)
                seen[str(object_id)] = await self._graph.get(
                    str(object_id), token, {"fields": fields}, account=ctx.account
                )
            adset = next((i for i, r in by_id.items() if r.object_type == "adset"), None)
            if adset is not None:
                await self.pace(ctx.account)
                ads = await self._graph.get_all(
                    f"{adset}/ads",
                    token,
                    {"fields": fields, "limit": ADS_PAGE, "effective_status": LIVE_STATUSES},
                    account=ctx.account,
                )
                seen |= {str(ad["id"]): ad for ad in ads}
        except PlatformError as exc:
            raise meta_failure(exc) from exc
        mismatches = _compare(ctx, by_id, seen)
        async with self.session(inp.ref) as session, session.begin():
            await MetaCampaignRepository(session).update(
                uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id),
                last_metrics_sync_at=datetime.now(UTC),
            )  # fmt: skip
            await _audit(session, inp.ref, "meta_publish.verified", checked=len(seen),
                         mismatches=mismatches)  # fmt: skip
        return VerifyResult(checked=len(seen), mismatches=mismatches)

    @activity.defn(name=META_COMPENSATE)
    async def compensate(self, inp: RefInput) -> None:
        """After a failure: make sure the campaign is paused (it was created paused; this
        covers a failure after activation). Everything created stays mapped."""
        row = await self._ledger_row(inp.ref, "campaign")
        if row is None or row.external_id is None:
            return
        ctx = await self.part(inp.ref)
        try:
            token = await self.token(inp.ref)
        except ApplicationError:
            return  # no usable token: the campaign was created paused and stays so
        try:
            await self._graph.post(
                row.external_id, token, {"status": "PAUSED"}, account=ctx.account
            )
        except NonRetryableError as exc:
            if exc.subcode != 33:  # already deleted on Meta: nothing to pause
                raise meta_failure(exc) from exc
        except PlatformError as exc:
            raise meta_failure(exc) from exc

    # -- create or adopt -------------------------------------------------------------------

    async def _create_or_adopt(
        self,
        ref: MetaRef,
        ctx: PublishContext,
        object_type: str,
        local: str,
        edge: str,
        params: dict[str, Any],
        record: OnCreated,
        *,
        parent: tuple[str, str] | None = None,
        ad_index: int | None = None,
    ) -> str:
        tenant, campaign = uuid.UUID(ref.tenant_id), uuid.UUID(ref.campaign_id)
        key = ledger_key(ref.tenant_id, ref.campaign_id, ref.generation, local)
        tag = marker(ref.tenant_id, key)
        name = marked_name(str(params["name"]), tag)
        async with self.session(ref) as session, session.begin():
            claim = await MetaObjectLedger(session).claim(
                tenant, meta_campaign_id=campaign, object_type=object_type, key=key,
                local_key=local, name=name, parent_external_id=parent[1] if parent else None,
                ad_index=ad_index,
            )  # fmt: skip
        if claim.external_id is not None:
            return claim.external_id  # created by an earlier attempt and recorded
        token = await self.token(ref)
        try:
            meta_id = None
            if claim.previous_attempt_unsettled:
                meta_id = await self._adopt(ctx, token, edge, tag, parent)
            adopted = meta_id is not None
            if meta_id is None:
                await self.pace(ctx.account)
                created = await self._graph.post(
                    f"{ctx.account}/{edge}", token, {**params, "name": name}, account=ctx.account
                )
                meta_id = str(created["id"])
        except PlatformError as exc:
            await self._settle(ref, claim.row, exc)
            raise meta_failure(exc, ad_index) from exc
        async with self.session(ref) as session, session.begin():
            await MetaObjectLedger(session).created(
                claim.row, meta_id, {"adopted": adopted}, key=key, campaignId=ref.campaign_id
            )
            await record(session, meta_id)
        if adopted:
            activity.logger.info("adopted Meta %s %s (marker %s)", object_type, meta_id, tag)
        return meta_id

    async def _adopt(
        self, ctx: PublishContext, token: str, edge: str, tag: str, parent: tuple[str, str] | None
    ) -> str | None:
        """The object an earlier, unsettled attempt created: the one whose name carries this
        object's marker (the hash names the tenant, campaign, generation and object, so it
        matches nothing of another tenant, campaign or run), in our ad account and under our
        parent. Filtering creatives by name is UNCONFIRMED on real Graph; the ads, ad sets and
        campaigns lists document it."""
        suffix = f"[{MARKER_PREFIX}{tag}]"
        params: dict[str, Any] = {
            "fields": "id,name,account_id,campaign_id,adset_id",
            "filtering": [{"field": "name", "operator": "CONTAIN", "value": suffix}],
        }
        if edge != "adcreatives":
            params["effective_status"] = LIVE_STATUSES
        await self.pace(ctx.account)
        found = await self._graph.get_all(
            f"{ctx.account}/{edge}", token, params, account=ctx.account
        )
        account = ctx.account.removeprefix("act_")
        for item in found:
            if not str(item.get("name", "")).endswith(suffix):
                continue
            if str(item.get("account_id", account)) != account:
                continue
            if parent is not None and str(item.get(parent[0])) != parent[1]:
                continue
            return str(item["id"])
        return None

    async def _settle(self, ref: MetaRef, row: RemoteObject, exc: PlatformError) -> None:
        """A failure with a known outcome (throttled, refused): nothing was created, so the
        next attempt creates without a lookup. An ambiguous one stays unsettled."""
        if is_ambiguous(exc):
            return
        async with self.session(ref) as session, session.begin():
            await MetaObjectLedger(session).settled(
                row, str(exc), failed=isinstance(exc, NonRetryableError)
            )

    async def _ledger_rows(self, ref: MetaRef) -> list[RemoteObject]:
        async with self.session(ref) as session:
            rows = await MetaObjectLedger(session).list_for_campaign(
                uuid.UUID(ref.tenant_id), uuid.UUID(ref.campaign_id)
            )
        prefix = ledger_key(ref.tenant_id, ref.campaign_id, ref.generation, "")
        return [r for r in rows if r.client_request_key.startswith(prefix)]

    async def _ledger_row(self, ref: MetaRef, local: str) -> RemoteObject | None:
        key = ledger_key(ref.tenant_id, ref.campaign_id, ref.generation, local)
        return next((r for r in await self._ledger_rows(ref) if r.client_request_key == key), None)


def _compare(
    ctx: PublishContext, by_id: dict[Any, RemoteObject], seen: dict[str, Any]
) -> list[str]:
    data = ctx.publish_data
    problems = []
    for meta_id, row in by_id.items():
        if row.object_type not in ("campaign", "adset", "ad"):
            continue
        obj = seen.get(str(meta_id))
        if obj is None or obj.get("status") == "DELETED":
            problems.append(f"{row.object_type} {meta_id}: missing on Meta")
            continue
        if obj.get("name") != row.name:
            problems.append(
                f"{row.object_type} {meta_id}: name {obj.get('name')!r} != {row.name!r}"
            )
        sent = _sent(data, row)
        for key in ("objective", "optimization_goal", "billing_event", "daily_budget",
                    "lifetime_budget"):  # fmt: skip
            if key in sent and str(obj.get(key)) != str(sent[key]):
                problems.append(
                    f"{row.object_type} {meta_id}: {key} {obj.get(key)!r} != {sent[key]!r}"
                )
        if row.parent_external_id and row.object_type == "adset":
            if str(obj.get("campaign_id")) != row.parent_external_id:
                problems.append(f"adset {meta_id}: not under campaign {row.parent_external_id}")
        if row.parent_external_id and row.object_type == "ad":
            if str(obj.get("adset_id")) != row.parent_external_id:
                problems.append(f"ad {meta_id}: not under ad set {row.parent_external_id}")
    return problems


def _sent(data: dict[str, Any], row: RemoteObject) -> dict[str, Any]:
    if row.object_type == "campaign":
        return dict(data["campaign"])
    if row.object_type == "adset":
        return dict(data["adset"])
    return {}


async def _audit(session: AsyncSession, ref: MetaRef, action: str, **details: Any) -> None:
    await AuditLogRepository(session).add(
        tenant_id=uuid.UUID(ref.tenant_id),
        actor="worker",
        user_id=ref.user_id,
        action=action,
        entity_type="meta_campaign",
        entity_id=ref.campaign_id,
        details={k: v for k, v in details.items() if v is not None},
    )
