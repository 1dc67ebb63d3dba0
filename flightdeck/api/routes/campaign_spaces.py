"""`/api/v1/campaign-spaces` (seed 003): a tenant's campaign spaces — create, list (filters,
ranked full-text search, keyset pages with a total), read, update, delete (soft by default,
`?hard=true` removes the space, its assets and any bytes nothing else uses), templates,
statistics and pushed performance figures. Another tenant's space answers 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from flightdeck.api.asset_deps import ActorDep, LibraryDep, audit, invalid, parse_id
from flightdeck.api.campaign_space_models import (
    PerformanceIn,
    SpaceIn,
    SpaceOut,
    SpacePage,
    SpacePatch,
    SpaceStatsOut,
    TemplateIn,
    space_out,
)
from flightdeck.api.deps import SessionDep, TenantDep
from flightdeck.api.errors import ApiError, ErrorBody, not_found
from flightdeck.api.paging import PageDep, PageRequest
from flightdeck.db.models import CampaignSpace
from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.repositories.campaign_assets import AssetBlobRepository
from flightdeck.db.repositories.campaign_spaces import (
    CampaignSpaceRepository,
    SpaceFilters,
    StalePerformance,
)
from flightdeck.domain.campaign_spaces import AdPlatform
from flightdeck.storage.names import has_control_characters

router = APIRouter(prefix="/campaign-spaces", tags=["campaign spaces"])

NO_NUL = r"^[^\x00]*$"
STALE: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Newer figures are already stored"},
}


def split_tags(values: list[str] | None) -> list[str]:
    """`tags=a,b` and `tags=a&tags=b` alike; all must match (AND)."""
    tags = [tag.strip() for value in values or [] for tag in value.split(",")]
    if any(has_control_characters(tag) or len(tag) > 100 for tag in tags):
        raise invalid("tags", "each tag is at most 100 characters without control characters")
    return [tag for tag in tags if tag]


async def _check_account(session: Any, tenant: Any, account_id: Any, platform: str) -> None:
    """The connected account a space reads through is the tenant's, on the space's platform."""
    if account_id is None:
        return
    account = await AdAccountRepository(session).get(tenant, account_id)
    if account is None:
        raise invalid("adAccountId", "no such ad account")
    if account.platform != platform:
        message = f"a {account.platform} account cannot serve a {platform} space"
        raise invalid("adAccountId", message)


async def _space(session: Any, tenant_id: Any, space_id: str) -> CampaignSpace:
    row = await CampaignSpaceRepository(session).get(
        tenant_id, parse_id(space_id, "campaign space")
    )
    if row is None:
        raise not_found("campaign space")
    return row


async def _page(
    session: Any, tenant_id: Any, filters: SpaceFilters, request: PageRequest
) -> SpacePage:
    page = await CampaignSpaceRepository(session).page(
        tenant_id, filters, limit=request.limit, cursor=request.cursor
    )
    return SpacePage(
        items=[space_out(r) for r in page.rows],
        total=page.total,
        limit=request.limit,
        next_cursor=page.next_cursor,
    )


TagsQuery = Annotated[list[str] | None, Query(description="all must match; `a,b` or repeated")]
Search = Annotated[
    str | None, Query(max_length=500, pattern=NO_NUL, description="full text, ranked")
]


@router.post("", status_code=201, response_model=SpaceOut)
async def create_space(
    body: SpaceIn, tenant: TenantDep, session: SessionDep, actor: ActorDep
) -> SpaceOut:
    await _check_account(session, tenant.id, body.ad_account_id, body.platform)
    values = body.model_dump(exclude_none=True) | {"user_id": actor}
    row = await CampaignSpaceRepository(session).create(tenant.id, values)
    out = space_out(row)
    await audit(session, tenant.id, "campaign_space.created", row.id, actor, name=row.campaign_name)
    await session.commit()
    return out


@router.get("", response_model=SpacePage)
async def list_spaces(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    platform: Annotated[AdPlatform | None, Query()] = None,
    brand_id: Annotated[str | None, Query(alias="brandId", max_length=255, pattern=NO_NUL)] = None,
    tags: TagsQuery = None,
    category: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    is_active: Annotated[bool | None, Query(alias="isActive")] = None,
    is_archived: Annotated[bool | None, Query(alias="isArchived")] = None,
    is_template: Annotated[bool | None, Query(alias="isTemplate")] = None,
    search: Search = None,
) -> SpacePage:
    """Spaces newest first — best match first with `search` — with `total` matching;
    `nextCursor` fetches the next page."""
    filters = SpaceFilters(
        platform=platform,
        brand_id=brand_id,
        tags=split_tags(tags),
        category=category,
        is_active=is_active,
        is_archived=is_archived,
        is_template=is_template,
        search=search,
    )
    return await _page(session, tenant.id, filters, page)


@router.get("/templates", response_model=SpacePage)
async def list_templates(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    platform: Annotated[AdPlatform | None, Query()] = None,
    brand_id: Annotated[str | None, Query(alias="brandId", max_length=255, pattern=NO_NUL)] = None,
    tags: TagsQuery = None,
    category: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    search: Search = None,
) -> SpacePage:
    """Spaces marked as templates (same filters and pages as the list)."""
    filters = SpaceFilters(
        platform=platform,
        brand_id=brand_id,
        tags=split_tags(tags),
        category=category,
        is_template=True,
        search=search,
    )
    return await _page(session, tenant.id, filters, page)


@router.get("/{space_id}", response_model=SpaceOut)
async def get_space(space_id: str, tenant: TenantDep, session: SessionDep) -> SpaceOut:
    return space_out(await _space(session, tenant.id, space_id))


@router.put("/{space_id}", response_model=SpaceOut)
async def update_space(
    space_id: str, body: SpacePatch, tenant: TenantDep, session: SessionDep, actor: ActorDep
) -> SpaceOut:
    """Change the fields given (others keep their value; `null` clears an optional one)."""
    row = await _space(session, tenant.id, space_id)
    changes = body.model_dump(exclude_unset=True)
    for required in (
        "campaign_name",
        "platform",
        "tags",
        "is_template",
        "is_active",
        "is_archived",
    ):
        if required in changes and changes[required] is None:
            raise invalid(_camel(required), "cannot be null")
    for json_field in ("import_metadata", "template_metadata"):
        if json_field in changes and changes[json_field] is None:
            changes[json_field] = {}
    platform = changes.get("platform") or row.platform
    account = changes.get("ad_account_id", row.ad_account_id)
    if "ad_account_id" in changes or "platform" in changes:
        await _check_account(session, tenant.id, account, platform)
    updated = await CampaignSpaceRepository(session).update(tenant.id, row.id, changes)
    if updated is None:
        raise not_found("campaign space")
    out = space_out(updated)
    await audit(session, tenant.id, "campaign_space.updated", row.id, actor, fields=sorted(changes))
    await session.commit()
    return out


@router.delete("/{space_id}", status_code=204)
async def delete_space(
    space_id: str,
    tenant: TenantDep,
    session: SessionDep,
    library: LibraryDep,
    actor: ActorDep,
    hard: bool = False,
) -> Response:
    """Soft by default (hidden, assets kept); `hard=true` deletes the space and its assets,
    and the stored bytes no other asset uses. A soft-deleted space can still be hard-deleted."""
    parsed = parse_id(space_id, "campaign space")
    spaces = CampaignSpaceRepository(session)
    if not hard:
        if not await spaces.soft_delete(tenant.id, parsed):
            raise not_found("campaign space")
    else:
        blob_ids = await spaces.hard_delete(tenant.id, parsed)
        if blob_ids is None:
            raise not_found("campaign space")
        keys = await AssetBlobRepository(session).release(tenant.id, blob_ids)
        await library.remove(keys)
    await audit(session, tenant.id, "campaign_space.deleted", parsed, actor, hard=hard)
    await session.commit()
    return Response(status_code=204)


@router.post("/{space_id}/mark-as-template", response_model=SpaceOut)
async def mark_as_template(
    space_id: str,
    tenant: TenantDep,
    session: SessionDep,
    actor: ActorDep,
    body: TemplateIn | None = None,
) -> SpaceOut:
    """Make the space a template (optionally with `templateMetadata`); idempotent."""
    row = await _space(session, tenant.id, space_id)
    changes: dict[str, Any] = {"is_template": True}
    if body is not None and body.template_metadata:
        changes["template_metadata"] = body.template_metadata
    updated = await CampaignSpaceRepository(session).update(tenant.id, row.id, changes)
    if updated is None:
        raise not_found("campaign space")
    out = space_out(updated)
    await audit(session, tenant.id, "campaign_space.marked_template", row.id, actor)
    await session.commit()
    return out


@router.get("/{space_id}/stats", response_model=SpaceStatsOut)
async def space_stats(space_id: str, tenant: TenantDep, session: SessionDep) -> SpaceStatsOut:
    """Assets by type, bytes, distinct files, reuses, last import, and performance."""
    row = await _space(session, tenant.id, space_id)
    stats = await CampaignSpaceRepository(session).stats(tenant.id, row)
    return SpaceStatsOut(
        space_id=row.id,
        asset_count=stats.asset_count,
        total_asset_size_bytes=stats.total_asset_size_bytes,
        assets_by_type=stats.assets_by_type,
        deleted_assets=stats.deleted_assets,
        distinct_files=stats.distinct_files,
        total_reuses=stats.total_reuses,
        total_impressions=row.total_impressions,
        total_clicks=row.total_clicks,
        total_spend=row.total_spend,
        total_conversions=row.total_conversions,
        total_revenue=row.total_revenue,
        ctr=row.ctr,
        roas=row.roas,
        performance_as_of=row.performance_as_of,
        last_import_at=stats.last_import_at,
        last_import_status=stats.last_import_status,
    )


@router.post("/{space_id}/update-performance", response_model=SpaceOut, responses=STALE)
async def update_performance(
    space_id: str, body: PerformanceIn, tenant: TenantDep, session: SessionDep, actor: ActorDep
) -> SpaceOut:
    """Store cumulative figures pushed from elsewhere (fields left out keep their value);
    CTR = clicks / impressions, ROAS = revenue / spend. Figures older than the stored ones
    (`asOf`) are refused with 409."""
    row = await _space(session, tenant.id, space_id)
    figures = body.model_dump(exclude={"as_of", "source"}, exclude_none=True)
    try:
        updated = await CampaignSpaceRepository(session).set_performance(
            tenant.id,
            row.id,
            figures,
            source=body.source,
            as_of=body.as_of or datetime.now(UTC),
        )
    except StalePerformance as exc:
        raise ApiError(409, "stale_performance", str(exc)) from exc
    if updated is None:
        raise not_found("campaign space")
    out = space_out(updated)
    await audit(
        session,
        tenant.id,
        "campaign_space.performance_updated",
        row.id,
        actor,
        **figures_json(figures),
    )
    await session.commit()
    return out


def figures_json(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) for k, v in figures.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
