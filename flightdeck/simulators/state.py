"""The simulators' shared in-memory state: objects by platform and type, id sequences, the
relay's idempotency cache, the request log and the fault plan.

One `SimulatorState` lives on `app.state.sim`; every router reads and mutates it, taking
`lock` around any check-then-write so concurrent requests see a consistent store.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from flightdeck.settings import DEV_STRATEGIS_API_KEY
from flightdeck.simulators import google_ads_state, meta_state, reddit_index, reddit_state
from flightdeck.simulators.faults import FaultPlan
from flightdeck.simulators.performance import PerformanceRuntime

# platform -> object types it stores. The admin surface is generic over this mapping, so a new
# simulated platform only adds an entry here (and its router).
OBJECT_TYPES: dict[str, tuple[str, ...]] = {
    "strategis": ("templates", "campaigns"),
    "facebook": ("campaigns", "adsets", "adcreatives", "ads"),
    "reddit": reddit_state.OBJECT_TYPES,
    # Meta's world seen through Graph (users, ad accounts, Pages …); its ad objects are the
    # "facebook" ones above, shared with the relay.
    "meta": meta_state.OBJECT_TYPES,
    # Google Ads (google_ads.py): objects keyed by resource name, as the API names them.
    "google": google_ads_state.OBJECT_TYPES,
}


# Where a platform records an object's last change, and its clock in the platform's format:
# platform-side edits (`PATCH /_sim/state/...`) move it as the platform itself would.
def _graph_time() -> str:
    """Graph's `updated_time` format (as `facebook.graph_time`, which imports this module)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


MODIFIED_AT: dict[str, tuple[str, Callable[[], str]]] = {
    "reddit": ("modified_at", reddit_state.reddit_time),
    # Graph moves an object's `updated_time` on every edit (what `filtering` on it reads).
    "facebook": ("updated_time", _graph_time),
}

# Facebook ids are numeric strings of this magnitude (ad objects created in 2024 look alike).
FACEBOOK_FIRST_ID = 120_210_000_000_001
STRATEGIS_ID_PREFIX = {"templates": "tpl", "campaigns": "stg"}

Store = dict[str, dict[str, Any]]


@dataclass
class RequestLogEntry:
    """One request a simulated platform received (admin: `GET /_sim/requests`)."""

    platform: str
    method: str
    path: str
    client_request_key: str | None = None
    organization: str | None = None
    status: int | None = None
    created_object_id: str | None = None
    # "error" (injected failure, not processed) or "lost_response" (processed, answer dropped).
    fault: str | None = None
    replayed: bool = False
    at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "clientRequestKey": self.client_request_key,
            "organization": self.organization,
            "createdObjectId": self.created_object_id,
            "fault": self.fault,
            "replayed": self.replayed,
            "at": self.at,
        }


@dataclass(frozen=True)
class CachedCreate:
    """The first answer to a relay create, replayed for the same (organization, key, body)."""

    fingerprint: str
    status_code: int
    body: dict[str, Any]


