"""What a file is, from its first bytes — never from the client's Content-Type or name.

`sniff(head)` returns the MIME type and its family (`image`, `video`, `document`, `archive`,
`text`, `binary`). SVG and HTML are `text`, never `image`: they can carry scripts.
"""

from __future__ import annotations

from dataclasses import dataclass

HEAD_BYTES = 8192


@dataclass(frozen=True)
class Sniffed:
    mime_type: str
    family: str


_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_QUICKTIME_BRANDS = (b"qt  ",)


def sniff(head: bytes) -> Sniffed:
    """The type of a file whose first bytes (up to `HEAD_BYTES`) are `head`."""
    for magic, mime in _IMAGE_MAGIC:
        if head.startswith(magic):
            return Sniffed(mime, "image")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image/webp", "image")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis", b"heic", b"heix", b"mif1"):
            return Sniffed("application/octet-stream", "binary")  # no decoder: not an image here
        return Sniffed("video/quicktime" if brand in _QUICKTIME_BRANDS else "video/mp4", "video")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return Sniffed("video/webm", "video")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Sniffed("video/x-msvideo", "video")
    if head.startswith(b"%PDF-"):
        return Sniffed("application/pdf", "document")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return Sniffed("application/zip", "archive")
    return _text_or_binary(head)


def _text_or_binary(head: bytes) -> Sniffed:
    if b"\x00" in head:
        return Sniffed("application/octet-stream", "binary")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of `head`
            return Sniffed("application/octet-stream", "binary")
        text = head[: exc.start].decode("utf-8")
    start = text.lstrip("\ufeff \t\r\n").lower()
    if start.startswith(("<!doctype html", "<html", "<script")):
        return Sniffed("text/html", "text")
    if start.startswith(("<?xml", "<svg")):
        return Sniffed("image/svg+xml" if "<svg" in start else "application/xml", "text")
    return Sniffed("text/plain", "text")
