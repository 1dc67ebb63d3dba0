"""Fault injection: errors that expire, latency, lost responses that still commit, 429s with
Retry-After, and seeded (repeatable) randomness."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

CREATE_ADS = "^/api/facebook/campaigns/create$"


async def test_errors_expire_after_remaining_hits(sim: Any) -> None:
    await sim.faults(
        {"platform": "relay", "method": "POST", "path": CREATE_ADS, "errorRate": 1.0,
         "status": 503, "remaining": 2}
    )  # fmt: skip
    statuses = []
    for _ in range(3):
        response = await sim.relay_create("campaigns", sim.campaign_body, key="campaign-req-1")
        statuses.append(response.status_code)
    assert statuses == [503, 503, 200]
    assert (await sim.counts())["facebook"]["campaigns"] == 1
    [rule] = (await sim.http.get("/_sim/faults")).json()["rules"]
    assert rule["remaining"] == 0


async def test_relay_5xx_is_graphs_transient_error(sim: Any) -> None:
    await sim.faults({"platform": "relay", "errorRate": 1.0, "status": 500})
    response = await sim.relay_create("campaigns", sim.campaign_body)
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == 2 and error["is_transient"] is True and error["fbtrace_id"]
    assert error["message"].startswith("An unexpected error has occurred")


async def test_relay_429_carries_retry_after(sim: Any) -> None:
    await sim.faults(
        {"platform": "relay", "errorRate": 1.0, "status": 429, "retryAfterSeconds": 1.5}
    )
    response = await sim.relay_create("campaigns", sim.campaign_body)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1.5"
    error = response.json()["error"]
    assert error["code"] == 80004 and error["is_transient"] is True
    assert "too many calls to this ad-account" in error["message"]


async def test_strategis_faults_use_its_envelope(sim: Any) -> None:
    await sim.faults({"platform": "strategis", "errorRate": 1.0, "status": 429,
                      "retryAfterSeconds": 3})  # fmt: skip
    response = await sim.http.get("/strategis/api/templates")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert response.json()["error"] == "too_many_requests"
    await sim.faults({"platform": "strategis", "errorRate": 1.0, "status": 502})
    response = await sim.http.get("/strategis/api/templates")
    assert response.status_code == 502 and response.json()["error"] == "bad_gateway"


async def test_lost_response_commits_the_create(sim: Any) -> None:
    await sim.faults({"platform": "relay", "path": CREATE_ADS, "lostResponseRate": 1.0,
                      "remaining": 1})  # fmt: skip
    lost = await sim.relay_create("campaigns", sim.campaign_body, key="campaign-req-1")
    assert lost.status_code == 502 and "id" not in lost.json()
    assert lost.json()["error"]["is_transient"] is True
    [created] = (await sim.state())["facebook"]["campaigns"]["items"]
    [entry] = await sim.requests(path="campaigns/create")
    assert entry["status"] == 502 and entry["fault"] == "lost_response"
    assert entry["createdObjectId"] == created["id"]
    # The caller retries with the same key: the relay answers with the committed object.
    retry = await sim.relay_create("campaigns", sim.campaign_body, key="campaign-req-1")
    assert retry.json() == {"id": created["id"]}
    assert (await sim.counts())["facebook"]["campaigns"] == 1


async def test_lost_response_on_strategis_commits_the_template(sim: Any) -> None:
    await sim.faults({"platform": "strategis", "method": "POST", "lostResponseRate": 1.0})
    body = {"organization": "Interlincx", "key": "fb", "value": "v"}
    response = await sim.http.post("/strategis/api/templates", json=body)
    assert response.status_code == 502 and response.json()["error"] == "bad_gateway"
    assert (await sim.counts())["strategis"]["templates"] == 1


async def test_latency_applies_to_matching_requests_only(sim: Any) -> None:
    await sim.faults({"platform": "relay", "method": "GET", "latencyMs": 200})
    started = time.perf_counter()
    await sim.relay_get("campaigns", "1")
    slow = time.perf_counter() - started
    started = time.perf_counter()
    await sim.http.get("/strategis/api/templates")
    fast = time.perf_counter() - started
    assert slow >= 0.2 and fast < 0.2


@pytest.mark.parametrize(
    "rule",
    [{"platform": "strategis"}, {"method": "GET"}, {"path": "adsets"}],
)
async def test_rules_only_hit_what_they_match(sim: Any, rule: dict[str, Any]) -> None:
    await sim.faults({**rule, "errorRate": 1.0, "status": 500})
    response = await sim.relay_create("campaigns", sim.campaign_body)
    assert response.status_code == 200, response.text


async def test_admin_routes_are_never_faulted(sim: Any) -> None:
    await sim.faults({"errorRate": 1.0, "status": 500, "latencyMs": 0})
    assert (await sim.http.get("/_sim/state")).status_code == 200


async def test_same_seed_same_faults(sim: Any) -> None:
    async def run(seed: int) -> list[int]:
        await sim.faults({"platform": "strategis", "errorRate": 0.5, "status": 503}, seed=seed)
        return [(await sim.http.get("/strategis/api/templates")).status_code for _ in range(20)]

    first = await run(7)
    assert {200, 503} == set(first)
    assert await run(7) == first
    assert await run(8) != first


async def test_every_matching_rule_applies_and_the_first_error_wins(sim: Any) -> None:
    await sim.faults(
        {"platform": "relay", "latencyMs": 50},
        {"platform": "relay", "errorRate": 1.0, "status": 503},
        {"platform": "relay", "errorRate": 1.0, "status": 429},
    )
    started = time.perf_counter()
    response = await sim.relay_get("campaigns", "1")
    assert response.status_code == 503 and time.perf_counter() - started >= 0.05


@pytest.mark.parametrize(
    "rule",
    [{"errorRate": 2}, {"status": 302}, {"path": "("}, {"latencyMs": -1}, {"typo": 1}],
)
async def test_invalid_rules_are_refused(sim: Any, rule: dict[str, Any]) -> None:
    response = await sim.http.post("/_sim/faults", json={"rules": [rule]})
    assert response.status_code == 422


async def test_a_dropped_connection_is_a_server_error_and_nothing_is_processed() -> None:
    from flightdeck.simulators.faults import FaultInjectionMiddleware, FaultSurface
    from flightdeck.simulators.state import SimulatorState

    state = SimulatorState()
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["path"])
        raise asyncio.CancelledError  # the server cancels a request whose client went away

    surface = FaultSurface("relay", "/relay", lambda status, _: ({}, {}))
    middleware = FaultInjectionMiddleware(app, state=state, surfaces=[surface])
    scope = {"type": "http", "method": "POST", "path": "/relay/api/x", "query_string": b""}

    async def noop_send(message: Any) -> None:
        return None

    cut = iter([{"type": "http.request", "body": b'{"name": "ha', "more_body": True},
                {"type": "http.disconnect"}])  # fmt: skip

    async def cut_receive() -> Any:
        return next(cut)

    await middleware(scope, cut_receive, noop_send)
    [entry] = state.requests
    assert reached == [], "a truncated body never reaches the platform"
    assert entry.status is not None and entry.status >= 500
    assert entry.fault == "dropped_connection"

    whole = iter([{"type": "http.request", "body": b"{}", "more_body": False}])

    async def whole_receive() -> Any:
        return next(whole)

    with pytest.raises(asyncio.CancelledError):
        await middleware(scope, whole_receive, noop_send)
    assert reached == ["/relay/api/x"]
    assert state.requests[-1].status is not None and state.requests[-1].status >= 500
