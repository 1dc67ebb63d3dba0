"""`/api/v1/campaign-sets` and the entities inside a set (seed 002): create a set with its
whole tree, read it, and edit each level — campaigns, ad groups, ads, keywords — on its own.

Every edit marks what changed `syncStatus: pending`; pushing it to the platform is the sync
endpoints' job. Deleting something that exists on the platform answers 202: it is hidden now
and removed from the platform by the next sync. Another tenant's ids answer 404.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.api.campaign_set_models import (
    AdGroupContent,
    AdGroupIn,
    AdGroupList,
    AdGroupOut,
    AdGroupPatch,
    AdIn,
    AdList,
    AdOut,
    AdPatch,
    CampaignContent,
    CampaignIn,
    CampaignList,
    CampaignOut,
    CampaignPatch,
    CampaignSetIn,
    CampaignSetOut,
    CampaignSetPage,
    CampaignSetPatch,
    KeywordIn,
    KeywordList,
    KeywordOut,
    KeywordPatch,
    TargetIn,
    ad_group_out,
    ad_out,
    campaign_out,
    campaign_set_out,
    campaign_set_summary,
    keyword_out,
    merge_patch,
    to_spec,
)
from flightdeck.api.deps import SessionDep, TenantDep
from flightdeck.api.errors import ApiError, ErrorBody, not_found
from flightdeck.api.paging import PageDep
from flightdeck.db.models import CampaignSet
from flightdeck.db.repositories.ad_accounts import AdAccountRepository
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_set_targets import CampaignSetTargetRepository
from flightdeck.db.repositories.campaign_sets import (
    CampaignSetRepository,
    Deleted,
    DuplicateNameError,
    LiveOnPlatformError,
    NewAdGroup,
    NewCampaign,
    to_ad_group_spec,
    to_ad_spec,
    to_campaign_spec,
    to_keyword_spec,
)
from flightdeck.domain.campaign_sets import (
    AdGroupSpec,
    AdSpec,
    CamelModel,
    CampaignSetStatus,
    CampaignSpec,
    KeywordSpec,
)

router = APIRouter(tags=["campaign sets"])

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Name taken under the same parent, or the change "
          "would orphan objects that exist on the platform"},
}  # fmt: skip
T = TypeVar("T")


class DeletionAccepted(CamelModel):
    """A soft delete: gone from reads now, removed from the platform at the next sync."""

    id: uuid.UUID
    sync_status: Literal["pending"] = "pending"


DELETED: dict[int | str, dict[str, Any]] = {
    202: {"model": DeletionAccepted, "description": "Hidden now; deleted on the platform at "
          "the next sync"},
    204: {"description": "Deleted (it never reached the platform)"},
}  # fmt: skip


def _found(value: T | None, what: str) -> T:
    if value is None:
        raise not_found(what)
    return value


def _uuid(value: str, what: str) -> uuid.UUID:
    """Path ids: anything that is not a UUID is simply not found."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found(what) from None


@contextlib.contextmanager
def _conflicts() -> Iterator[None]:
    try:
        yield
    except (DuplicateNameError, LiveOnPlatformError) as exc:
        raise ApiError(409, "conflict", str(exc)) from exc


