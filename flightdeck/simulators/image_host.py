"""A web server hosting an advertiser's images (mounted at `/images`), so wizard image URLs work
in development and tests without the internet:

    GET /images/{name}.png[?w=&h=&seed=]   a PNG, the same bytes for the same name (or seed)
    GET /images/redirect?to=<url>          302 to `to` (redirect checks of the image fetch)
    GET /images/page.html                  an HTML page (not an image)
    GET /images/oversized.png?bytes=N      N bytes declared as image/png (size limits)
"""

from __future__ import annotations

import zlib

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from flightdeck.domain.images import png_bytes

router = APIRouter()


@router.get("/redirect")
async def redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=302)


@router.get("/page.html")
async def page() -> Response:
    return Response("<html><body>not an image</body></html>", media_type="text/html")


@router.get("/oversized.png")
async def oversized(
    size: int = Query(alias="bytes", default=1 << 20, ge=1, le=64 << 20),
) -> Response:
    return Response(b"\x89PNG\r\n\x1a\n" + b"\0" * (size - 8), media_type="image/png")


@router.get("/{name}")
async def image(
    name: str,
    w: int = Query(default=64, ge=1, le=4000),
    h: int = Query(default=64, ge=1, le=4000),
    seed: int | None = None,
) -> Response:
    chosen = seed if seed is not None else zlib.crc32(name.encode())
    return Response(png_bytes(w, h, seed=chosen), media_type="image/png")
