"""Request and response bodies of the campaign-space and asset routes (seed 003), camelCase
on the wire (snake_case accepted too, as the seed's clients send it).

Names, tags and other short labels refuse control characters; every string refuses NUL, at
any depth of a JSON object (Postgres cannot store it); JSON objects are capped in size.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, PlainSerializer, model_validator

from flightdeck.db.models import AssetReuse, CampaignAsset, CampaignSpace
from flightdeck.domain.campaign_sets import CamelModel
from flightdeck.domain.campaign_spaces import AdPlatform, CampaignImportSource
from flightdeck.storage.names import has_control_characters

MAX_JSON_BYTES = 64 * 1024
MAX_TAGS = 50


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


Money = Annotated[Decimal, PlainSerializer(_number, return_type=float, when_used="json")]


def _no_nul_deep(value: Any) -> Any:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul_deep(key)
            _no_nul_deep(item)
    if isinstance(value, list):
        for item in value:
            _no_nul_deep(item)
    return value


def _label(value: str | None) -> str | None:
    if value is not None and has_control_characters(value):
        raise ValueError("must not contain control characters")
    return value


def _json_object(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    _no_nul_deep(value)
    if len(json.dumps(value, default=str)) > MAX_JSON_BYTES:
        raise ValueError(f"must be at most {MAX_JSON_BYTES:,} bytes of JSON")
    return value


def _tags(values: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in values:
        tag = raw.strip()
        if not tag or len(tag) > 100 or has_control_characters(tag):
            raise ValueError("each tag is 1-100 characters without control characters")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return cleaned


def _currency(value: str | None) -> str | None:
    if value is not None and not (len(value) == 3 and value.isascii() and value.isupper()):
        raise ValueError("must be a 3-letter ISO 4217 code, e.g. USD")
    return value


Label = Annotated[str, AfterValidator(_label)]
Text = Annotated[str, Field(max_length=20_000), AfterValidator(_no_nul_deep)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_json_object)]
Tags = Annotated[list[str], AfterValidator(_tags)]
Currency = Annotated[str, AfterValidator(_currency)]
Name = Annotated[Label, Field(min_length=1, max_length=255)]
ShortLabel = Annotated[Label, Field(max_length=100)]
LongLabel = Annotated[Label, Field(max_length=255)]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must include a timezone offset (e.g. 2026-07-01T00:00:00Z)")
    return value


AwareTime = Annotated[datetime, AfterValidator(_aware)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]  # Postgres bigint


# --- spaces ---------------------------------------------------------------------------------


class SpaceFields(CamelModel):
    brand_id: LongLabel | None = None
    external_campaign_id: LongLabel | None = None
    ad_account_id: uuid.UUID | None = None
    description: Text | None = None
    campaign_objective: ShortLabel | None = None
    target_audience: JsonObject | None = None
    budget: Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)] | None = None
    currency: Currency | None = None
    start_date: AwareTime | None = None
    end_date: AwareTime | None = None
    import_metadata: JsonObject | None = None
    category: ShortLabel | None = None
    template_metadata: JsonObject | None = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValueError("endDate must be after startDate")
        return self


class SpaceIn(SpaceFields):
    campaign_name: Name
    platform: AdPlatform
    import_source: CampaignImportSource = "manual_upload"
    tags: Tags = []
    is_template: bool = False
    is_active: bool = True
    is_archived: bool = False


class SpacePatch(SpaceFields):
    """Only the fields given change (the seed's PUT carries a partial update)."""

    campaign_name: Name | None = None
    platform: AdPlatform | None = None
    tags: Tags | None = None
    is_template: bool | None = None
    is_active: bool | None = None
    is_archived: bool | None = None


class TemplateIn(CamelModel):
    template_metadata: JsonObject = {}


class PerformanceIn(CamelModel):
    """Cumulative figures as of `asOf` (default: now). CTR and ROAS are derived."""

    total_impressions: Count | None = None
    total_clicks: Count | None = None
    total_spend: Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)] | None = None
    total_conversions: Count | None = None
    total_revenue: Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)] | None = None
    as_of: AwareTime | None = None
    source: ShortLabel = "manual"


