"""One FastAPI app serving every platform simulator and their admin surface, on one state.

    /strategis/...  Strategis API          (strategis.py)
    /relay/...      Strategis Facebook relay (relay.py)
    /reddit/...     Reddit Ads API v3 and Reddit OAuth (reddit.py)
    /graph/...      Meta Graph API (meta_graph.py, meta_oauth.py), on the relay's Facebook store
    /facebook/...   Facebook Login's OAuth dialog (meta_oauth.py)
    /google/...     Google Ads API v25 and Google OAuth (google_ads.py)
    /images/...     an advertiser's image host (image_host.py)
    /hooks/...      an advertiser's webhook endpoint (webhook_receiver.py)
    /_sim/performance/...  how simulated campaigns perform (performance_admin.py): Meta
                    Insights and Reddit reports render that series
    /_sim/...       admin: state, faults, reset, request log (admin.py)

A new platform adds its router, its object types in `state.OBJECT_TYPES` and a `FaultSurface`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from fastapi import FastAPI

from flightdeck.settings import DEV_STRATEGIS_API_KEY
from flightdeck.simulators import (
    admin,
    google_ads,
    image_host,
    meta_admin,
    meta_graph,
    meta_oauth,
    meta_usage,
    performance_admin,
    persistence,
    reddit,
    relay,
    strategis,
    webhook_receiver,
)
from flightdeck.simulators.faults import FaultInjectionMiddleware, FaultSurface
from flightdeck.simulators.google_ads_state import GoogleApp
from flightdeck.simulators.graph_errors import render_graph_fault
from flightdeck.simulators.meta_state import MetaApp
from flightdeck.simulators.reddit_auth import OAuthApp
from flightdeck.simulators.state import SimulatorState

SURFACES = (
    FaultSurface("strategis", "/strategis", strategis.render_strategis_fault),
    FaultSurface("relay", "/relay", render_graph_fault),
    FaultSurface("reddit", "/reddit", reddit.render_reddit_fault),
    FaultSurface("meta", "/graph", meta_usage.render_meta_fault),
    FaultSurface("google", "/google", google_ads.render_google_fault),
)


def create_simulator_app(
    api_key: str = DEV_STRATEGIS_API_KEY,
    *,
    state_path: Path | None = None,
    reddit_apps: Sequence[OAuthApp] = (),
    meta_apps: Sequence[MetaApp] = (),
    google_apps: Sequence[GoogleApp] = (),
) -> FastAPI:
    """The simulators, accepting `Authorization: Bearer <api_key>` on the Strategis routes.

    With `state_path`, their state survives restarts (simulators/persistence.py); `reddit_apps`
    and `meta_apps` are registered at start (and again after a reset), as a developer registers
    an app at reddit.com/prefs/apps or developers.facebook.com: the credentials Flightdeck is
    configured with."""
    state = SimulatorState(api_key=api_key)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if state_path is None:
            yield
            return
        if persistence.load(state, state_path):
            print(f"- simulators: state restored from {state_path}")
        state.api_key = api_key  # the configured key, whatever the file remembers
        saver = asyncio.create_task(persistence.keep_saved(state, state_path))
        try:
            yield
        finally:
            saver.cancel()
            await asyncio.gather(saver, return_exceptions=True)
            persistence.save_on_stop(state, state_path)

    app = FastAPI(
        title="Flightdeck platform simulators",
        description="Stateful emulations of the Strategis API, its Facebook relay and the "
        "Reddit Ads API, the Meta Graph API and the Google Ads API.",
        lifespan=lifespan,
    )
    state.configured_reddit_apps = list(reddit_apps)
    state.configured_meta_apps = list(meta_apps)
    state.configured_google_apps = list(google_apps)
    state.register_configured_apps()
    app.state.sim = state
    app.include_router(strategis.router, prefix="/strategis", tags=["strategis"])
    app.include_router(relay.router, prefix="/relay", tags=["relay"])
    app.include_router(admin.router, prefix="/_sim", tags=["simulator admin"])
    app.include_router(relay.admin_router, prefix="/_sim/relay", tags=["simulator admin"])
    app.include_router(reddit.router, prefix="/reddit", tags=["reddit"])
    app.include_router(reddit.admin_router, prefix="/_sim/reddit", tags=["simulator admin"])
    app.include_router(google_ads.router, prefix="/google", tags=["google ads"])
    app.include_router(google_ads.admin_router, prefix="/_sim/google", tags=["simulator admin"])
    app.include_router(meta_oauth.token_router, prefix="/graph", tags=["meta"])
    app.include_router(meta_graph.router, prefix="/graph", tags=["meta"])
    app.include_router(meta_oauth.dialog_router, prefix="/facebook", tags=["meta"])
    app.include_router(image_host.router, prefix="/images", tags=["images"])
    app.include_router(webhook_receiver.router, prefix="/hooks", tags=["webhooks"])
    app.include_router(
        webhook_receiver.admin_router, prefix="/_sim/hooks", tags=["simulator admin"]
    )
    app.include_router(meta_admin.router, prefix="/_sim/meta", tags=["simulator admin"])
    app.include_router(
        performance_admin.router, prefix="/_sim/performance", tags=["simulator admin"]
    )
    app.add_middleware(FaultInjectionMiddleware, state=state, surfaces=SURFACES)
    app.add_middleware(persistence.MarkDirty, state=state)
    return app
