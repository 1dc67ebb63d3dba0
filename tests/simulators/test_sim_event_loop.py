"""The simulators keep their event loop to themselves, like the API (tests/api/test_event_loop.py):
every route and dependency is a coroutine. A plain `def` one runs in FastAPI's thread pool, a
thread hop per request: under a publish's fan-out that was ~15 % of the simulators' CPU, and
the simulated platform's latency grew with it (bench/publish.py)."""

from __future__ import annotations

from flightdeck.simulators.app import create_simulator_app
from tests.api.test_event_loop import assert_every_route_is_async


def test_every_simulator_route_and_dependency_is_a_coroutine() -> None:
    assert_every_route_is_async(create_simulator_app(), at_least=50)
