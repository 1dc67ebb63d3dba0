"""The S3-compatible backend (AWS S3, MinIO, Ceph, GCS's XML API …), through boto3 in worker
threads. Large files go up as multipart uploads straight from the staged file, and downloads
stream in chunks, so no file is ever held in memory whole. Credentials come from settings (or
boto3's usual chain when unset) and never appear in an error."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from flightdeck.storage.base import CHUNK_SIZE, BlobNotFound, BlobStore, StorageError, check_key

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore(BlobStore):
    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        staging_dir: Path | None = None,
    ) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self._bucket = bucket
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._client: Any = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )
        # Multipart above 8 MiB, in 8 MiB parts: memory stays a few parts whatever the size.
        self._transfer = TransferConfig(
            multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024
        )
        self._staging = staging_dir or Path(tempfile.gettempdir()) / "flightdeck-staging"
        self._staging.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self._bucket!r}, prefix={self._prefix!r})"

    @property
    def staging_dir(self) -> Path:
        return self._staging

    def _key(self, key: str) -> str:
        return self._prefix + check_key(key)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        name = self._key(key)
        extra = {"ContentType": content_type}
        try:
            await asyncio.to_thread(
                self._client.upload_file,
                str(path),
                self._bucket,
                name,
                ExtraArgs=extra,
                Config=self._transfer,
            )
        except Exception as exc:  # boto3 raises many types; translate once, here
            raise _storage_error("upload", key, exc) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        name = self._key(key)
        try:
            await asyncio.to_thread(
                self._client.put_object,
                Bucket=self._bucket,
                Key=name,
                Body=data,
                ContentType=content_type,
            )
        except Exception as exc:
            raise _storage_error("upload", key, exc) from exc

    async def exists(self, key: str) -> bool:
        name = self._key(key)
        try:
            await asyncio.to_thread(self._client.head_object, Bucket=self._bucket, Key=name)
        except Exception as exc:
            if _is_missing(exc):
                return False
            raise _storage_error("check", key, exc) from exc
        return True

    async def delete(self, key: str) -> None:
        name = self._key(key)
        try:
            await asyncio.to_thread(self._client.delete_object, Bucket=self._bucket, Key=name)
        except Exception as exc:
            if not _is_missing(exc):
                raise _storage_error("delete", key, exc) from exc

    async def open(self, key: str) -> AsyncIterator[bytes]:  # type: ignore[override]
        name = self._key(key)
        try:
            answer = await asyncio.to_thread(self._client.get_object, Bucket=self._bucket, Key=name)
        except Exception as exc:
            if _is_missing(exc):
                raise BlobNotFound(key) from None
            raise _storage_error("read", key, exc) from exc
        body = answer["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK_SIZE):
                yield chunk
        finally:
            body.close()

    async def ensure_bucket(self) -> None:
        """Create the bucket if it is missing (development and tests)."""
        try:
            await asyncio.to_thread(self._client.head_bucket, Bucket=self._bucket)
        except Exception as exc:
            if not _is_missing(exc):
                raise _storage_error("check bucket", self._bucket, exc) from exc
            await asyncio.to_thread(self._client.create_bucket, Bucket=self._bucket)


def _is_missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    code = str((response or {}).get("Error", {}).get("Code", ""))
    return code in _MISSING


def _storage_error(action: str, key: str, exc: BaseException) -> StorageError:
    """Only S3's error code goes into the message (boto3 wraps it: look down the chain)."""
    seen: BaseException | None = exc
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, dict) and response.get("Error", {}).get("Code"):
            return StorageError(f"S3 {action} of {key} failed ({response['Error']['Code']})")
        seen = seen.__cause__ or seen.__context__
    return StorageError(f"S3 {action} of {key} failed ({type(exc).__name__})")
