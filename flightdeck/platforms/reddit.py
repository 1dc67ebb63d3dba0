"""Clients for Reddit: the Ads API v3 (`RedditAdsClient`) and the OAuth2 token endpoint
(`RedditOAuthClient`), per ../shared/platforms/reddit-ads-api.md.

The HTTP contract (paths, `{"data": …}` envelopes, `pagination.next_url`, bearer and Basic
auth, the User-Agent format) lives in this module and `reddit_oauth.py` only. Failures are
raised as classified `platforms.errors.PlatformError`s; no error shows a token, code or secret.

    oauth = RedditOAuthClient("https://www.reddit.com", client_id, client_secret)
    tokens = await oauth.exchange_code(code, verifier, redirect_uri)
    ads = RedditAdsClient("https://ads-api.reddit.com/api/v3", token_provider=provider,
                          user_agent=reddit_user_agent("flightdeck", "1.0.0", "ops_user"))
    campaign = await ads.create_campaign(account_id, {"name": …, "objective": "CLICKS", …})
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit

import httpx

from flightdeck.observability.http import instrumented
from flightdeck.platforms.errors import (
    PlatformError,
    RetryableError,
    classify_reddit_error,
    classify_transport_error,
)
from flightdeck.platforms.http import HttpClientOwner
from flightdeck.platforms.reddit_oauth import (
    PLATFORM,
    RedditOAuthClient,
    TokenSet,
    code_challenge,
    json_or_none,
    malformed,
    new_code_verifier,
    redacted,
)

__all__ = [
    "FundingMode",
    "RedditAdsClient",
    "RedditOAuthClient",
    "TokenProvider",
    "TokenSet",
    "code_challenge",
    "new_code_verifier",
    "reddit_user_agent",
]

MAX_PAGE_SIZE = 1000  # the spec's `page.size` maximum on campaign-management lists
FundingMode = Literal["ACTIVE", "INACTIVE", "UPCOMING", "SELECTABLE", "ALL"]


def reddit_user_agent(app_id: str, version: str, username: str, platform: str = "python") -> str:
    """The User-Agent Reddit asks for: `{platform}:{app id}:{version} (by /u/{user})`.
    Generic agents are "drastically limited", so every call sends one of these."""
    return f"{platform}:{app_id}:{version} (by /u/{username})"


def shared_http_client(
    user_agent: str, *, timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The HTTP client (connection pool) Reddit Ads calls go through; no credentials in it."""
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent, "Accept": "application/json"},
        timeout=timeout,
        transport=instrumented("reddit", transport),
    )


class TokenProvider(Protocol):
    """Returns the current access token; `force_refresh=True` after a 401 asks for a new one."""

    def __call__(self, *, force_refresh: bool = False) -> Awaitable[str]: ...


