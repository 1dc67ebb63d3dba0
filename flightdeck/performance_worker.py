"""The workers of seed 004 (metrics, alerts, recommendations, actions), started beside the
others by `worker.running_workers`:

- `metrics` (settings.metrics_task_queue): `MetricsSyncWorkflow`, `ApplyActionWorkflow` and
  their bookkeeping, the alert and recommendation analysis, the webhook deliveries;
- `<platform queue>-reports` per registered platform (`meta-reports`, `reddit-reports`): the
  accounts' reads, rate limited for every worker together (`*_reports_rate_limit`), a few at
  a time (each pages through a whole account);
- `<platform queue>-actions` per platform: approved actions' platform writes (rare; their own
  queue so they never wait behind a large set sync or publish).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from flightdeck.activities.actions import ActionActivities
from flightdeck.activities.analysis import AnalysisActivities
from flightdeck.activities.metrics import MetricsActivities
from flightdeck.crypto import TokenCipher
from flightdeck.domain.narrative import narrative_provider
from flightdeck.platforms.reporting import PerformanceDeps, open_runtimes, registered
from flightdeck.platforms.safe_fetch import SafeFetcher
from flightdeck.settings import Settings
from flightdeck.workflows.apply_action import ApplyActionWorkflow
from flightdeck.workflows.metrics_sync import MetricsSyncWorkflow

PERFORMANCE_WORKFLOWS = [MetricsSyncWorkflow, ApplyActionWorkflow]
WEBHOOK_MAX_BYTES = 1024 * 1024
ACTIONS_RATE_LIMIT = 2.0


@contextlib.asynccontextmanager
async def performance_workers(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    transports: dict[str, httpx.AsyncBaseTransport | None],
) -> AsyncIterator[list[Worker]]:
    """Build the seed-004 workers (not yet running); close their clients on exit."""
    deps = PerformanceDeps(sessions, settings, transports)
    grace = timedelta(seconds=settings.worker_shutdown_grace_seconds)
    webhooks = SafeFetcher(
        allowed_hosts=settings.download_allowed_hosts,
        max_bytes=WEBHOOK_MAX_BYTES,
        timeout=settings.alert_webhook_timeout_seconds,
        user_agent="flightdeck-alerts/1.0",
    )
    try:
        async with open_runtimes(deps) as runtimes:
            metrics = MetricsActivities(sessions, runtimes, settings)
            analysis = AnalysisActivities(
                sessions,
                narrative_provider(settings.narrative_provider),
                TokenCipher.from_settings(settings),
                webhooks,
            )
            actions = ActionActivities(sessions, runtimes)
            workers = [
                Worker(
                    client,
                    graceful_shutdown_timeout=grace,
                    task_queue=settings.metrics_task_queue,
                    workflows=PERFORMANCE_WORKFLOWS,
                    sticky_queue_schedule_to_start_timeout=timedelta(
                        seconds=settings.worker_sticky_timeout_seconds
                    ),
                    activities=[
                        metrics.prepare,
                        metrics.account_failed,
                        analysis.analyze,
                        analysis.notify,
                        actions.prepare,
                        actions.finish,
                    ],
                )
            ]
            for reg in registered():
                workers.append(
                    Worker(
                        client,
                        graceful_shutdown_timeout=grace,
                        task_queue=reg.report_queue(settings),
                        activities=[metrics.sync_account],
                        max_concurrent_activities=settings.metrics_account_concurrency,
                        max_task_queue_activities_per_second=reg.report_rate_limit(settings),
                    )
                )
                workers.append(
                    Worker(
                        client,
                        graceful_shutdown_timeout=grace,
                        task_queue=reg.write_queue(settings),
                        activities=[actions.execute_step],
                        max_concurrent_activities=10,
                        max_task_queue_activities_per_second=ACTIONS_RATE_LIMIT,
                    )
                )
            yield workers
    finally:
        await webhooks.aclose()
