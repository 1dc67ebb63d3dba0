"""Faults, failures and cancellation: never a duplicate remote object, nothing lost."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from flightdeck.db.models import CampaignError, CampaignPlan, RemoteObject
from flightdeck.db.tenancy import system_session
from tests.e2e.conftest import System, big_plan, make_plan

EXPECTED = {"campaigns": 1, "adsets": 2, "adcreatives": 4, "ads": 4}


async def test_5xx_429_and_lost_responses_never_duplicate(rig: System) -> None:
    await rig.faults(
        {"platform": "relay", "method": "POST", "errorRate": 0.3, "status": 503},
        {"platform": "relay", "method": "POST", "errorRate": 0.2, "status": 429,
         "retryAfterSeconds": 0.2},
        {"platform": "relay", "method": "POST", "lostResponseRate": 0.3},
        {"platform": "strategis", "method": "POST", "path": "^/api/campaigns$",
         "lostResponseRate": 0.5},
        {"platform": "strategis", "method": "POST", "errorRate": 0.2, "status": 500},
        seed=7,
    )  # fmt: skip
    accepted = await rig.publish(make_plan())
    job = await rig.wait_job(accepted["workflowId"], timeout=120)
    await rig.record_history(accepted["workflowId"], "publish_completed_after_faults")
    assert job["status"] == "completed", job
    counts = await rig.sim_counts()
    assert counts["facebook"] == EXPECTED
    assert counts["strategis"] == {"templates": 1, "campaigns": 2}
    log = (await rig.sim.get("/_sim/requests", params={"method": "POST"})).json()
    statuses = {entry["status"] for entry in log}
    assert {503, 429, 502} <= statuses, "the faults must actually have fired"
    mapping = (
        await rig.api.get(f"/api/v1/campaign-plans/{accepted['id']}/mapping", headers=rig.headers)
    ).json()
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]
    assert sorted(mapping["facebookAdIds"]) == sorted(
        a["id"] for a in state["facebook"]["ads"]["items"]
    )
    assert sorted(mapping["strategisCampaignIds"]) == sorted(
        c["id"] for c in state["strategis"]["campaigns"]["items"]
    )


async def test_non_retryable_validation_error_fails_the_run_and_pauses(rig: System) -> None:
    plan = make_plan()
    # Targeting passes through to Graph untouched, and Graph refuses ages over 65.
    plan["adSets"][1]["targeting"]["age_max"] = 70
    accepted = await rig.publish(plan)
    job = await rig.wait_job(accepted["workflowId"])
    await rig.record_history(accepted["workflowId"], "publish_failed_validation")
    assert job["status"] == "failed"
    assert job["error"].startswith("facebook_adset[1]:")
    mapping = (
        await rig.api.get(f"/api/v1/campaign-plans/{accepted['id']}/mapping", headers=rig.headers)
    ).json()
    assert mapping["status"] == "failed"
    assert [e["step"] for e in mapping["errors"]] == ["facebook_adset[1]"]
    assert "targeting.age_max" in mapping["errors"][0]["error"]
    # What was created stays mapped, and the campaign is paused on the platform.
    assert mapping["facebookCampaignId"]
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]
    [campaign] = state["facebook"]["campaigns"]["items"]
    assert campaign["id"] == mapping["facebookCampaignId"] and campaign["status"] == "PAUSED"
    assert state["facebook"]["adsets"]["count"] == len(mapping["facebookAdSetIds"])
    # The relay was asked for the bad ad set exactly once: non-retryable means no retry.
    log = (await rig.sim.get("/_sim/requests", params={"path": "adsets/create"})).json()
    assert sum(1 for e in log if e["status"] == 400) == 1


async def test_cancel_with_cleanup_deletes_what_was_created(rig: System) -> None:
    await rig.faults({"platform": "relay", "latencyMs": 150})
    accepted = await rig.publish(big_plan(3, 3))
    async with asyncio.timeout(30):
        while (await rig.sim_counts())["facebook"]["adsets"] < 1:
            await asyncio.sleep(0.05)
    response = await rig.api.post(
        f"/api/v1/campaign-plans/{accepted['id']}/cancel",
        params={"cleanup": "true"},
        headers=rig.headers,
    )
    assert response.status_code == 202 and response.json()["cleanup"] is True
    job = await rig.wait_job(accepted["workflowId"])
    await rig.record_history(accepted["workflowId"], "publish_cancelled_cleanup")
    assert job["status"] == "canceled"
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["facebook"]
    created = [o for kind in ("campaigns", "adsets", "ads") for o in state[kind]["items"]]
    assert created and all(o["status"] == "DELETED" for o in created)
    mapping = (
        await rig.api.get(f"/api/v1/campaign-plans/{accepted['id']}/mapping", headers=rig.headers)
    ).json()
    assert mapping["status"] == "cancelled"
    states = {(o["objectType"], o["state"]) for o in mapping["objects"] if o["externalId"]}
    assert ("campaign", "deleted") in states
    assert not any(t in ("campaign", "adset", "ad") and s == "created" for t, s in states)
    again = await rig.api.post(
        f"/api/v1/campaign-plans/{accepted['id']}/cancel", headers=rig.headers
    )
    assert again.status_code == 409


async def test_other_tenants_objects_are_404(rig: System) -> None:
    accepted = await rig.publish(make_plan())
    await rig.wait_job(accepted["workflowId"])
    other = await rig.new_tenant_headers()
    plan_id, wf = accepted["id"], accepted["workflowId"]
    for method, path in [
        ("GET", f"/api/v1/campaign-plans/{plan_id}"),
        ("GET", f"/api/v1/campaign-plans/{plan_id}/mapping"),
        ("GET", f"/api/v1/campaign-plans/{plan_id}/events"),
        ("POST", f"/api/v1/campaign-plans/{plan_id}/cancel"),
        ("GET", f"/api/v1/jobs/{wf}"),
        ("GET", f"/api/v1/campaign-mappings?requestId={accepted['requestId']}"),
    ]:
        response = await rig.api.request(method, path, headers=other)
        assert response.status_code == 404, (path, response.text)
    listed = await rig.api.get("/api/v1/campaign-plans", headers=other)
    assert listed.json()["items"] == []
    assert (await rig.api.get(f"/api/v1/campaign-plans/{plan_id}")).status_code == 401
    bad = {"Authorization": "Bearer fd_not-a-key"}
    assert (await rig.api.get(f"/api/v1/campaign-plans/{plan_id}", headers=bad)).status_code == 401


async def test_malformed_plans_are_422_with_field_paths_and_store_nothing(rig: System) -> None:
    async def count(model: type) -> int:
        async with system_session(rig.sessions, "cli") as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    before = (await count(CampaignPlan), await count(RemoteObject), await count(CampaignError))
    cases = {
        "adSets.0.dailyBudget": lambda p: p["adSets"][0].update(dailyBudget="12.5"),
        "objective": lambda p: p.update(objective="TRAFFIC_PLEASE"),
        "adSets.1.ads.0.callToAction": lambda p: p["adSets"][1]["ads"][0].update(
            callToAction="CLICK_HARDER"
        ),
        "adAccountId": lambda p: p.update(adAccountId="1234"),
        "adSets.0.budgetType": lambda p: p["adSets"][0].update(budgetType="BOTH"),
        "adSets": lambda p: p.update(adSets=[]),
        "requestId": lambda p: p.pop("requestId"),
    }
    for field, mutate in cases.items():
        plan = make_plan()
        mutate(plan)
        response = await rig.api.post("/api/v1/campaign-plans", json=plan, headers=rig.headers)
        assert response.status_code == 422, (field, response.text)
        body = response.json()
        assert body["error"] == "validation_error"
        assert field in [d["field"] for d in body["detail"]], (field, body)
    not_json = await rig.api.post(
        "/api/v1/campaign-plans", content=b"{not json", headers=rig.headers
    )
    assert not_json.status_code == 422
    after = (await count(CampaignPlan), await count(RemoteObject), await count(CampaignError))
    assert after == before
    assert (await rig.sim_counts())["facebook"] == {k: 0 for k in EXPECTED}
