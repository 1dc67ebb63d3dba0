"""The Meta side of the simulators' state: Facebook Login apps, users and their tokens, and the
world a user can see (businesses, ad accounts, Pages, Instagram accounts, ad images), plus the
ad-review and quota settings of the Graph simulator.

Ad objects (campaigns, ad sets, creatives, ads) are not here: they live in the shared Facebook
store (`facebook.py`) that the Strategis relay fronts too. A seeded world is always present
(`seed_world`), so `flightdeck dev` and the tests can connect without setting anything up:

    user 10000000000001 "Dana Advertiser"
      business 200000000000001 "Acme Ads"
        act_300000000000001 "Acme Main"        USD, active, card on file
        act_300000000000002 "Acme EU"          EUR, active, card on file
        act_300000000000003 "Acme Disabled"    USD, DISABLED (disable_reason 1)
        act_300000000000004 "Acme No Payment"  USD, active, no funding source
        act_300000000000005 "Acme Unsettled"   USD, UNSETTLED
      page 400000000000001 "Acme Page"         Instagram 500000000000001 @acme.ads
      page 400000000000002 "Acme Second Page"  no Instagram account
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

OBJECT_TYPES = ("users", "businesses", "adaccounts", "pages", "instagram_accounts", "adimages")
DEFAULT_USER = "10000000000001"
SHORT_LIVED_SECONDS = 2 * 3600  # a code exchange yields a short-lived token (~1-2 h)
LONG_LIVED_SECONDS = 5_184_000  # fb_exchange_token: about 60 days (meta-review §3)
DATA_ACCESS_SECONDS = 90 * 86_400
ALL_SCOPES = (
    "ads_management",
    "ads_read",
    "business_management",
    "pages_show_list",
    "pages_read_engagement",
    "instagram_basic",
)

Store = dict[str, dict[str, Any]]


@dataclass
class MetaApp:
    """A Facebook app registered for Facebook Login (`/_sim/meta/apps`)."""

    app_id: str
    app_secret: str
    redirect_uri: str
    require_appsecret_proof: bool = True
    long_lived_seconds: int = LONG_LIVED_SECONDS


@dataclass
class Token:
    """An access token the simulator issued: whose, for which app, with which scopes."""

    kind: str  # "USER" or "PAGE"
    user_id: str
    app_id: str
    scopes: tuple[str, ...]
    expires_at: float  # unix seconds; 0 = never
    issued_at: float
    long_lived: bool = False
    page_id: str | None = None
    revoked: bool = False

    def expired(self, now: float) -> bool:
        return self.revoked or (self.expires_at != 0 and now >= self.expires_at)


@dataclass
class AuthCode:
    app_id: str
    user_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    declined: tuple[str, ...]
    expires_at: float
    used: bool = False


@dataclass
class ReviewRule:
    """How Meta's ad review treats ads whose name contains `name_contains` (None: every ad)."""

    outcome: str = "approve"  # approve | disapprove | with_issues
    delay_seconds: float = 2.0  # a quick review by default, so dev shows PENDING_REVIEW
    name_contains: str | None = None
    feedback: dict[str, str] | None = None


@dataclass
class Quota:
    """ads_management calls allowed per ad account in a sliding window (Graph §4: 300 per hour
    on the development tier, 100,000 + 40 × active ads on the standard tier)."""

    calls_per_window: int = 100_000
    window_seconds: float = 3600.0
    tier: str = "standard_access"


@dataclass
class MetaRuntime:
    apps: dict[str, MetaApp] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    review_rules: list[ReviewRule] = field(default_factory=lambda: [ReviewRule()])
    quota: Quota = field(default_factory=Quota)
    # ad account id (act_…) -> monotonic times of its counted calls in the window
    calls: dict[str, list[float]] = field(default_factory=dict)
    # Requests whose parameters the official SDK would not send as they came (strict check).
    sdk_problems: list[str] = field(default_factory=list)
    _next_id: int = 600_000_000_000_001

    def new_id(self) -> str:
        value = self._next_id
        self._next_id += 1
        return str(value)

    def issue(self, token: Token) -> str:
        """Store `token` under a new opaque string (Graph tokens start EAA…)."""
        value = "EAA" + secrets.token_urlsafe(48)
        self.tokens[value] = token
        return value

    def reset(self, objects: dict[str, Store]) -> None:
        self.apps.clear()
        self.tokens.clear()
        self.codes.clear()
        self.review_rules = [ReviewRule()]
        self.quota = Quota()
        self.calls.clear()
        self.sdk_problems.clear()
        seed_world(objects)


def now() -> float:
    return time.time()


def seed_world(objects: dict[str, Store]) -> None:
    """The seeded Meta world (see the module docstring), replacing whatever was there."""
    for kind in OBJECT_TYPES:
        objects[kind] = {}
    user = {"id": DEFAULT_USER, "name": "Dana Advertiser", "business_ids": ["200000000000001"]}
    objects["users"][DEFAULT_USER] = user
    objects["businesses"]["200000000000001"] = {
        "id": "200000000000001",
        "name": "Acme Ads",
        "verification_status": "verified",
    }
    for number, name, currency, status, funded in (
        (1, "Acme Main", "USD", 1, True),
        (2, "Acme EU", "EUR", 1, True),
        (3, "Acme Disabled", "USD", 2, True),
        (4, "Acme No Payment", "USD", 1, False),
        (5, "Acme Unsettled", "USD", 3, True),
    ):
        add_ad_account(objects, f"30000000000000{number}", name, currency, status, funded)
    add_page(objects, "400000000000001", "Acme Page", instagram=("500000000000001", "acme.ads"))
    add_page(objects, "400000000000002", "Acme Second Page", instagram=None)


def add_ad_account(
    objects: dict[str, Store],
    account_id: str,
    name: str,
    currency: str,
    status: int,
    funded: bool,
    *,
    users: tuple[str, ...] = (DEFAULT_USER,),
    business_id: str = "200000000000001",
) -> dict[str, Any]:
    account: dict[str, Any] = {
        "id": f"act_{account_id}",
        "account_id": account_id,
        "name": name,
        "currency": currency,
        "timezone_name": "America/Los_Angeles",
        "account_status": status,
        "disable_reason": 1 if status == 2 else 0,
        "amount_spent": "0",
        "balance": "0",
        "spend_cap": "0",
        "business": {"id": business_id, "name": "Acme Ads"},
        "funding_source_details": (
            {"id": f"fs{account_id}", "display_string": "Visa *4242", "type": 1} if funded else None
        ),
        "user_tasks": ["MANAGE", "ADVERTISE", "ANALYZE"],
        "users": list(users),
    }
    objects["adaccounts"][account["id"]] = account
    return account


def add_page(
    objects: dict[str, Store],
    page_id: str,
    name: str,
    *,
    instagram: tuple[str, str] | None,
    users: tuple[str, ...] = (DEFAULT_USER,),
) -> dict[str, Any]:
    page: dict[str, Any] = {
        "id": page_id,
        "name": name,
        "category": "Advertising/Marketing",
        "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MANAGE"],
        "users": list(users),
    }
    if instagram is not None:
        ig_id, username = instagram
        page["instagram_business_account"] = {"id": ig_id}
        objects["instagram_accounts"][ig_id] = {"id": ig_id, "username": username, "page": page_id}
    objects["pages"][page_id] = page
    return page
