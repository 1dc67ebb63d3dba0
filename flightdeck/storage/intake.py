"""Receiving a file: bytes are written to a staging file as they arrive while the SHA-256 and
the size are computed, so memory holds one chunk, never the file. Past `max_bytes` the
receive stops (`TooLarge`) and the staged bytes are removed. Then `inspect_staged` sniffs the
type from the first bytes and, for images, reads the dimensions and makes a thumbnail.

    intake = Intake(store.staging_dir, max_bytes=settings.asset_max_upload_bytes)
    for chunk in body: intake.write(chunk)
    staged = intake.finish()             # StagedFile(path, sha256, size, head)
    facts = await inspect_staged(staged, max_pixels=…, thumb_size=…)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flightdeck.storage.images import ImageInfo, ImageRefused, inspect_image
from flightdeck.storage.sniff import HEAD_BYTES, Sniffed, sniff


class TooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than the {limit:,} bytes allowed")
        self.limit = limit


class EmptyFile(ValueError):
    def __init__(self) -> None:
        super().__init__("the file is empty")


@dataclass(frozen=True)
class StagedFile:
    path: Path
    sha256: str
    size: int
    head: bytes

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


@dataclass(frozen=True)
class FileFacts:
    """What the bytes say: the sniffed type, and for images their size and a thumbnail."""

    sniffed: Sniffed
    image: ImageInfo | None = None


class Intake:
    """One file being received into `staging_dir`."""

    def __init__(self, staging_dir: Path, *, max_bytes: int) -> None:
        staging_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=staging_dir, prefix="upload-", suffix=".part")
        self._file = os.fdopen(fd, "wb")
        self._path = Path(name)
        self._hash = hashlib.sha256()
        self._size = 0
        self._head = bytearray()
        self._max = max_bytes
        self._done = False

    @property
    def size(self) -> int:
        return self._size

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._size += len(chunk)
        if self._size > self._max:
            self.abort()
            raise TooLarge(self._max)
        if len(self._head) < HEAD_BYTES:
            self._head += chunk[: HEAD_BYTES - len(self._head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> StagedFile:
        self._file.close()
        self._done = True
        if self._size == 0:
            self._path.unlink(missing_ok=True)
            raise EmptyFile()
        return StagedFile(self._path, self._hash.hexdigest(), self._size, bytes(self._head))

    def abort(self) -> None:
        """Stop and remove whatever was received (idempotent)."""
        if not self._file.closed:
            self._file.close()
        self._done = True
        self._path.unlink(missing_ok=True)


async def inspect_staged(staged: StagedFile, *, max_pixels: int, thumb_size: int) -> FileFacts:
    """Sniff the staged file; images get their dimensions and a thumbnail, or ImageRefused."""
    sniffed = sniff(staged.head)
    if sniffed.family != "image":
        return FileFacts(sniffed)
    info = await asyncio.to_thread(
        inspect_image, staged.path, sniffed.mime_type, max_pixels=max_pixels, thumb_size=thumb_size
    )
    return FileFacts(sniffed, info)


__all__ = [
    "EmptyFile",
    "FileFacts",
    "ImageRefused",
    "Intake",
    "StagedFile",
    "TooLarge",
    "inspect_staged",
]
