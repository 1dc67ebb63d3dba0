"""The S3-compatible backend against an S3 emulator over real HTTP: multipart upload of a
large staged file, streamed reads, existence, idempotent deletes, missing objects, and no
credential in any error."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from flightdeck.storage.base import BlobNotFound, StorageError, blob_key
from flightdeck.storage.s3 import S3BlobStore
from tests.storage.conftest import ACCESS_KEY, SECRET_KEY


def store(endpoint: str, tmp_path: Path, bucket: str = "flightdeck-test") -> S3BlobStore:
    return S3BlobStore(
        bucket,
        prefix="tenant-files",
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        staging_dir=tmp_path / "staging",
    )


async def test_round_trip_of_a_multipart_upload(s3_endpoint: str, tmp_path: Path) -> None:
    s3 = store(s3_endpoint, tmp_path)
    await s3.ensure_bucket()
    await s3.ensure_bucket()  # idempotent
    data = os.urandom(9 * 1024 * 1024 + 123)  # above the 8 MiB multipart threshold
    digest = hashlib.sha256(data).hexdigest()
    key = blob_key(uuid.uuid4(), digest)
    staged = s3.staging_dir / "upload.part"
    staged.write_bytes(data)
    assert not await s3.exists(key)
    await s3.put_file(key, staged, "application/octet-stream")
    assert not staged.exists()  # the staged file was moved into the store
    assert await s3.exists(key)
    chunks = [chunk async for chunk in s3.open(key)]
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= 64 * 1024  # streamed
    assert hashlib.sha256(b"".join(chunks)).hexdigest() == digest
    copy = tmp_path / "copy"
    await s3.fetch_to(key, copy)
    assert copy.read_bytes() == data
    await s3.delete(key)
    await s3.delete(key)  # deleting a missing object is fine
    assert not await s3.exists(key)
    with pytest.raises(BlobNotFound):
        async for _ in s3.open(key):
            pass


async def test_small_objects_and_key_checks(s3_endpoint: str, tmp_path: Path) -> None:
    s3 = store(s3_endpoint, tmp_path)
    await s3.ensure_bucket()
    key = blob_key(uuid.uuid4(), "ab" * 32) + ".jpg"
    await s3.put_bytes(key, b"thumb", "image/jpeg")
    assert b"".join([c async for c in s3.open(key)]) == b"thumb"
    for bad in ("../../etc/passwd", "blobs/x/../../y", "/absolute"):
        with pytest.raises(ValueError):
            await s3.exists(bad)


async def test_errors_never_show_credentials(s3_endpoint: str, tmp_path: Path) -> None:
    s3 = store(s3_endpoint, tmp_path, bucket="no-such-bucket-here")
    staged = tmp_path / "staging" / "f"
    staged.write_bytes(b"x")
    with pytest.raises(StorageError) as raised:
        await s3.put_file(blob_key(uuid.uuid4(), "cd" * 32), staged, "text/plain")
    assert SECRET_KEY not in str(raised.value) and ACCESS_KEY not in str(raised.value)
    assert "NoSuchBucket" in str(raised.value)
