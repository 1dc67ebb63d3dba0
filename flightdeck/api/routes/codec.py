"""The payload codec endpoint for the Temporal Web UI (`--ui-codec-endpoint` /
`TEMPORAL_CODEC_ENDPOINT`): `POST /codec/decode` and `/codec/encode` take and give Temporal's
JSON `{"payloads": [{"metadata": {…}, "data": …}]}`. Any signed-in user of Flightdeck (Bearer
API key; the UI's "pass access token" or a proxy adds it) may call them; browsers only from
`temporal_codec_cors_origins`. Mounted only when payload encryption is on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from google.protobuf.message import Error as ProtobufError
from temporalio.api.common.v1 import Payloads

from flightdeck.api.deps import PrincipalDep
from flightdeck.api.errors import ApiError
from flightdeck.payload_codec import EncryptionCodec, PayloadDecryptionError
from flightdeck.settings import Settings

ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"


def install(app: FastAPI, settings: Settings) -> None:
    assert settings.temporal_payload_key is not None
    codec = EncryptionCodec.from_base64(settings.temporal_payload_key.get_secret_value())
    origins = set(settings.temporal_codec_cors_origins)
    router = APIRouter(prefix="/codec", include_in_schema=False)

    def cors(request: Request, response: Response) -> Response:
        origin = request.headers.get("origin")
        if origin in origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
        return response

    async def convert(request: Request, decode: bool) -> Response:
        try:
            payloads = json_format.Parse(await request.body(), Payloads())
        except (ProtobufError, ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, "invalid_json", f"not Temporal's payloads JSON: {exc}") from None
        try:
            done = await (codec.decode if decode else codec.encode)(payloads.payloads)
        except PayloadDecryptionError as exc:
            raise ApiError(422, "undecodable_payload", str(exc)) from None
        body: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=done))
        return cors(request, JSONResponse({"payloads": body.get("payloads", [])}))

    @router.post("/decode")
    async def decode(request: Request, _principal: PrincipalDep) -> Response:
        return await convert(request, decode=True)

    @router.post("/encode")
    async def encode(request: Request, _principal: PrincipalDep) -> Response:
        return await convert(request, decode=False)

    @router.options("/{action}")
    async def preflight(request: Request, action: str) -> Response:
        response = Response(status_code=204)
        if request.headers.get("origin") in origins:
            response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
        return cors(request, response)

    app.include_router(router)
