"""Clients for the Strategis API and the Strategis Facebook relay.

The HTTP contract (paths, auth header, envelopes) lives in this module only, as described in
../shared/platforms/strategis.md, so a correction against the real service happens here.
Every failure is raised as a classified `platforms.errors.PlatformError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx

from flightdeck.observability.http import instrumented
from flightdeck.platforms.errors import (
    NonRetryableError,
    PlatformError,
    RetryableError,
    classify_graph_error,
    classify_strategis_error,
    classify_transport_error,
)
from flightdeck.platforms.http import HttpClientOwner

RelayObjectType = Literal["campaigns", "adsets", "adcreatives", "ads"]
RelayUpdatableType = Literal["campaigns", "adsets", "ads"]
RELAY_OBJECT_TYPES = frozenset({"campaigns", "adsets", "adcreatives", "ads"})
RELAY_UPDATABLE_TYPES = frozenset({"campaigns", "adsets", "ads"})


class _JsonApi(HttpClientOwner):
    """An authenticated JSON-over-HTTP client whose failures become PlatformErrors."""

    platform = "strategis"
    # How its calls are labelled in metrics and traces.
    telemetry_name = "strategis"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._api_key = api_key
        self._http = httpx.AsyncClient(
            base_url=base_url,
            # assumed: Strategis authenticates with a bearer API key (strategis.md)
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=timeout,
            transport=instrumented(self.telemetry_name, transport),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={str(self._http.base_url)!r})"

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Send one request; the decoded JSON body, or a classified error."""
        request = f"{method} {path}"
        try:
            response = await self._http.request(method, path, json=json, params=params)
        except httpx.TransportError as exc:
            raise self._redacted(
                classify_transport_error(exc, self.platform, request=request)
            ) from exc
        return self._body_or_raise(response, request)

    def _body_or_raise(self, response: httpx.Response, request: str) -> Any:
        """The JSON of a successful answer. An error body is raised even with a 2xx status, as
        Graph's SDK does; a non-JSON success is retryable (a proxy page, a cut-off body)."""
        try:
            body = response.json()
        except ValueError:
            if response.is_success:
                error: PlatformError = RetryableError(
                    "the response body is not JSON",
                    platform=self.platform,
                    status_code=response.status_code,
                    request=request,
                )
            else:
                error = self._classify(response, response.text[:500], request)
            raise self._redacted(error) from None
        if response.is_success and not (isinstance(body, dict) and "error" in body):
            return body
        raise self._redacted(self._classify(response, body, request))

    def _classify(self, response: httpx.Response, body: Any, request: str) -> PlatformError:
        return classify_strategis_error(
            response.status_code, body, response.headers, request=request
        )

    def _redacted(self, error: PlatformError) -> PlatformError:
        error.redact(self._api_key)
        return error

    def _malformed(self, request: str, problem: str) -> NonRetryableError:
        """A 2xx answer that breaks the contract: repeating the call will not fix it."""
        return NonRetryableError(
            f"unexpected response: {problem}", platform=self.platform, request=request
        )


