"""Every ad platform a campaign set can target, in one place.

Per platform: the set validator (`POST /campaign-sets/{id}/validate`), the dry-run adapter, the
set-sync task queues and their rate limits. Modules that are not about one platform (the API's
sync routes, the worker's wiring, the job registry) look a platform up here instead of naming
it. A new platform is a module with its adapter and rules, plus one `register(...)` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flightdeck.domain.reddit_set_rules import validate_reddit_set
from flightdeck.domain.set_validation import SetValidator
from flightdeck.platforms.campaign_set_adapter import CampaignSetPlatformAdapter
from flightdeck.platforms.reddit_preview import reddit_preview
from flightdeck.platforms.sync_preview import PreviewRecorder
from flightdeck.settings import Settings
from flightdeck.temporal import creative_task_queue, read_task_queue

PreviewFactory = Callable[[], tuple[CampaignSetPlatformAdapter, PreviewRecorder]]


@dataclass(frozen=True)
class PlatformEntry:
    name: str
    validate: SetValidator
    preview: PreviewFactory
    # Settings -> the queue of the platform's set-sync writes; creatives and sync-back reads
    # run on `<queue>-creative` and `<queue>-read`.
    queue: Callable[[Settings], str]
    rate_limit: Callable[[Settings], float]
    creative_rate_limit: Callable[[Settings], float]

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
        queue=lambda s: s.reddit_task_queue,
        rate_limit=lambda s: s.reddit_rate_limit,
        creative_rate_limit=lambda s: s.reddit_creative_rate_limit,
    )
)
