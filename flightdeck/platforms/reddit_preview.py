"""The Reddit side of a sync dry run: `RedditCampaignSetAdapter` on a client that records each
request instead of sending it. The payloads are therefore exactly the sync's (same adapter,
same builders); nothing reaches the network.

Two things a dry run cannot know are shown as placeholders: the id Reddit will give an object
not created yet (`{campaigns.0}`: the entity's path in the set), and the account's conversion
pixel (`{conversionPixelId}`), which the sync reads from the account when it creates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flightdeck.platforms.reddit import RedditAdsClient
from flightdeck.platforms.reddit_adapter import RedditCampaignSetAdapter
from flightdeck.platforms.sync_preview import PreviewRecorder, RecordedRequest

PIXEL_PLACEHOLDER = "{conversionPixelId}"
NOMINAL_BASE_URL = "https://ads-api.reddit.com/api/v3"


async def _no_token(*, force_refresh: bool = False) -> str:
    raise RuntimeError("a dry run never sends a request")


class RecordingRedditClient(RedditAdsClient, PreviewRecorder):
    """Answers writes with the object as sent (under a placeholder id); reads find nothing,
    except the account's pixel, answered with a placeholder."""

    def __init__(self) -> None:
        RedditAdsClient.__init__(
            self, NOMINAL_BASE_URL, token_provider=_no_token, user_agent="flightdeck dry run"
        )
        PreviewRecorder.__init__(self)

    async def _data(
        self, method: str, path: str, data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {"data": dict(data)} if data is not None else None
        if method != "GET":
            self.requests.append(RecordedRequest(method=method, path=path, body=body))
        return {"id": self.placeholder_id(), **(dict(data) if data else {})}

    async def _list(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        if path.endswith("/pixels"):
            return [{"id": PIXEL_PLACEHOLDER}]
        return []


def reddit_preview() -> tuple[RedditCampaignSetAdapter, RecordingRedditClient]:
    client = RecordingRedditClient()
    return RedditCampaignSetAdapter(client), client