@dataclass
class SimulatorState:
    api_key: str = DEV_STRATEGIS_API_KEY
    objects: dict[str, dict[str, Store]] = field(default_factory=dict)
    relay_idempotency: dict[tuple[str, str], CachedCreate] = field(default_factory=dict)
    relay_calls: dict[str, deque[float]] = field(default_factory=dict)
    disabled_organizations: set[str] = field(default_factory=set)
    requests: list[RequestLogEntry] = field(default_factory=list)
    faults: FaultPlan = field(default_factory=FaultPlan)
    # Reddit's OAuth apps and tokens, rate-limit windows and id sequences.
    reddit: reddit_state.RedditRuntime = field(default_factory=reddit_state.RedditRuntime)
    # Facebook Login apps and tokens, ad review rules and the Graph quota windows.
    meta: meta_state.MetaRuntime = field(default_factory=meta_state.MetaRuntime)
    # Google Ads' OAuth clients and tokens, users, operation quotas and id sequences.
    google: google_ads_state.GoogleAdsRuntime = field(
        default_factory=google_ads_state.GoogleAdsRuntime
    )
    # How campaigns perform (seeded daily series), Insights report runs, reporting throttles.
    performance: PerformanceRuntime = field(default_factory=PerformanceRuntime)
    # What an advertiser's webhook endpoint received (webhook_receiver.py), and how it answers.
    received_webhooks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    webhook_statuses: dict[str, int] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Platform-side edits through the admin surface so far (they may move an object to
    # another parent or account: the Reddit list indexes re-read the store after one).
    edits: int = 0
    reddit_indexes: reddit_index.Indexes = field(default_factory=reddit_index.Indexes)
    dirty: bool = False  # changed since the last save (simulators/persistence.py)
    # Apps registered from configuration: they survive `reset()`, as the configuration does.
    configured_reddit_apps: list[Any] = field(default_factory=list)
    configured_meta_apps: list[Any] = field(default_factory=list)
    configured_google_apps: list[Any] = field(default_factory=list)
    # Sequences survive reset(): an id handed out before a reset must never name a different
    # object afterwards (a workflow still running from an earlier test may hold it).
    _next_facebook_id: int = FACEBOOK_FIRST_ID
    _next_strategis_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._empty_objects()
        reddit_state.seed_world(self.objects["reddit"])
        meta_state.seed_world(self.objects["meta"])
        google_ads_state.seed_world(self.google, self.objects["google"])

    def _empty_objects(self) -> None:
        self.objects = {
            platform: {kind: {} for kind in kinds} for platform, kinds in OBJECT_TYPES.items()
        }

    def store(self, platform: str, kind: str) -> Store:
        """The objects of one type, by id, in creation order."""
        return self.objects[platform][kind]

    def new_facebook_id(self) -> str:
        object_id = str(self._next_facebook_id)
        self._next_facebook_id += 1
        return object_id

    def new_strategis_id(self, kind: str) -> str:
        number = self._next_strategis_id.get(kind, 1)
        self._next_strategis_id[kind] = number + 1
        return f"{STRATEGIS_ID_PREFIX[kind]}_{number:06d}"

    def touch(self, platform: str, obj: dict[str, Any]) -> None:
        """Record a change to `obj` the way its platform does (Reddit bumps `modified_at`),
        on the objects that keep such a time (Reddit's posts do not)."""
        self.edits += 1
        if platform not in MODIFIED_AT:
            return
        field_name, now = MODIFIED_AT[platform]
        if field_name in obj:
            obj[field_name] = now()

    def log_request(self, platform: str, method: str, path: str) -> RequestLogEntry:
        entry = RequestLogEntry(platform=platform, method=method, path=path)
        self.requests.append(entry)
        return entry

    def register_configured_apps(self) -> None:
        """The OAuth apps Flightdeck is configured with, as a developer registered them."""
        for app in self.configured_reddit_apps:
            self.reddit.oauth.register(app)
        for meta_app in self.configured_meta_apps:
            self.meta.apps[meta_app.app_id] = meta_app
        for google_app in self.configured_google_apps:
            self.google.oauth.apps[google_app.client_id] = google_app

    def reset(self) -> None:
        """Forget every object, cached response, fault rule, disabled credential and log entry
        (and Reddit's OAuth apps, tokens and rate-limit overrides; its seeded world returns)."""
        self._empty_objects()
        self.reddit.reset(self.objects["reddit"])
        self.meta.reset(self.objects["meta"])
        self.google.reset(self.objects["google"])
        self.performance.reset()
        self.received_webhooks.clear()
        self.webhook_statuses.clear()
        self.register_configured_apps()
        self.relay_idempotency.clear()
        self.relay_calls.clear()
        self.disabled_organizations.clear()
        self.requests.clear()
        self.faults.configure(seed=0, rules=[])


def state_of(request: Request) -> SimulatorState:
    """The state shared by every router of the simulator app."""
    state: SimulatorState = request.app.state.sim
    return state


async def get_state(request: Request) -> SimulatorState:
    """FastAPI dependency: the state shared by every router of the simulator app (async, as
    every dependency here: FastAPI runs a plain `def` one in its thread pool, a thread hop per
    request that cost the simulators ~15 % of their CPU under a publish's fan-out)."""
    state: SimulatorState = request.app.state.sim
    return state


StateDep = Annotated[SimulatorState, Depends(get_state)]
