"""The API keeps its event loop to itself: every route and every dependency is a coroutine.
FastAPI runs a plain `def` dependency or endpoint in its thread pool — a thread hop per
request, which on a busy machine costs two scheduler wake-ups and showed in the tail latency
(bench/api_load.py). A new sync dependency fails here."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from flightdeck.api.app import create_app
from flightdeck.settings import Settings


def routes(candidates: list[Any]) -> Iterator[APIRoute]:
    for route in candidates:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # an included router
        if included is not None:
            yield from routes(included.routes)


def sync_calls(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and not (
            inspect.iscoroutinefunction(call)
            or inspect.isasyncgenfunction(call)
            or inspect.iscoroutinefunction(type(call).__call__)  # e.g. HTTPBearer()
        ):
            yield f"{getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', call)}"
        yield from sync_calls(sub)


def assert_every_route_is_async(app: Any, at_least: int) -> None:
    """No route of `app` (its included routers' too: at least `at_least` of them) and none of
    their dependencies is a plain function."""
    found = list(routes(app.routes))
    assert len(found) > at_least  # the walk reaches the included routers' routes
    sync_endpoints = [
        f"{sorted(r.methods)} {r.path}"
        for r in found
        if not inspect.iscoroutinefunction(r.endpoint)
    ]
    sync_dependencies = sorted({name for r in found for name in sync_calls(r.dependant)})
    assert sync_endpoints == []
    assert sync_dependencies == []


def test_every_route_and_dependency_is_a_coroutine() -> None:
    app = create_app(Settings(environment="test"), sessions=object(), temporal=object())  # type: ignore[arg-type]
    assert_every_route_is_async(app, at_least=100)


def test_the_check_sees_a_sync_dependency() -> None:
    from fastapi import Depends, FastAPI

    def blocking() -> int:
        return 1

    app = FastAPI()

    @app.get("/x")
    async def x(value: int = Depends(blocking)) -> int:
        return value

    [route] = [r for r in app.routes if isinstance(r, APIRoute)]
    assert list(sync_calls(route.dependant)) == [f"{__name__}.{blocking.__qualname__}"]
