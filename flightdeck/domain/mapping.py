"""The seed's `CampaignMapping`: Flightdeck ↔ Strategis ↔ Facebook IDs, served from the ledger.

The ledger (`remote_objects`) is the system of record; this module folds its rows into the
seed's shape, ordered by ad set index and ad index.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flightdeck.domain.plans import CamelModel

# Plan status -> the seed's mapping status vocabulary.
MAPPING_STATUS = {
    "draft": "pending",
    "pending": "pending",
    "creating": "creating",
    "active": "active",
    "paused": "active",
    "failed": "failed",
    "cancelled": "cancelled",
}


@dataclass
class LedgerEntry:
    system: str
    object_type: str
    external_id: str | None
    state: str
    ad_set_index: int | None = None
    ad_index: int | None = None
    name: str | None = None
    client_request_key: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


class MappingError(CamelModel):
    step: str
    error: str
    timestamp: datetime


class RemoteObjectOut(CamelModel):
    system: str
    object_type: str
    external_id: str | None
    state: str
    ad_set_index: int | None = None
    ad_index: int | None = None
    name: str | None = None
    client_request_key: str | None = None


class CampaignMapping(CamelModel):
    campaign_plan_id: str
    request_id: str
    strategis_template_id: str | None
    strategis_campaign_ids: list[str]
    facebook_campaign_id: str | None
    facebook_ad_set_ids: list[str]
    facebook_creative_ids: list[str]
    facebook_ad_ids: list[str]
    tracking_urls: list[str]
    status: str
    errors: list[MappingError]
    objects: list[RemoteObjectOut]
    created_at: datetime
    updated_at: datetime


def build_mapping(
    *,
    plan_id: str,
    request_id: str,
    plan_status: str,
    strategis_template_id: str | None,
    created_at: datetime,
    updated_at: datetime,
    entries: Iterable[LedgerEntry],
    errors: Iterable[MappingError],
) -> CampaignMapping:
    all_entries = list(entries)
    ordered = sorted(
        (e for e in all_entries if e.external_id),
        key=lambda e: (e.ad_set_index if e.ad_set_index is not None else -1, e.ad_index or 0),
    )

    def ids(system: str, object_type: str) -> list[str]:
        return [
            e.external_id or ""
            for e in ordered
            if e.system == system and e.object_type == object_type
        ]

    tracking = [
        e for e in ordered if e.system == "strategis" and e.object_type == "tracking_campaign"
    ]
    campaigns = ids("facebook", "campaign")
    return CampaignMapping(
        campaign_plan_id=plan_id,
        request_id=request_id,
        strategis_template_id=strategis_template_id,
        strategis_campaign_ids=[e.external_id or "" for e in tracking],
        facebook_campaign_id=campaigns[0] if campaigns else None,
        facebook_ad_set_ids=ids("facebook", "adset"),
        facebook_creative_ids=ids("facebook", "creative"),
        facebook_ad_ids=ids("facebook", "ad"),
        tracking_urls=[str(e.attributes.get("tracking_url", "")) for e in tracking],
        status=MAPPING_STATUS.get(plan_status, plan_status),
        errors=list(errors),
        objects=[
            RemoteObjectOut(
                system=e.system,
                object_type=e.object_type,
                external_id=e.external_id,
                state=e.state,
                ad_set_index=e.ad_set_index,
                ad_index=e.ad_index,
                name=e.name,
                client_request_key=e.client_request_key,
            )
            for e in sorted(all_entries, key=_object_order)
        ],
        created_at=created_at,
        updated_at=updated_at,
    )


_TYPE_ORDER = {"campaign": 0, "adset": 1, "tracking_campaign": 2, "creative": 3, "ad": 4}


def _object_order(e: LedgerEntry) -> tuple[int, int, int]:
    return (_TYPE_ORDER.get(e.object_type, 9), e.ad_set_index or 0, e.ad_index or 0)
