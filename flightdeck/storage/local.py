"""The local-filesystem backend: files under one root directory (`.flightdeck/assets` in
development, `FLIGHTDECK_STORAGE_DIR` in production). Writes land in `<root>/.staging` first
and are renamed into place, so a crash never leaves a half-written object under a real key."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from flightdeck.storage.base import CHUNK_SIZE, BlobNotFound, BlobStore, StorageError, check_key


class LocalBlobStore(BlobStore):
    name = "local"

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()
        self._staging = self._root / ".staging"
        self._staging.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self._root)!r})"

    @property
    def root(self) -> Path:
        return self._root

    @property
    def staging_dir(self) -> Path:
        return self._staging

    def path_of(self, key: str) -> Path:
        path = (self._root / check_key(key)).resolve()
        if self._root not in path.parents:
            raise ValueError(f"not a storage key: {key!r}")
        return path

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        target = self.path_of(key)
        await asyncio.to_thread(_move_into_place, path, target, self._staging)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path_of(key)
        await asyncio.to_thread(_write_atomically, data, target, self._staging)

    async def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    async def delete(self, key: str) -> None:
        try:
            self.path_of(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete {key}: {exc.strerror}") from exc

    async def open(self, key: str) -> AsyncIterator[bytes]:  # type: ignore[override]
        path = self.path_of(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        with handle:
            while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                yield chunk

    async def fetch_to(self, key: str, path: Path) -> None:
        source = self.path_of(key)
        if not source.is_file():
            raise BlobNotFound(key)
        await asyncio.to_thread(shutil.copyfile, source, path)


def _move_into_place(source: Path, target: Path, staging: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)  # atomic on one filesystem
    except OSError:
        # Another filesystem (staging elsewhere): copy next to the target, then rename.
        temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
        source.unlink(missing_ok=True)


def _write_atomically(data: bytes, target: Path, staging: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = staging / f"{target.name}.{os.getpid()}.{id(data)}.part"
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
