"""What every Graph simulator request goes through: reading the parameters the way the SDK sends
them (query string plus a form-encoded or multipart body, nested values JSON-encoded), and
authenticating the caller's access token and `appsecret_proof`."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from flightdeck.simulators.graph_errors import graph_error
from flightdeck.simulators.meta_sdk_spec import decode_form
from flightdeck.simulators.meta_state import MetaRuntime, Token


@dataclass
class Params:
    """A request's parameters, decoded; `files` holds multipart file parts by field name."""

    values: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def without_transport(self) -> dict[str, Any]:
        return {
            k: v for k, v in self.values.items() if k not in ("access_token", "appsecret_proof")
        }


@dataclass(frozen=True)
class Caller:
    """The user (or Page) an access token speaks for, and what it was granted."""

    token: Token

    @property
    def user_id(self) -> str:
        return self.token.user_id

    def has(self, *any_of: str) -> bool:
        return any(scope in self.token.scopes for scope in any_of)

    def require(self, *any_of: str) -> None:
        """Graph's permission error unless the token was granted one of `any_of`."""
        if not self.has(*any_of):
            # Graph's status for permission errors varies (400 or 403); UNCONFIRMED, 400 here.
            raise graph_error(
                400,
                f"(#200) Requires {' or '.join(any_of)} permission to manage the object",
                code=200,
            )


async def read_params(request: Request) -> Params:
    query = dict(request.query_params)
    if request.method not in ("POST", "PUT"):
        return Params(decode_form(query))
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    files: dict[str, tuple[str, bytes]] = {}
    if content_type.startswith("multipart/form-data"):
        form, files = _multipart(content_type, body)
    else:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return Params(decode_form({**query, **form}), files)


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Any]]:
    """`curl -F` bodies (the official examples use them): fields and file parts."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    form: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        filename = part.get_filename()
        if filename:
            files[name] = (filename, payload)
        else:
            form[name] = payload.decode("utf-8", "replace")
    return form, files


def authenticate(meta: MetaRuntime, params: Params) -> Caller:
    """The caller of a Graph request, else Graph's token errors (code 104 / 190 / 100)."""
    value = params.get("access_token")
    if not isinstance(value, str) or not value:
        raise graph_error(400, "An access token is required to request this resource.", code=104)
    token = meta.tokens.get(value)
    if token is None:
        raise graph_error(
            400, "Invalid OAuth access token - Cannot parse access token", code=190, subcode=467
        )
    if token.revoked:
        raise graph_error(
            400,
            "Error validating access token: The session has been invalidated because the user "
            "changed their password or Facebook has changed the session for security reasons.",
            code=190,
            subcode=460,
        )
    if token.expired(time.time()):
        raise graph_error(
            400, "Error validating access token: Session has expired.", code=190, subcode=463
        )
    app = meta.apps.get(token.app_id)
    if app is not None and app.require_appsecret_proof:
        proof = params.get("appsecret_proof")
        expected = hmac.new(app.app_secret.encode(), value.encode(), hashlib.sha256).hexdigest()
        if not isinstance(proof, str) or not hmac.compare_digest(proof, expected):
            raise graph_error(
                400,
                "Invalid appsecret_proof provided in the API argument",
                code=100,
                error_type="GraphMethodException",
            )
    return Caller(token)
