"""Reddit's `AssetImporter`: a campaign's ads and the posts they promote (reddit-ads-api.md
§2). An ad carries no copy itself — its post does (`headline`, `body`, and per content item
`media_url`, `call_to_action`, `destination_url`) — so each post found becomes up to four
kinds of asset: its images, headline, body (`ad_copy`) and call to action, named for good by
the post id. Posts shared by several ads are imported once, with every ad in the metadata.

Calls: the ads list (filtered by campaign, paged), the profile's posts list (paged, 100 per
page), and `GET /posts/{id}` only for a promoted post the list did not show. They run on
Reddit's read queue, whose limit paces them with every other read.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from flightdeck.domain.asset_import import DiscoveredAsset
from flightdeck.platforms.asset_importer import ImportNotPossible, ImportSource
from flightdeck.platforms.campaign_set_adapter import AccountContext
from flightdeck.platforms.reddit import RedditAdsClient

RedditClients = Callable[[uuid.UUID, uuid.UUID], Awaitable[tuple[RedditAdsClient, AccountContext]]]


class RedditAssetImporter:
    platform = "reddit"

    def __init__(self, clients: RedditClients, task_queue: str) -> None:
        self._clients = clients
        self.task_queue = task_queue

    def accepts(self, source: ImportSource) -> bool:
        return source.ad_account_id is not None

    async def discover(self, source: ImportSource) -> AsyncIterator[DiscoveredAsset]:
        if source.ad_account_id is None:
            raise ImportNotPossible("the space has no connected Reddit ad account (adAccountId)")
        client, account = await self._clients(source.tenant_id, source.ad_account_id)
        ads = await client.list_ads(account.account_id, campaign_ids=[source.external_campaign_id])
        ads_by_post: dict[str, list[dict[str, Any]]] = {}
        for ad in ads:
            if ad.get("post_id"):
                ads_by_post.setdefault(str(ad["post_id"]), []).append(ad)
        posts = await self._posts(client, account, set(ads_by_post))
        for post_id, post_ads in ads_by_post.items():
            post = posts.get(post_id)
            if post is None:
                continue
            for item in post_assets(post, post_ads, source.external_campaign_id):
                yield item

    async def _posts(
        self, client: RedditAdsClient, account: AccountContext, wanted: set[str]
    ) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        if account.profile_id and wanted:
            for post in await client.list_posts(account.profile_id):
                if post.get("id") in wanted:
                    found[str(post["id"])] = post
        for post_id in sorted(wanted - set(found)):
            found[post_id] = await client.get_post(post_id)
        return found


def post_assets(
    post: dict[str, Any], ads: list[dict[str, Any]], campaign_id: str
) -> list[DiscoveredAsset]:
    """The assets one post holds, with the ads that promote it in their metadata."""
    post_id = str(post["id"])
    content = [c for c in post.get("content") or [] if isinstance(c, dict)]
    first = content[0] if content else {}
    meta: dict[str, Any] = {
        "platform": "reddit",
        "campaign_id": campaign_id,
        "post_id": post_id,
        "post_type": post.get("type"),
        "post_url": post.get("post_url"),
        "destination_url": first.get("destination_url"),
        "ads": [
            {
                "ad_id": ad.get("id"),
                "name": ad.get("name"),
                "ad_group_id": ad.get("ad_group_id"),
                "configured_status": ad.get("configured_status"),
            }
            for ad in ads
        ],
    }
    name = str(post.get("headline") or ads[0].get("name") or post_id)[:200]
    items: list[DiscoveredAsset] = []
    for index, part in enumerate(content):
        url = part.get("media_url")
        if not url:
            continue
        kind = "video" if post.get("type") == "VIDEO" else "image"
        items.append(
            DiscoveredAsset(
                item_key=f"{kind}:{post_id}:{index}",
                asset_type=kind,
                asset_name=f"{name} — {kind} {index + 1}" if len(content) > 1 else name,
                external_asset_id=f"{post_id}:media:{index}",
                title=part.get("caption") or post.get("headline"),
                media_url=str(url),
                public_url=str(url),
                platform_metadata=meta | {"content_index": index},
            )
        )
    texts = (
        ("headline", "headline_text", post.get("headline")),
        ("ad_copy", "ad_copy_text", post.get("body")),
        ("call_to_action", "cta_text", first.get("call_to_action")),
    )
    for kind, field, value in texts:
        if value:
            items.append(
                DiscoveredAsset(
                    item_key=f"{kind}:{post_id}",
                    asset_type=kind,  # type: ignore[arg-type]
                    asset_name=f"{name} — {kind.replace('_', ' ')}",
                    external_asset_id=post_id,
                    platform_metadata=meta,
                    **{field: str(value)},
                )
            )
    return items
