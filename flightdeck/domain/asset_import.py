"""Asset imports (seed 003): what an import finds, and the inputs and outputs of
`ImportCampaignSpaceWorkflow` and its activities (one pydantic model each).

A `DiscoveredAsset` is one thing worth keeping — an ad's image, its headline, body or call to
action, a CSV row, a zip entry. `item_key` names it uniquely within the run; for platform
objects `(asset_type, external_asset_id)` names it for good, so a re-run adds nothing twice.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from flightdeck.domain.campaign_spaces import CampaignAssetType, CampaignImportSource

ImportStatus = Literal["queued", "running", "completed", "failed"]


class DiscoveredAsset(BaseModel):
    item_key: str
    asset_type: CampaignAssetType
    asset_name: str
    external_asset_id: str | None = None
    title: str | None = None
    description: str | None = None
    headline_text: str | None = None
    ad_copy_text: str | None = None
    cta_text: str | None = None
    tags: list[str] = Field(default_factory=list)
    # A file to fetch (http(s), through the SSRF guard) or a zip entry to extract.
    media_url: str | None = None
    public_url: str | None = None
    archive_entry: int | None = None
    # Zip entries: the type is read from the bytes when they are extracted.
    detect_type: bool = False
    platform_metadata: dict[str, Any] = Field(default_factory=dict)
    # Set for a row that cannot be imported (a CSV line with a bad value): recorded as failed.
    error: str | None = None


class ImportSpaceInput(BaseModel):
    tenant_id: str
    run_id: str
    batch_size: int = 20
    activity_timeout_seconds: float = 300.0
    # Runs started before this field existed keep 30 s.
    heartbeat_seconds: float = 30.0
    # Set when the run continues as new: discovery already happened.
    discovered: bool = False
    totals: ImportTotals | None = None


class ImportRunRef(BaseModel):
    tenant_id: str
    run_id: str


class ImportPlan(BaseModel):
    source: CampaignImportSource
    discover_task_queue: str


class DiscoverResult(BaseModel):
    total_items: int


class ImportBatchInput(BaseModel):
    tenant_id: str
    run_id: str
    batch_size: int


class ImportTotals(BaseModel):
    total: int = 0
    imported: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def done(self) -> int:
        return self.imported + self.skipped + self.failed


class ImportBatchResult(BaseModel):
    totals: ImportTotals
    remaining: int


class FinishImportInput(BaseModel):
    tenant_id: str
    run_id: str
    error: str | None = None


class ImportProgress(BaseModel):
    status: ImportStatus = "queued"
    step: str = "queued"
    total: int = 0
    imported: int = 0
    skipped: int = 0
    failed: int = 0


ImportSpaceInput.model_rebuild()
