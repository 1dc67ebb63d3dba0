"""The storage interface every backend implements, and the only way keys are made.

Keys are built here from a tenant id (a UUID) and a SHA-256 (hex) — never from anything a
client sent — so no upload can name a path, climb out of the store or overwrite another
tenant's file. Errors:

    StorageError          the backend failed (I/O, network, permissions)
     └── BlobNotFound     no object under that key
"""

from __future__ import annotations

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KEY = re.compile(
    r"^[a-z]+/[0-9a-f-]{36}/[0-9a-f]{2}/[0-9a-f]{64}(\.[a-z]+)?$|^imports/[0-9a-f-]{36}/[0-9a-f-]{36}$"
)
CHUNK_SIZE = 64 * 1024


class StorageError(Exception):
    """The storage backend failed; the message never carries credentials."""


class BlobNotFound(StorageError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no stored object {key}")
        self.key = key


def _tenant(tenant_id: uuid.UUID | str) -> str:
    return str(uuid.UUID(str(tenant_id)))


def _sha(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return sha256


def blob_key(tenant_id: uuid.UUID | str, sha256: str) -> str:
    """Where a tenant's file with this content lives: the same bytes, the same key."""
    sha = _sha(sha256)
    return f"blobs/{_tenant(tenant_id)}/{sha[:2]}/{sha}"


def thumbnail_key(tenant_id: uuid.UUID | str, sha256: str) -> str:
    sha = _sha(sha256)
    return f"thumbs/{_tenant(tenant_id)}/{sha[:2]}/{sha}.jpg"


def upload_key(tenant_id: uuid.UUID | str, run_id: uuid.UUID | str) -> str:
    """A CSV or zip handed to an import run, kept until the run ends."""
    return f"imports/{_tenant(tenant_id)}/{uuid.UUID(str(run_id))}"


def check_key(key: str) -> str:
    """Refuse any key this module did not make (defence in depth for the backends)."""
    if not _KEY.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class BlobStore(ABC):
    """Where file bytes live. Writes are idempotent (content-addressed keys) and atomic:
    a reader never sees a half-written object."""

    name: str

    @property
    @abstractmethod
    def staging_dir(self) -> Path:
        """Local directory for files being received (same filesystem as the store if local)."""

    @abstractmethod
    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Move the local file at `path` into the store under `key` (`path` is gone after)."""

    @abstractmethod
    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store a small object (thumbnails)."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing one is not an error."""

    @abstractmethod
    def open(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; BlobNotFound before the first chunk if missing."""

    async def fetch_to(self, key: str, path: Path) -> None:
        """Copy the object into a local file (archives are read with random access)."""
        with path.open("wb") as out:
            async for chunk in self.open(key):
                out.write(chunk)

    async def aclose(self) -> None:
        return None
