"""One FastAPI app serving every platform simulator and their admin surface, on one state.

    /strategis/...  Strategis API          (strategis.py)
    /relay/...      Strategis Facebook relay (relay.py)
    /reddit/...     Reddit Ads API v3 and Reddit OAuth (reddit.py)
    /graph/...      Meta Graph API (meta_graph.py, meta_oauth.py), on the relay's Facebook store
    /facebook/...   Facebook Login's OAuth dialog (meta_oauth.py)
    /images/...     an advertiser's image host (image_host.py)
    /_sim/...       admin: state, faults, reset, request log (admin.py)

A new platform adds its router, its object types in `state.OBJECT_TYPES` and a `FaultSurface`.
"""

from __future__ import annotations

from fastapi import FastAPI

from flightdeck.settings import DEV_STRATEGIS_API_KEY
from flightdeck.simulators import (
    admin,
    image_host,
    meta_admin,
    meta_graph,
    meta_oauth,
    meta_usage,
    reddit,
    relay,
    strategis,
)
from flightdeck.simulators.faults import FaultInjectionMiddleware, FaultSurface
from flightdeck.simulators.graph_errors import render_graph_fault
from flightdeck.simulators.state import SimulatorState

SURFACES = (
    FaultSurface("strategis", "/strategis", strategis.render_strategis_fault),
    FaultSurface("relay", "/relay", render_graph_fault),
    FaultSurface("reddit", "/reddit", reddit.render_reddit_fault),
    FaultSurface("meta", "/graph", meta_usage.render_meta_fault),
)


def create_simulator_app(api_key: str = DEV_STRATEGIS_API_KEY) -> FastAPI:
    """The simulators, accepting `Authorization: Bearer <api_key>` on the platform routes."""
    state = SimulatorState(api_key=api_key)
    app = FastAPI(
        title="Flightdeck platform simulators",
        description="Stateful emulations of the Strategis API, its Facebook relay and the "
        "Reddit Ads API and the Meta Graph API.",
    )
    app.state.sim = state
    app.include_router(strategis.router, prefix="/strategis", tags=["strategis"])
    app.include_router(relay.router, prefix="/relay", tags=["relay"])
    app.include_router(admin.router, prefix="/_sim", tags=["simulator admin"])
    app.include_router(relay.admin_router, prefix="/_sim/relay", tags=["simulator admin"])
    app.include_router(reddit.router, prefix="/reddit", tags=["reddit"])
    app.include_router(reddit.admin_router, prefix="/_sim/reddit", tags=["simulator admin"])
    app.include_router(meta_oauth.token_router, prefix="/graph", tags=["meta"])
    app.include_router(meta_graph.router, prefix="/graph", tags=["meta"])
    app.include_router(meta_oauth.dialog_router, prefix="/facebook", tags=["meta"])
    app.include_router(image_host.router, prefix="/images", tags=["images"])
    app.include_router(meta_admin.router, prefix="/_sim/meta", tags=["simulator admin"])
    app.add_middleware(FaultInjectionMiddleware, state=state, surfaces=SURFACES)
    return app
