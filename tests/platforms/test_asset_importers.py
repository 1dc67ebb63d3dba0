"""What each platform's creatives become in the library, and how an importer is chosen (a
Meta Graph importer registers beside the relay one without touching the workflow)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from flightdeck.assets.relay_importer import creative_assets
from flightdeck.domain.asset_import import DiscoveredAsset
from flightdeck.platforms.asset_importer import AssetImporters, ImportNotPossible, ImportSource
from flightdeck.platforms.reddit_asset_importer import post_assets

POST = {
    "id": "t3_abc",
    "type": "IMAGE",
    "headline": "Summer Sale: 30% off",
    "body": "This week only.",
    "post_url": "https://www.reddit.com/r/u_brand/comments/abc",
    "content": [
        {
            "media_url": "https://i.redd.it/one.png",
            "destination_url": "https://shop.example.com",
            "call_to_action": "Shop Now",
        }
    ],
}


def test_a_reddit_post_becomes_image_and_copy_assets() -> None:
    ads = [{"id": "91", "name": "ad one", "ad_group_id": "7", "configured_status": "ACTIVE"}]
    items = {item.asset_type: item for item in post_assets(POST, ads, "55")}
    assert set(items) == {"image", "headline", "ad_copy", "call_to_action"}
    assert items["image"].media_url == "https://i.redd.it/one.png"
    assert items["image"].external_asset_id == "t3_abc:media:0"
    assert items["headline"].headline_text == "Summer Sale: 30% off"
    assert items["ad_copy"].ad_copy_text == "This week only."
    assert items["call_to_action"].cta_text == "Shop Now"
    assert all(item.external_asset_id.startswith("t3_abc") for item in items.values())  # type: ignore[union-attr]
    assert items["image"].platform_metadata["ads"][0]["ad_id"] == "91"
    text_post = POST | {"type": "TEXT", "content": [], "body": None}
    assert [i.asset_type for i in post_assets(text_post, ads, "55")] == ["headline"]


def test_a_relay_creative_becomes_image_and_copy_assets() -> None:
    creative = {
        "id": "120210000000010",
        "name": "hook01_0-0",
        "object_story_spec": {
            "page_id": "1",
            "link_data": {
                "link": "https://r.strateg.is/route?campaignId=1",
                "message": "Find a provider near you.",
                "name": "Confidence, restored",
                "description": "Book today",
                "picture": "https://cdn.example.com/hook01.jpg",
                "call_to_action": {"type": "BOOK_NOW"},
            },
        },
    }
    items = {i.asset_type: i for i in creative_assets(creative, [{"id": "9"}], "77", "org")}
    assert set(items) == {"image", "headline", "ad_copy", "description", "call_to_action"}
    assert items["image"].external_asset_id == "120210000000010:image"
    assert items["call_to_action"].cta_text == "BOOK_NOW"
    assert items["description"].description == "Book today"
    hashed = creative | {"object_story_spec": {"link_data": {"image_hash": "abc", "name": "N"}}}
    only = creative_assets(hashed, [], "77", "org")
    assert [i.asset_type for i in only] == ["headline"]  # a hash cannot be downloaded here
    assert only[0].platform_metadata["image_hash"] == "abc"


class FakeImporter:
    def __init__(self, platform: str, queue: str, wants_account: bool) -> None:
        self.platform, self.task_queue, self._wants = platform, queue, wants_account

    def accepts(self, source: ImportSource) -> bool:
        return (source.ad_account_id is not None) == self._wants

    async def discover(self, source: ImportSource) -> AsyncIterator[DiscoveredAsset]:
        yield DiscoveredAsset(item_key="x", asset_type="headline", asset_name="x")


def source(platform: str, account: uuid.UUID | None) -> ImportSource:
    return ImportSource(uuid.uuid4(), uuid.uuid4(), platform, "c1", account)


def test_the_registry_picks_the_importer_that_accepts_the_space() -> None:
    registry = AssetImporters()
    relay = FakeImporter("meta", "strategis", wants_account=False)
    graph = FakeImporter("meta", "meta-read", wants_account=True)
    registry.register(relay)
    registry.register(graph)
    assert registry.for_source(source("meta", None)) is relay
    assert registry.for_source(source("meta", uuid.uuid4())) is graph
    with pytest.raises(ImportNotPossible, match="not supported"):
        registry.for_source(source("tiktok", None))
    only_relay = AssetImporters()
    only_relay.register(relay)
    with pytest.raises(ImportNotPossible, match="no meta importer"):
        only_relay.for_source(source("meta", uuid.uuid4()))
