"""`jobs`: every job id the API handed out, with its kind (flightdeck/jobs.py) and subject."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from flightdeck.db.models.base import CreatedAt, TenantOwned


class Job(CreatedAt, TenantOwned):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(400), primary_key=True, sort_order=-20)
    kind: Mapped[str] = mapped_column(String(40))
    # The object the job works on (set, plan, import run…), as text; None for tenant-wide jobs.
    subject_id: Mapped[str | None] = mapped_column(String(200))
    # The latest request under this id (set jobs reuse theirs): a run that started before it
    # is not the one the caller is waiting for.
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
