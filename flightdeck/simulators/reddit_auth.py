"""Reddit's OAuth2 as the simulator keeps it (reddit-ads-api.md §1): registered apps,
authorization codes (optionally PKCE-bound), access tokens that expire, and refresh tokens
that rotate.

- A code is single-use and lives 10 minutes; a `temporary` grant gets no refresh token.
- Refreshing revokes the refresh token used and returns a new one (Reddit "may" rotate since
  2021; the simulator always does, the strictest case for a client).
- A used, revoked or unknown code or refresh token is `invalid_grant`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

ACCESS_TOKEN_TTL = 3600.0  # `expires_in` Reddit returns
CODE_TTL = 600.0
# The spec's four scopes, plus the two Reddit's auth guide also accepts.
KNOWN_SCOPES = frozenset(
    {"adsread", "adsedit", "adsconversions", "adsdatadeletion", "history", "read"}
)
PKCE_METHODS = frozenset({"S256", "plain"})


class GrantError(Exception):
    """A refused token request: OAuth's `error` code and the HTTP status to answer with."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass
class OAuthApp:
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    access_token_ttl: float = ACCESS_TOKEN_TTL

    def to_json(self) -> dict[str, Any]:
        """The app without its secret."""
        return {
            "clientId": self.client_id,
            "redirectUri": self.redirect_uri,
            "accessTokenTtlSeconds": self.access_token_ttl,
        }


@dataclass(frozen=True)
class Grant:
    """What a user allowed an app to do; every code and token stands for one."""

    client_id: str
    username: str
    scopes: frozenset[str]
    permanent: bool = True

    @property
    def user_id(self) -> str:
        """A stable `t2_…` id for the username (Reddit account ids are short base36)."""
        return "t2_" + hashlib.sha256(self.username.encode()).hexdigest()[:8]


@dataclass
class _Code:
    grant: Grant
    redirect_uri: str | None
    challenge: str | None
    method: str
    expires_at: float
    used: bool = False


@dataclass
class _AccessToken:
    grant: Grant
    expires_at: float


@dataclass
class _RefreshToken:
    grant: Grant
    revoked: bool = False


_Entry = TypeVar("_Entry", _AccessToken, _RefreshToken)


def parse_scopes(value: str) -> frozenset[str]:
    """Scopes space- or comma-separated: which one Reddit takes is UNCONFIRMED, so both."""
    scopes = frozenset(s for s in re.split(r"[\s,]+", value) if s)
    unknown = scopes - KNOWN_SCOPES
    if not scopes or unknown:
        raise GrantError("invalid_scope")
    return scopes


class OAuthStore:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.apps: dict[str, OAuthApp] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}

    def reset(self) -> None:
        for registry in (self.apps, self._codes, self._access, self._refresh):
            registry.clear()

    def register(self, app: OAuthApp) -> None:
        self.apps[app.client_id] = app

    def authenticate(self, client_id: str, client_secret: str) -> OAuthApp | None:
        app = self.apps.get(client_id)
        if app is None or not secrets.compare_digest(
            app.client_secret.encode(), client_secret.encode()
        ):
            return None
        return app

    def mint_code(
        self,
        grant: Grant,
        *,
        redirect_uri: str | None = None,
        challenge: str | None = None,
        method: str = "S256",
    ) -> str:
        if method not in PKCE_METHODS:
            raise GrantError("invalid_request")
        code = secrets.token_urlsafe(24)
        expires_at = self._clock() + CODE_TTL
        self._codes[code] = _Code(grant, redirect_uri, challenge, method, expires_at)
        return code

    def exchange_code(
        self, app: OAuthApp, code: str, redirect_uri: str | None, verifier: str | None
    ) -> dict[str, Any]:
        entry = self._codes.get(code)
        if entry is None or entry.used or entry.expires_at <= self._clock():
            raise GrantError("invalid_grant")
        entry.used = True  # even a failed exchange burns the code, as OAuth servers do
        if entry.grant.client_id != app.client_id:
            raise GrantError("invalid_grant")
        if entry.redirect_uri is not None and redirect_uri != entry.redirect_uri:
            raise GrantError("invalid_grant")
        if entry.challenge is not None and not _pkce_ok(entry.challenge, entry.method, verifier):
            raise GrantError("invalid_grant")
        return self.issue(app, entry.grant)

    def refresh(self, app: OAuthApp, refresh_token: str) -> dict[str, Any]:
        entry = self._refresh.get(refresh_token)
        if entry is None or entry.revoked or entry.grant.client_id != app.client_id:
            raise GrantError("invalid_grant")
        entry.revoked = True  # rotation: the old refresh token is dead from now on
        return self.issue(app, entry.grant)

    def issue(self, app: OAuthApp, grant: Grant) -> dict[str, Any]:
        """A token response: a new access token, and a refresh token for a permanent grant."""
        access = secrets.token_urlsafe(32)
        self._access[access] = _AccessToken(grant, self._clock() + app.access_token_ttl)
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(app.access_token_ttl),
            "scope": " ".join(sorted(grant.scopes)),
        }
        if grant.permanent:
            refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = _RefreshToken(grant)
            answer["refresh_token"] = refresh
        return answer

    def caller(self, access_token: str) -> Grant | None:
        """The grant behind a live access token; None when unknown or expired."""
        entry = self._access.get(access_token)
        if entry is None or entry.expires_at <= self._clock():
            return None
        return entry.grant

    def expire(self, access_token: str | None = None) -> int:
        """Expire one access token, or every one; how many were live."""
        now = self._clock()
        live = [t for t in self._selected(self._access, access_token) if t.expires_at > now]
        for entry in live:
            entry.expires_at = now
        return len(live)

    def revoke(self, refresh_token: str | None = None) -> int:
        """Revoke one refresh token, or every one; how many were live."""
        live = [t for t in self._selected(self._refresh, refresh_token) if not t.revoked]
        for entry in live:
            entry.revoked = True
        return len(live)

    def summary(self) -> dict[str, Any]:
        now = self._clock()
        return {
            "apps": [app.to_json() for app in self.apps.values()],
            "liveAccessTokens": sum(t.expires_at > now for t in self._access.values()),
            "liveRefreshTokens": sum(not t.revoked for t in self._refresh.values()),
        }

    @staticmethod
    def _selected(registry: dict[str, _Entry], key: str | None) -> list[_Entry]:
        if key is None:
            return list(registry.values())
        return [registry[key]] if key in registry else []


def _pkce_ok(challenge: str, method: str, verifier: str | None) -> bool:
    if not verifier:
        return False
    if method == "plain":
        return secrets.compare_digest(verifier, challenge)
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(expected, challenge)
