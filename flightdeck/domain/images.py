"""Image formats from their first bytes: the content type and pixel dimensions of a PNG, JPEG,
GIF or WebP, read from the header alone (no image library). Used by the server-side image fetch
(`platforms/safe_fetch.py`) and by the Graph simulator's `adimages` upload."""

from __future__ import annotations

import struct
from dataclasses import dataclass

CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
# JPEG start-of-frame markers carry the dimensions (all SOFn except DHT, JPG and DAC).
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE})


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


class NotAnImage(ValueError):
    """The bytes are not a PNG, JPEG, GIF or WebP whose dimensions can be read."""


def image_info(data: bytes) -> ImageInfo:
    """The format and dimensions of `data`, else `NotAnImage`."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return _checked("png", width, height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return _checked("gif", width, height)
    if data.startswith(b"\xff\xd8"):
        return _jpeg(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data)
    raise NotAnImage("not a PNG, JPEG, GIF or WebP image")


def _checked(fmt: str, width: int, height: int) -> ImageInfo:
    if width <= 0 or height <= 0:
        raise NotAnImage(f"the {fmt.upper()} header gives no dimensions")
    return ImageInfo(fmt, width, height)


def _jpeg(data: bytes) -> ImageInfo:
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            raise NotAnImage("corrupt JPEG: expected a marker")
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if marker in _SOF_MARKERS and offset + 9 <= len(data):
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return _checked("jpeg", width, height)
        offset += 2 + length
    raise NotAnImage("JPEG without a frame header in the bytes read")


def _webp(data: bytes) -> ImageInfo:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return _checked("webp", width, height)
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return _checked("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return _checked("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    raise NotAnImage("WebP without a known bitstream header")


def png_bytes(width: int, height: int, seed: int = 0) -> bytes:
    """A small valid PNG (solid colour from `seed`): test images and the simulator's samples."""
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    pixel = bytes([seed % 256, (seed * 7) % 256, (seed * 13) % 256])
    rows = b"".join(b"\x00" + pixel * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
