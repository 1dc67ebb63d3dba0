"""The FastAPI application: starts, inspects and steers publish workflows."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from flightdeck import console
from flightdeck.api.errors import ERROR_RESPONSES, install_error_handlers
from flightdeck.api.guards import RequestGuard
from flightdeck.api.observability import install_observability
from flightdeck.api.routes import (
    actions,
    ad_accounts,
    alerts,
    asset_imports,
    audit_log,
    campaign_assets,
    campaign_mappings,
    campaign_plans,
    campaign_sets,
    campaign_spaces,
    jobs,
    meta_campaigns,
    meta_connections,
    meta_publishing,
    metrics,
    performance_settings,
    recommendations,
    set_sync,
    sync_back,
    users,
)
from flightdeck.api.startup import settle
from flightdeck.settings import Settings

logger = logging.getLogger(__name__)


async def _warn_if_overcommitted(engine: Any, pool: Any, processes: int) -> None:
    from flightdeck.db.engine import pool_overcommit

    try:
        problem = await pool_overcommit(engine, pool, processes)
    except Exception:  # noqa: BLE001 - Postgres down at start: the API starts anyway (503s)
        return
    if problem:
        logger.warning("connection pools: %s", problem)


def create_app(
    settings: Settings,
    *,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    temporal: Client | None = None,
) -> FastAPI:
    """Build the app. Without `sessions`/`temporal`, the lifespan connects to what settings say."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if sessions is None:
                from flightdeck.db.bootstrap import resolve_database_url
                from flightdeck.db.engine import PoolSize, create_engine, create_sessionmaker

                url, server = await resolve_database_url(settings.database_url, settings.data_dir)
                pool = PoolSize.from_settings(settings)
                engine = create_engine(url, pool=pool)
                stack.push_async_callback(engine.dispose)
                await _warn_if_overcommitted(engine, pool, settings.api_workers)
                app.state.sessions = create_sessionmaker(engine)
                app.state.embedded_postgres = server
            if temporal is None:
                from flightdeck.temporal import connect

                app.state.temporal = await connect(settings, lazy=True)
            await settle(app)  # route state built and the heap frozen now (startup.py)
            yield

    app = FastAPI(
        title="Flightdeck",
        version="0.1.0",
        description="Publish campaign plans to ad platforms as durable Temporal workflows.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.temporal = temporal
    install_error_handlers(app)
    app.add_middleware(RequestGuard, max_body_bytes=settings.api_max_body_bytes)
    for router in (campaign_plans.router, campaign_mappings.router, jobs.router):
        app.include_router(router, prefix="/api/v1")
    app.include_router(ad_accounts.router, prefix="/api/v1")
    app.include_router(campaign_sets.router, prefix="/api/v1")
    app.include_router(set_sync.router, prefix="/api/v1")
    app.include_router(audit_log.router, prefix="/api/v1")
    app.include_router(sync_back.router, prefix="/api/v1")
    app.include_router(users.router, prefix="/api/v1")
    for router in (campaign_spaces.router, asset_imports.router, campaign_assets.router):
        app.include_router(router, prefix="/api/v1")
    for meta_router in (meta_connections.router, meta_campaigns.router, meta_publishing.router):
        app.include_router(meta_router, prefix="/api/v1")
    for seed_004 in (metrics, alerts, recommendations, actions, performance_settings):
        app.include_router(seed_004.router, prefix="/api/v1")
    console.install(app)  # the web console (/console) and the offline docs (/docs, /redoc)

    install_observability(app, settings)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
