"""Builds and runs the Temporal workers: one per task queue, in one process.

- `flightdeck` (settings.task_queue): workflows + their Postgres bookkeeping (local activities).
- `strategis` (settings.strategis_task_queue): every Strategis / relay call, rate-limited for the
  whole queue by the Temporal server (`max_task_queue_activities_per_second`), so the platform
  budget holds across all workflows and worker processes.
- `meta` (settings.meta_task_queue): every Meta Graph call of a publish, review check or
  operation, paced by `meta_rate_limit` for all workers together (and by the usage headers).
- `reddit` (settings.reddit_task_queue): every Reddit Ads write of the set sync, one call per
  activity, paced by `reddit_rate_limit` for all workers together; `reddit-creative` the same
  for ad posts, which Reddit counts against another policy (`reddit_creative_rate_limit`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from flightdeck.accounts.google import google_account_service
from flightdeck.accounts.meta import MetaConnectionService, meta_graph_client
from flightdeck.accounts.meta_sets import MetaSetAccounts
from flightdeck.accounts.reddit import RedditAccountService
from flightdeck.activities.adapters import PlatformAdapters
from flightdeck.activities.asset_import import AssetImportActivities, ImportLimits
from flightdeck.activities.conflict_starts import ConflictStartActivities
from flightdeck.activities.housekeeping import HousekeepingActivities
from flightdeck.activities.meta import MetaPublishActivities
from flightdeck.activities.meta_ops import MetaOperationActivities
from flightdeck.activities.meta_review import MetaReviewActivities
from flightdeck.activities.plans import PlanActivities
from flightdeck.activities.set_entity import SetEntityActivities
from flightdeck.activities.strategis import StrategisActivities
from flightdeck.activities.sync import RetrySweepActivities, SyncActivities
from flightdeck.activities.sync_back import SyncBackActivities
from flightdeck.assets.library import AssetLibrary, Limits
from flightdeck.assets.relay_importer import RelayAssetImporter
from flightdeck.crypto import TokenCipher
from flightdeck.db.circuit_breaker import CircuitBreakerService
from flightdeck.performance_worker import PERFORMANCE_WORKFLOWS, performance_workers
from flightdeck.platforms.asset_importer import AssetImporters
from flightdeck.platforms.meta_usage import UsageMonitor
from flightdeck.platforms.reddit_asset_importer import RedditAssetImporter
from flightdeck.platforms.reddit_oauth import RedditOAuthClient
from flightdeck.platforms.registry import PlatformEntry, platforms
from flightdeck.platforms.reporting import registered
from flightdeck.platforms.safe_fetch import FetchLimits, SafeFetcher
from flightdeck.platforms.strategis import StrategisClient, StrategisRelayClient
from flightdeck.settings import Settings
from flightdeck.storage import create_blob_store
from flightdeck.storage.archives import ArchiveLimits
from flightdeck.temporal import read_task_queue
from flightdeck.workflows.campaign_set_entity import CampaignSetWorkflow
from flightdeck.workflows.import_campaign_space import ImportCampaignSpaceWorkflow
from flightdeck.workflows.meta_ops import MetaMaintenanceWorkflow, OperateMetaCampaignWorkflow
from flightdeck.workflows.meta_review import TrackMetaAdReviewWorkflow
from flightdeck.workflows.pending_plans import PendingPlansSweepWorkflow
from flightdeck.workflows.publish_meta import PublishMetaCampaignWorkflow
from flightdeck.workflows.publish_plan import PublishPlanWorkflow
from flightdeck.workflows.retry_failed_syncs import RetryFailedSyncsWorkflow
from flightdeck.workflows.sync_back import ConflictWorkflow, SyncBackWorkflow
from flightdeck.workflows.sync_campaign_set import (
    SyncCampaignBatchWorkflow,
    SyncCampaignSetWorkflow,
)

WORKFLOWS = [
    PublishPlanWorkflow,
    CampaignSetWorkflow,
    SyncCampaignSetWorkflow,
    SyncCampaignBatchWorkflow,
    RetryFailedSyncsWorkflow,
    SyncBackWorkflow,
    ConflictWorkflow,
    ImportCampaignSpaceWorkflow,
    PublishMetaCampaignWorkflow,
    TrackMetaAdReviewWorkflow,
    OperateMetaCampaignWorkflow,
    MetaMaintenanceWorkflow,
    *PERFORMANCE_WORKFLOWS,
    PendingPlansSweepWorkflow,
]


@dataclass
class PlatformTransports:
    """Optional httpx transports (tests route clients to in-process simulators)."""

    strategis: httpx.AsyncBaseTransport | None = None
    relay: httpx.AsyncBaseTransport | None = None
    reddit: httpx.AsyncBaseTransport | None = None
    meta: httpx.AsyncBaseTransport | None = None
    google: httpx.AsyncBaseTransport | None = None


@contextlib.asynccontextmanager
async def running_workers(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    transports: PlatformTransports | None = None,
) -> AsyncIterator[list[Worker]]:
    """Start every worker; stop them (and close their HTTP clients) on exit."""
    transports = transports or PlatformTransports()
    api_key = settings.strategis_api_key.get_secret_value()
    async with (
        StrategisClient(
            settings.strategis_base_url,
            api_key,
            timeout=settings.http_timeout_seconds,
            transport=transports.strategis,
        ) as strategis,
        StrategisRelayClient(
            settings.strategis_relay_base_url,
            api_key,
            timeout=settings.http_timeout_seconds,
            transport=transports.relay,
        ) as relay,
        RedditOAuthClient(
            settings.reddit_oauth_base_url,
            settings.reddit_client_id,
            settings.reddit_client_secret.get_secret_value(),
            timeout=settings.http_timeout_seconds,
            transport=transports.reddit,
            user_agent=settings.reddit_user_agent,
        ) as reddit_oauth,
        meta_graph_client(
            settings,
            transport=transports.meta,
            usage=UsageMonitor(settings.meta_slow_at_percent),
        ) as graph,
        performance_workers(
            client,
            sessions,
            settings,
            {
                "meta": transports.meta,
                "reddit": transports.reddit,
                "google": transports.google,
                "relay": transports.relay,
            },
        ) as seed_004_workers,
        google_account_service(sessions, settings, transport=transports.google) as google_accounts,
    ):
        reddit_accounts = RedditAccountService(
            sessions,
            reddit_oauth,
            TokenCipher.from_settings(settings),
            settings,
            ads_transport=transports.reddit,
        )
        meta_connections = MetaConnectionService(
            sessions, graph, TokenCipher.from_settings(settings), settings
        )
        adapters = PlatformAdapters(
            sessions,
            {
                "reddit": reddit_accounts,
                "google": google_accounts,
                "meta": MetaSetAccounts(sessions, meta_connections),
            },
            poll_page_size=settings.sync_back_page_size,
        )
        sync_acts = SyncActivities(
            sessions,
            adapters,
            CircuitBreakerService.from_settings(sessions, settings),
            call_timeout_seconds=settings.http_timeout_seconds,
        )
        sweep_acts = RetrySweepActivities(sessions)
        entity_acts = SetEntityActivities(client, settings.task_queue)
        conflict_starts = ConflictStartActivities(client, settings.task_queue)
        back_acts = SyncBackActivities(sessions, adapters)
        plans = PlanActivities(sessions)
        housekeeping = HousekeepingActivities(sessions, client, settings)
        strategis_acts = StrategisActivities(
            sessions, strategis, relay, settings.strategis_tracking_base_url
        )
        import_acts, fetcher = asset_import_activities(sessions, settings, adapters, relay)
        image_limits = FetchLimits.allowing(
            settings.download_allowed_hosts,
            max_bytes=settings.image_fetch_max_bytes,
            timeout_seconds=settings.image_fetch_timeout_seconds,
        )
        meta_publish = MetaPublishActivities(sessions, graph, meta_connections, image_limits)
        meta_review = MetaReviewActivities(sessions, graph, meta_connections)
        meta_ops = MetaOperationActivities(sessions, graph, meta_connections)
        grace = timedelta(seconds=settings.worker_shutdown_grace_seconds)
        sticky = timedelta(seconds=settings.worker_sticky_timeout_seconds)
        workers = [
            Worker(
                client,
                graceful_shutdown_timeout=grace,
                task_queue=settings.task_queue,
                workflows=WORKFLOWS,
                sticky_queue_schedule_to_start_timeout=sticky,
                activities=[
                    plans.set_status,
                    plans.record_failure,
                    housekeeping.sweep_pending_plans,
                    sync_acts.prepare_set_sync,
                    sync_acts.finish_set_sync,
                    sync_acts.next_campaign_page,
                    sync_acts.record_campaign_outcome,
                    sweep_acts.find_retryable_syncs,
                    entity_acts.request_set_operation,
                    back_acts.list_accounts,
                    back_acts.escalate_conflict,
                    conflict_starts.start_conflict_workflows,
                    import_acts.prepare,
                    import_acts.discover,
                    import_acts.import_batch,
                    import_acts.finish,
                    meta_publish.begin_publish,
                    meta_publish.finish_publish,
                    meta_review.review_alert,
                    meta_review.finish_review,
                    meta_ops.clean_failed_publishes,
                    meta_ops.archive_audit,
                ],
            ),
            Worker(
                client,
                graceful_shutdown_timeout=grace,
                task_queue=settings.meta_task_queue,
                activities=[
                    meta_publish.upload_image,
                    meta_publish.create_campaign,
                    meta_publish.create_adset,
                    meta_publish.create_creative,
                    meta_publish.create_ad,
                    meta_publish.activate,
                    meta_publish.verify,
                    meta_publish.compensate,
                    meta_review.check_reviews,
                    meta_ops.operate,
                ],
                max_concurrent_activities=100,
                # A 50-ad publish fans out 50 creatives, then 50 ads, at once.
                max_concurrent_activity_task_polls=20,
                max_task_queue_activities_per_second=settings.meta_rate_limit,
            ),
            Worker(
                client,
                graceful_shutdown_timeout=grace,
                task_queue=settings.strategis_task_queue,
                activities=[
                    strategis_acts.ensure_template,
                    strategis_acts.create_relay_object,
                    strategis_acts.publish_ad_set,
                    strategis_acts.create_tracking_campaign,
                    strategis_acts.compensate_plan,
                    import_acts.discover,  # asset imports through the relay
                ],
                max_concurrent_activities=100,
                # A publish fans out 20+ creates at once: enough pollers to take them together.
                max_concurrent_activity_task_polls=20,
                max_task_queue_activities_per_second=settings.strategis_rate_limit,
            ),
            *[
                worker
                for entry in platforms()
                for worker in platform_workers(
                    client, grace, settings, entry, sync_acts, back_acts, import_acts
                )
            ],
            *seed_004_workers,  # metrics, alerts, recommendations, actions
        ]
        tasks = [asyncio.create_task(w.run()) for w in workers]
        try:
            yield workers
        finally:
            await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
            await asyncio.gather(*tasks, return_exceptions=True)
            await adapters.aclose()
            await reddit_accounts.aclose()
            await fetcher.aclose()


def rate_limited_queues(settings: Settings) -> list[str]:
    """The rate-limited task queues that run at their limit for long — each platform's set-sync
    writes and creatives, its metrics reports and actions — which a deployment gives one
    partition (why, and why not the publish queues: flightdeck.temporal.SINGLE_PARTITION)."""
    queues: list[str] = []
    for entry in platforms():
        queues += [entry.task_queue(settings), entry.creative_task_queue(settings)]
    for reg in registered():
        queues += [reg.report_queue(settings), reg.write_queue(settings)]
    return queues


def platform_workers(
    client: Client,
    grace: timedelta,
    settings: Settings,
    entry: PlatformEntry,
    sync_acts: SyncActivities,
    back_acts: SyncBackActivities,
    import_acts: AssetImportActivities,
) -> list[Worker]:
    """A campaign-set platform's queues (names and rate limits from its registry entry)."""
    return [
        # Set-sync writes, one per activity, paced for all workers together.
        Worker(
            client,
            graceful_shutdown_timeout=grace,
            task_queue=entry.task_queue(settings),
            activities=[
                sync_acts.push_entity,
                sync_acts.settle_lost_creates,
                back_acts.apply_resolution,
            ],
            max_concurrent_activities=settings.sync_max_concurrent_pushes,
            max_task_queue_activities_per_second=entry.rate_limit(settings),
        ),
        # Sync-back polls: list calls, paced by the platform's read policy through its 429s.
        Worker(
            client,
            graceful_shutdown_timeout=grace,
            task_queue=entry.read_task_queue(settings),
            activities=[back_acts.sync_account, import_acts.discover],
            max_concurrent_activities=4,
        ),
        Worker(
            client,
            graceful_shutdown_timeout=grace,
            task_queue=entry.creative_task_queue(settings),
            activities=[sync_acts.push_entity],
            max_concurrent_activities=settings.sync_max_concurrent_pushes,
            max_task_queue_activities_per_second=entry.creative_rate_limit(settings),
        ),
    ]


