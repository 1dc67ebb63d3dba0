"""Asset imports (seed 003, `POST …/assets/import`): one `asset_import_runs` row per import job
(`ImportCampaignSpaceWorkflow`), and one `asset_import_items` row per thing it found — an ad's
image, headline, body or call to action, a CSV row, a zip entry — with its own state, so a
retried or resumed run picks up exactly where it stopped and progress is a count of rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import TenantOwned, Timestamps, UUIDPrimaryKey
from flightdeck.db.models.campaign_spaces import IMPORT_SOURCE

IMPORT_RUN_STATUSES = ("queued", "running", "completed", "failed")
IMPORT_ITEM_STATES = ("pending", "imported", "skipped", "failed")
ACTIVE_RUN = text("status IN ('queued', 'running')")


class AssetImportRun(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "asset_import_runs"
    __table_args__ = (
        Index("ix_asset_import_runs_space_created", "campaign_space_id", "created_at"),
        Index("ix_asset_import_runs_tenant_id", "tenant_id"),
        # One import at a time per space: a second request joins the running one.
        Index(
            "uq_asset_import_runs_active_space",
            "campaign_space_id",
            unique=True,
            postgresql_where=ACTIVE_RUN,
        ),
        CheckConstraint(f"status IN {IMPORT_RUN_STATUSES!r}", name="status"),
    )

    campaign_space_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("campaign_spaces.id", ondelete="CASCADE")
    )
    workflow_id: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(IMPORT_SOURCE)
    status: Mapped[str] = mapped_column(String(20), default="queued", server_default="queued")
    user_id: Mapped[str | None] = mapped_column(String(100))
    # CSV and zip imports: the uploaded file, kept in storage until the run ends.
    upload_key: Mapped[str | None] = mapped_column(String(300))
    upload_filename: Mapped[str | None] = mapped_column(String(255))
    options: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    total_items: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AssetImportItem(UUIDPrimaryKey, Timestamps, TenantOwned):
    __tablename__ = "asset_import_items"
    __table_args__ = (
        UniqueConstraint("run_id", "item_key"),
        Index("ix_asset_import_items_run_state", "run_id", "state", "position"),
        Index("ix_asset_import_items_tenant_id", "tenant_id"),
        CheckConstraint(f"state IN {IMPORT_ITEM_STATES!r}", name="state"),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("asset_import_runs.id", ondelete="CASCADE")
    )
    item_key: Mapped[str] = mapped_column(String(400))
    position: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    asset_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("campaign_assets.id", ondelete="SET NULL")
    )
    error: Mapped[str | None] = mapped_column(Text)
