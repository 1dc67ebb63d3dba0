"""The Google Ads simulator's state beyond its stored objects (google-ads-api.md §1, §5, §6):
OAuth clients (each a Cloud project with an access level) with their codes and tokens, the
users and which customers they reach, the daily operation counter per Cloud project, the
per-customer rate limit, id sequences, and the seeded world: a manager account with one client
account under it, and an owner who reaches the client directly.

Google does not rotate refresh tokens: a refresh answers a new access token only, and the
refresh token lives until revoked (a consent screen in "Testing" kills it after 7 days:
`invalid_grant`, which the admin surface's revoke reproduces).

Kept free of `state.py` imports so `SimulatorState` can hold a `GoogleAdsRuntime`.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OBJECT_TYPES = (
    "customers",
    "campaignBudgets",
    "campaigns",
    "adGroups",
    "adGroupAds",
    "adGroupCriteria",
    "labels",
    "adGroupAdLabels",
    "changeEvents",
)

SCOPE = "https://www.googleapis.com/auth/adwords"
ACCESS_TOKEN_TTL = 3599.0  # what Google's token endpoint answers as `expires_in`
CODE_TTL = 600.0
DAY_SECONDS = 86_400.0

# Daily operations per Cloud project by access level ([DOC docs/api-policy/access-levels]);
# None = unlimited. Test access only reaches test accounts.
ACCESS_LEVELS: dict[str, int | None] = {
    "TEST": 15_000,
    "EXPLORER": 2_880,
    "BASIC": 15_000,
    "STANDARD": None,
}
EXPLORER_TEST_ACCOUNT_LIMIT = 15_000

# The seeded world (stable ids, so tests and dev tooling can name them).
MANAGER_CUSTOMER_ID = "1111111111"
CLIENT_CUSTOMER_ID = "1234567890"
AGENCY_USER = "flightdeck.test@example.com"  # reaches the client through the manager
OWNER_USER = "owner@example.com"  # reaches the client directly
UI_USER = "someone.else@example.com"  # who edits in the Google Ads UI (/_sim/google/ui-edit)
FIRST_ID = 20_000_000_001


def google_time(at: datetime | None = None) -> str:
    """`yyyy-MM-dd HH:mm:ss.ffffff` (change_event.change_date_time), in UTC: the account's
    time zone is what Google uses, UNCONFIRMED (google-ads-api.md §8.10)."""
    return (at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class GoogleApp:
    """An OAuth client, i.e. a Cloud project with its Google Ads API access level."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str
    access_level: str = "BASIC"
    access_token_ttl: float = ACCESS_TOKEN_TTL

    def to_json(self) -> dict[str, Any]:
        return {
            "clientId": self.client_id,
            "redirectUri": self.redirect_uri,
            "accessLevel": self.access_level,
            "accessTokenTtlSeconds": self.access_token_ttl,
        }


@dataclass(frozen=True)
class GoogleGrant:
    client_id: str
    email: str
    scopes: frozenset[str]


@dataclass
class _Code:
    grant: GoogleGrant
    redirect_uri: str
    challenge: str | None
    offline: bool
    expires_at: float
    used: bool = False


@dataclass
class _Token:
    grant: GoogleGrant
    expires_at: float = float("inf")
    revoked: bool = False


