"""Following Meta's ad review (metrics-and-review.md §2): read each published ad's
`effective_status`, `ad_review_feedback` and `issues_info`, record the verdicts on `meta_ads`
(`meta_review_status`, `approved_at`, `rejected_at`, feedback), and raise alerts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from flightdeck.activities.meta_support import MetaActivityBase, meta_failure
from flightdeck.activities.names import META_CHECK_REVIEWS, META_FINISH_REVIEW, META_REVIEW_ALERT
from flightdeck.db.models import MetaAd
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.meta import MetaAdRepository, MetaPublishedRepository
from flightdeck.db.repositories.sync_back import AlertRepository
from flightdeck.domain.meta_io import FinishReviewInput, RefInput, ReviewAlertInput, ReviewCheck
from flightdeck.platforms.errors import PlatformError

READ_CHUNK = 50
PENDING = frozenset({"PENDING_REVIEW", "IN_PROCESS"})
REJECTED = frozenset({"DISAPPROVED", "WITH_ISSUES"})
STOPPED = frozenset({"DELETED", "ARCHIVED"})
FINAL_REVIEW_STATUSES = ("approved", "rejected", "stopped")
ALL_AD_STATUSES = ["ACTIVE", "PAUSED", "DELETED", "PENDING_REVIEW", "DISAPPROVED", "PREAPPROVED",
                   "PENDING_BILLING_INFO", "CAMPAIGN_PAUSED", "ARCHIVED", "ADSET_PAUSED",
                   "IN_PROCESS", "WITH_ISSUES"]  # fmt: skip


class MetaReviewActivities(MetaActivityBase):
    @activity.defn(name=META_CHECK_REVIEWS)
    async def check_reviews(self, inp: RefInput) -> ReviewCheck:
        """One look at every ad still waiting for its verdict."""
        tenant, campaign = uuid.UUID(inp.ref.tenant_id), uuid.UUID(inp.ref.campaign_id)
        async with self.session(inp.ref) as session:
            ads = await MetaAdRepository(session).list_for_campaign(tenant, campaign)
        waiting = [a for a in ads if a.meta_ad_id and a.status not in FINAL_REVIEW_STATUSES]
        result = ReviewCheck(
            approved=sum(a.status == "approved" for a in ads),
            rejected=sum(a.status == "rejected" for a in ads),
        )
        if not waiting:
            return result
        token = await self.token(inp.ref)
        account = (await self.part(inp.ref)).account
        fields = "effective_status,configured_status,ad_review_feedback,issues_info"
        async with self.session(inp.ref) as session:
            published = await MetaPublishedRepository(session).get(tenant, campaign)
        adset = published.meta_adset_id if published else None
        seen: dict[str, Any] = {}
        try:
            if adset is not None:
                # The ad set's `ads` edge: one call per 100 ads (deleted ones included).
                await self.pace(account)
                listed = await self._graph.get_all(
                    f"{adset}/ads",
                    token,
                    {"fields": fields, "limit": 100, "effective_status": ALL_AD_STATUSES},
                    account=account,
                )
                seen = {str(item["id"]): item for item in listed}
            else:
                for start in range(0, len(waiting), READ_CHUNK):
                    activity.heartbeat(start)
                    chunk = [str(a.meta_ad_id) for a in waiting[start : start + READ_CHUNK]]
                    await self.pace(account)
                    seen |= await self._graph.get(
                        "", token, {"ids": ",".join(chunk), "fields": fields}, account=account
                    )
        except PlatformError as exc:
            raise meta_failure(exc) from exc
        now = datetime.now(UTC)
        async with self.session(inp.ref) as session, session.begin():
            repo = MetaAdRepository(session)
            for ad in waiting:
                view = seen.get(str(ad.meta_ad_id)) or {"effective_status": "DELETED"}
                verdict = await self._record(repo, session, inp, ad, view, now)
                if verdict == "pending":
                    result.pending += 1
                elif verdict == "rejected":
                    result.rejected += 1
                    result.newly_rejected.append(str(ad.id))
                elif verdict == "approved":
                    result.approved += 1
        return result

    async def _record(
        self,
        repo: MetaAdRepository,
        session: Any,
        inp: RefInput,
        ad: MetaAd,
        view: dict[str, Any],
        now: datetime,
    ) -> str:
        status = str(view.get("effective_status"))
        values: dict[str, Any] = {"meta_review_status": status}
        if status in PENDING:
            verdict = "pending"
        elif status in REJECTED:
            verdict = "rejected"
            values |= {
                "rejected_at": now,
                "review_feedback": view.get("ad_review_feedback"),
                "issues_info": view.get("issues_info") or [],
            }
        elif status in STOPPED:
            verdict = "stopped"
        else:  # ACTIVE, PAUSED, CAMPAIGN_PAUSED, ADSET_PAUSED, PENDING_BILLING_INFO, PREAPPROVED
            verdict = "approved"
            values |= {"approved_at": now, "issues_info": view.get("issues_info") or []}
        if verdict != "pending":
            values["status"] = verdict
            await repo.update(uuid.UUID(inp.ref.tenant_id), ad.id, **values)
            await AuditLogRepository(session).add(
                tenant_id=uuid.UUID(inp.ref.tenant_id),
                actor="worker",
                user_id=inp.ref.user_id,
                action=f"meta_ad.review_{verdict}",
                entity_type="meta_ad",
                entity_id=str(ad.id),
                details={
                    "metaAdId": ad.meta_ad_id,
                    "effectiveStatus": status,
                    "feedback": view.get("ad_review_feedback"),
                },
            )
        elif ad.meta_review_status != status:
            await repo.update(uuid.UUID(inp.ref.tenant_id), ad.id, **values)
        return verdict

    @activity.defn(name=META_REVIEW_ALERT)
    async def review_alert(self, inp: ReviewAlertInput) -> None:
        tenant = uuid.UUID(inp.ref.tenant_id)
        async with self.session(inp.ref) as session, session.begin():
            ads = await MetaAdRepository(session).list_for_campaign(
                tenant, uuid.UUID(inp.ref.campaign_id)
            )
            named = {str(a.id): a for a in ads}
            details = {
                "campaignId": inp.ref.campaign_id,
                "ads": [
                    {
                        "adId": ad_id,
                        "name": named[ad_id].name if ad_id in named else None,
                        "metaAdId": named[ad_id].meta_ad_id if ad_id in named else None,
                        "feedback": named[ad_id].review_feedback if ad_id in named else None,
                    }
                    for ad_id in inp.ad_ids
                ],
            }
            await AlertRepository(session).add(
                tenant,
                kind=f"meta_{inp.kind}",
                entity_type="meta_campaign",
                entity_id=inp.ref.campaign_id,
                message=inp.message,
                details=details,
                severity="HIGH" if inp.kind == "ad_rejected" else "MEDIUM",
            )
            await AuditLogRepository(session).add(
                tenant_id=tenant,
                actor="worker",
                user_id=inp.ref.user_id,
                action=f"meta_review.{inp.kind}",
                entity_type="meta_campaign",
                entity_id=inp.ref.campaign_id,
                details={"message": inp.message, "adIds": inp.ad_ids},
            )

    @activity.defn(name=META_FINISH_REVIEW)
    async def finish_review(self, inp: FinishReviewInput) -> None:
        async with self.session(inp.ref) as session, session.begin():
            await AuditLogRepository(session).add(
                tenant_id=uuid.UUID(inp.ref.tenant_id),
                actor="worker",
                user_id=inp.ref.user_id,
                action=f"meta_review.{inp.outcome.status}",
                entity_type="meta_campaign",
                entity_id=inp.ref.campaign_id,
                details=inp.outcome.model_dump(mode="json"),
            )
