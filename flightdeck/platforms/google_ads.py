"""Clients for Google Ads (../shared/platforms/google-ads-api.md): the REST API v25
(`GoogleAdsClient`) and Google's OAuth 2.0 (`GoogleOAuthClient`).

The HTTP contract (paths, lowerCamelCase JSON, int64 as strings, `operations[]` and
`mutateOperations[]`, `partialFailure`, `validateOnly`, GAQL paging by `nextPageToken`, the
`login-customer-id` and optional `developer-token` headers) lives here only. Failures are
classified in `google_ads_errors.py`; no error shows a token, code or secret.

One `httpx.AsyncClient` may be shared by every account's client (`http=`): the
per-account auth (bearer token, login-customer-id) goes on each request, never on the shared
client. A client that made its own httpx client closes it.

    oauth = GoogleOAuthClient(authorize_url, token_url, client_id, client_secret)
    ads = GoogleAdsClient(base_url, token_provider=provider, login_customer_id="1111111111")
    rows = await ads.search("1234567890", "SELECT campaign.id FROM campaign")
    answer = await ads.mutate_all("1234567890", [{"campaignBudgetOperation": {...}}, ...])
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from flightdeck.observability.http import instrumented
from flightdeck.platforms.errors import (
    NonRetryableError,
    PlatformError,
    RefreshTokenInvalid,
    RetryableError,
    classify_transport_error,
)
from flightdeck.platforms.google_ads_errors import (
    PLATFORM,
    classify_google_ads_error,
    google_errors,
)
from flightdeck.platforms.http import HttpClientOwner
from flightdeck.platforms.reddit import TokenProvider
from flightdeck.platforms.reddit_oauth import TokenSet, json_or_none, redacted

__all__ = [
    "ADWORDS_SCOPE",
    "GoogleAdsClient",
    "GoogleOAuthClient",
    "MutateAnswer",
    "TokenProvider",
    "TokenSet",
    "gaql_string",
    "temporary_name",
]

ADWORDS_SCOPE = "https://www.googleapis.com/auth/adwords"
API_VERSION = "v25"
MAX_OPERATIONS = 10_000
_CUSTOMER_ID = re.compile(r"^\d{10}$")


@dataclass(frozen=True)
class MutateAnswer:
    """What a mutate returned: one result per operation (`None` where a partial failure left
    its slot empty), and the per-operation errors of a partial failure (flattened, each with
    its `operation` index)."""

    results: list[dict[str, Any] | None]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def resource_names(self) -> list[str | None]:
        names: list[str | None] = []
        for result in self.results:
            if result is None:
                names.append(None)
                continue
            inner = result if "resourceName" in result else next(iter(result.values()), {})
            names.append(inner.get("resourceName") if isinstance(inner, dict) else None)
        return names


def temporary_name(customer_id: str, collection: str, temp_id: int) -> str:
    """`customers/{cid}/{collection}/-N`: a temporary id for googleAds:mutate."""
    if temp_id >= 0:
        raise ValueError("temporary ids are negative")
    return f"customers/{customer_id}/{collection}/{temp_id}"


def gaql_string(value: str) -> str:
    """A GAQL string literal. Quote escaping in GAQL is UNCONFIRMED (§8.8); backslash escapes
    are what the grammar page shows, and what the simulator reads."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class GoogleAdsClient(HttpClientOwner):
    """Google Ads API REST for one account's credentials. A 401 gets one retry with a freshly
    refreshed token (nothing was applied: authentication comes before anything else)."""

    def __init__(
        self,
        base_url: str,
        *,
        token_provider: TokenProvider,
        login_customer_id: str | None = None,
        login_provider: Callable[[], Awaitable[str | None]] | None = None,
        developer_token: str | None = None,
        version: str = API_VERSION,
        http: httpx.AsyncClient | None = None,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if login_customer_id is not None and not _CUSTOMER_ID.match(login_customer_id):
            raise ValueError("login_customer_id is 10 digits without hyphens")
        self._base = f"{base_url.rstrip('/')}/{version}"
        self._tokens = token_provider
        self._login = login_customer_id
        # Resolved on the first request, when the client is made before the account is read.
        self._login_provider = login_provider if login_customer_id is None else None
        self._developer_token = developer_token
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(
            headers={"Accept": "application/json"},
            timeout=timeout,
            transport=instrumented("google-ads", transport),
        )

    def __repr__(self) -> str:
        return f"GoogleAdsClient(base={self._base!r}, login_customer_id={self._login!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # -- customers --

    async def list_accessible_customers(self) -> list[str]:
        """The customer ids the user was granted directly (a manager's clients are not)."""
        body = await self._call("GET", "/customers:listAccessibleCustomers", None)
        names = body.get("resourceNames") if isinstance(body, dict) else None
        if not isinstance(names, list):
            raise _malformed("GET customers:listAccessibleCustomers", "no resourceNames")
        return [str(name).rsplit("/", 1)[-1] for name in names]

    # -- GAQL --

    async def search_pages(
        self, customer_id: str, query: str
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """`googleAds:search`, page after page (10,000 rows each, fixed since v17)."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            rows, token = await self.search_page(customer_id, query, token)
            yield rows
            if token is None or token in seen:
                return
            seen.add(token)

    async def search_page(
        self, customer_id: str, query: str, page_token: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of `googleAds:search` and the next page's token (None on the last): a
        caller that waits out a 429 asks for the same page again."""
        body: dict[str, Any] = {"query": query}
        if page_token:
            body["pageToken"] = page_token
        answer = await self._call("POST", _path(customer_id, "googleAds:search"), body)
        if not isinstance(answer, dict):
            raise _malformed("POST googleAds:search", "expected an object")
        rows = answer.get("results", [])
        return [row for row in rows if isinstance(row, dict)], answer.get("nextPageToken") or None

    async def search(self, customer_id: str, query: str) -> list[dict[str, Any]]:
        return [row async for page in self.search_pages(customer_id, query) for row in page]

    async def search_stream(self, customer_id: str, query: str) -> list[dict[str, Any]]:
        """`googleAds:searchStream`: one request, a JSON array of batches."""
        answer = await self._call("POST", _path(customer_id, "googleAds:searchStream"),
                                  {"query": query})  # fmt: skip
        if not isinstance(answer, list):
            raise _malformed("POST googleAds:searchStream", "expected a JSON array")
        return [row for batch in answer if isinstance(batch, dict)
                for row in batch.get("results", [])]  # fmt: skip

    # -- mutate --

    async def mutate(
        self,
        customer_id: str,
        collection: str,
        operations: Sequence[Mapping[str, Any]],
        *,
        partial_failure: bool = False,
        validate_only: bool = False,
        mutable_resource: bool = False,
    ) -> MutateAnswer:
        """`{collection}:mutate` (campaigns, adGroups, …): create / update (with its
        `updateMask`) / remove operations, one transaction unless `partial_failure`."""
        body = _mutate_body("operations", operations, partial_failure, validate_only,
                            mutable_resource)  # fmt: skip
        answer = await self._call("POST", _path(customer_id, f"{collection}:mutate"), body)
        return _answer(answer, "results", len(operations), validate_only)

    async def mutate_all(
        self,
        customer_id: str,
        mutate_operations: Sequence[Mapping[str, Any]],
        *,
        partial_failure: bool = False,
        validate_only: bool = False,
    ) -> MutateAnswer:
        """`googleAds:mutate`: operations of several resources, with temporary ids, atomic."""
        body = _mutate_body("mutateOperations", mutate_operations, partial_failure,
                            validate_only, False)  # fmt: skip
        answer = await self._call("POST", _path(customer_id, "googleAds:mutate"), body)
        return _answer(answer, "mutateOperationResponses", len(mutate_operations), validate_only)

    # -- plumbing --

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None) -> Any:
        if self._login_provider is not None:
            self._login, self._login_provider = await self._login_provider(), None
        request = f"{method} {urlsplit(self._base + path).path}"
        token = await self._tokens(force_refresh=False)
        used = [token]
        response = await self._send(method, path, token, body, request, used)
        if response.status_code == 401:
            token = await self._tokens(force_refresh=True)
            used.append(token)
            response = await self._send(method, path, token, body, request, used)
        answer = json_or_none(response)
        if response.is_success and answer is not None:
            return answer
        if response.is_success:
            error: PlatformError = RetryableError(
                "the response body is not JSON", platform=PLATFORM,
                status_code=response.status_code, request=request,
            )  # fmt: skip
        else:
            if isinstance(answer, list) and answer and isinstance(answer[0], dict):
                answer = answer[0]  # searchStream wraps its error in an array too
            details = answer if answer is not None else response.text[:500]
            error = classify_google_ads_error(response.status_code, details, request=request)
        raise redacted(error, *used)

    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        body: Mapping[str, Any] | None,
        request: str,
        used: Sequence[str],
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if self._login:
            headers["login-customer-id"] = self._login
        if self._developer_token:
            headers["developer-token"] = self._developer_token
        try:
            return await self._http.request(method, self._base + path, json=body, headers=headers)
        except httpx.TransportError as exc:
            error = classify_transport_error(exc, PLATFORM, request=request)
            raise redacted(error, *used) from exc


def _path(customer_id: str, method: str) -> str:
    if not _CUSTOMER_ID.match(customer_id):
        raise NonRetryableError(
            f"customer id {customer_id!r} must be 10 digits without hyphens", platform=PLATFORM
        )
    return f"/customers/{customer_id}/{method}"


def _mutate_body(
    key: str,
    operations: Sequence[Mapping[str, Any]],
    partial_failure: bool,
    validate_only: bool,
    mutable_resource: bool,
) -> dict[str, Any]:
    if not operations:
        raise ValueError("a mutate needs at least one operation")
    if len(operations) > MAX_OPERATIONS:
        raise ValueError(f"at most {MAX_OPERATIONS} operations per request")
    body: dict[str, Any] = {key: [dict(op) for op in operations]}
    if partial_failure:
        body["partialFailure"] = True
    if validate_only:
        body["validateOnly"] = True
    if mutable_resource:
        body["responseContentType"] = "MUTABLE_RESOURCE"
    return body


def _answer(answer: Any, key: str, count: int, validate_only: bool) -> MutateAnswer:
    if not isinstance(answer, dict):
        raise _malformed(f"mutate ({key})", "expected an object")
    if validate_only:
        return MutateAnswer(results=[None] * count)
    raw = answer.get(key, [])
    if not isinstance(raw, list) or len(raw) != count:
        raise _malformed(f"mutate ({key})", f"expected {count} results")
    results = [r if isinstance(r, dict) and r else None for r in raw]
    errors: list[dict[str, Any]] = []
    failure = answer.get("partialFailureError")
    if isinstance(failure, dict):
        errors, _ = google_errors(failure)
    return MutateAnswer(results=results, errors=errors)


def _malformed(request: str, problem: str) -> NonRetryableError:
    return NonRetryableError(f"unexpected response: {problem}", platform=PLATFORM, request=request)


# -- OAuth 2.0 ---------------------------------------------------------------------------------


class GoogleOAuthClient(HttpClientOwner):
    """Google's authorization-code flow for the `adwords` scope, with PKCE: the consent URL
    (`access_type=offline&prompt=consent`, so a refresh token comes back), the code exchange
    and refreshes. Google does not rotate refresh tokens: a refresh keeps the old one."""

    def __init__(
        self,
        authorize_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._authorize = authorize_url
        self._token = token_url
        self._client_id = client_id
        self._secret = client_secret
        self._http = httpx.AsyncClient(
            headers={"Accept": "application/json"},
            timeout=timeout,
            transport=instrumented("google-oauth", transport),
        )

    def __repr__(self) -> str:
        return f"GoogleOAuthClient(client_id={self._client_id!r})"

    def authorize_url(self, state: str, code_challenge: str, redirect_uri: str) -> str:
        query = {
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ADWORDS_SCOPE,
            "state": state,
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._authorize}?{urlencode(query)}"

    async def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier}  # fmt: skip
        return await self._grant(form, None, (code, code_verifier))

    async def refresh(self, refresh_token: str) -> TokenSet:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return await self._grant(form, refresh_token, (refresh_token,))

    async def _grant(
        self, form: dict[str, str], previous_refresh: str | None, sensitive: Sequence[str]
    ) -> TokenSet:
        request = f"POST {urlsplit(self._token).path} ({form['grant_type']})"
        hidden = (self._secret, *sensitive)
        body = {**form, "client_id": self._client_id, "client_secret": self._secret}
        try:
            response = await self._http.post(self._token, data=body)
        except httpx.TransportError as exc:
            raise redacted(
                classify_transport_error(exc, PLATFORM, request=request), *hidden
            ) from exc
        answer = json_or_none(response)
        if response.is_success and isinstance(answer, dict) and "access_token" in answer:
            expires_in = answer.get("expires_in")
            refresh = answer.get("refresh_token")
            return TokenSet(
                access_token=str(answer["access_token"]),
                refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
                expires_at=datetime.now(UTC) + timedelta(
                    seconds=float(expires_in) if isinstance(expires_in, int | float) else 3599.0),
                scopes=frozenset(str(answer.get("scope", "")).split()),
                token_type=str(answer.get("token_type", "Bearer")),
            )  # fmt: skip
        raise redacted(_oauth_error(response, answer, previous_refresh, request), *hidden)


def _oauth_error(
    response: httpx.Response, answer: Any, previous_refresh: str | None, request: str
) -> PlatformError:
    """`invalid_grant` while refreshing: the refresh token is dead (revoked, expired after 7
    days for a "Testing" consent screen, password change): `RefreshTokenInvalid`."""
    from flightdeck.platforms.errors import AuthExpiredError, RateLimitedError

    error = answer.get("error") if isinstance(answer, dict) else None
    fields: dict[str, Any] = {
        "platform": PLATFORM,
        "status_code": response.status_code,
        "details": answer if isinstance(answer, dict) else {"body": response.text[:500]},
        "request": request,
    }
    message = f"token endpoint: {error}" if isinstance(error, str) else (
        f"HTTP {response.status_code}")  # fmt: skip
    if response.status_code == 429:
        return RateLimitedError(message, **fields)
    if response.status_code >= 500:
        return RetryableError(message, **fields)
    if error == "invalid_grant":
        return (RefreshTokenInvalid if previous_refresh else AuthExpiredError)(message, **fields)
    return NonRetryableError(message, **fields)
