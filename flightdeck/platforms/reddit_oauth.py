"""Reddit's OAuth2 (reddit-ads-api.md §1): the authorize URL, the code exchange (with PKCE)
and refresh, at the token endpoint `https://www.reddit.com/api/v1/access_token` (form-encoded,
HTTP Basic client_id:secret). Also the small helpers the Ads client shares.

Refused grants are classified in `platforms.errors.classify_reddit_oauth_error`; a dead refresh
token is `RefreshTokenInvalid`. No error shows the secret, code, verifier or tokens.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import httpx

from flightdeck.observability.http import instrumented
from flightdeck.platforms.errors import (
    NonRetryableError,
    PlatformError,
    RetryableError,
    classify_reddit_oauth_error,
    classify_transport_error,
)
from flightdeck.platforms.http import HttpClientOwner

PLATFORM = "reddit"
DEFAULT_SCOPES = ("adsread", "adsedit")


@dataclass(frozen=True)
class TokenSet:
    """An access token, its expiry and (for a permanent grant) the refresh token to use next."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime
    scopes: frozenset[str]
    token_type: str = "bearer"

    def expires_within(self, seconds: float, now: datetime | None = None) -> bool:
        """Whether to refresh now ([CAM] refreshes 60 s before expiry)."""
        return (now or datetime.now(UTC)) + timedelta(seconds=seconds) >= self.expires_at


def new_code_verifier() -> str:
    """A PKCE code verifier (RFC 7636: 43-128 characters from the unreserved set)."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    """The S256 challenge for `verifier`."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class RedditOAuthClient(HttpClientOwner):
    """Reddit's authorize URL and token endpoint (`https://www.reddit.com` in production)."""

    def __init__(
        self,
        token_url_base: str,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        user_agent: str = "python:flightdeck:v0.1.0",
    ) -> None:
        self._base = token_url_base.rstrip("/")
        self._client_id = client_id
        self._secret = client_secret
        self._http = httpx.AsyncClient(
            auth=httpx.BasicAuth(client_id, client_secret),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=timeout,
            transport=instrumented("reddit-oauth", transport),
        )

    def __repr__(self) -> str:
        return f"RedditOAuthClient(base={self._base!r}, client_id={self._client_id!r})"

    def authorize_url(
        self,
        state: str,
        code_challenge: str,
        redirect_uri: str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        *,
        duration: Literal["permanent", "temporary"] = "permanent",
    ) -> str:
        """Where to send the user to consent. `permanent` is what yields a refresh token; scopes
        go space-separated, as the public clients send them (the separator is UNCONFIRMED)."""
        query = {
            "client_id": self._client_id,
            "response_type": "code",
            "state": state,
            "redirect_uri": redirect_uri,
            "duration": duration,
            "scope": " ".join(scopes),
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._base}/api/v1/authorize?{urlencode(query)}"

    async def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return await self._token(form, previous_refresh=None, sensitive=(code, code_verifier))

    async def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens. Reddit may rotate the refresh token: use the returned one from now on
        (when the answer has none, the old one stays valid and is returned)."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return await self._token(form, previous_refresh=refresh_token, sensitive=(refresh_token,))

    async def _token(
        self, form: dict[str, str], *, previous_refresh: str | None, sensitive: Sequence[str]
    ) -> TokenSet:
        request = f"POST /api/v1/access_token ({form['grant_type']})"
        hidden = (self._secret, *sensitive)
        try:
            response = await self._http.post(f"{self._base}/api/v1/access_token", data=form)
        except httpx.TransportError as exc:
            error = classify_transport_error(exc, PLATFORM, request=request)
            raise redacted(error, *hidden) from exc
        body = json_or_none(response)
        if response.is_success and isinstance(body, dict) and "error" not in body:
            tokens = _token_set(body, previous_refresh)
            if tokens is None:
                raise malformed(request, "no access_token and expires_in")
            return tokens
        raise redacted(self._classify(response, body, request, previous_refresh), *hidden)

    @staticmethod
    def _classify(
        response: httpx.Response, body: Any, request: str, previous_refresh: str | None
    ) -> PlatformError:
        if response.is_success and body is None:
            return RetryableError(
                "the token response is not JSON",
                platform=PLATFORM,
                status_code=response.status_code,
                request=request,
            )
        # Reddit's own client (prawcore) looks for `error` in 200 answers too: judge as a 400.
        status = 400 if response.is_success else response.status_code
        return classify_reddit_oauth_error(
            status,
            body if body is not None else response.text[:500],
            response.headers,
            refreshing=previous_refresh is not None,
            request=request,
        )


def _token_set(body: Mapping[str, Any], previous_refresh: str | None) -> TokenSet | None:
    access, expires_in = body.get("access_token"), body.get("expires_in")
    if not isinstance(access, str) or not access or not isinstance(expires_in, int | float):
        return None
    refresh = body.get("refresh_token")
    return TokenSet(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) and refresh else previous_refresh,
        expires_at=datetime.now(UTC) + timedelta(seconds=float(expires_in)),
        scopes=frozenset(str(body.get("scope", "")).replace(",", " ").split()),
        token_type=str(body.get("token_type", "bearer")),
    )


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def redacted(error: PlatformError, *sensitive: str) -> PlatformError:
    for secret in sensitive:
        error.redact(secret)
    return error


def malformed(request: str, problem: str) -> NonRetryableError:
    """A 2xx answer that breaks the contract: repeating the call will not fix it."""
    return NonRetryableError(f"unexpected response: {problem}", platform=PLATFORM, request=request)
