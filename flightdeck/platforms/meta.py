"""Meta Graph API client (meta-marketing-api.md §1, metrics-and-review.md §3).

It sends what the official SDK (`facebook_business`) sends: `access_token` and
`appsecret_proof` = HMAC-SHA256(key=app secret, msg=token) in the query string of every call;
POST bodies form-encoded, with every dict, list and bool value JSON-encoded
(`json.dumps(sort_keys=True, separators=(",", ":"))`). Failures are classified once
(`meta_errors.py`); every answer's usage headers feed the `UsageMonitor`.

The client holds no user token: each call names the one to use, so one client (one connection
pool) serves every tenant's connections. No error, log line or return value shows a token, the
app secret or a proof: httpx's request log is scrubbed (`RedactGraphSecrets`), and errors are
redacted of the call's secrets before they leave.

    async with MetaGraphClient(settings_url, "v23.0", app_id, app_secret) as graph:
        account = await graph.get("act_1", token, {"fields": "currency,account_status"})
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from flightdeck.observability.http import instrumented
from flightdeck.platforms.errors import (
    PlatformError,
    RateLimitedError,
    RetryableError,
    classify_transport_error,
)
from flightdeck.platforms.http import HttpClientOwner
from flightdeck.platforms.meta_errors import PLATFORM, classify_meta_error
from flightdeck.platforms.meta_usage import UsageMonitor

SECRET_PARAMS = (
    "access_token",
    "appsecret_proof",
    "client_secret",
    "fb_exchange_token",
    "input_token",
    "code",
)
_SECRET_IN_URL = re.compile(rf"(({'|'.join(SECRET_PARAMS)})=)[^&\s\"']+")
# Observer of each request as sent: (method, path under the version, decoded params).
RequestHook = Callable[[str, str, dict[str, Any]], None]
# Observer of each answer's headers, with the ad account the call was about (e.g. the insights
# throttle, `meta_insights.InsightsPacer.observe`).
ResponseHook = Callable[[str | None, httpx.Headers], None]


class RedactGraphSecrets(logging.Filter):
    """Scrubs tokens and secrets from URLs in log records (httpx logs each request's URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                _SECRET_IN_URL.sub(r"\1[redacted]", str(a)) if isinstance(a, str | httpx.URL) else a
                for a in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        record.msg = _SECRET_IN_URL.sub(r"\1[redacted]", str(record.msg))
        return True


logging.getLogger("httpx").addFilter(RedactGraphSecrets())


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """The SDK's `_top_level_param_json_encode`, then strings as requests would send them."""
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, Mapping | list | tuple | bool):
            encoded[key] = json.dumps(value, sort_keys=True, separators=(",", ":"))
        else:
            encoded[key] = str(value)
    return encoded


def appsecret_proof(app_secret: str, token: str) -> str:
    return hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TokenGrant:
    """A user access token and when it expires (None: Meta gave no expiry)."""

    access_token: str = field(repr=False)
    expires_at: datetime | None


