"""The Google Ads side of a sync dry run: `GoogleCampaignSetAdapter` on a client that records
each request instead of sending it, so the payloads are exactly the sync's. Objects not
created yet are named by placeholders (`customers/{adAccountId}/campaigns/{campaigns.0}`);
reads find nothing (no adoption, no existing label)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flightdeck.platforms.google_adapter import GoogleCampaignSetAdapter
from flightdeck.platforms.google_ads import GoogleAdsClient
from flightdeck.platforms.sync_preview import PreviewRecorder, RecordedRequest

NOMINAL_BASE_URL = "https://googleads.googleapis.com"


async def _no_token(*, force_refresh: bool = False) -> str:
    raise RuntimeError("a dry run never sends a request")


class RecordingGoogleClient(GoogleAdsClient, PreviewRecorder):
    def __init__(self) -> None:
        GoogleAdsClient.__init__(self, NOMINAL_BASE_URL, token_provider=_no_token)
        PreviewRecorder.__init__(self)

    async def _call(self, method: str, path: str, body: Mapping[str, Any] | None) -> Any:
        url_path = urlsplit(self._base + path).path
        if path.endswith((":search", ":searchStream")):
            return {"results": []} if path.endswith(":search") else []
        self.requests.append(
            RecordedRequest(method=method, path=url_path, body=dict(body) if body else None)
        )
        customer = path.split("/")[2]
        if path.endswith("googleAds:mutate"):
            return {"mutateOperationResponses": [
                {_result_key(next(iter(op))): {"resourceName": self._name(customer, op)}}
                for op in (body or {}).get("mutateOperations", [])
            ]}  # fmt: skip
        collection = path.rsplit("/", 1)[-1].split(":")[0]
        return {"results": [
            {"resourceName": _existing(op) or f"customers/{customer}/{collection}/"
             f"{self.placeholder_id()}"}
            for op in (body or {}).get("operations", [])
        ]}  # fmt: skip

    def _name(self, customer: str, operation: Mapping[str, Any]) -> str:
        inner = next(iter(operation.values()))
        existing = _existing(inner)
        if existing:
            return existing
        temp = str(inner.get("create", {}).get("resourceName", ""))
        collection = temp.split("/")[2] if temp.count("/") >= 3 else "objects"
        return f"customers/{customer}/{collection}/{self.placeholder_id()}"


def _existing(operation: Mapping[str, Any]) -> str | None:
    if "update" in operation:
        return str(operation["update"].get("resourceName"))
    if "remove" in operation:
        return str(operation["remove"])
    return None


def _result_key(operation_key: str) -> str:
    return operation_key.removesuffix("Operation") + "Result"


def google_preview() -> tuple[GoogleCampaignSetAdapter, RecordingGoogleClient]:
    client = RecordingGoogleClient()
    return GoogleCampaignSetAdapter(client), client
