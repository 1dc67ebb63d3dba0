"""Helpers for the asset-library API tests: an app whose storage lives in a temporary
directory (with small limits, so attacks are cheap to mount), and files to upload."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.api.app import create_app
from flightdeck.settings import Settings

SPACES = "/api/v1/campaign-spaces"
ASSETS = "/api/v1/campaign-assets"
MAX_UPLOAD = 400_000
MAX_PIXELS = 1_000_000


def library_settings(database_url: str, root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "data_dir": root / "data",
        "storage_dir": root / "store",
        "asset_max_upload_bytes": MAX_UPLOAD,
        "asset_max_image_pixels": MAX_PIXELS,
    }
    return Settings(**(values | overrides))


async def library_client(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], temporal: Any = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessions=sessions, temporal=temporal)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api", timeout=60) as c:
        yield c


def png(width: int = 64, height: int = 48, seed: int | None = None, mode: str = "RGB") -> bytes:
    """A PNG whose pixels (hence bytes) differ per `seed`."""
    seed = uuid.uuid4().int & 0xFFFFFF if seed is None else seed
    color = (seed & 0xFF, (seed >> 8) & 0xFF, (seed >> 16) & 0xFF)
    image = Image.new(mode, (width, height), color if mode == "RGB" else color + (128,))
    image.putpixel((0, 0), (seed % 251, 7, 9) if mode == "RGB" else (seed % 251, 7, 9, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 640, height: int = 480, seed: int = 1) -> bytes:
    image = Image.new("RGB", (width, height), (seed % 256, 120, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header announces `width` x `height` pixels (a decompression bomb's
    calling card): refused from the header, before any pixel is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


async def new_space(api: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> str:
    payload = {"campaignName": f"space-{uuid.uuid4().hex[:6]}", "platform": "reddit"} | body
    response = await api.post(SPACES, json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def upload(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    space_id: str,
    data: bytes | None = None,
    *,
    filename: str = "banner.png",
    content_type: str = "image/png",
    **fields: Any,
) -> httpx.Response:
    form = {"asset_type": "image"} | {k: str(v) for k, v in fields.items()}
    files = {"file": (filename, data, content_type)} if data is not None else None
    return await api.post(
        f"{ASSETS}/campaign-spaces/{space_id}/assets",
        data=form,
        files=files,
        headers=headers,
    )


async def space_counts(
    api: httpx.AsyncClient, headers: dict[str, str], space_id: str
) -> tuple[int, int]:
    body = (await api.get(f"{SPACES}/{space_id}", headers=headers)).json()
    return body["assetCount"], body["totalAssetSizeBytes"]


def stored_files(root: Path) -> list[Path]:
    """Every object in the local store (not the staging area)."""
    store = root / "store"
    return sorted(
        p for p in store.rglob("*") if p.is_file() and ".staging" not in p.relative_to(store).parts
    )


def staging_files(root: Path) -> list[Path]:
    staging = root / "store" / ".staging"
    return sorted(p for p in staging.rglob("*") if p.is_file()) if staging.exists() else []