async def _done(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    action: str,
    entity_id: uuid.UUID,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit the change and commit it."""
    await AuditLogRepository(session).add(
        tenant_id=tenant_id,
        action=action,
        entity_type=action.split(".")[0],
        entity_id=str(entity_id),
        details=details,
    )
    await session.commit()


async def _deleted(
    session: AsyncSession, tenant_id: uuid.UUID, what: str, entity_id: uuid.UUID, result: Deleted
) -> Response:
    await _done(session, tenant_id, f"{what}.deleted", entity_id, {"result": result})
    if result == "soft_deleted":
        body = DeletionAccepted(id=entity_id).model_dump_json(by_alias=True)
        return Response(body, status_code=202, media_type="application/json")
    return Response(status_code=204)


async def _check_account(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    account_id: uuid.UUID | None,
    platform: str,
    field: str = "adAccountId",
) -> None:
    """The account must be this tenant's, on this platform (422 naming the field)."""
    if account_id is None:
        return
    account = await AdAccountRepository(session).get(tenant_id, account_id)
    if account is None or account.platform != platform:
        detail = [{"field": field, "message": f"no such {platform} ad account"}]
        raise ApiError(422, "validation_error", detail)


async def _check_targets(session: AsyncSession, tenant_id: uuid.UUID, body: CampaignSetIn) -> None:
    """Every target: one ad account per platform, the tenant's own, of that platform; with
    `targets`, the older `platform`/`adAccountId` (if sent) must name the first."""
    if body.targets is None:
        await _check_account(session, tenant_id, body.ad_account_id, body.platform)
        return
    first = body.targets[0]
    if (body.platform, body.ad_account_id) != (first.platform, first.ad_account_id):
        detail = [{"field": "targets.0", "message": "differs from platform/adAccountId"}]
        raise ApiError(422, "validation_error", detail)
    await _check_each_target(session, tenant_id, body.targets)


async def _check_each_target(
    session: AsyncSession, tenant_id: uuid.UUID, targets: list[TargetIn]
) -> None:
    """Each target is one of the tenant's accounts of its platform, one per platform (a 422
    naming `targets.N.platform` or `targets.N.adAccountId`)."""
    seen: set[str] = set()
    for i, target in enumerate(targets):
        if target.platform in seen:
            message = f"at most one {target.platform} ad account per set"
            raise ApiError(422, "validation_error", [{"field": f"targets.{i}.platform",
                                                      "message": message}])  # fmt: skip
        seen.add(target.platform)
        field = f"targets.{i}.adAccountId"
        await _check_account(session, tenant_id, target.ad_account_id, target.platform, field)


def _new_ad_group(body: AdGroupIn) -> NewAdGroup:
    return NewAdGroup(to_spec(body, AdGroupSpec), [to_spec(ad, AdSpec) for ad in body.ads])


def _new_campaign(body: CampaignIn) -> NewCampaign:
    groups = [_new_ad_group(group) for group in body.ad_groups]
    return NewCampaign(to_spec(body, CampaignSpec), groups)


# --- campaign sets ------------------------------------------------------------------------


async def _replace_targets(
    session: AsyncSession, tenant_id: uuid.UUID, row: CampaignSet, targets: list[TargetIn]
) -> None:
    """`PATCH targets`: each checked as on create; the first keeps the set's platform; one
    with campaigns on its platform stays where it is (409)."""
    if targets[0].platform != row.platform:
        detail = [{"field": "targets.0.platform", "message": f"the first target is {row.platform}"
                   " (the set's platform): it cannot change"}]  # fmt: skip
        raise ApiError(422, "validation_error", detail)
    await _check_each_target(session, tenant_id, targets)
    refused = await CampaignSetTargetRepository(session).replace(
        tenant_id, row, [(t.platform, t.ad_account_id) for t in targets]
    )
    if refused:
        raise ApiError(
            409,
            "conflict",
            f"the set has campaigns on {', '.join(refused)}: delete them and sync before "
            "removing or moving that target",
        )


@router.post("/campaign-sets", status_code=201, response_model=CampaignSetOut, responses=CONFLICT)
async def create_campaign_set(
    body: CampaignSetIn, tenant: TenantDep, session: SessionDep
) -> CampaignSetOut:
    """Create a set with its campaigns, ad groups, ads and keywords, all `draft` and
    `syncStatus: pending`; returns the tree with every id."""
    await _check_targets(session, tenant.id, body)
    with _conflicts():
        row = await CampaignSetRepository(session).create(
            tenant.id,
            name=body.name,
            description=body.description,
            targets=body.target_list(),
            campaigns=[_new_campaign(campaign) for campaign in body.campaigns],
        )
    progress = await CampaignSetTargetRepository(session).campaign_counts(tenant.id, row.id)
    out = campaign_set_out(row, progress)
    await _done(session, tenant.id, "campaign_set.created", row.id, {"name": row.name})
    return out


@router.get("/campaign-sets", response_model=CampaignSetPage)
async def list_campaign_sets(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[CampaignSetStatus | None, Query()] = None,
) -> CampaignSetPage:
    """Sets newest first (without their trees), by status; `nextCursor` fetches the next page."""
    rows = await CampaignSetRepository(session).list(
        tenant.id, status=status, limit=page.limit, cursor=page.cursor
    )
    items = [campaign_set_summary(r) for r in rows.items]
    return CampaignSetPage(items=items, next_cursor=rows.next_cursor)


@router.get("/campaign-sets/{set_id}", response_model=CampaignSetOut)
async def get_campaign_set(
    set_id: str,
    tenant: TenantDep,
    session: SessionDep,
    include_deleted: Annotated[bool, Query(alias="includeDeleted")] = False,
) -> CampaignSetOut:
    """The set's whole tree; `includeDeleted=true` adds what awaits deletion on the platform."""
    tree = _found(
        await CampaignSetRepository(session).get_tree(
            tenant.id, _uuid(set_id, "campaign set"), include_deleted
        ),
        "campaign set",
    )
    progress = await CampaignSetTargetRepository(session).campaign_counts(tenant.id, tree.id)
    return campaign_set_out(tree, progress)


@router.patch("/campaign-sets/{set_id}", response_model=CampaignSetOut, responses=CONFLICT)
async def update_campaign_set(
    set_id: str, body: CampaignSetPatch, tenant: TenantDep, session: SessionDep
) -> CampaignSetOut:
    """Rename, describe, or point the set at another ad account (only while nothing of it
    exists on the platform)."""
    sets = CampaignSetRepository(session)
    row = _found(await sets.get(tenant.id, _uuid(set_id, "campaign set")), "campaign set")
    changes = body.model_dump(exclude_unset=True, exclude={"targets"})
    await _check_account(session, tenant.id, changes.get("ad_account_id"), row.platform)
    with _conflicts():
        await sets.update(tenant.id, row.id, changes)
    if body.targets is not None:
        await _replace_targets(session, tenant.id, row, body.targets)
        changes["targets"] = None
    tree = _found(await sets.get_tree(tenant.id, row.id), "campaign set")
    progress = await CampaignSetTargetRepository(session).campaign_counts(tenant.id, row.id)
    out = campaign_set_out(tree, progress)
    await _done(session, tenant.id, "campaign_set.updated", row.id, {"fields": sorted(changes)})
    return out


@router.delete("/campaign-sets/{set_id}", status_code=204, responses=CONFLICT)
async def delete_campaign_set(set_id: str, tenant: TenantDep, session: SessionDep) -> Response:
    """Delete a set and everything in it; refused (409) while any of it exists on the
    platform — delete its campaigns and sync first."""
    parsed = _uuid(set_id, "campaign set")
    with _conflicts():
        deleted = await CampaignSetRepository(session).delete(tenant.id, parsed)
    if not deleted:
        raise not_found("campaign set")
    return await _deleted(session, tenant.id, "campaign_set", parsed, "deleted")


# --- campaigns ----------------------------------------------------------------------------


@router.post(
    "/campaign-sets/{set_id}/campaigns",
    status_code=201,
    response_model=CampaignOut,
    responses=CONFLICT,
)
async def create_campaign(
    set_id: str, body: CampaignIn, tenant: TenantDep, session: SessionDep
) -> CampaignOut:
    """Add a campaign (with its ad groups, ads and keywords) at the end of the set."""
    with _conflicts():
        row = await CampaignSetRepository(session).create_campaign(
            tenant.id, _uuid(set_id, "campaign set"), _new_campaign(body)
        )
    out = campaign_out(_found(row, "campaign set"))
    await _done(session, tenant.id, "campaign.created", out.id, {"name": out.name})
    return out


@router.get("/campaign-sets/{set_id}/campaigns", response_model=CampaignList)
async def list_campaigns(
    set_id: str, tenant: TenantDep, session: SessionDep, page: PageDep
) -> CampaignList:
    rows = await CampaignSetRepository(session).list_campaigns(
        tenant.id, _uuid(set_id, "campaign set"), limit=page.limit, cursor=page.cursor
    )
    found = _found(rows, "campaign set")
    return CampaignList(items=[campaign_out(r) for r in found.items], next_cursor=found.next_cursor)


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: str, tenant: TenantDep, session: SessionDep) -> CampaignOut:
    row = await CampaignSetRepository(session).get_campaign(
        tenant.id, _uuid(campaign_id, "campaign")
    )
    return campaign_out(_found(row, "campaign"))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut, responses=CONFLICT)
