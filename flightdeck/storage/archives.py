"""Reading a bulk-import zip without trusting it (zip bombs, traversal, tricks).

Before anything is extracted the whole central directory is checked: at most `max_entries`
files, their declared sizes adding up to at most `max_total_bytes`, none above
`max_entry_bytes`, and no entry compressed more than `max_ratio`:1. While an entry is read
its real output is counted too — a header that lies about its size is caught at the first
byte past what it declared. Entry names are display names only (never paths); directories,
symlinks, encrypted entries and macOS metadata are skipped, nested archives are not opened.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flightdeck.storage.intake import Intake, TooLarge
from flightdeck.storage.names import display_filename

READ_CHUNK = 64 * 1024


class ArchiveRefused(ValueError):
    """The archive as a whole is refused (not a zip, too many files, a bomb …)."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_entries: int
    max_total_bytes: int
    max_entry_bytes: int
    max_ratio: float


@dataclass(frozen=True)
class ArchiveEntry:
    index: int
    name: str  # as stored in the zip: used only to find the entry again
    display_name: str
    size: int
    compressed_size: int


def _skipped(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return (
        info.is_dir()
        or stat.S_ISLNK(mode)
        or info.flag_bits & 0x1 != 0  # encrypted
        or info.filename.startswith("__MACOSX/")
        or (display_filename(info.filename) or ".").startswith(".")
    )


def list_entries(path: Path, limits: ArchiveLimits) -> list[ArchiveEntry]:
    """The archive's importable files, or ArchiveRefused for the whole archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveRefused("the file is not a readable zip archive") from exc
    if len(infos) > limits.max_entries:
        raise ArchiveRefused(
            f"the archive has {len(infos):,} entries; at most {limits.max_entries:,}"
        )
    entries: list[ArchiveEntry] = []
    total = 0
    for index, info in enumerate(infos):
        if _skipped(info):
            continue
        _check_entry(info, limits)
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ArchiveRefused(
                f"the archive expands to more than {limits.max_total_bytes:,} bytes (zip bomb?)"
            )
        name = display_filename(info.filename) or f"entry-{index}"
        entries.append(ArchiveEntry(index, info.filename, name, info.file_size, info.compress_size))
    return entries


def _check_entry(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    if info.file_size > limits.max_entry_bytes:
        raise ArchiveRefused(
            f"{display_filename(info.filename)!r} expands to {info.file_size:,} bytes; "
            f"at most {limits.max_entry_bytes:,} per file"
        )
    if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(
        info.compress_size, 1
    ):
        raise ArchiveRefused(
            f"{display_filename(info.filename)!r} is compressed "
            f"{info.file_size / max(info.compress_size, 1):,.0f}:1 (zip bomb?)"
        )


def extract_into(path: Path, entry: ArchiveEntry, intake: Intake) -> None:
    """Stream one entry into `intake`, stopping at the first byte past its declared size."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.infolist()[entry.index]
            if info.filename != entry.name:
                raise ArchiveRefused("the archive changed while it was being imported")
            written = 0
            with archive.open(info) as source:
                for chunk in iter(lambda: source.read(READ_CHUNK), b""):
                    written += len(chunk)
                    if written > entry.size:
                        intake.abort()
                        raise TooLarge(entry.size)
                    intake.write(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as exc:
        intake.abort()
        raise ArchiveRefused(f"{entry.display_name!r} is corrupt ({exc})") from exc


def iter_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(READ_CHUNK), b"")
