"""Dependencies and helpers shared by the campaign-space, asset and import routes: the asset
library (storage backend from settings, built once per app), who is calling, id parsing, and
the audit entry that goes with every change."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.api.deps import PrincipalDep, SettingsDep
from flightdeck.api.errors import ApiError, ErrorBody, not_found
from flightdeck.assets.library import AssetLibrary, Limits
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.storage import create_blob_store

UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed multipart body"},
    413: {"model": ErrorBody, "description": "The file is larger than the limit"},
    415: {"model": ErrorBody, "description": "Not multipart/form-data"},
}


async def get_library(request: Request, settings: SettingsDep) -> AssetLibrary:
    library: AssetLibrary | None = getattr(request.app.state, "asset_library", None)
    if library is None:  # once per process: building the store may touch the disk
        store = await asyncio.to_thread(create_blob_store, settings)
        library = AssetLibrary(store, Limits.from_settings(settings))
        request.app.state.asset_library = library
    return library


async def get_actor(principal: PrincipalDep) -> str:
    """Who is calling, as recorded on what they create: their user id."""
    return str(principal.user_id)


LibraryDep = Annotated[AssetLibrary, Depends(get_library)]
ActorDep = Annotated[str, Depends(get_actor)]


def parse_id(value: str, what: str) -> uuid.UUID:
    """Path ids: anything that is not a UUID is simply not found."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found(what) from None


def invalid(field: str, message: str, status_code: int = 422) -> ApiError:
    return ApiError(status_code, "validation_error", [{"field": field, "message": message}])


async def audit(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    action: str,
    entity_id: uuid.UUID,
    actor: str | None,
    **details: Any,
) -> None:
    """An audit entry in the request's transaction (the user comes from the session)."""
    del actor  # the API session already acts as the caller (`act_as`)
    await AuditLogRepository(session).add(
        tenant_id=tenant_id,
        action=action,
        entity_type=action.split(".")[0],
        entity_id=str(entity_id),
        details=details or None,
    )
