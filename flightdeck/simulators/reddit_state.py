"""The Reddit simulator's state beyond its stored objects: OAuth, rate-limit windows, id
sequences, and the pre-existing world a test user finds (a business with one ad account, its
funding instruments, pixel and profile), re-created by every reset.

Kept free of `state.py` imports so `SimulatorState` can hold a `RedditRuntime`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flightdeck.simulators.reddit_auth import OAuthStore
from flightdeck.simulators.reddit_ratelimit import RateLimiter
from flightdeck.simulators.reddit_spec import reddit_spec

OBJECT_TYPES = (
    "businesses",
    "ad_accounts",
    "funding_instruments",
    "pixels",
    "profiles",
    "campaigns",
    "ad_groups",
    "ads",
    "posts",
)

# The seeded world (stable ids, so tests and dev tooling can name them).
BUSINESS_ID = "5f0c9d1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f"
AD_ACCOUNT_ID = "a2_fd0001"
FUNDING_INSTRUMENT_ID = "700000000001"  # servable card: the one to put on campaigns
EXPIRED_FUNDING_INSTRUMENT_ID = "700000000002"
UPCOMING_FUNDING_INSTRUMENT_ID = "700000000003"
PIXEL_ID = "t2_fdpixel1"
PROFILE_ID = "t2_fdbrand1"
PROFILE_NAME = "FlightdeckBrand"

# Reddit's numeric ids are 18-19 digit strings (the spec's examples: 579922433862993631).
FIRST_NUMERIC_ID = 1_900_000_000_000_000_001
FIRST_POST_NUMBER = 36**6  # post ids are base36: t3_1000000 onwards


def reddit_time(at: datetime | None = None) -> str:
    """ISO 8601 in UTC with a `Z`. Microseconds are kept (the real precision is unknown) so
    that two changes within a second still order by `modified_at`."""
    moment = at or datetime.now(UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


@dataclass
class RedditRuntime:
    oauth: OAuthStore = field(default_factory=OAuthStore)
    limits: RateLimiter = field(
        default_factory=lambda: RateLimiter(reddit_spec().default_policies())
    )
    # Hosted media (what i.redd.it serves): id -> (content type, bytes).
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    # Sequences survive reset(), like the other simulators': an id never names two objects.
    _next_numeric_id: int = FIRST_NUMERIC_ID
    _next_post_number: int = FIRST_POST_NUMBER

    def new_id(self) -> str:
        object_id = str(self._next_numeric_id)
        self._next_numeric_id += 1
        return object_id

    def new_post_id(self) -> str:
        number = self._next_post_number
        self._next_post_number += 1
        return f"t3_{base36(number)}"

    def reset(self, objects: dict[str, dict[str, dict[str, Any]]]) -> None:
        """Forget apps, tokens, windows and overrides; put the seeded world back."""
        self.oauth.reset()
        self.limits.reset()
        self.media.clear()
        seed_world(objects)


def seed_world(objects: dict[str, dict[str, dict[str, Any]]]) -> None:
    """The objects a Reddit advertiser already has before Flightdeck creates anything."""
    now = datetime.now(UTC)
    stamp = reddit_time(now)
    created = {"created_at": stamp, "modified_at": stamp}
    objects["businesses"][BUSINESS_ID] = {
        "id": BUSINESS_ID,
        "name": "Flightdeck Test Business",
        "industry": "TECH_B2B",
        "country": "US",
        "agency_affiliated": False,
        **created,
    }
    objects["ad_accounts"][AD_ACCOUNT_ID] = {
        "id": AD_ACCOUNT_ID,
        "name": "Flightdeck Test Account",
        "business_id": BUSINESS_ID,
        "currency": "USD",
        "time_zone_id": "America/New_York",
        "admin_approval": "VALID",
        "attribution_type": "ALL_CONVERSION",
        "click_attribution_window": "MONTH",
        **created,
    }
    for instrument in _funding_instruments(now):
        objects["funding_instruments"][instrument["id"]] = instrument
    objects["pixels"][PIXEL_ID] = {
        "id": PIXEL_ID,
        "name": "Flightdeck Pixel",
        "business_id": BUSINESS_ID,
        "ad_account_id": AD_ACCOUNT_ID,
        **created,
    }
    objects["profiles"][PROFILE_ID] = {
        "id": PROFILE_ID,
        "name": PROFILE_NAME,
        "reddit_user_id": PROFILE_ID,
        "business_id": BUSINESS_ID,
        "ad_account_id": AD_ACCOUNT_ID,
        "modified_at": stamp,
    }


def _funding_instruments(now: datetime) -> list[dict[str, Any]]:
    """One servable card, one credit line that ended, one that starts in ten days: enough for
    each `mode` of the list call to answer differently."""

    def instrument(object_id: str, name: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": object_id,
            "name": name,
            "currency": "USD",
            "credit_limit": 0,
            "billable_amount": 0,
            "start_time": None,
            "end_time": None,
            "is_servable": True,
            "reasons_not_servable": [],
            "ad_account_id": AD_ACCOUNT_ID,
            **fields,
        }

    return [
        instrument(FUNDING_INSTRUMENT_ID, "Visa ending in 4242"),
        instrument(
            EXPIRED_FUNDING_INSTRUMENT_ID,
            "Q2 credit line",
            credit_limit=5_000_000_000,
            start_time=reddit_time(now - timedelta(days=120)),
            end_time=reddit_time(now - timedelta(days=30)),
            is_servable=False,
            reasons_not_servable=["DATES_OUT_OF_RANGE"],
        ),
        instrument(
            UPCOMING_FUNDING_INSTRUMENT_ID,
            "Next quarter credit line",
            credit_limit=5_000_000_000,
            start_time=reddit_time(now + timedelta(days=10)),
            is_servable=False,
            reasons_not_servable=["DATES_OUT_OF_RANGE"],
        ),
    ]