async def update_campaign(
    campaign_id: str, body: CampaignPatch, tenant: TenantDep, session: SessionDep
) -> CampaignOut:
    """Change the given fields; the campaign becomes `syncStatus: pending` if anything did."""
    sets = CampaignSetRepository(session)
    row = _found(await sets.get_campaign(tenant.id, _uuid(campaign_id, "campaign")), "campaign")
    changes = merge_patch(to_campaign_spec(row), body, CampaignContent)
    with _conflicts():
        updated = _found(await sets.update_campaign(tenant.id, row.id, changes), "campaign")
    out = campaign_out(updated)
    await _done(session, tenant.id, "campaign.updated", row.id, {"fields": sorted(changes)})
    return out


@router.delete("/campaigns/{campaign_id}", status_code=204, responses=DELETED)
async def delete_campaign(campaign_id: str, tenant: TenantDep, session: SessionDep) -> Response:
    parsed = _uuid(campaign_id, "campaign")
    result = await CampaignSetRepository(session).delete_campaign(tenant.id, parsed)
    return await _deleted(session, tenant.id, "campaign", parsed, _found(result, "campaign"))


# --- ad groups ----------------------------------------------------------------------------


@router.post(
    "/campaigns/{campaign_id}/ad-groups",
    status_code=201,
    response_model=AdGroupOut,
    responses=CONFLICT,
)
async def create_ad_group(
    campaign_id: str, body: AdGroupIn, tenant: TenantDep, session: SessionDep
) -> AdGroupOut:
    """Add an ad group (with its ads and keywords) at the end of the campaign."""
    with _conflicts():
        row = await CampaignSetRepository(session).create_ad_group(
            tenant.id, _uuid(campaign_id, "campaign"), _new_ad_group(body)
        )
    out = ad_group_out(_found(row, "campaign"))
    await _done(session, tenant.id, "ad_group.created", out.id, {"name": out.name})
    return out