class StrategisClient(_JsonApi):
    """Strategis API: tracking templates and tracking campaigns."""

    async def find_template(self, organization: str, key: str) -> dict[str, Any] | None:
        """The organization's template with this key, if any."""
        found = await self._list("/api/templates", {"organization": organization, "key": key})
        return next((t for t in found if t.get("key") == key), None)

    async def create_template(
        self, organization: str, key: str, value: dict[str, Any] | str
    ) -> dict[str, Any]:
        body = {"key": key, "value": value, "organization": organization}
        return await self._object("POST", "/api/templates", json=body)

    async def find_campaigns(self, organization: str, name: str) -> list[dict[str, Any]]:
        """The organization's campaigns with exactly this name (used to adopt after a failure)."""
        found = await self._list("/api/campaigns", {"organization": organization, "name": name})
        return [c for c in found if c.get("name") == name]

    async def create_campaign(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._object("POST", "/api/campaigns", json=body)

    async def get_campaign(self, campaign_id: str) -> dict[str, Any]:
        return await self._object("GET", f"/api/campaigns/{_segment(campaign_id)}")

    async def update_campaign(self, campaign_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Partial update, e.g. `{"status": "paused"}`; returns the updated campaign."""
        return await self._object("PATCH", f"/api/campaigns/{_segment(campaign_id)}", json=fields)

    async def _object(
        self, method: str, path: str, *, json: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        body = await self._call(method, path, json=json)
        if not isinstance(body, dict) or "id" not in body:
            raise self._malformed(f"{method} {path}", "expected an object with an id")
        return body

    async def _list(self, path: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        body = await self._call("GET", path, params=params)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise self._malformed(f"GET {path}", "expected {data: [...]}")
        return [item for item in data if isinstance(item, dict)]


class StrategisRelayClient(_JsonApi):
    """The Strategis Facebook relay: Facebook objects created with the organization's stored
    credentials, deduplicated by `clientRequestKey`. Errors are Graph's, passed through."""

    platform = "facebook"
    telemetry_name = "strategis-relay"

    async def create(
        self,
        object_type: RelayObjectType,
        *,
        organization: str,
        client_request_key: str,
        body: Mapping[str, Any],
    ) -> str:
        """Create a Facebook object; returns its id. Safe to repeat with the same key and body."""
        _check_type(object_type, RELAY_OBJECT_TYPES)
        path = f"/api/facebook/{object_type}/create"
        payload = {**body, "organization": organization, "clientRequestKey": client_request_key}
        answer = await self._call("POST", path, json=payload)
        object_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(object_id, str | int) or isinstance(object_id, bool) or not object_id:
            raise self._malformed(f"POST {path}", "expected {id}")
        return str(object_id)

    async def find_created(self, client_request_key: str, *, organization: str) -> str | None:
        """The id of the object a create under `client_request_key` made, or None if no create
        under that key succeeded (ASSUMED relay lookup of its idempotency cache; see
        simulators/relay.py). Creates nothing: for compensating a create whose answer was lost."""
        path = f"/api/facebook/requests/{_segment(client_request_key)}"
        try:
            answer = await self._call("GET", path, params={"organization": organization})
        except NonRetryableError as exc:
            if exc.status_code == 404:
                return None
            raise
        object_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(object_id, str | int) or isinstance(object_id, bool) or not object_id:
            raise self._malformed(f"GET {path}", "expected {id}")
        return str(object_id)

    async def update(
        self,
        object_type: RelayUpdatableType,
        object_id: str,
        *,
        organization: str,
        fields: Mapping[str, Any],
    ) -> None:
        """Change status (`ACTIVE`/`PAUSED`/`ARCHIVED`/`DELETED`), name or budget."""
        _check_type(object_type, RELAY_UPDATABLE_TYPES)
        path = f"/api/facebook/{object_type}/{_segment(object_id)}/update"
        answer = await self._call("POST", path, json={**fields, "organization": organization})
        if not (isinstance(answer, dict) and answer.get("success") is True):
            raise self._malformed(f"POST {path}", "expected {success: true}")

    async def get(
        self, object_type: RelayObjectType, object_id: str, *, organization: str
    ) -> dict[str, Any]:
        """The Graph object (`id, name, status, effective_status, ...`)."""
        _check_type(object_type, RELAY_OBJECT_TYPES)
        path = f"/api/facebook/{object_type}/{_segment(object_id)}"
        answer = await self._call("GET", path, params={"organization": organization})
        if not isinstance(answer, dict) or "id" not in answer:
            raise self._malformed(f"GET {path}", "expected a Graph object with an id")
        return answer

    def _classify(self, response: httpx.Response, body: Any, request: str) -> PlatformError:
        error = classify_graph_error(
            response.status_code, body, response.headers, self.platform, request=request
        )
        if response.status_code == 409 and not isinstance(error, NonRetryableError):
            # The key was used with another body: resending cannot succeed (strategis.md).
            return NonRetryableError(
                error.message,
                platform=error.platform,
                status_code=error.status_code,
                code=error.code,
                subcode=error.subcode,
                details=error.details,
                request=request,
            )
        return error


def _segment(value: str) -> str:
    """One URL path segment: an id can never reach another path."""
    return quote(str(value), safe="")


def _check_type(object_type: str, allowed: frozenset[str]) -> None:
    if object_type not in allowed:
        raise ValueError(f"unsupported relay object type {object_type!r}")
