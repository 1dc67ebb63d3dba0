"""Bulk-import zips: bombs, lies and tricks are refused before (or while) anything expands."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from flightdeck.storage.archives import ArchiveLimits, ArchiveRefused, extract_into, list_entries
from flightdeck.storage.intake import Intake
from tests.api.asset_support import png

LIMITS = ArchiveLimits(
    max_entries=20, max_total_bytes=5_000_000, max_entry_bytes=2_000_000, max_ratio=100
)


def make_zip(path: Path, entries: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_importable_entries_and_their_names(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "ok.zip",
        {
            "images/hero.png": png(seed=1),
            "../../escape.png": png(seed=2),
            "__MACOSX/._hero.png": b"junk",
            ".DS_Store": b"junk",
            "folder/": b"",
        },
    )
    entries = list_entries(path, LIMITS)
    assert [e.display_name for e in entries] == ["hero.png", "escape.png"]
    intake = Intake(tmp_path / "staging", max_bytes=10**6)
    extract_into(path, entries[1], intake)
    staged = intake.finish()
    assert staged.path.read_bytes() == png(seed=2)
    assert staged.path.parent == tmp_path / "staging"  # the entry's name made no path
    assert not (tmp_path.parent / "escape.png").exists()


def test_a_zip_bomb_is_refused_before_expanding(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "bomb.zip", {"zeros.png": bytes(1_900_000)})
    assert path.stat().st_size < 10_000  # ~1000:1
    with pytest.raises(ArchiveRefused, match="zip bomb"):
        list_entries(path, LIMITS)


def test_too_much_in_total_or_per_entry_or_too_many(tmp_path: Path) -> None:
    stored = zipfile.ZIP_STORED  # no compression: only the sizes matter
    many = make_zip(tmp_path / "many.zip", {f"{i}.png": b"x" for i in range(21)}, method=stored)
    with pytest.raises(ArchiveRefused, match="entries"):
        list_entries(many, LIMITS)
    big = make_zip(tmp_path / "big.zip", {"a.bin": bytes(2_000_001)}, method=stored)
    with pytest.raises(ArchiveRefused, match="per file"):
        list_entries(big, LIMITS)
    total = make_zip(
        tmp_path / "total.zip", {f"{i}.bin": bytes(1_500_000) for i in range(4)}, method=stored
    )
    with pytest.raises(ArchiveRefused, match="expands"):
        list_entries(total, LIMITS)


def test_a_header_that_lies_about_its_size_is_caught(tmp_path: Path) -> None:
    real = bytes(300_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("liar.bin", real)
    data = bytearray(buffer.getvalue())
    # Shrink the declared uncompressed size in the central directory to 1,000 bytes.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    path = tmp_path / "liar.zip"
    path.write_bytes(bytes(data))
    (entry,) = list_entries(path, LIMITS)
    assert entry.size == 1000
    staging = tmp_path / "staging"
    with pytest.raises(ArchiveRefused):
        extract_into(path, entry, Intake(staging, max_bytes=10**6))
    assert list(staging.iterdir()) == []  # nothing half-written is kept


def test_symlinks_and_garbage(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("link.png")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    assert list_entries(path, LIMITS) == []
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ArchiveRefused):
        list_entries(garbage, LIMITS)
