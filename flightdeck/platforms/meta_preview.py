"""The Meta side of a sync dry run: `MetaCampaignSetAdapter` on a client that records each
request instead of sending it, so the payloads are exactly the sync's. Objects not created yet
are named by placeholders (`{campaigns.0}`); reads find nothing (no adoption)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flightdeck.platforms.meta_set_adapter import MetaAdsClient, MetaCampaignSetAdapter
from flightdeck.platforms.sync_preview import PreviewRecorder, RecordedRequest

GRAPH_VERSION_PATH = "/v23.0"


class RecordingMetaClient(MetaAdsClient, PreviewRecorder):
    def __init__(self) -> None:
        PreviewRecorder.__init__(self)

    async def get(self, path: str, params: Mapping[str, Any], account: str) -> Any:
        return {"data": []}

    async def get_all(
        self, path: str, params: Mapping[str, Any], account: str
    ) -> list[dict[str, Any]]:
        return []

    async def post(self, path: str, params: Mapping[str, Any], account: str) -> Any:
        self.requests.append(
            RecordedRequest(method="POST", path=f"{GRAPH_VERSION_PATH}/{path}", body=dict(params))
        )
        return {"id": self.placeholder_id(), "success": True}

    async def delete(self, path: str, account: str) -> Any:
        self.requests.append(
            RecordedRequest(method="DELETE", path=f"{GRAPH_VERSION_PATH}/{path}", body=None)
        )
        return {"success": True}


def meta_preview() -> tuple[MetaCampaignSetAdapter, RecordingMetaClient]:
    client = RecordingMetaClient()
    return MetaCampaignSetAdapter(client), client
