"""The local backend: atomic moves into content-addressed keys, nothing outside the root."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from flightdeck.storage.base import BlobNotFound, blob_key, check_key, thumbnail_key, upload_key
from flightdeck.storage.local import LocalBlobStore


async def test_put_read_delete(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    key = blob_key(uuid.uuid4(), "ef" * 32)
    staged = store.staging_dir / "x.part"
    staged.write_bytes(b"hello" * 50_000)
    await store.put_file(key, staged, "text/plain")
    assert not staged.exists() and await store.exists(key)
    assert store.path_of(key).is_relative_to(tmp_path / "store")
    assert b"".join([c async for c in store.open(key)]) == b"hello" * 50_000
    await store.delete(key)
    await store.delete(key)
    with pytest.raises(BlobNotFound):
        async for _ in store.open(key):
            pass


def test_keys_come_only_from_ids_and_digests() -> None:
    tenant = uuid.uuid4()
    assert blob_key(tenant, "0a" * 32) == f"blobs/{tenant}/0a/{'0a' * 32}"
    assert thumbnail_key(tenant, "0a" * 32).endswith(".jpg")
    assert check_key(upload_key(tenant, uuid.uuid4()))
    for bad_digest in ("../../etc", "ZZ" * 32, "0a" * 31):
        with pytest.raises(ValueError):
            blob_key(tenant, bad_digest)
    with pytest.raises(ValueError):
        blob_key("../../tmp", "0a" * 32)
    for bad_key in ("blobs/../../etc/passwd", "imports/x/y", f"blobs/{tenant}/0a/{'0a' * 32}/.."):
        with pytest.raises(ValueError):
            check_key(bad_key)
