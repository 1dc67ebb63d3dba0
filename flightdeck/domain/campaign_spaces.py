"""Campaign spaces and their asset library (seed 003): the seed's vocabulary.

The three enums are the seed's Postgres enum types (`adplatform`, `campaignassettype`,
`campaignimportsource`), frozen in migration 0010; their values are the contract.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, get_args

AdPlatform = Literal[
    "google_ads",
    "meta",
    "linkedin",
    "twitter",
    "tiktok",
    "snapchat",
    "pinterest",
    "reddit",
    "amazon_ads",
    "microsoft_ads",
    "youtube",
    "other",
]
CampaignAssetType = Literal[
    "image",
    "video",
    "ad_copy",
    "headline",
    "description",
    "call_to_action",
    "document",
    "performance_data",
    "other",
]
CampaignImportSource = Literal["manual_upload", "platform_api", "csv_import", "bulk_import"]

AD_PLATFORMS: tuple[str, ...] = get_args(AdPlatform)
ASSET_TYPES: tuple[str, ...] = get_args(CampaignAssetType)
IMPORT_SOURCES: tuple[str, ...] = get_args(CampaignImportSource)

# Asset types whose content is text (stored in the row, no file).
TEXT_ASSET_TYPES = frozenset({"ad_copy", "headline", "description", "call_to_action"})
# Asset types that carry a file, and the sniffed media families each accepts.
FILE_FAMILIES: dict[str, frozenset[str]] = {
    "image": frozenset({"image"}),
    "video": frozenset({"video"}),
    "document": frozenset({"document", "text"}),
    "performance_data": frozenset({"text", "document"}),
    "other": frozenset({"image", "video", "document", "text", "binary"}),
}


def ratio(numerator: Decimal | int | None, denominator: Decimal | int | None) -> Decimal | None:
    """numerator / denominator to 4 decimals, None when undefined (no clicks, no spend)."""
    if numerator is None or not denominator:
        return None
    value = Decimal(numerator) / Decimal(denominator)
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
