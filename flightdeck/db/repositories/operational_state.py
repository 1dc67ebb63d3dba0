"""Shared operational state for the worker's Prometheus gauges: what is open, what is broken,
how far behind the metrics are — read across every tenant (a system session), at scrape time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Alert, CircuitBreaker, MetricsSyncRun, SyncConflict


@dataclass(frozen=True)
class OperationalState:
    conflicts_open: dict[str, int]  # by platform
    alerts_open: dict[tuple[str, str], int]  # by (alert type, severity)
    breakers: dict[str, str]  # platform → closed / open / half_open
    metrics_synced_at: dict[tuple[str, str], datetime]  # (platform, account) → last success


async def read_operational_state(session: AsyncSession) -> OperationalState:
    conflicts = await session.execute(
        select(SyncConflict.platform, func.count())
        .where(SyncConflict.status == "open")
        .group_by(SyncConflict.platform)
    )
    alerts = await session.execute(
        select(Alert.alert_type, Alert.severity, func.count())
        .where(Alert.resolved_at.is_(None))
        .group_by(Alert.alert_type, Alert.severity)
    )
    breakers = await session.execute(select(CircuitBreaker.platform, CircuitBreaker.state))
    synced = await session.execute(
        select(
            MetricsSyncRun.platform,
            MetricsSyncRun.account_id,
            func.max(MetricsSyncRun.finished_at),
        )
        .where(MetricsSyncRun.status == "completed", MetricsSyncRun.account_id.is_not(None))
        .group_by(MetricsSyncRun.platform, MetricsSyncRun.account_id)
    )
    return OperationalState(
        conflicts_open={platform: count for platform, count in conflicts.tuples()},
        alerts_open={(kind, severity): count for kind, severity, count in alerts.tuples()},
        breakers={platform: state for platform, state in breakers.tuples()},
        metrics_synced_at={
            (platform, account or ""): at for platform, account, at in synced.tuples() if at
        },
    )
