"""The simulators keep their event loop to themselves, like the API (tests/api/test_event_loop.py):
every route and dependency is a coroutine. A plain `def` one runs in FastAPI's thread pool, a
thread hop per request: under a publish's fan-out that was ~15 % of the simulators' CPU, and
the simulated platform's latency grew with it (bench/publish.py)."""

from __future__ import annotations

import inspect

from flightdeck.simulators.app import create_simulator_app
from tests.api.test_event_loop import routes, sync_calls


def test_every_simulator_route_and_dependency_is_a_coroutine() -> None:
    found = list(routes(create_simulator_app().routes))
    assert len(found) > 50  # the walk reaches the included routers' routes
    sync_endpoints = [
        f"{sorted(r.methods)} {r.path}"
        for r in found
        if not inspect.iscoroutinefunction(r.endpoint)
    ]
    sync_dependencies = sorted({name for r in found for name in sync_calls(r.dependant)})
    assert sync_endpoints == []
    assert sync_dependencies == []
