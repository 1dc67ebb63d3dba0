"""Request and response bodies of the Meta API (`/api/v1/meta/...`), camelCase on the wire.
No model here has a field that could carry a token."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from flightdeck.db.models import (
    CampaignMetaConnection,
    MetaAd,
    MetaCampaign,
    MetaPublishedCampaign,
)
from flightdeck.domain.plans import CamelModel


class AuthorizeOut(CamelModel):
    authorize_url: str
    state: str
    expires_at: datetime
    connection_id: str


class SelectionIn(CamelModel):
    ad_account_id: str = Field(pattern=r"^act_[0-9]+$")
    page_id: str = Field(pattern=r"^[0-9]+$")
    business_id: str | None = Field(default=None, pattern=r"^[0-9]+$")
    instagram_user_id: str | None = Field(default=None, pattern=r"^[0-9]+$")


class SelectedAdAccount(CamelModel):
    id: str
    name: str | None
    currency: str | None
    account_status: int | None
    payment_connected: bool


class ConnectionOut(CamelModel):
    id: str
    status: str
    status_reason: str | None
    problems: list[dict[str, str]] = Field(default_factory=list)
    fb_user_id: str | None
    fb_user_name: str | None
    scopes: list[str]
    declined_scopes: list[str]
    token_expires_at: datetime | None
    business: dict[str, Any] | None
    page: dict[str, Any] | None
    instagram: dict[str, Any] | None
    ad_account: SelectedAdAccount | None
    discovered: dict[str, Any]
    connected_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ConnectionPage(CamelModel):
    items: list[ConnectionOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


def connection_out(row: CampaignMetaConnection, problems: list[dict[str, str]]) -> ConnectionOut:
    account = (
        SelectedAdAccount(
            id=row.selected_ad_account_id,
            name=row.selected_ad_account_name,
            currency=row.ad_account_currency_code,
            account_status=row.ad_account_status,
            payment_connected=row.ad_account_payment_connected,
        )
        if row.selected_ad_account_id
        else None
    )
    return ConnectionOut(
        id=str(row.id),
        status=row.connection_status,
        status_reason=row.status_reason,
        problems=problems,
        fb_user_id=row.fb_user_id,
        fb_user_name=row.fb_user_name,
        scopes=(row.scopes or "").split(),
        declined_scopes=(row.declined_scopes or "").split(),
        token_expires_at=row.token_expires_at,
        business=_pair(row.selected_business_id, row.selected_business_name),
        page=_pair(row.selected_page_id, row.selected_page_name),
        instagram=(
            {"id": row.selected_ig_user_id, "username": row.selected_ig_username}
            if row.selected_ig_user_id
            else None
        ),
        ad_account=account,
        discovered=dict(row.discovered or {}),
        connected_at=row.connected_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _pair(identifier: str | None, name: str | None) -> dict[str, Any] | None:
    return {"id": identifier, "name": name} if identifier else None


class CampaignIn(CamelModel):
    name: str = Field(min_length=1, max_length=300, pattern=r"\S")
    initial_goal: Literal["leads", "website-visits", "calls"]


class CampaignPatch(CamelModel):
    """Edit a campaign; on a published one, just these changes are pushed to Meta."""

    name: str | None = Field(default=None, min_length=1, max_length=300, pattern=r"\S")
    budget_amount: float | None = Field(default=None, gt=0, le=10_000_000)


class AdOut(CamelModel):
    id: str
    position: int
    name: str
    status: str
    meta_ad_id: str | None
    meta_creative_id: str | None
    meta_review_status: str | None
    review_feedback: dict[str, Any] | None
    issues_info: list[dict[str, Any]] | None
    destination_type: str | None
    published_at: datetime | None
    approved_at: datetime | None
    rejected_at: datetime | None


def ad_out(ad: MetaAd) -> AdOut:
    return AdOut(
        id=str(ad.id),
        position=ad.position,
        name=ad.name,
        status=ad.status,
        meta_ad_id=ad.meta_ad_id,
        meta_creative_id=ad.meta_creative_id,
        meta_review_status=ad.meta_review_status,
        review_feedback=ad.review_feedback,
        issues_info=ad.issues_info,
        destination_type=ad.destination_type,
        published_at=ad.published_at,
        approved_at=ad.approved_at,
        rejected_at=ad.rejected_at,
    )


class PublishedOut(CamelModel):
    publish_status: str
    meta_campaign_id: str | None
    meta_adset_id: str | None
    meta_ad_ids: list[str]
    error_message: str | None
    generation: int
    workflow_id: str | None
    review_workflow_id: str | None
    published_at: datetime | None
    paused_at: datetime | None


def published_out(row: MetaPublishedCampaign | None) -> PublishedOut | None:
    if row is None:
        return None
    return PublishedOut(
        publish_status=row.publish_status,
        meta_campaign_id=row.meta_campaign_id,
        meta_adset_id=row.meta_adset_id,
        meta_ad_ids=list(row.meta_ad_ids or []),
        error_message=row.error_message,
        generation=row.generation,
        workflow_id=row.workflow_id,
        review_workflow_id=row.review_workflow_id,
        published_at=row.published_at,
        paused_at=row.paused_at,
    )


class CampaignOut(CamelModel):
    id: str
    name: str
    status: str
    published_status: str | None
    initial_goal: str | None
    meta_connection_id: str | None
    sections: dict[str, Any]
    publish_data: dict[str, Any] | None
    ads: list[AdOut]
    published: PublishedOut | None
    last_metrics_sync_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CampaignSummary(CamelModel):
    id: str
    name: str
    status: str
    published_status: str | None
    initial_goal: str | None
    created_at: datetime


class CampaignPage(CamelModel):
    items: list[CampaignSummary]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


def campaign_summary(row: MetaCampaign) -> CampaignSummary:
    return CampaignSummary(
        id=str(row.id),
        name=row.name,
        status=row.status,
        published_status=row.published_status,
        initial_goal=row.initial_goal,
        created_at=row.created_at,
    )


class GraphCheck(CamelModel):
    """One object of a validate-only dry run."""

    object: str
    name: str
    checked_by: Literal["graph", "local"]
    ok: bool
    message: str | None = None


class PrepareOut(CamelModel):
    ready: bool
    problems: list[dict[str, str]]
    publish_data: dict[str, Any] | None
    graph_checks: list[GraphCheck] | None = None


class JobAccepted(CamelModel):
    job_id: str
    workflow_id: str
    status: str
