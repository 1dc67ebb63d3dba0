"""Reddit's media host in the simulator (what `i.redd.it` is to the live site): the files a
post's `content[].media_url` and `thumbnail_url` point at, downloadable without a token.

    GET  /reddit/media/{mediaId}        the bytes, with their Content-Type (404 if unknown)
    POST /_sim/reddit/media             raw body + Content-Type -> 201 {id, url, mimeType}
                                        (a test's way of putting an image on Reddit's CDN)

Reddit's Ads API itself uploads media through presigned URLs we do not model; a post is
created with a `media_url`, as Flightdeck's set sync does.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from flightdeck.simulators.state import StateDep

router = APIRouter()
admin_router = APIRouter()

MAX_MEDIA_BYTES = 50 * 1024 * 1024
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


@router.get("/media/{media_name}", include_in_schema=False)
async def get_media(media_name: str, state: StateDep) -> Response:
    media_id = media_name.split(".", 1)[0]
    found = state.reddit.media.get(media_id)
    if found is None:
        raise HTTPException(404, "no such media")
    mime, data = found
    return Response(data, media_type=mime, headers={"Cache-Control": "public, max-age=86400"})


@admin_router.post("/media", status_code=201)
async def upload_media(request: Request, state: StateDep) -> JSONResponse:
    mime = request.headers.get("content-type", "application/octet-stream").split(";")[0]
    data = await request.body()
    if not data or len(data) > MAX_MEDIA_BYTES:
        raise HTTPException(400, f"send 1 to {MAX_MEDIA_BYTES} bytes")
    media_id = secrets.token_hex(8)
    state.reddit.media[media_id] = (mime, data)
    extension = EXTENSIONS.get(mime, "bin")
    url = str(request.base_url).rstrip("/") + f"/reddit/media/{media_id}.{extension}"
    return JSONResponse({"id": media_id, "url": url, "mimeType": mime}, status_code=201)
