"""`/api/v1/campaign-assets…` (seed 003): upload a file or a piece of copy into a space, list a
space's assets or the whole tenant's (type, tags, full-text search, dimensions), read, edit,
delete (soft by default, `?hard=true`), record reuse — plus the stored file and thumbnail.

Uploads stream to storage (`api/multipart.py`); the type is read from the bytes, never from
the client; the same bytes are stored once per tenant (`assets/library.py`). Uploading bytes
the space already holds returns that asset (200, `duplicate: true`) unless
`skip_duplicate_check` is set, which always adds a new asset (pointing at the same bytes).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field, ValidationError, field_validator

from flightdeck.api.asset_deps import (
    UPLOAD_ERRORS,
    ActorDep,
    LibraryDep,
    audit,
    invalid,
    parse_id,
)
from flightdeck.api.campaign_space_models import (
    AssetOut,
    AssetPage,
    AssetPatch,
    JsonObject,
    Label,
    LongLabel,
    Name,
    ReuseIn,
    ReuseList,
    ReuseResult,
    ShortLabel,
    Tags,
    Text,
    asset_out,
    reuse_out,
)
from flightdeck.api.deps import SessionDep, SettingsDep, TenantDep
from flightdeck.api.errors import ApiError, not_found, validation_detail
from flightdeck.api.multipart import FormError, read_upload_form
from flightdeck.api.paging import PageDep, PageRequest
from flightdeck.api.routes.campaign_spaces import NO_NUL, split_tags
from flightdeck.assets.library import WrongFileType, check_type, file_values
from flightdeck.db.models import CampaignAsset
from flightdeck.db.repositories.campaign_assets import (
    AssetBlobRepository,
    AssetFilters,
    AssetReuseRepository,
    CampaignAssetRepository,
)
from flightdeck.db.repositories.campaign_spaces import CampaignSpaceRepository
from flightdeck.domain.campaign_sets import CamelModel
from flightdeck.domain.campaign_spaces import (
    TEXT_ASSET_TYPES,
    CampaignAssetType,
    CampaignImportSource,
    ratio,
)
from flightdeck.storage.base import BlobNotFound
from flightdeck.storage.images import ImageRefused
from flightdeck.storage.names import display_filename

router = APIRouter(prefix="/campaign-assets", tags=["campaign assets"])

# Which text field holds the content of each text asset type.
TEXT_FIELD = {
    "headline": "headline_text",
    "ad_copy": "ad_copy_text",
    "call_to_action": "cta_text",
    "description": "description",
}
# Served as themselves; anything else downloads as an opaque attachment (no stored XSS).
SAFE_TO_SERVE = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")


class UploadFields(CamelModel):
    """The multipart form's text fields (snake_case or camelCase names)."""

    asset_name: Name | None = None
    asset_type: CampaignAssetType
    brand_id: LongLabel | None = None
    title: Annotated[Label, Field(max_length=500)] | None = None
    description: Text | None = None
    ad_copy_text: Text | None = None
    headline_text: Text | None = None
    cta_text: ShortLabel | None = None
    tags: Tags = []
    external_asset_id: LongLabel | None = None
    platform_metadata: JsonObject = {}
    skip_duplicate_check: bool = False

    @field_validator("tags", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [t for t in value.split(",") if t.strip()] if isinstance(value, str) else value

    @field_validator("platform_metadata", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError("must be a JSON object") from exc
        return value


def _form_names() -> set[str]:
    names: set[str] = set()
    for name, info in UploadFields.model_fields.items():
        names |= {name, info.alias or name}
    return names


UPLOAD_FIELD_NAMES = frozenset(_form_names())


async def _asset(session: Any, tenant_id: uuid.UUID, asset_id: str) -> CampaignAsset:
    row = await CampaignAssetRepository(session).get(tenant_id, parse_id(asset_id, "asset"))
    if row is None:
        raise not_found("asset")
    return row


def _filters(
    space_id: uuid.UUID | None,
    asset_type: list[CampaignAssetType] | None,
    tags: list[str] | None,
    search: str | None,
    import_source: str | None,
    dims: tuple[int | None, int | None, int | None, int | None],
) -> AssetFilters:
    min_w, max_w, min_h, max_h = dims
    if min_w is not None and max_w is not None and min_w > max_w:
        raise invalid("maxWidth", "must be at least minWidth")
    if min_h is not None and max_h is not None and min_h > max_h:
        raise invalid("maxHeight", "must be at least minHeight")
    return AssetFilters(
        campaign_space_id=space_id,
        asset_types=list(asset_type or []),
        tags=split_tags(tags),
        search=search,
        import_source=import_source,
        min_width=min_w,
        max_width=max_w,
        min_height=min_h,
        max_height=max_h,
    )


async def _page(
    session: Any, tenant_id: uuid.UUID, filters: AssetFilters, request: PageRequest
) -> AssetPage:
    page = await CampaignAssetRepository(session).page(
        tenant_id, filters, limit=request.limit, cursor=request.cursor
    )
    return AssetPage(
        items=[asset_out(r) for r in page.rows],
        total=page.total,
        limit=request.limit,
        next_cursor=page.next_cursor,
    )


TypeQuery = Annotated[
    list[CampaignAssetType] | None, Query(alias="assetType", description="any of these")
]
TagsQuery = Annotated[list[str] | None, Query(description="all must match; `a,b` or repeated")]
SearchQuery = Annotated[str | None, Query(max_length=500, pattern=NO_NUL)]
SourceQuery = Annotated[CampaignImportSource | None, Query(alias="importSource")]
MAX_PIXELS = 1_000_000  # per side: far beyond any real image, inside Postgres' integer


# --- upload ---------------------------------------------------------------------------------


@router.post(
    "/campaign-spaces/{space_id}/assets",
    status_code=201,
    response_model=AssetOut,
    responses={**UPLOAD_ERRORS, 200: {"model": AssetOut, "description": "Duplicate"}},
)
async def upload_asset(
    space_id: str,
    request: Request,
    response: Response,
    tenant: TenantDep,
    session: SessionDep,
    library: LibraryDep,
    settings: SettingsDep,
    actor: ActorDep,
) -> AssetOut:
    """Multipart: `file` plus `asset_name`, `asset_type`, `title`, `description`, `tags`
    (comma-separated), `ad_copy_text`, `headline_text`, `cta_text`, `external_asset_id`,
    `platform_metadata` (JSON), `skip_duplicate_check`, `brand_id`. Text assets
    (`headline`, `ad_copy`, `call_to_action`, `description`) take their text field, no file."""
    space = await CampaignSpaceRepository(session).get(
        tenant.id, parse_id(space_id, "campaign space")
    )
    if space is None:
        raise not_found("campaign space")
    # No transaction stays open while a (possibly slow) client sends its file.
    await session.commit()
    try:
        form = await read_upload_form(
            request,
            library.intake,
            allowed_fields=UPLOAD_FIELD_NAMES,
            max_file_bytes=settings.asset_max_upload_bytes,
        )
    except FormError as exc:
        error = "payload_too_large" if exc.status_code == 413 else "validation_error"
        raise ApiError(
            exc.status_code, error, [{"field": exc.field, "message": exc.message}]
        ) from None
    staged = form.file
    try:
        try:
            fields = UploadFields.model_validate(form.fields)
        except ValidationError as exc:
            raise ApiError(422, "validation_error", validation_detail(list(exc.errors()))) from None
        values = _text_values(fields, staged is not None)
        values |= {"brand_id": fields.brand_id or space.brand_id, "user_id": actor}
        if staged is None:
            await _check_external_id(CampaignAssetRepository(session), tenant.id, space.id, fields)
            row = await CampaignAssetRepository(session).create(tenant.id, space.id, values)
            await audit(session, tenant.id, "campaign_asset.created", row.id, actor)
            await session.commit()
            return asset_out(row)
        try:
            facts = await library.inspect(staged)
            check_type(fields.asset_type, facts)
        except (ImageRefused, WrongFileType) as exc:
            raise invalid("file", str(exc)) from None
        blob, _ = await library.attach(session, tenant.id, staged, facts)
        assets = CampaignAssetRepository(session)
        if not fields.skip_duplicate_check:
            existing = await assets.find_live_in_space(tenant.id, space.id, blob.sha256)
            if existing is not None:
                await session.commit()
                response.status_code = 200
                return asset_out(existing, duplicate=True)
        asset_id = uuid.uuid4()
        filename = display_filename(form.filename)
        values |= {
            "id": asset_id,
            "asset_name": fields.asset_name or filename or f"{fields.asset_type}-{blob.sha256[:8]}",
            "original_filename": filename,
        } | file_values(asset_id, blob)
        await _check_external_id(assets, tenant.id, space.id, fields)
        row = await assets.create(tenant.id, space.id, values)
        await audit(session, tenant.id, "campaign_asset.created", row.id, actor, sha256=blob.sha256)
        await session.commit()
        return asset_out(row)
    finally:
        if staged is not None:
            staged.discard()


async def _check_external_id(
    assets: CampaignAssetRepository, tenant_id: uuid.UUID, space_id: uuid.UUID, fields: Any
) -> None:
    """A platform object appears once per space and type (what makes imports idempotent)."""
    if fields.external_asset_id and await assets.find_external(
        tenant_id, space_id, fields.asset_type, fields.external_asset_id
    ):
        raise ApiError(
            409,
            "conflict",
            [{"field": "externalAssetId", "message": "already in this space for this type"}],
        )


def _text_values(fields: UploadFields, has_file: bool) -> dict[str, Any]:
    """The row's values from the form; checks a text asset has its text and no file, and a
    file asset its file."""
    values = fields.model_dump(exclude={"skip_duplicate_check", "brand_id"}, exclude_none=True)
    text_field = TEXT_FIELD.get(fields.asset_type)
    if fields.asset_type in TEXT_ASSET_TYPES:
        if has_file:
            raise invalid(
                "file", f"a {fields.asset_type} asset is text: send {text_field}, no file"
            )
        if not getattr(fields, text_field or ""):
            raise invalid(text_field or "", f"required for a {fields.asset_type} asset")
        if fields.asset_name is None:
            text = str(getattr(fields, text_field or ""))
            values["asset_name"] = text[:80]
    elif not has_file:
        raise invalid("file", f"required for a {fields.asset_type} asset")
    return values


# --- lists ----------------------------------------------------------------------------------


@router.get("/campaign-spaces/{space_id}/assets", response_model=AssetPage)
async def list_space_assets(
    space_id: str,
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    asset_type: TypeQuery = None,
    tags: TagsQuery = None,
    search: SearchQuery = None,
    import_source: SourceQuery = None,
    min_width: Annotated[int | None, Query(alias="minWidth", ge=0, le=MAX_PIXELS)] = None,
    max_width: Annotated[int | None, Query(alias="maxWidth", ge=0, le=MAX_PIXELS)] = None,
    min_height: Annotated[int | None, Query(alias="minHeight", ge=0, le=MAX_PIXELS)] = None,
    max_height: Annotated[int | None, Query(alias="maxHeight", ge=0, le=MAX_PIXELS)] = None,
) -> AssetPage:
    """The space's live assets, newest first (best match first with `search`)."""
    space = await CampaignSpaceRepository(session).get(
        tenant.id, parse_id(space_id, "campaign space")
    )
    if space is None:
        raise not_found("campaign space")
    dims = (min_width, max_width, min_height, max_height)
    filters = _filters(space.id, asset_type, tags, search, import_source, dims)
    return await _page(session, tenant.id, filters, page)


@router.get("/assets", response_model=AssetPage)
async def list_assets(
    tenant: TenantDep,
    session: SessionDep,
    page: PageDep,
    asset_type: TypeQuery = None,
    tags: TagsQuery = None,
    search: SearchQuery = None,
    import_source: SourceQuery = None,
    min_width: Annotated[int | None, Query(alias="minWidth", ge=0, le=MAX_PIXELS)] = None,
    max_width: Annotated[int | None, Query(alias="maxWidth", ge=0, le=MAX_PIXELS)] = None,
    min_height: Annotated[int | None, Query(alias="minHeight", ge=0, le=MAX_PIXELS)] = None,
    max_height: Annotated[int | None, Query(alias="maxHeight", ge=0, le=MAX_PIXELS)] = None,
) -> AssetPage:
    """Every live asset of the tenant's live spaces, with the same filters."""
    dims = (min_width, max_width, min_height, max_height)
    filters = _filters(None, asset_type, tags, search, import_source, dims)
    return await _page(session, tenant.id, filters, page)


# --- one asset ------------------------------------------------------------------------------


@router.get("/{asset_id}", response_model=AssetOut)
async def get_asset(asset_id: str, tenant: TenantDep, session: SessionDep) -> AssetOut:
    return asset_out(await _asset(session, tenant.id, asset_id))


@router.put("/{asset_id}", response_model=AssetOut)
async def update_asset(
    asset_id: str, body: AssetPatch, tenant: TenantDep, session: SessionDep, actor: ActorDep
) -> AssetOut:
    """Change the fields given; CTR follows clicks / impressions."""
    row = await _asset(session, tenant.id, asset_id)
    changes = body.model_dump(exclude_unset=True)
    for required in ("asset_name", "tags", "impressions", "clicks", "conversions", "spend"):
        if required in changes and changes[required] is None:
            raise invalid(_camel(required), "cannot be null")
    for json_field in ("platform_metadata", "platform_variants"):
        if json_field in changes and changes[json_field] is None:
            changes[json_field] = {}
    if "impressions" in changes or "clicks" in changes:
        clicks = changes.get("clicks", row.clicks)
        changes["ctr"] = ratio(clicks, changes.get("impressions", row.impressions))
    updated = await CampaignAssetRepository(session).update(tenant.id, row.id, changes)
    if updated is None:
        raise not_found("asset")
    out = asset_out(updated)
    await audit(session, tenant.id, "campaign_asset.updated", row.id, actor, fields=sorted(changes))
    await session.commit()
    return out


@router.delete("/{asset_id}", status_code=204)
async def delete_asset(
    asset_id: str,
    tenant: TenantDep,
    session: SessionDep,
    library: LibraryDep,
    actor: ActorDep,
    hard: bool = False,
) -> Response:
    """Soft by default (hidden; counters drop; bytes kept). `hard=true` deletes the row — a
    soft-deleted one too — and the stored bytes if no other asset uses them."""
    parsed = parse_id(asset_id, "asset")
    assets = CampaignAssetRepository(session)
    if not hard:
        if not await assets.soft_delete(tenant.id, parsed):
            raise not_found("asset")
    else:
        if await assets.get(tenant.id, parsed, include_deleted=True) is None:
            raise not_found("asset")
        deleted, blob_id = await assets.hard_delete(tenant.id, parsed)
        if not deleted:
            raise not_found("asset")
        if blob_id is not None:
            keys = await AssetBlobRepository(session).release(tenant.id, [blob_id])
            await library.remove(keys)
    await audit(session, tenant.id, "campaign_asset.deleted", parsed, actor, hard=hard)
    await session.commit()
    return Response(status_code=204)


@router.post("/{asset_id}/reuse", response_model=ReuseResult)
async def track_reuse(
    asset_id: str, body: ReuseIn, tenant: TenantDep, session: SessionDep, actor: ActorDep
) -> ReuseResult:
    """Record that the asset is used in `(reusedInType, reusedInId)` — once per place: the
    same place again answers `recorded: false` and counts nothing."""
    row = await _asset(session, tenant.id, asset_id)
    reuse, created = await AssetReuseRepository(session).record(
        tenant.id,
        row.id,
        reused_in_type=body.reused_in_type,
        reused_in_id=body.reused_in_id,
        reused_in_name=body.reused_in_name,
        platform=body.platform,
        context=body.reuse_context,
        user_id=actor,
        actor="api",
    )
    fresh = await _asset(session, tenant.id, str(row.id))
    await session.refresh(fresh)
    result = ReuseResult(recorded=created, reuse=reuse_out(reuse), asset=asset_out(fresh))
    if created:
        await audit(
            session,
            tenant.id,
            "campaign_asset.reused",
            row.id,
            actor,
            reused_in_type=body.reused_in_type,
            reused_in_id=body.reused_in_id,
        )
    await session.commit()
    return result


@router.get("/{asset_id}/reuses", response_model=ReuseList)
async def list_reuses(
    asset_id: str, tenant: TenantDep, session: SessionDep, page: PageDep
) -> ReuseList:
    """Where the asset has been used: who, where, when, in what context (newest first)."""
    row = await _asset(session, tenant.id, asset_id)
    rows = await AssetReuseRepository(session).list_for_asset(
        tenant.id, row.id, limit=page.limit, cursor=page.cursor
    )
    return ReuseList(items=[reuse_out(r) for r in rows.items], next_cursor=rows.next_cursor)


@router.get("/{asset_id}/file", response_class=StreamingResponse)
async def download_file(
    asset_id: str, tenant: TenantDep, session: SessionDep, library: LibraryDep
) -> StreamingResponse:
    """The stored file (as an attachment)."""
    row = await _asset(session, tenant.id, asset_id)
    if row.storage_path is None:
        raise not_found("file")
    mime = row.mime_type if row.mime_type in SAFE_TO_SERVE else "application/octet-stream"
    name = (row.original_filename or f"{row.id}").replace('"', "")
    return await _stream(library, row.storage_path, mime, f'attachment; filename="{name}"')


@router.get("/{asset_id}/thumbnail", response_class=StreamingResponse)
async def download_thumbnail(
    asset_id: str, tenant: TenantDep, session: SessionDep, library: LibraryDep
) -> StreamingResponse:
    row = await _asset(session, tenant.id, asset_id)
    blob = (
        await AssetBlobRepository(session).get_by_hash(tenant.id, row.file_hash)
        if row.file_hash
        else None
    )
    if blob is None or blob.thumbnail_key is None:
        raise not_found("thumbnail")
    return await _stream(library, blob.thumbnail_key, "image/jpeg", "inline")


async def _stream(library: Any, key: str, mime: str, disposition: str) -> StreamingResponse:
    chunks = library.store.open(key)
    try:
        first = await anext(chunks)
    except (BlobNotFound, StopAsyncIteration):
        raise not_found("file") from None

    async def body() -> AsyncIterator[bytes]:
        yield first
        async for chunk in chunks:
            yield chunk

    headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, max-age=3600",
    }
    return StreamingResponse(body(), media_type=mime, headers=headers)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