@router.get("/campaigns/{campaign_id}/ad-groups", response_model=AdGroupList)
async def list_ad_groups(
    campaign_id: str, tenant: TenantDep, session: SessionDep, page: PageDep
) -> AdGroupList:
    rows = await CampaignSetRepository(session).list_ad_groups(
        tenant.id, _uuid(campaign_id, "campaign"), limit=page.limit, cursor=page.cursor
    )
    found = _found(rows, "campaign")
    return AdGroupList(items=[ad_group_out(r) for r in found.items], next_cursor=found.next_cursor)


@router.get("/ad-groups/{ad_group_id}", response_model=AdGroupOut)
async def get_ad_group(ad_group_id: str, tenant: TenantDep, session: SessionDep) -> AdGroupOut:
    row = await CampaignSetRepository(session).get_ad_group(
        tenant.id, _uuid(ad_group_id, "ad group")
    )
    return ad_group_out(_found(row, "ad group"))


@router.patch("/ad-groups/{ad_group_id}", response_model=AdGroupOut, responses=CONFLICT)
async def update_ad_group(
    ad_group_id: str, body: AdGroupPatch, tenant: TenantDep, session: SessionDep
) -> AdGroupOut:
    """Change the given fields (keywords have their own endpoints)."""
    sets = CampaignSetRepository(session)
    row = _found(await sets.get_ad_group(tenant.id, _uuid(ad_group_id, "ad group")), "ad group")
    changes = merge_patch(to_ad_group_spec(row), body, AdGroupContent)
    with _conflicts():
        updated = _found(await sets.update_ad_group(tenant.id, row.id, changes), "ad group")
    out = ad_group_out(updated)
    await _done(session, tenant.id, "ad_group.updated", row.id, {"fields": sorted(changes)})
    return out


@router.delete("/ad-groups/{ad_group_id}", status_code=204, responses=DELETED)
async def delete_ad_group(ad_group_id: str, tenant: TenantDep, session: SessionDep) -> Response:
    parsed = _uuid(ad_group_id, "ad group")
    result = await CampaignSetRepository(session).delete_ad_group(tenant.id, parsed)
    return await _deleted(session, tenant.id, "ad_group", parsed, _found(result, "ad group"))


# --- ads ----------------------------------------------------------------------------------


@router.post(
    "/ad-groups/{ad_group_id}/ads", status_code=201, response_model=AdOut, responses=CONFLICT
)
async def create_ad(ad_group_id: str, body: AdIn, tenant: TenantDep, session: SessionDep) -> AdOut:
    with _conflicts():
        row = await CampaignSetRepository(session).create_ad(
            tenant.id, _uuid(ad_group_id, "ad group"), to_spec(body, AdSpec)
        )
    out = ad_out(_found(row, "ad group"))
    await _done(session, tenant.id, "ad.created", out.id, {"name": out.name})
    return out


@router.get("/ad-groups/{ad_group_id}/ads", response_model=AdList)
async def list_ads(
    ad_group_id: str, tenant: TenantDep, session: SessionDep, page: PageDep
) -> AdList:
    rows = await CampaignSetRepository(session).list_ads(
        tenant.id, _uuid(ad_group_id, "ad group"), limit=page.limit, cursor=page.cursor
    )
    found = _found(rows, "ad group")
    return AdList(items=[ad_out(r) for r in found.items], next_cursor=found.next_cursor)


