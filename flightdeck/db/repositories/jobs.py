"""The `jobs` registry rows: recorded when the API hands out a job id, read by `GET /jobs`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Job
from flightdeck.jobs import JobKind, job_kind


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        tenant_id: uuid.UUID,
        job_id: str,
        kind: JobKind,
        subject_id: object = None,
        *,
        requested_at: datetime | None = None,
    ) -> None:
        """In the caller's transaction. The same id again (a set's next sync) is a new request
        under it: `requested_at` moves — to now, or to `requested_at` when the request joins a
        run already under way (so the job follows that run, which started before it)."""
        job_kind(kind)
        when = func.now() if requested_at is None else requested_at
        statement = insert(Job).values(
            id=job_id,
            tenant_id=tenant_id,
            kind=kind,
            subject_id=None if subject_id is None else str(subject_id),
            requested_at=when,
        )
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=[Job.id], set_={"requested_at": when})
        )

    async def get(self, tenant_id: uuid.UUID, job_id: str) -> Job | None:
        return await self.session.scalar(
            select(Job).where(Job.tenant_id == tenant_id, Job.id == job_id)
        )
