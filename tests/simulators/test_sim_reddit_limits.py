"""Reddit's per-policy rate limits in the simulator (`RateLimit` / `RateLimit-Policy` on every
answer, 429 when a policy is spent) and the common fault rules on Reddit routes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from flightdeck.simulators.reddit_ratelimit import RateLimiter
from flightdeck.simulators.reddit_spec import RateLimitPolicy
from tests.simulators.test_sim_reddit_support import CAMPAIGN, RedditSim, response_problems

READ = "ads-campaign-management-read"
WRITE = "ads-campaign-management-write"


@pytest.fixture
async def reddit(sim_app: FastAPI) -> AsyncIterator[RedditSim]:
    transport = httpx.ASGITransport(app=sim_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        sim = RedditSim(http)
        await sim.register_app()
        await sim.login()
        yield sim


def campaigns(reddit: RedditSim) -> str:
    return f"/ad_accounts/{reddit.account}/campaigns"


async def test_every_answer_reports_its_policy(reddit: RedditSim) -> None:
    read = await reddit.get(campaigns(reddit))
    assert read.headers["RateLimit-Policy"] == f'"{READ}";q=400;w=60'
    assert read.headers["RateLimit"] == f'"{READ}";r=399;t=60'
    invalid = await reddit.post(campaigns(reddit), {"name": "x"})
    assert invalid.status_code == 400, "validation failures count too"
    assert invalid.headers["RateLimit"] == f'"{WRITE}";r=199;t=60'
    funding = await reddit.get(f"/ad_accounts/{reddit.account}/funding_instruments")
    assert funding.headers["RateLimit-Policy"] == '"ads-funding-instruments";q=30;w=60'


async def test_spent_policy_is_429_and_others_still_serve(reddit: RedditSim) -> None:
    await reddit.rate_limits(ads_campaign_management_write=(2, 60))
    statuses = [(await reddit.post(campaigns(reddit), {})).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    refused = await reddit.post(campaigns(reddit), {})
    assert refused.json() == {"error": {"code": 429, "message": "Too Many Requests"}}
    assert response_problems("POST", campaigns(reddit), 429, refused.json()) == []
    assert refused.headers["RateLimit-Policy"] == f'"{WRITE}";q=2;w=60'
    assert refused.headers["RateLimit"] == f'"{WRITE}";r=0;t=60'
    assert (await reddit.get(campaigns(reddit))).status_code == 200, "reads have their own quota"


async def test_window_resets(reddit: RedditSim) -> None:
    await reddit.rate_limits(ads_campaign_management_read=(1, 0.3))
    assert (await reddit.get(campaigns(reddit))).status_code == 200
    refused = await reddit.get(campaigns(reddit))
    assert refused.status_code == 429 and refused.headers["RateLimit"] == f'"{READ}";r=0;t=1'
    await asyncio.sleep(0.35)
    assert (await reddit.get(campaigns(reddit))).status_code == 200


async def test_limits_count_per_app(reddit: RedditSim) -> None:
    await reddit.rate_limits(ads_campaign_management_read=(1, 60))
    assert (await reddit.get(campaigns(reddit))).status_code == 200
    await reddit.register_app(client_id="second-app")
    await reddit.login(client_id="second-app")
    assert (await reddit.get(campaigns(reddit))).status_code == 200
    usage = (await reddit.http.get("/_sim/reddit/rate-limits")).json()["usage"]
    assert sorted(u["caller"] for u in usage) == ["flightdeck-test-app", "second-app"]


async def test_unknown_policy_is_refused(reddit: RedditSim) -> None:
    response = await reddit.http.post(
        "/_sim/reddit/rate-limits", json={"policies": {"ads-everything": {"quota": 1, "window": 1}}}
    )
    assert response.status_code == 422 and "ads-everything" in response.text


async def test_unauthenticated_requests_are_not_counted(reddit: RedditSim) -> None:
    await reddit.rate_limits(ads_campaign_management_read=(1, 60))
    stranger = await reddit.http.get(f"/reddit/api/v3{campaigns(reddit)}")
    assert stranger.status_code == 401 and "RateLimit" not in stranger.headers
    assert (await reddit.get(campaigns(reddit))).status_code == 200


# -- fault rules -------------------------------------------------------------------------------


async def test_injected_errors_use_reddits_envelope(reddit: RedditSim) -> None:
    await reddit.faults({"platform": "reddit", "errorRate": 1.0, "status": 503, "remaining": 1})
    failed = await reddit.get(campaigns(reddit))
    assert failed.status_code == 503
    assert failed.json() == {"error": {"code": 503, "message": "Service Unavailable"}}
    assert (await reddit.get(campaigns(reddit))).status_code == 200


async def test_injected_429_says_when_to_come_back(reddit: RedditSim) -> None:
    await reddit.faults(
        {"platform": "reddit", "errorRate": 1.0, "status": 429, "retryAfterSeconds": 2.5}
    )
    refused = await reddit.get(campaigns(reddit))
    assert refused.status_code == 429 and refused.headers["RateLimit"].endswith(";r=0;t=3")
    assert refused.json()["error"]["message"] == "Too Many Requests"


async def test_latency_and_path_matching(reddit: RedditSim) -> None:
    await reddit.faults(
        {"platform": "reddit", "method": "GET", "path": "^/api/v3/me$", "latencyMs": 150}
    )
    started = time.monotonic()
    assert (await reddit.get("/me")).status_code == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    await reddit.get(campaigns(reddit))
    assert time.monotonic() - started < 0.15


async def test_lost_response_still_creates(reddit: RedditSim) -> None:
    await reddit.faults(
        {"platform": "reddit", "method": "POST", "lostResponseRate": 1.0, "remaining": 1}
    )
    lost = await reddit.post(campaigns(reddit), CAMPAIGN)
    assert lost.status_code == 502
    [entry] = (
        await reddit.http.get("/_sim/requests", params={"platform": "reddit", "method": "POST"})
    ).json()
    assert entry["fault"] == "lost_response" and entry["createdObjectId"]
    listed = (await reddit.get(campaigns(reddit))).json()["data"]
    assert [c["id"] for c in listed] == [entry["createdObjectId"]]


def test_a_window_opened_by_this_request_reports_its_full_length_not_one_second_more() -> None:
    """At this clock reading `started + 60 - now` is 60.000000000000007 in floats: the header
    said t=61 (a CI failure of `test_every_answer_reports_its_policy`)."""
    policy = RateLimitPolicy(name=READ, quota=400, window=60)
    limiter = RateLimiter({READ: policy}, clock=lambda: 93.8595867742349)
    verdict = limiter.take("app", [policy])
    assert verdict.headers["RateLimit"] == f'"{READ}";r=399;t=60'
