"""The Strategis relay's `AssetImporter` (platform `meta`): the Facebook creatives and ads
Flightdeck published for a campaign through the relay (strategis.md). The relay has no list
call, so the plan's ledger (`remote_objects`) says which creatives and ads belong to the
campaign; each creative is read back (`GET /api/facebook/adcreatives/{id}`) for its
`object_story_spec.link_data`: `picture` (the image), `name` (headline), `message` (body),
`description` and `call_to_action`. Creatives that name only an `image_hash` keep it in
their metadata (the relay gives no way to download a hashed image).

A space is read through the relay unless it has a connected ad account (that is the Graph
importer's, when registered) or says `importMetadata.via = "graph"`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.db.repositories.asset_imports import AssetImportRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.asset_import import DiscoveredAsset
from flightdeck.platforms.asset_importer import ImportNotPossible, ImportSource
from flightdeck.platforms.strategis import StrategisRelayClient


class RelayAssetImporter:
    platform = "meta"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        relay: StrategisRelayClient,
        task_queue: str,
    ) -> None:
        self._sessions = sessions
        self._relay = relay
        self.task_queue = task_queue

    def accepts(self, source: ImportSource) -> bool:
        via = source.import_metadata.get("via")
        return via == "strategis_relay" or (via is None and source.ad_account_id is None)

    async def discover(self, source: ImportSource) -> AsyncIterator[DiscoveredAsset]:
        async with tenant_session(self._sessions, source.tenant_id) as session:
            published = await AssetImportRepository(session).published_facebook_campaign(
                source.tenant_id, source.external_campaign_id
            )
        if published is None:
            raise ImportNotPossible(
                f"Facebook campaign {source.external_campaign_id} was not published through "
                "Flightdeck's Strategis relay for this tenant"
            )
        org = published.organization
        ads_by_slot: dict[tuple[int | None, int | None], list[dict[str, Any]]] = {}
        for ad in published.ads:
            assert ad.external_id is not None
            graph_ad = await self._relay.get("ads", ad.external_id, organization=org)
            ads_by_slot.setdefault((ad.ad_set_index, ad.ad_index), []).append(graph_ad)
        for creative in published.creatives:
            assert creative.external_id is not None
            graph = await self._relay.get("adcreatives", creative.external_id, organization=org)
            ads = ads_by_slot.get((creative.ad_set_index, creative.ad_index), [])
            for item in creative_assets(graph, ads, source.external_campaign_id, org):
                yield item


def creative_assets(
    creative: dict[str, Any], ads: list[dict[str, Any]], campaign_id: str, organization: str
) -> list[DiscoveredAsset]:
    creative_id = str(creative["id"])
    spec = creative.get("object_story_spec") or {}
    link = spec.get("link_data") or {}
    cta = link.get("call_to_action") or {}
    meta: dict[str, Any] = {
        "platform": "meta",
        "via": "strategis_relay",
        "organization": organization,
        "campaign_id": campaign_id,
        "creative_id": creative_id,
        "creative_name": creative.get("name"),
        "page_id": spec.get("page_id"),
        "link": link.get("link"),
        "image_hash": link.get("image_hash"),
        "ads": [
            {"ad_id": a.get("id"), "name": a.get("name"), "status": a.get("status")} for a in ads
        ],
    }
    name = str(creative.get("name") or link.get("name") or creative_id)[:200]
    items: list[DiscoveredAsset] = []
    if link.get("picture"):
        items.append(
            DiscoveredAsset(
                item_key=f"image:{creative_id}",
                asset_type="image",
                asset_name=name,
                external_asset_id=f"{creative_id}:image",
                title=link.get("name"),
                media_url=str(link["picture"]),
                public_url=str(link["picture"]),
                platform_metadata=meta,
            )
        )
    texts = (
        ("headline", "headline_text", link.get("name")),
        ("ad_copy", "ad_copy_text", link.get("message")),
        ("description", "description", link.get("description")),
        ("call_to_action", "cta_text", cta.get("type") if isinstance(cta, dict) else None),
    )
    for kind, field, value in texts:
        if value:
            items.append(
                DiscoveredAsset(
                    item_key=f"{kind}:{creative_id}",
                    asset_type=kind,  # type: ignore[arg-type]
                    asset_name=f"{name} — {kind.replace('_', ' ')}",
                    external_asset_id=creative_id,
                    platform_metadata=meta,
                    **{field: str(value)},
                )
            )
    return items
