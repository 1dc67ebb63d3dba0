"""`/api/v1/meta/campaigns`: the seed 001 wizard. Create a campaign, fill its sections one `PUT`
at a time (each validated against the JSON Schema served at `/api/v1/meta/schemas`), read it
back with its ads, and prepare it (a dry run: every problem at once, optionally checked by Graph
with `validate_only`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from flightdeck.accounts.meta import MetaConnectionService
from flightdeck.api.deps import PrincipalDep, SessionDep, SettingsDep, TenantDep
from flightdeck.api.errors import ApiError, not_found
from flightdeck.api.meta_models import (
    AdOut,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    PrepareOut,
    ad_out,
    campaign_summary,
    published_out,
)
from flightdeck.api.meta_prepare import prepare_campaign, sections_of, validate_with_graph
from flightdeck.api.paging import PageDep
from flightdeck.api.publishing import parse_uuid
from flightdeck.api.routes.meta_connections import MetaConnectionsDep
from flightdeck.db.models import MetaCampaign
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.meta import (
    CampaignStateRepository,
    MetaAdRepository,
    MetaCampaignRepository,
    MetaConnectionRepository,
    MetaPublishedRepository,
)
from flightdeck.domain.meta_sections import COLUMNS, SECTIONS, published_schema, section_errors
from flightdeck.domain.plans import CamelModel
from flightdeck.platforms.errors import PlatformError

router = APIRouter(prefix="/meta", tags=["meta campaigns"])


@router.get("/schemas")
async def list_schemas() -> dict[str, Any]:
    """The JSON Schema of every wizard section."""
    return {"sections": {name: published_schema(name) for name in SECTIONS}}


@router.get("/schemas/{section}")
async def get_schema(section: str) -> dict[str, Any]:
    if section not in SECTIONS:
        raise not_found("section")
    return published_schema(section)


@router.post("/campaigns", status_code=201, response_model=CampaignOut)
async def create_campaign(
    body: CampaignIn, principal: PrincipalDep, session: SessionDep
) -> CampaignOut:
    """A new campaign owned by the caller, its goal section started from `initialGoal`."""
    tenant = principal.tenant
    campaign = await MetaCampaignRepository(session).create(
        tenant.id, name=body.name, initial_goal=body.initial_goal, user_id=principal.user_id
    )
    await CampaignStateRepository(session).set_columns(
        tenant.id, campaign.id, goal_data={"goal": body.initial_goal}
    )
    await _audit(session, campaign, "meta_campaign.created", name=body.name)
    await session.commit()
    return await campaign_out(session, campaign)


@router.get("/campaigns", response_model=CampaignPage)
async def list_campaigns(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    published_status: Annotated[str | None, Query(alias="publishedStatus")] = None,
) -> CampaignPage:
    rows = await MetaCampaignRepository(session).list(
        tenant.id, published_status=published_status, limit=page.limit, cursor=page.cursor
    )
    items = [campaign_summary(row) for row in rows.items]
    return CampaignPage(items=items, next_cursor=rows.next_cursor)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: str, tenant: TenantDep, session: SessionDep) -> CampaignOut:
    return await campaign_out(session, await load_campaign(session, tenant.id, campaign_id))


@router.put("/campaigns/{campaign_id}/sections/{section}", response_model=CampaignOut)
async def put_section(
    campaign_id: str,
    section: str,
    tenant: TenantDep,
    session: SessionDep,
    data: Annotated[Any, Body()] = None,
) -> CampaignOut:
    """Replace one section; refused with every failing field named (`<section>.<path>`)."""
    if section not in SECTIONS:
        raise not_found("section")
    campaign = await load_campaign(session, tenant.id, campaign_id)
    if campaign.published_status == "publishing":
        raise ApiError(409, "conflict", "the campaign is being published; wait for the job")
    errors = section_errors(section, data)
    if errors:
        raise ApiError(422, "validation_error", errors)
    if section == "adPreview":
        await _replace_ads(session, campaign, data)
    elif section == "metaConnection":
        await _link_connection(session, campaign, data["connectionId"])
    await CampaignStateRepository(session).set_columns(
        tenant.id, campaign.id, **{COLUMNS[section]: data}
    )
    await MetaCampaignRepository(session).update(
        tenant.id, campaign.id, status="draft" if campaign.status == "ready" else campaign.status
    )
    await _audit(session, campaign, "meta_campaign.section_saved", section=section)
    await session.commit()
    return await campaign_out(session, campaign)


class AdPage(CamelModel):
    items: list[AdOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


@router.get("/campaigns/{campaign_id}/ads", response_model=AdPage)
async def list_ads(
    campaign_id: str, tenant: TenantDep, session: SessionDep, page: PageDep
) -> AdPage:
    """The campaign's ads with their Meta ids and review verdicts (and Meta's reasons)."""
    campaign = await load_campaign(session, tenant.id, campaign_id)
    ads = await MetaAdRepository(session).page_for_campaign(
        tenant.id, campaign.id, limit=page.limit, cursor=page.cursor
    )
    return AdPage(items=[ad_out(ad) for ad in ads.items], next_cursor=ads.next_cursor)


@router.post("/campaigns/{campaign_id}/prepare", response_model=PrepareOut)
async def prepare(
    campaign_id: str,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    connections: MetaConnectionsDep,
    validate_only: Annotated[bool, Query(alias="validateOnly")] = False,
) -> PrepareOut:
    """The dry run before money moves: publish_data and every problem at once; with
    `validateOnly=true` Graph checks each object too, creating nothing."""
    campaign = await load_campaign(session, tenant.id, campaign_id)
    prepared = await prepare_campaign(session, campaign, settings)
    checks = None
    if validate_only and prepared.publish_data is not None and not _blocking(prepared.problems):
        checks = await _graph_checks(session, campaign, prepared, connections)
    await MetaCampaignRepository(session).update(
        tenant.id, campaign.id, status="ready" if prepared.ready else "draft"
    )
    await _audit(
        session, campaign, "meta_campaign.prepared", ready=prepared.ready,
        problems=len(prepared.problems), validateOnly=validate_only,
    )  # fmt: skip
    await session.commit()
    return PrepareOut(
        ready=prepared.ready,
        problems=prepared.problems,
        publish_data=prepared.publish_data,
        graph_checks=checks,
    )


async def _graph_checks(
    session: SessionDep, campaign: MetaCampaign, prepared: Any, connections: MetaConnectionService
) -> Any:
    try:
        return await validate_with_graph(session, campaign, prepared, connections)
    except PlatformError as exc:
        code = "reconnect_required" if "reconnect" in str(exc) else "meta_error"
        prepared.problems.append({"field": "metaConnection", "code": code, "message": str(exc)})
        return []


def _blocking(problems: list[dict[str, str]]) -> bool:
    """Graph cannot help while the connection itself is unusable."""
    return any(p["field"] == "metaConnection" for p in problems)


# -- helpers ---------------------------------------------------------------------------------


async def load_campaign(
    session: SessionDep, tenant_id: uuid.UUID, campaign_id: str
) -> MetaCampaign:
    parsed = parse_uuid(campaign_id)
    campaign = await MetaCampaignRepository(session).get(tenant_id, parsed) if parsed else None
    if campaign is None:
        raise not_found("Meta campaign")
    return campaign


async def campaign_out(session: SessionDep, campaign: MetaCampaign) -> CampaignOut:
    tenant = campaign.tenant_id
    fresh = await MetaCampaignRepository(session).get(tenant, campaign.id)
    assert fresh is not None
    state = await CampaignStateRepository(session).get(tenant, campaign.id)
    ads = await MetaAdRepository(session).list_for_campaign(tenant, campaign.id)
    published = await MetaPublishedRepository(session).get(tenant, campaign.id)
    return CampaignOut(
        id=str(fresh.id),
        name=fresh.name,
        status=fresh.status,
        published_status=fresh.published_status,
        initial_goal=fresh.initial_goal,
        meta_connection_id=str(fresh.meta_connection_id) if fresh.meta_connection_id else None,
        sections=await sections_of(session, tenant, campaign.id),
        publish_data=state.publish_data if state else None,
        ads=[ad_out(ad) for ad in ads],
        published=published_out(published),
        last_metrics_sync_at=fresh.last_metrics_sync_at,
        created_at=fresh.created_at,
        updated_at=fresh.updated_at,
    )


async def _replace_ads(session: SessionDep, campaign: MetaCampaign, data: dict[str, Any]) -> None:
    ads = MetaAdRepository(session)
    if await ads.any_published(campaign.tenant_id, campaign.id):
        raise ApiError(
            409, "conflict", "the campaign's ads are on Meta; delete the campaign there first"
        )
    await ads.replace(
        campaign.tenant_id,
        campaign.id,
        [
            {
                "name": ad["name"],
                "copy_data": {"copyVariation": ad["copyVariation"]},
                "creative_data": {
                    "imageUrl": ad["imageUrl"],
                    "callToAction": ad.get("callToAction"),
                },
                "destination_data": ad["destination"],
                "destination_type": ad["destination"]["type"],
            }
            for ad in data["ads"]
        ],
    )


async def _link_connection(session: SessionDep, campaign: MetaCampaign, value: str) -> None:
    connection_id = parse_uuid(value)
    row = (
        await MetaConnectionRepository(session).get(campaign.tenant_id, connection_id)
        if connection_id
        else None
    )
    if row is None or row.connection_status == "authorizing":
        raise ApiError(
            422,
            "validation_error",
            [{"field": "metaConnection.connectionId", "message": "no such Meta connection"}],
        )
    await MetaCampaignRepository(session).update(
        campaign.tenant_id, campaign.id, meta_connection_id=row.id
    )


async def _audit(session: SessionDep, campaign: MetaCampaign, action: str, **details: Any) -> None:
    await AuditLogRepository(session).add(
        tenant_id=campaign.tenant_id,
        action=action,
        entity_type="meta_campaign",
        entity_id=str(campaign.id),
        details=details,
    )
