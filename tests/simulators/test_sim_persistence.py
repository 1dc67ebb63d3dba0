"""The simulators keep their state across restarts (a file in the data dir), honour the
credentials Flightdeck is configured with, and still empty completely on `/_sim/reset`."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI

from flightdeck.simulators.app import create_simulator_app
from flightdeck.simulators.reddit_auth import OAuthApp
from tests.simulators.conftest import CAMPAIGN, ORG

KEY = "configured-strategis-key"


@contextlib.asynccontextmanager
async def running(app: FastAPI, key: str = KEY) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (restore at start, save at stop), as uvicorn runs it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sim", headers=headers
        ) as c:
            yield c


async def create_campaign(http: httpx.AsyncClient, key: str) -> httpx.Response:
    body = {**copy.deepcopy(CAMPAIGN), "organization": ORG, "clientRequestKey": key}
    return await http.post("/relay/api/facebook/campaigns/create", json=body)


async def test_objects_sequences_and_idempotency_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "simulators.state"
    async with running(create_simulator_app(KEY, state_path=path)) as sim:
        first = (await create_campaign(sim, "campaign-a")).json()["id"]
        await sim.post("/_sim/faults", json={"rules": [{"latencyMs": 5}]})
    assert path.exists()

    async with running(create_simulator_app(KEY, state_path=path)) as sim:
        state = (await sim.get("/_sim/state")).json()["platforms"]["facebook"]
        assert [c["id"] for c in state["campaigns"]["items"]] == [first]
        replay = await create_campaign(sim, "campaign-a")
        assert replay.json()["id"] == first, "the idempotency cache came back too"
        second = (await create_campaign(sim, "campaign-b")).json()["id"]
        assert int(second) > int(first), "ids are never handed out twice"
        assert (await sim.get("/_sim/faults")).json()["rules"] == [], "fault rules do not persist"
        assert (await sim.get("/_sim/requests")).json()[0]["replayed"] is True

        await sim.post("/_sim/reset")
    async with running(create_simulator_app(KEY, state_path=path)) as sim:
        state = (await sim.get("/_sim/state")).json()["platforms"]["facebook"]
        assert state["campaigns"]["count"] == 0, "a reset empties the saved state too"


async def test_the_configured_key_is_the_one_accepted(tmp_path: Path) -> None:
    async with running(create_simulator_app(KEY, state_path=tmp_path / "s")) as sim:
        assert (await create_campaign(sim, "k1")).status_code == 200
    async with running(create_simulator_app(KEY), key="dev-strategis-api-key") as other:
        refused = await create_campaign(other, "k2")
        assert refused.status_code == 401


async def test_configured_reddit_apps_are_registered_and_survive_a_reset(tmp_path: Path) -> None:
    app = OAuthApp("fd-client", "fd-secret", "http://api/callback")
    async with running(create_simulator_app(KEY, reddit_apps=[app])) as sim:
        apps = (await sim.get("/_sim/reddit/oauth")).json()["apps"]
        assert [a["clientId"] for a in apps] == ["fd-client"]
        await sim.post("/_sim/reset")
        apps = (await sim.get("/_sim/reddit/oauth")).json()["apps"]
        assert [a["clientId"] for a in apps] == ["fd-client"]
        assert all("secret" not in str(a).lower() for a in apps)


async def test_an_unreadable_state_file_is_set_aside_and_the_simulators_start_empty(
    tmp_path: Path,
) -> None:
    path = tmp_path / "simulators.state"
    path.write_bytes(b"not a snapshot")
    async with running(create_simulator_app(KEY, state_path=path)) as sim:
        state = (await sim.get("/_sim/state")).json()["platforms"]["facebook"]
        assert state["campaigns"]["count"] == 0
    assert (tmp_path / "simulators.state.unreadable").read_bytes() == b"not a snapshot"
