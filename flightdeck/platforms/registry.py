"""Every ad platform a campaign set can target, in one place.

Per platform: the set validator (`POST /campaign-sets/{id}/validate`), the dry-run adapter, the
set-sync adapter and sync-back poller factories (each made per call on the platform's one
shared HTTP client, with the account's own credentials: nothing is kept per account for the
worker's life), the set-sync task queues and their rate limits. Modules that are not about one
platform (the API's sync routes, the worker's wiring, `activities/adapters.py`) look a platform
up here instead of naming it. A new platform (Meta, Google Ads) is a module with its adapter,
poller and rules, an account service (`PlatformAccounts`) in the worker, plus one
`register(...)` below — no workflow changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from flightdeck.domain.google_set_rules import validate_google_set
from flightdeck.domain.meta_set_payloads import KEYWORDS_NOT_APPLICABLE
from flightdeck.domain.meta_set_rules import validate_meta_set
from flightdeck.domain.reddit_set_rules import validate_reddit_set
from flightdeck.domain.set_validation import SetValidator
from flightdeck.platforms import google_poller, meta_set_poller
from flightdeck.platforms.campaign_set_adapter import AccountContext, CampaignSetPlatformAdapter
from flightdeck.platforms.google_adapter import GoogleCampaignSetAdapter
from flightdeck.platforms.google_preview import google_preview
from flightdeck.platforms.meta_preview import meta_preview
from flightdeck.platforms.meta_set_adapter import MetaCampaignSetAdapter
from flightdeck.platforms.platform_poller import PlatformPoller
from flightdeck.platforms.reddit_adapter import RedditCampaignSetAdapter
from flightdeck.platforms.reddit_poller import RedditPlatformPoller
from flightdeck.platforms.reddit_preview import reddit_preview
from flightdeck.platforms.sync_preview import PreviewRecorder
from flightdeck.settings import Settings
from flightdeck.temporal import creative_task_queue, read_task_queue

PreviewFactory = Callable[[], tuple[CampaignSetPlatformAdapter, PreviewRecorder]]
# (the platform's API client for one account, the platform's worker-wide cache) -> an adapter
AdapterFactory = Callable[[Any, dict[str, Any]], CampaignSetPlatformAdapter]
# (the platform's API client for one account, page size) -> a sync-back poller
PollerFactory = Callable[[Any, int], PlatformPoller]


class PlatformAccounts(Protocol):
    """A platform's connected accounts, as the sync needs them: the account's ids and defaults,
    and an API client acting for it (its token provider on the platform's shared HTTP client;
    closing the client leaves the shared one open)."""

    async def account_context(
        self, tenant_id: uuid.UUID, account_id: uuid.UUID
    ) -> AccountContext: ...

    def ads_client(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> Any: ...


@dataclass(frozen=True)
class PlatformEntry:
    name: str
    validate: SetValidator
    preview: PreviewFactory
    adapter: AdapterFactory
    poller: PollerFactory
    # Settings -> the queue of the platform's set-sync writes; creatives and sync-back reads
    # run on `<queue>-creative` and `<queue>-read`.
    queue: Callable[[Settings], str]
    rate_limit: Callable[[Settings], float]
    creative_rate_limit: Callable[[Settings], float]
    # Set when the platform has no keywords: a synced ad group's keywords are marked
    # `not_applicable` with this reason (never sent, never silently dropped).
    keywords_not_applicable: str | None = None

    def task_queue(self, settings: Settings) -> str:
        return self.queue(settings)

    def creative_task_queue(self, settings: Settings) -> str:
        return creative_task_queue(self.queue(settings))

    def read_task_queue(self, settings: Settings) -> str:
        return read_task_queue(self.queue(settings))


class UnknownPlatformError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no campaign-set platform named {name!r}; known: {sorted(_PLATFORMS)}")


_PLATFORMS: dict[str, PlatformEntry] = {}


def register(entry: PlatformEntry) -> PlatformEntry:
    if entry.name in _PLATFORMS:
        raise ValueError(f"platform {entry.name!r} is registered twice")
    _PLATFORMS[entry.name] = entry
    return entry


def platform(name: str) -> PlatformEntry:
    try:
        return _PLATFORMS[name]
    except KeyError:
        raise UnknownPlatformError(name) from None


def platforms() -> tuple[PlatformEntry, ...]:
    return tuple(_PLATFORMS.values())


REDDIT = register(
    PlatformEntry(
        name="reddit",
        validate=validate_reddit_set,
        preview=reddit_preview,
        adapter=lambda client, cache: RedditCampaignSetAdapter(
            client, cache.setdefault("pixels", {})
        ),
        poller=lambda client, page_size: RedditPlatformPoller(client, page_size=page_size),
        queue=lambda s: s.reddit_task_queue,
        rate_limit=lambda s: s.reddit_rate_limit,
        creative_rate_limit=lambda s: s.reddit_creative_rate_limit,
    )
)

GOOGLE = register(
    PlatformEntry(
        name="google",
        validate=validate_google_set,
        preview=google_preview,
        adapter=lambda client, cache: GoogleCampaignSetAdapter(client),
        # GAQL pages of 10,000 (fixed by Google: `page_size` does not apply) + change_event.
        poller=lambda client, page_size: google_poller.GooglePlatformPoller(client),
        queue=lambda s: s.google_task_queue,
        rate_limit=lambda s: s.google_rate_limit,
        creative_rate_limit=lambda s: s.google_creative_rate_limit,
    )
)

META = register(
    PlatformEntry(
        name="meta",
        validate=validate_meta_set,
        preview=meta_preview,
        adapter=lambda client, cache: MetaCampaignSetAdapter(client),
        # Lists with `filtering` on updated_time once the account has a completed run.
        poller=lambda client, page_size: meta_set_poller.MetaPlatformPoller(client),
        queue=lambda s: s.meta_sets_task_queue,
        rate_limit=lambda s: s.meta_sets_rate_limit,
        creative_rate_limit=lambda s: s.meta_sets_creative_rate_limit,
        keywords_not_applicable=KEYWORDS_NOT_APPLICABLE,
    )
)