class TokenError(Exception):
    """A refused token request: OAuth's `error` (and `error_description`)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.description = description
        self.status = status


@dataclass
class GoogleOAuth:
    apps: dict[str, GoogleApp] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    access: dict[str, _Token] = field(default_factory=dict)
    refresh: dict[str, _Token] = field(default_factory=dict)

    def reset(self) -> None:
        for registry in (self.apps, self.codes, self.access, self.refresh):
            registry.clear()

    def authenticate(self, client_id: str, secret: str) -> GoogleApp | None:
        app = self.apps.get(client_id)
        if app is None or not secrets.compare_digest(app.client_secret, secret):
            return None
        return app

    def mint_code(
        self, grant: GoogleGrant, redirect_uri: str, challenge: str | None, *, offline: bool
    ) -> str:
        """A code as consent gives it; only `access_type=offline` earns a refresh token."""
        code = "4/" + secrets.token_urlsafe(24)
        self.codes[code] = _Code(grant, redirect_uri, challenge, offline, time.time() + CODE_TTL)
        return code

    def exchange(
        self, app: GoogleApp, code: str, redirect_uri: str | None, verifier: str | None
    ) -> dict[str, Any]:
        entry = self.codes.get(code)
        if entry is None or entry.used or entry.expires_at <= time.time():
            raise TokenError("invalid_grant", "Malformed auth code.")
        entry.used = True
        if entry.grant.client_id != app.client_id or redirect_uri != entry.redirect_uri:
            raise TokenError("invalid_grant", "Bad Request")
        if entry.challenge is not None and not _pkce_ok(entry.challenge, verifier):
            raise TokenError("invalid_grant", "Missing code verifier.")
        answer = self.issue(app, entry.grant)
        if entry.offline:
            answer["refresh_token"] = self.new_refresh_token(entry.grant)
        return answer

    def new_refresh_token(self, grant: GoogleGrant) -> str:
        refresh = "1//" + secrets.token_urlsafe(32)
        self.refresh[refresh] = _Token(grant)
        return refresh

    def renew(self, app: GoogleApp, refresh_token: str) -> dict[str, Any]:
        entry = self.refresh.get(refresh_token)
        if entry is None or entry.revoked or entry.grant.client_id != app.client_id:
            raise TokenError("invalid_grant", "Token has been expired or revoked.")
        return self.issue(app, entry.grant)  # no rotation: the refresh token stays

    def issue(self, app: GoogleApp, grant: GoogleGrant) -> dict[str, Any]:
        token = "ya29." + secrets.token_urlsafe(32)
        self.access[token] = _Token(grant, time.time() + app.access_token_ttl)
        return {
            "access_token": token,
            "expires_in": int(app.access_token_ttl),
            "scope": " ".join(sorted(grant.scopes)),
            "token_type": "Bearer",
        }

    def caller(self, token: str) -> tuple[GoogleGrant | None, str]:
        """The grant behind a bearer token, else why not (authenticationError enum)."""
        entry = self.access.get(token)
        if entry is None:
            return None, "OAUTH_TOKEN_INVALID"
        if entry.revoked:
            return None, "OAUTH_TOKEN_REVOKED"
        if entry.expires_at <= time.time():
            return None, "OAUTH_TOKEN_EXPIRED"
        return entry.grant, ""

    def expire(self, token: str | None) -> int:
        now = time.time()
        chosen = [self.access[token]] if token in self.access else []
        live = [t for t in (chosen if token else self.access.values()) if t.expires_at > now]
        for entry in live:
            entry.expires_at = now
        return len(live)

    def revoke(self, token: str | None) -> int:
        chosen = [self.refresh[token]] if token in self.refresh else []
        live = [t for t in (chosen if token else self.refresh.values()) if not t.revoked]
        for entry in live:
            entry.revoked = True
        return len(live)

    def summary(self) -> dict[str, Any]:
        now = time.time()
        return {
            "apps": [app.to_json() for app in self.apps.values()],
            "liveAccessTokens": sum(t.expires_at > now for t in self.access.values()),
            "liveRefreshTokens": sum(not t.revoked for t in self.refresh.values()),
        }


@dataclass
class Rejection:
    """One operation-level refusal (`/_sim/google/rejections`): `remaining` None is for ever."""

    contains: str
    family: str
    code: str
    message: str
    remaining: int | None = None


@dataclass
class GoogleAdsRuntime:
    oauth: GoogleOAuth = field(default_factory=GoogleOAuth)
    # user email -> customer ids the user was granted directly.
    users: dict[str, set[str]] = field(default_factory=dict)
    # Cloud project (OAuth client id) -> (time, operations) of the last 24 h.
    daily_operations: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    # customer id -> operations per minute before RESOURCE_TEMPORARILY_EXHAUSTED (None: off).
    operations_per_minute: int | None = None
    # The window that rate counts over (60 s; tests shorten it to see a retryDelay honoured).
    rate_window_seconds: float = 60.0
    minute_windows: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    page_size: int = 10_000  # fixed since v17; the admin surface may lower it for tests
    # Operations Google refuses whatever they say (its policy checks, e.g. a trademarked
    # keyword): a create whose JSON contains `contains` fails with `errorCode`.
    rejections: list[Rejection] = field(default_factory=list)
    _next_id: int = FIRST_ID
    _event_sequence: int = 0

    def new_id(self) -> str:
        number = self._next_id
        self._next_id += 1
        return str(number)

    def new_event_number(self) -> int:
        self._event_sequence += 1
        return self._event_sequence

    def reset(self, objects: dict[str, dict[str, dict[str, Any]]]) -> None:
        self.oauth.reset()
        self.daily_operations.clear()
        self.minute_windows.clear()
        self.operations_per_minute = None
        self.rate_window_seconds = 60.0
        self.page_size = 10_000
        self.rejections.clear()
        seed_world(self, objects)

    # -- quotas --

    def daily_limit(self, app: GoogleApp, test_account: bool) -> int | None:
        if test_account and app.access_level in ("EXPLORER", "TEST"):
            return EXPLORER_TEST_ACCOUNT_LIMIT
        return ACCESS_LEVELS.get(app.access_level)

    def take_daily(self, client_id: str, operations: int, limit: int | None) -> bool:
        """Count `operations` against the project's sliding 24 h; False when over the cap."""
        window = self.daily_operations.setdefault(client_id, deque())
        now = time.time()
        while window and window[0][0] <= now - DAY_SECONDS:
            window.popleft()
        used = sum(count for _, count in window)
        if limit is not None and used + operations > limit:
            return False
        window.append((now, operations))
        return True

    def take_rate(self, customer_id: str, operations: int) -> float | None:
        """None when allowed; else the seconds until the minute window has room."""
        if self.operations_per_minute is None:
            return None
        window = self.minute_windows.setdefault(customer_id, deque())
        now = time.monotonic()
        span = self.rate_window_seconds
        while window and window[0][0] <= now - span:
            window.popleft()
        used = sum(count for _, count in window)
        if used + operations > self.operations_per_minute:
            return max(1.0, span - (now - window[0][0])) if window else span
        window.append((now, operations))
        return None


