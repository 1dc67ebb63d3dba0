"""The admin surface: state by platform and type, reset, the request log, platform-side edits."""

from __future__ import annotations

from typing import Any


async def test_state_lists_every_platform_and_type(sim: Any) -> None:
    counts = await sim.counts()
    assert {platform: counts[platform] for platform in ("strategis", "facebook")} == {
        "strategis": {"templates": 0, "campaigns": 0},
        "facebook": {"campaigns": 0, "adsets": 0, "adcreatives": 0, "ads": 0},
    }
    assert counts["reddit"]["campaigns"] == 0  # the rest is tests/simulators/test_sim_reddit.py
    campaign_id = await sim.campaign()
    items = (await sim.state())["facebook"]["campaigns"]["items"]
    assert [c["id"] for c in items] == [campaign_id]


async def test_reset_forgets_objects_rules_log_cache_and_credentials(sim: Any) -> None:
    first = await sim.relay_create("campaigns", sim.campaign_body, key="campaign-req-1")
    await sim.faults({"platform": "strategis", "errorRate": 1.0})
    await sim.http.post("/_sim/relay/organizations/Gone/disable-credentials")
    response = await sim.http.post("/_sim/reset")
    assert response.status_code == 200
    assert (await sim.counts())["facebook"]["campaigns"] == 0
    assert (await sim.http.get("/_sim/faults")).json() == {"seed": 0, "rules": []}
    assert await sim.requests() == []
    again = await sim.relay_create("campaigns", sim.campaign_body, key="campaign-req-1")
    assert again.status_code == 200
    assert again.json()["id"] != first.json()["id"], "ids are never reused, even after a reset"
    assert (await sim.relay_create("campaigns", sim.campaign_body, org="Gone")).status_code == 200


async def test_request_log_filters(sim: Any) -> None:
    campaign_id = await sim.campaign()
    await sim.adset(campaign_id)
    await sim.relay_get("campaigns", campaign_id)
    await sim.http.get("/strategis/api/templates")
    assert len(await sim.requests()) == 4
    assert [e["path"] for e in await sim.requests(platform="strategis")] == ["/api/templates"]
    posts = await sim.requests(platform="relay", method="post")
    assert [e["createdObjectId"] is not None for e in posts] == [True, True]
    [adset] = await sim.requests(path="adsets/create")
    assert adset["clientRequestKey"] and adset["organization"] == sim.org
    assert adset["status"] == 200 and adset["fault"] is None


async def test_platform_side_edit(sim: Any) -> None:
    campaign_id = await sim.campaign()
    response = await sim.http.patch(
        f"/_sim/state/facebook/campaigns/{campaign_id}", json={"name": "renamed in Ads Manager"}
    )
    assert response.status_code == 200
    assert (await sim.relay_get("campaigns", campaign_id)).json()[
        "name"
    ] == "renamed in Ads Manager"
    missing = await sim.http.patch("/_sim/state/facebook/campaigns/1", json={"name": "x"})
    assert missing.status_code == 404