class RedditAdsClient(HttpClientOwner):
    """Reddit Ads API v3. Every request carries the current bearer token; a 401 gets one retry
    with a freshly refreshed token. Lists follow `pagination.next_url` to the end."""

    def __init__(
        self,
        base_url: str,
        *,
        token_provider: TokenProvider,
        user_agent: str,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        page_size: int = MAX_PAGE_SIZE,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """With `http` (see `shared_http_client`), requests go through that client — one
        connection pool for every account — and closing this one leaves it open: the account
        is only the bearer token each request carries."""
        if not user_agent.strip():
            raise ValueError("Reddit requires a descriptive User-Agent (see reddit_user_agent)")
        self._base = base_url.rstrip("/")
        self._tokens = token_provider
        self._page_size = page_size
        self._owns_http = http is None
        self._http = http or shared_http_client(user_agent, timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"RedditAdsClient(base_url={self._base!r})"

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # -- the advertiser's world --

    async def get_me(self) -> dict[str, Any]:
        return await self._data("GET", "/me")

    async def list_businesses(self) -> list[dict[str, Any]]:
        return await self._list("/me/businesses")

    async def list_ad_accounts(self, business_id: str) -> list[dict[str, Any]]:
        return await self._list(f"/businesses/{_segment(business_id)}/ad_accounts")

    async def get_ad_account(self, ad_account_id: str) -> dict[str, Any]:
        return await self._data("GET", f"/ad_accounts/{_segment(ad_account_id)}")

    async def list_funding_instruments(
        self, ad_account_id: str, *, mode: FundingMode | None = None
    ) -> list[dict[str, Any]]:
        """Reddit's default `mode` is SELECTABLE: usable now or within 30 days."""
        params = {"mode": mode} if mode else {}
        return await self._list(_account(ad_account_id, "funding_instruments"), params)

    async def list_pixels(self, ad_account_id: str) -> list[dict[str, Any]]:
        return await self._list(_account(ad_account_id, "pixels"))

    async def list_profiles(self, ad_account_id: str) -> list[dict[str, Any]]:
        return await self._list(_account(ad_account_id, "profiles"))

    # -- campaigns, ad groups, ads --

    async def create_campaign(self, ad_account_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return await self._data("POST", _account(ad_account_id, "campaigns"), data)

    async def get_campaign(self, campaign_id: str) -> dict[str, Any]:
        return await self._data("GET", f"/campaigns/{_segment(campaign_id)}")

    async def update_campaign(self, campaign_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH only the fields that change, e.g. `{"configured_status": "PAUSED"}`."""
        return await self._data("PATCH", f"/campaigns/{_segment(campaign_id)}", changes)

    async def list_campaigns(
        self, ad_account_id: str, *, ids: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        return await self._list(_account(ad_account_id, "campaigns"), _joined(id=ids))

    async def create_ad_group(self, ad_account_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return await self._data("POST", _account(ad_account_id, "ad_groups"), data)

    async def get_ad_group(self, ad_group_id: str) -> dict[str, Any]:
        return await self._data("GET", f"/ad_groups/{_segment(ad_group_id)}")

    async def update_ad_group(self, ad_group_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        return await self._data("PATCH", f"/ad_groups/{_segment(ad_group_id)}", changes)

    async def list_ad_groups(
        self, ad_account_id: str, *, campaign_id: str | None = None
    ) -> list[dict[str, Any]]:
        params = {"campaign_id": campaign_id} if campaign_id else {}
        return await self._list(_account(ad_account_id, "ad_groups"), params)

    async def create_ad(self, ad_account_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return await self._data("POST", _account(ad_account_id, "ads"), data)

    async def get_ad(self, ad_id: str) -> dict[str, Any]:
        return await self._data("GET", f"/ads/{_segment(ad_id)}")

    async def update_ad(self, ad_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        return await self._data("PATCH", f"/ads/{_segment(ad_id)}", changes)

    async def list_ads(
        self,
        ad_account_id: str,
        *,
        ad_group_ids: Sequence[str] | None = None,
        campaign_ids: Sequence[str] | None = None,
        configured_statuses: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        params = _joined(
            ad_group_id=ad_group_ids,
            campaign_id=campaign_ids,
            configured_status=configured_statuses,
        )
        return await self._list(_account(ad_account_id, "ads"), params)

    # -- posts (the ad's headline, body and destination live here) --

    async def create_post(self, profile_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return await self._data("POST", f"/profiles/{_segment(profile_id)}/posts", data)

    async def get_post(self, post_id: str) -> dict[str, Any]:
        return await self._data("GET", f"/posts/{_segment(post_id)}")

    async def update_post(self, post_id: str, *, allow_comments: bool) -> dict[str, Any]:
        """The only change a post takes: its copy is immutable after creation."""
        changes = {"allow_comments": allow_comments}
        return await self._data("PATCH", f"/posts/{_segment(post_id)}", changes)

    async def list_posts(self, profile_id: str) -> list[dict[str, Any]]:
        # The posts list caps page.size at 100, unlike the campaign-management lists.
        path = f"/profiles/{_segment(profile_id)}/posts"
        return await self._list(path, {"page.size": str(min(self._page_size, 100))})

    # -- reporting --

    async def report(
        self, ad_account_id: str, data: Mapping[str, Any], *, page_size: int | None = None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """`POST /ad_accounts/{id}/reports`, page after page: each page's `metrics` rows. The
        next page is `pagination.next_url` as given, POSTed with the same body again (Reddit
        answers 400 without it). Tolerates `data` as a list of `{metrics}` (seen in the wild)."""
        path = _account(ad_account_id, "reports")
        url: str | None = self._base + path
        size = min(page_size or self._page_size, MAX_PAGE_SIZE)
        query: dict[str, str] | None = {"page.size": str(size)}
        body = {"data": dict(data)}
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)
            answer = await self._call("POST", url, json=body, params=query)
            rows = _report_rows(answer)
            if rows is None:
                raise malformed(f"POST {path}", "expected {data: {metrics: [...]}, pagination}")
            yield rows
            pagination = answer.get("pagination") if isinstance(answer, dict) else None
            url, query = self._next(pagination if isinstance(pagination, dict) else {}, path), None

    # -- plumbing --

    async def paginate(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every item of a list, page after page, following `pagination.next_url` as given."""
        url: str | None = self._base + path
        query: dict[str, str] | None = {"page.size": str(self._page_size), **(params or {})}
        seen: set[str] = set()
        while url is not None and url not in seen:
            seen.add(url)  # a server that repeats its next_url must not loop us forever
            body = await self._call("GET", url, params=query)
            data, pagination = _list_envelope(body)
            if data is None:
                raise malformed(f"GET {path}", "expected {data: [...], pagination}")
            for item in data:
                yield item
            url, query = self._next(pagination, path), None

    async def _list(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        return [item async for item in self.paginate(path, params)]

    async def _data(
        self, method: str, path: str, data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send `{"data": data}` (POST/PATCH); the object in the answer's `data`."""
        payload = {"data": dict(data)} if data is not None else None
        body = await self._call(method, self._base + path, json=payload)
        obj = body.get("data") if isinstance(body, dict) else None
        if not isinstance(obj, dict):
            raise malformed(f"{method} {path}", "expected {data: {...}}")
        return obj

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """One request, retried once with a refreshed token if Reddit says 401."""
        request = f"{method} {urlsplit(url).path}"
        token = await self._tokens(force_refresh=False)
        used = [token]
        response = await self._send(method, url, token, json, params, request, used)
        if response.status_code == 401:
            token = await self._tokens(force_refresh=True)
            used.append(token)
            response = await self._send(method, url, token, json, params, request, used)
        body = json_or_none(response)
        if response.is_success and body is not None:
            return body
        if response.is_success:
            error: PlatformError = RetryableError(
                "the response body is not JSON",
                platform=PLATFORM,
                status_code=response.status_code,
                request=request,
            )
        else:
            details = body if body is not None else response.text[:500]
            error = classify_reddit_error(
                response.status_code, details, response.headers, request=request
            )
        raise redacted(error, *used)

    async def _send(
        self,
        method: str,
        url: str,
        token: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        request: str,
        used: Sequence[str],
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        try:
            return await self._http.request(method, url, json=json, params=params, headers=headers)
        except httpx.TransportError as exc:
            error = classify_transport_error(exc, PLATFORM, request=request)
            raise redacted(error, *used) from exc

    def _next(self, pagination: Mapping[str, Any], path: str) -> str | None:
        """The next page's URL, if on the API's own origin: the bearer token goes with it."""
        next_url = pagination.get("next_url")
        if not next_url:
            return None
        if not isinstance(next_url, str) or _origin(next_url) != _origin(self._base):
            raise malformed(f"GET {path}", "pagination.next_url leaves the API's origin")
        return next_url


def _list_envelope(body: Any) -> tuple[list[dict[str, Any]] | None, Mapping[str, Any]]:
    data = body.get("data") if isinstance(body, dict) else None
    pagination = body.get("pagination") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return None, {}
    items = [item for item in data if isinstance(item, dict)]
    return items, pagination if isinstance(pagination, dict) else {}


def _report_rows(answer: Any) -> list[dict[str, Any]] | None:
    data = answer.get("data") if isinstance(answer, dict) else None
    if isinstance(data, list):  # [{metrics: [...]}] (GON #2)
        data = next((d for d in data if isinstance(d, dict)), {"metrics": []})
    metrics = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(metrics, list):
        return None
    return [row for row in metrics if isinstance(row, dict)]


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _segment(value: str) -> str:
    """One URL path segment: an id can never reach another path."""
    return quote(str(value), safe="")


def _account(ad_account_id: str, collection: str) -> str:
    return f"/ad_accounts/{_segment(ad_account_id)}/{collection}"


def _joined(**filters: Sequence[str] | None) -> dict[str, str]:
    """List filters as Reddit takes them: comma-joined (form style, explode false)."""
    return {name: ",".join(values) for name, values in filters.items() if values}