def seed_world(runtime: GoogleAdsRuntime, objects: dict[str, dict[str, dict[str, Any]]]) -> None:
    """A manager account with one client under it, and the users who reach them."""
    customers = objects["customers"]
    customers[MANAGER_CUSTOMER_ID] = {
        "resourceName": f"customers/{MANAGER_CUSTOMER_ID}",
        "id": MANAGER_CUSTOMER_ID,
        "descriptiveName": "Flightdeck Test Manager",
        "currencyCode": "USD",
        "timeZone": "America/New_York",
        "manager": True,
        "testAccount": False,
        "status": "ENABLED",
        "_clients": [CLIENT_CUSTOMER_ID],
    }
    customers[CLIENT_CUSTOMER_ID] = {
        "resourceName": f"customers/{CLIENT_CUSTOMER_ID}",
        "id": CLIENT_CUSTOMER_ID,
        "descriptiveName": "Flightdeck Test Account",
        "currencyCode": "USD",
        "timeZone": "America/New_York",
        "manager": False,
        "testAccount": False,
        "status": "ENABLED",
        "_clients": [],
    }
    runtime.users = {AGENCY_USER: {MANAGER_CUSTOMER_ID}, OWNER_USER: {CLIENT_CUSTOMER_ID}}


def _pkce_ok(challenge: str, verifier: str | None) -> bool:
    import base64
    import hashlib

    if not verifier:
        return False
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return secrets.compare_digest(expected, challenge)
