"""Files into the library and out of it, deduplicated per tenant.

    facts = await library.inspect(staged)                 # type from the bytes, image facts
    blob, fresh = await library.attach(session, tenant, staged, facts)   # bytes stored once
    ...create the asset row in the same transaction...
    keys = await AssetBlobRepository(session).release(tenant, [blob_id])  # rows locked
    await library.remove(keys); commit                    # bytes nobody uses, then commit

`attach` locks the tenant's blob row for these bytes (creating it if new) and makes sure the
bytes are in storage under their content-addressed key — re-storing them if a crash ever left
a row without bytes — so the same bytes are stored once however many assets use them.
Bytes are removed while the released blob rows are still locked, before the commit: an upload
of the same bytes waits for that commit, finds no row, and stores them again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import AssetBlob
from flightdeck.db.repositories.campaign_assets import AssetBlobRepository, NewBlob
from flightdeck.domain.campaign_spaces import FILE_FAMILIES
from flightdeck.settings import Settings
from flightdeck.storage.base import BlobStore, StorageError, blob_key, thumbnail_key
from flightdeck.storage.intake import FileFacts, Intake, StagedFile, inspect_staged

logger = logging.getLogger(__name__)

THUMBNAIL_TYPE = "image/jpeg"


class WrongFileType(ValueError):
    """The bytes are not what the asset type needs (e.g. an `image` that is a PDF)."""


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int
    max_image_pixels: int
    thumbnail_size: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            settings.asset_max_upload_bytes,
            settings.asset_max_image_pixels,
            settings.asset_thumbnail_size,
        )


def asset_type_for(family: str) -> str:
    """The asset type a file of this family becomes when nobody said (zip imports)."""
    kinds = {"image": "image", "video": "video", "document": "document", "text": "document"}
    return kinds.get(family, "other")


def check_type(asset_type: str, facts: FileFacts) -> None:
    families = FILE_FAMILIES.get(asset_type)
    if families is None:
        raise WrongFileType(f"a {asset_type} asset is text and takes no file")
    if facts.sniffed.family not in families:
        raise WrongFileType(
            f"the file is {facts.sniffed.mime_type} (read from its contents), "
            f"not a valid {asset_type} file"
        )


def file_values(asset_id: uuid.UUID, blob: AssetBlob) -> dict[str, object]:
    """An asset's file columns, from its blob (URLs are the API's own, tenant-checked)."""
    base = f"/api/v1/campaign-assets/{asset_id}"
    return {
        "blob_id": blob.id,
        "storage_path": blob.storage_key,
        "file_hash": blob.sha256,
        "file_size": blob.size_bytes,
        "mime_type": blob.mime_type,
        "width": blob.width,
        "height": blob.height,
        "file_url": f"{base}/file",
        "thumbnail_url": f"{base}/thumbnail" if blob.thumbnail_key else None,
    }


class AssetLibrary:
    def __init__(self, store: BlobStore, limits: Limits) -> None:
        self.store = store
        self.limits = limits

    def intake(self, max_bytes: int | None = None) -> Intake:
        return Intake(self.store.staging_dir, max_bytes=max_bytes or self.limits.max_upload_bytes)

    async def inspect(self, staged: StagedFile) -> FileFacts:
        return await inspect_staged(
            staged,
            max_pixels=self.limits.max_image_pixels,
            thumb_size=self.limits.thumbnail_size,
        )

    async def attach(
        self, session: AsyncSession, tenant_id: uuid.UUID, staged: StagedFile, facts: FileFacts
    ) -> tuple[AssetBlob, bool]:
        """The tenant's blob for these bytes, locked, with the bytes in storage; → (blob,
        True) when this call stored them. Consumes the staged file either way."""
        key = blob_key(tenant_id, staged.sha256)
        image = facts.image
        thumb = thumbnail_key(tenant_id, staged.sha256) if image else None
        new = NewBlob(
            sha256=staged.sha256,
            size_bytes=staged.size,
            mime_type=facts.sniffed.mime_type,
            storage_key=key,
            thumbnail_key=thumb,
            width=image.width if image else None,
            height=image.height if image else None,
        )
        try:
            blob, _ = await AssetBlobRepository(session).lock_or_create(tenant_id, new)
            stored = False
            if not await self.store.exists(blob.storage_key):
                await self.store.put_file(blob.storage_key, staged.path, blob.mime_type)
                stored = True
            if (
                image
                and blob.thumbnail_key
                and (stored or not await self.store.exists(blob.thumbnail_key))
            ):
                await self.store.put_bytes(blob.thumbnail_key, image.thumbnail, THUMBNAIL_TYPE)
            return blob, stored
        finally:
            staged.discard()

    async def remove(self, keys: Sequence[str]) -> None:
        """Delete the bytes of released blobs (before committing their removal)."""
        for key in keys:
            try:
                await self.store.delete(key)
            except StorageError:
                # The rows go anyway; the bytes are unreachable garbage, not a broken asset.
                logger.warning("could not delete stored object %s; left behind", key)
