"""File storage for the asset library: one `BlobStore` interface, a local-filesystem backend
(default) and an S3-compatible one (`FLIGHTDECK_STORAGE_BACKEND=s3`), plus receiving files
safely (streaming SHA-256, size limit, sniffed type, image facts, archives)."""

from __future__ import annotations

from flightdeck.settings import Settings
from flightdeck.storage.base import BlobNotFound, BlobStore, StorageError, blob_key, thumbnail_key


def create_blob_store(settings: Settings) -> BlobStore:
    """The backend the settings name."""
    if settings.storage_backend == "s3":
        from flightdeck.storage.s3 import S3BlobStore

        if not settings.s3_bucket:
            raise ValueError("FLIGHTDECK_S3_BUCKET must be set when FLIGHTDECK_STORAGE_BACKEND=s3")
        secret = settings.s3_secret_access_key
        return S3BlobStore(
            settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            staging_dir=settings.data_dir / "staging",
        )
    from flightdeck.storage.local import LocalBlobStore

    return LocalBlobStore(settings.storage_dir or settings.data_dir / "assets")


__all__ = [
    "BlobNotFound",
    "BlobStore",
    "StorageError",
    "blob_key",
    "create_blob_store",
    "thumbnail_key",
]