class SpaceOut(CamelModel):
    id: uuid.UUID
    brand_id: str | None
    user_id: str | None
    campaign_name: str
    platform: str
    external_campaign_id: str | None
    ad_account_id: uuid.UUID | None
    description: str | None
    campaign_objective: str | None
    target_audience: dict[str, Any] | None
    budget: Money | None
    currency: str | None
    start_date: datetime | None
    end_date: datetime | None
    import_source: str
    import_metadata: dict[str, Any]
    imported_at: datetime | None
    tags: list[str]
    category: str | None
    is_template: bool
    template_metadata: dict[str, Any]
    total_impressions: int
    total_clicks: int
    total_spend: Money
    total_conversions: int
    total_revenue: Money
    ctr: Money | None
    roas: Money | None
    performance_source: str | None
    performance_as_of: datetime | None
    asset_count: int
    total_asset_size_bytes: int
    is_active: bool
    is_archived: bool
    created_at: datetime
    updated_at: datetime


class SpacePage(CamelModel):
    items: list[SpaceOut]
    total: int
    limit: int
    next_cursor: str | None


class SpaceStatsOut(CamelModel):
    space_id: uuid.UUID
    asset_count: int
    total_asset_size_bytes: int
    assets_by_type: dict[str, int]
    deleted_assets: int
    distinct_files: int
    total_reuses: int
    total_impressions: int
    total_clicks: int
    total_spend: Money
    total_conversions: int
    total_revenue: Money
    ctr: Money | None
    roas: Money | None
    performance_as_of: datetime | None
    last_import_at: datetime | None
    last_import_status: str | None


def space_out(row: CampaignSpace) -> SpaceOut:
    return SpaceOut.model_validate({name: getattr(row, name) for name in SpaceOut.model_fields})


# --- assets ---------------------------------------------------------------------------------


class AssetPatch(CamelModel):
    asset_name: Name | None = None
    title: Annotated[Label, Field(max_length=500)] | None = None
    description: Text | None = None
    ad_copy_text: Text | None = None
    headline_text: Text | None = None
    cta_text: ShortLabel | None = None
    tags: Tags | None = None
    external_asset_id: LongLabel | None = None
    platform_metadata: JsonObject | None = None
    platform_variants: JsonObject | None = None
    impressions: Count | None = None
    clicks: Count | None = None
    conversions: Count | None = None
    spend: Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)] | None = None


class AssetOut(CamelModel):
    id: uuid.UUID
    campaign_space_id: uuid.UUID
    brand_id: str | None
    user_id: str | None
    asset_name: str
    asset_type: str
    import_source: str
    external_asset_id: str | None
    file_url: str | None
    public_url: str | None
    storage_path: str | None
    file_hash: str | None
    file_size: int
    mime_type: str | None
    original_filename: str | None
    title: str | None
    description: str | None
    ad_copy_text: str | None
    headline_text: str | None
    cta_text: str | None
    width: int | None
    height: int | None
    duration: Money | None
    thumbnail_url: str | None
    impressions: int
    clicks: int
    conversions: int
    spend: Money
    ctr: Money | None
    platform_metadata: dict[str, Any]
    platform_variants: dict[str, Any]
    tags: list[str]
    reused_count: int
    last_reused_at: datetime | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # Upload answers only: true when these bytes were already in this space and the existing
    # asset is returned instead of a second one (see `skipDuplicateCheck`).
    duplicate: bool = False


class AssetPage(CamelModel):
    items: list[AssetOut]
    total: int
    limit: int
    next_cursor: str | None


class ReuseIn(CamelModel):
    reused_in_type: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")]
    reused_in_id: Annotated[Label, Field(min_length=1, max_length=255)]
    reused_in_name: LongLabel | None = None
    platform: AdPlatform | None = None
    reuse_context: JsonObject = {}


class ReuseOut(CamelModel):
    id: uuid.UUID
    asset_id: uuid.UUID
    user_id: str | None
    actor: str
    reused_in_type: str
    reused_in_id: str
    reused_in_name: str | None
    platform: str | None
    context: dict[str, Any]
    reused_at: datetime


class ReuseResult(CamelModel):
    recorded: bool  # false: this place was already recorded; nothing changed
    reuse: ReuseOut
    asset: AssetOut


class ReuseList(CamelModel):
    items: list[ReuseOut]
    next_cursor: str | None = None  # every list: {items, nextCursor}; null: no further page


def asset_out(row: CampaignAsset, *, duplicate: bool = False) -> AssetOut:
    values = {name: getattr(row, name) for name in AssetOut.model_fields if name != "duplicate"}
    return AssetOut.model_validate(values | {"duplicate": duplicate})


def reuse_out(row: AssetReuse) -> ReuseOut:
    return ReuseOut.model_validate({name: getattr(row, name) for name in ReuseOut.model_fields})
