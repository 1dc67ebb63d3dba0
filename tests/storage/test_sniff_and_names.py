"""Types come from the bytes; client names never become paths."""

from __future__ import annotations

import pytest

from flightdeck.storage.names import display_filename, has_control_characters
from flightdeck.storage.sniff import sniff
from tests.api.asset_support import jpeg, png


@pytest.mark.parametrize(
    ("head", "mime", "family"),
    [
        (png(), "image/png", "image"),
        (jpeg(), "image/jpeg", "image"),
        (b"GIF89a....", "image/gif", "image"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", "image"),
        (b"\x00\x00\x00\x18ftypmp42....", "video/mp4", "video"),
        (b"\x00\x00\x00\x14ftypqt  ....", "video/quicktime", "video"),
        (b"%PDF-1.4\n", "application/pdf", "document"),
        (b"PK\x03\x04rest", "application/zip", "archive"),
        (b"asset_name,asset_type\nx,headline\n", "text/plain", "text"),
        (b"\xef\xbb\xbf<svg xmlns='x'/>", "image/svg+xml", "text"),
        (b"  <!DOCTYPE html><html>", "text/html", "text"),
        (b"\x00\x01binary", "application/octet-stream", "binary"),
        (b"\xff\xfe\xfa not utf8 at all \x80\x81", "application/octet-stream", "binary"),
    ],
)
def test_sniff(head: bytes, mime: str, family: str) -> None:
    found = sniff(head)
    assert (found.mime_type, found.family) == (mime, family)


def test_utf8_cut_at_the_end_of_the_head_is_still_text() -> None:
    head = ("é" * 4095).encode()[:8191]
    assert sniff(head).family == "text"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\photo.jpg", "photo.jpg"),
        ("a\x00b\x1b.png", "ab.png"),
        ("..", None),
        ("", None),
        ("dir/", None),
        ("\u202eevil.png", "evil.png"),  # right-to-left override dropped
    ],
)
def test_display_filename(raw: str, shown: str | None) -> None:
    assert display_filename(raw) == shown


def test_control_characters() -> None:
    assert has_control_characters("a\x07") and has_control_characters("\u200bx")
    assert not has_control_characters("tab\tis fine, and é too")
