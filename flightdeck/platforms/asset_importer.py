"""The interface every platform's asset importer implements (seed 003 imports), and the
registry the import activities pick one from.

An importer lists what a space's platform campaign is made of — its ads' creatives, images
and copy — as `DiscoveredAsset`s; the import activities do the rest (download through the
SSRF guard, dedup, storage, rows), the same for every platform. Adding a platform (e.g. Meta
via the Graph API) is one class and one `registry.register(...)` in the worker:

    class GraphAssetImporter:
        platform = "meta"
        task_queue = "meta-read"          # its reads count against that queue's rate limit
        def accepts(self, source: ImportSource) -> bool: return source.ad_account_id is not None
        async def discover(self, source): ... yield DiscoveredAsset(...)
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from flightdeck.domain.asset_import import DiscoveredAsset


class ImportNotPossible(Exception):
    """The space cannot be imported from (no campaign id, no connected account, no importer);
    the message says what to fix. Not retryable."""


@dataclass(frozen=True)
class ImportSource:
    """What the space says about where its campaign lives."""

    tenant_id: uuid.UUID
    space_id: uuid.UUID
    platform: str
    external_campaign_id: str
    ad_account_id: uuid.UUID | None
    import_metadata: dict[str, Any] = field(default_factory=dict)


class AssetImporter(Protocol):
    platform: str
    task_queue: str

    def accepts(self, source: ImportSource) -> bool:
        """Whether this importer can read the space's campaign (e.g. the right account)."""
        ...

    def discover(self, source: ImportSource) -> AsyncIterator[DiscoveredAsset]:
        """Everything the campaign's ads are made of; ImportNotPossible if it cannot start."""
        ...


class AssetImporters:
    """Importers by platform, tried in registration order."""

    def __init__(self) -> None:
        self._by_platform: dict[str, list[AssetImporter]] = {}

    def register(self, importer: AssetImporter) -> None:
        self._by_platform.setdefault(importer.platform, []).append(importer)

    def platforms(self) -> list[str]:
        return sorted(self._by_platform)

    def for_source(self, source: ImportSource) -> AssetImporter:
        candidates = self._by_platform.get(source.platform, [])
        for importer in candidates:
            if importer.accepts(source):
                return importer
        if not candidates:
            raise ImportNotPossible(f"importing from {source.platform} is not supported yet")
        raise ImportNotPossible(
            f"no {source.platform} importer can read this space: connect its ad account "
            "(adAccountId) or name the campaign's source in importMetadata"
        )