@router.get("/ads/{ad_id}", response_model=AdOut)
async def get_ad(ad_id: str, tenant: TenantDep, session: SessionDep) -> AdOut:
    row = await CampaignSetRepository(session).get_ad(tenant.id, _uuid(ad_id, "ad"))
    return ad_out(_found(row, "ad"))


@router.patch("/ads/{ad_id}", response_model=AdOut, responses=CONFLICT)
async def update_ad(ad_id: str, body: AdPatch, tenant: TenantDep, session: SessionDep) -> AdOut:
    sets = CampaignSetRepository(session)
    row = _found(await sets.get_ad(tenant.id, _uuid(ad_id, "ad")), "ad")
    changes = merge_patch(to_ad_spec(row), body, AdIn)
    with _conflicts():
        updated = _found(await sets.update_ad(tenant.id, row.id, changes), "ad")
    out = ad_out(updated)
    await _done(session, tenant.id, "ad.updated", row.id, {"fields": sorted(changes)})
    return out


@router.delete("/ads/{ad_id}", status_code=204, responses=DELETED)
async def delete_ad(ad_id: str, tenant: TenantDep, session: SessionDep) -> Response:
    parsed = _uuid(ad_id, "ad")
    result = await CampaignSetRepository(session).delete_ad(tenant.id, parsed)
    return await _deleted(session, tenant.id, "ad", parsed, _found(result, "ad"))


# --- keywords -----------------------------------------------------------------------------


@router.post(
    "/ad-groups/{ad_group_id}/keywords",
    status_code=201,
    response_model=KeywordOut,
    responses=CONFLICT,
)
async def create_keyword(
    ad_group_id: str, body: KeywordIn, tenant: TenantDep, session: SessionDep
) -> KeywordOut:
    """Add a keyword; its ad group becomes `syncStatus: pending` (keywords are sent to the
    platform as the ad group's targeting)."""
    with _conflicts():
        row = await CampaignSetRepository(session).create_keyword(
            tenant.id, _uuid(ad_group_id, "ad group"), to_spec(body, KeywordSpec)
        )
    out = keyword_out(_found(row, "ad group"))
    await _done(session, tenant.id, "keyword.created", out.id, {"text": out.text})
    return out


@router.get("/ad-groups/{ad_group_id}/keywords", response_model=KeywordList)
async def list_keywords(
    ad_group_id: str, tenant: TenantDep, session: SessionDep, page: PageDep
) -> KeywordList:
    rows = await CampaignSetRepository(session).list_keywords(
        tenant.id, _uuid(ad_group_id, "ad group"), limit=page.limit, cursor=page.cursor
    )
    found = _found(rows, "ad group")
    return KeywordList(items=[keyword_out(r) for r in found.items], next_cursor=found.next_cursor)


@router.get("/keywords/{keyword_id}", response_model=KeywordOut)
async def get_keyword(keyword_id: str, tenant: TenantDep, session: SessionDep) -> KeywordOut:
    row = await CampaignSetRepository(session).get_keyword(tenant.id, _uuid(keyword_id, "keyword"))
    return keyword_out(_found(row, "keyword"))


@router.patch("/keywords/{keyword_id}", response_model=KeywordOut, responses=CONFLICT)
async def update_keyword(
    keyword_id: str, body: KeywordPatch, tenant: TenantDep, session: SessionDep
) -> KeywordOut:
    sets = CampaignSetRepository(session)
    row = _found(await sets.get_keyword(tenant.id, _uuid(keyword_id, "keyword")), "keyword")
    changes = merge_patch(to_keyword_spec(row), body, KeywordIn)
    with _conflicts():
        updated = _found(await sets.update_keyword(tenant.id, row.id, changes), "keyword")
    out = keyword_out(updated)
    await _done(session, tenant.id, "keyword.updated", row.id, {"fields": sorted(changes)})
    return out


@router.delete("/keywords/{keyword_id}", status_code=204, responses=DELETED)
async def delete_keyword(keyword_id: str, tenant: TenantDep, session: SessionDep) -> Response:
    parsed = _uuid(keyword_id, "keyword")
    result = await CampaignSetRepository(session).delete_keyword(tenant.id, parsed)
    return await _deleted(session, tenant.id, "keyword", parsed, _found(result, "keyword"))