def asset_import_activities(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    adapters: PlatformAdapters,
    relay: StrategisRelayClient,
) -> tuple[AssetImportActivities, SafeFetcher]:
    """The asset-import activities with their importers (Reddit, the Strategis relay; a Meta
    Graph importer registers here too), the storage backend and the SSRF-guarded fetcher."""
    library = AssetLibrary(create_blob_store(settings), Limits.from_settings(settings))
    importers = AssetImporters()
    importers.register(
        RedditAssetImporter(adapters.reddit_client, read_task_queue(settings.reddit_task_queue))
    )
    importers.register(RelayAssetImporter(sessions, relay, settings.strategis_task_queue))
    fetcher = SafeFetcher(
        allowed_hosts=settings.download_allowed_hosts,
        max_bytes=settings.asset_download_max_bytes,
        timeout=settings.http_timeout_seconds,
    )
    limits = ImportLimits(
        download_max_bytes=settings.asset_download_max_bytes,
        csv_max_rows=settings.csv_import_max_rows,
        archive=ArchiveLimits(
            max_entries=settings.bulk_import_max_entries,
            max_total_bytes=settings.bulk_import_max_total_bytes,
            max_entry_bytes=settings.asset_max_upload_bytes,
            max_ratio=settings.bulk_import_max_ratio,
        ),
    )
    acts = AssetImportActivities(
        sessions, library, importers, fetcher, limits, main_task_queue=settings.task_queue
    )
    return acts, fetcher