class MetaGraphClient(HttpClientOwner):
    """Graph calls for any connection: every method takes the access token to use."""

    def __init__(
        self,
        base_url: str,
        version: str,
        app_id: str,
        app_secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        usage: UsageMonitor | None = None,
        on_request: RequestHook | None = None,
        on_response: ResponseHook | None = None,
    ) -> None:
        self._root = base_url.rstrip("/")
        self._version = version
        self._app_id = app_id
        self._secret = app_secret
        self.usage = usage or UsageMonitor()
        self._on_request = on_request
        self._on_response = on_response
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=instrumented("meta", transport),
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"MetaGraphClient(base={self._root!r}, version={self._version!r})"

    @property
    def version(self) -> str:
        return self._version

    # -- calls ---------------------------------------------------------------------------------

    async def get(
        self, path: str, token: str, params: Mapping[str, Any] | None = None, *,
        account: str | None = None,
    ) -> Any:  # fmt: skip
        return await self._call("GET", path, token, params or {}, account)

    async def post(
        self, path: str, token: str, params: Mapping[str, Any], *, account: str | None = None
    ) -> Any:
        return await self._call("POST", path, token, params, account)

    async def delete(self, path: str, token: str, *, account: str | None = None) -> Any:
        return await self._call("DELETE", path, token, {}, account)

    async def get_all(
        self, path: str, token: str, params: Mapping[str, Any], *, account: str | None = None,
        max_pages: int = 50,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Every item of a list edge, following `paging.cursors.after` while `paging.next` is
        present (Graph sends `after` on the last page too)."""
        items: list[dict[str, Any]] = []
        query = dict(params)
        for _ in range(max_pages):
            page = await self.get(path, token, query, account=account)
            items += [i for i in page.get("data", []) if isinstance(i, dict)]
            paging = page.get("paging") or {}
            if not paging.get("next"):
                break
            query["after"] = paging.get("cursors", {}).get("after")
        return items

    async def _call(
        self,
        method: str,
        path: str,
        token: str,
        params: Mapping[str, Any],
        account: str | None,
    ) -> Any:
        path = path.strip("/")
        request = f"{method} /{self._version}/{path}"
        if self._on_request is not None:
            self._on_request(method, path, dict(params))
        auth = {"access_token": token, "appsecret_proof": appsecret_proof(self._secret, token)}
        encoded = encode_params(params)
        url = f"{self._root}/{self._version}/{path}"
        try:
            if method == "POST":
                response = await self._http.post(url, params=auth, data=encoded)
            else:
                response = await self._http.request(method, url, params={**encoded, **auth})
        except httpx.TransportError as exc:
            failure = classify_transport_error(exc, PLATFORM, request=request)
            raise self._redacted(failure, token, params) from exc
        self.usage.observe(account, response.headers)
        if self._on_response is not None:
            self._on_response(account, response.headers)
        body = _json(response)
        if response.is_success and not (isinstance(body, dict) and "error" in body):
            if body is None:
                raise self._redacted(
                    RetryableError(
                        "the response body is not JSON",
                        platform=PLATFORM,
                        status_code=response.status_code,
                        request=request,
                    ),
                    token,
                    params,
                )
            return body
        # As the SDK: any body with "error" is a failure, whatever the status code.
        status = response.status_code if not response.is_success else 400
        error = classify_meta_error(
            status, body if body is not None else response.text[:500], response.headers,
            request=request,
        )  # fmt: skip
        if isinstance(error, RateLimitedError) and account:
            self.usage.throttled(account, response.headers)
        raise self._redacted(error, token, params)

    def _redacted(
        self, error: PlatformError, token: str, params: Mapping[str, Any]
    ) -> PlatformError:
        for secret in (token, self._secret, appsecret_proof(self._secret, token)):
            error.redact(secret)
        for name in SECRET_PARAMS:
            value = params.get(name)
            if isinstance(value, str):
                error.redact(value)
        return error

    # -- Facebook Login ------------------------------------------------------------------------

    def dialog_url(
        self, dialog_base: str, redirect_uri: str, state: str, scopes: Sequence[str]
    ) -> str:
        """Where to send the user to consent (www.facebook.com/{v}/dialog/oauth)."""
        query = {
            "client_id": self._app_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(scopes),
        }
        return f"{dialog_base.rstrip('/')}/{self._version}/dialog/oauth?{urlencode(query)}"

    async def exchange_code(self, code: str, redirect_uri: str) -> TokenGrant:
        """The short-lived user token for an authorization code (server side only)."""
        body = await self._token_call(
            {
                "client_id": self._app_id,
                "client_secret": self._secret,
                "redirect_uri": redirect_uri,
                "code": code,
            }
        )
        return _grant(body)

    async def exchange_long_lived(self, short_lived: str) -> TokenGrant:
        """A long-lived (~60 days) user token for a short-lived one."""
        body = await self._token_call(
            {
                "grant_type": "fb_exchange_token",
                "client_id": self._app_id,
                "client_secret": self._secret,
                "fb_exchange_token": short_lived,
            }
        )
        return _grant(body)

    async def debug_token(self, token: str) -> dict[str, Any]:
        """`debug_token`'s data: validity, expiry, scopes (asked with the app token)."""
        body = await self._unauthenticated(
            "debug_token",
            {"input_token": token, "access_token": f"{self._app_id}|{self._secret}"},
        )
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise RetryableError("debug_token answered without data", platform=PLATFORM)
        return data

    async def _token_call(self, query: dict[str, str]) -> dict[str, Any]:
        body = await self._unauthenticated("oauth/access_token", query)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise RetryableError("the token endpoint answered without a token", platform=PLATFORM)
        return body

    async def _unauthenticated(self, path: str, query: dict[str, str]) -> Any:
        request = f"GET /{self._version}/{path}"
        secrets = [v for v in query.values() if v]
        try:
            response = await self._http.get(f"{self._root}/{self._version}/{path}", params=query)
        except httpx.TransportError as exc:
            failure = classify_transport_error(exc, PLATFORM, request=request)
            raise _scrub(failure, secrets) from exc
        body = _json(response)
        if response.is_success and not (isinstance(body, dict) and "error" in body):
            return body
        status = response.status_code if not response.is_success else 400
        error = classify_meta_error(status, body, response.headers, request=request)
        raise _scrub(error, secrets)

    # -- helpers for images --------------------------------------------------------------------

    async def upload_image(self, account: str, token: str, data: bytes) -> dict[str, Any]:
        """`POST /act_X/adimages` with `bytes` (base64); the image's {hash, url, width, …}."""
        body = await self.post(
            f"{account}/adimages",
            token,
            {"bytes": base64.b64encode(data).decode()},
            account=account,
        )
        images = body.get("images") if isinstance(body, dict) else None
        image = next(iter(images.values()), None) if isinstance(images, dict) and images else None
        if not isinstance(image, dict) or not isinstance(image.get("hash"), str):
            raise RetryableError("adimages answered without a hash", platform=PLATFORM)
        return image


def _grant(body: Mapping[str, Any]) -> TokenGrant:
    expires_in = body.get("expires_in")
    expires_at = (
        datetime.now(UTC) + timedelta(seconds=float(expires_in))
        if isinstance(expires_in, int | float) and expires_in > 0
        else None
    )
    return TokenGrant(str(body["access_token"]), expires_at)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _scrub(error: PlatformError, secrets: Sequence[str]) -> PlatformError:
    for secret in secrets:
        error.redact(secret)
        for part in secret.split("|"):
            error.redact(part)
    return error
