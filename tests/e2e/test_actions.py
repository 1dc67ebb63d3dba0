"""Actions only after approval, end to end: proposed through the API, held by an
`ApplyActionWorkflow` until an approver answers, executed on the platform through the same
clients the publish and sync paths use (Reddit's client and adapter, the Graph, the Strategis
relay), read back and logged — or refused (rejected, stale, wrong role) with the platform
untouched; reverted the same way; and run by the AI itself inside the autonomous guardrails."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from tests.e2e.conftest import System, make_plan
from tests.e2e.meta_support import connect_meta, eventually
from tests.e2e.metrics_support import get, platform_campaign, registry, shape
from tests.e2e.metrics_support import sync_metrics as cycle
from tests.e2e.test_alerts import user_headers


async def propose(rig: System, body: dict[str, Any]) -> dict[str, Any]:
    response = await rig.api.post("/api/v1/actions", json=body, headers=rig.headers)
    assert response.status_code == 202, response.text
    started: dict[str, Any] = response.json()
    return started


async def sim_object(rig: System, platform: str, kind: str, object_id: str) -> dict[str, Any]:
    items = (await rig.sim.get("/_sim/state")).json()["platforms"][platform][kind]["items"]
    return next(i for i in items if i["id"] == object_id)


async def registered(rig: System, platform_id: str) -> str:
    await cycle(rig)
    return str((await registry(rig))[platform_id]["id"])


async def test_an_approved_budget_change_runs_on_reddit_read_back_and_logged(
    rig: System,
) -> None:
    await rig.connect_reddit()
    platform_id = await platform_campaign(rig, "reddit", "Budget up", budget="40")
    campaign = await registered(rig, platform_id)
    started = await propose(
        rig, {"actionType": "BUDGET_CHANGE", "campaignId": campaign, "budgetAmount": "48.00",
              "reasoning": "room to grow"},
    )  # fmt: skip
    assert started["status"] == "pending_approval"
    assert (await sim_object(rig, "reddit", "campaigns", platform_id))["goal_value"] == 40_000_000

    approver = await user_headers(rig, "approver")
    approved = await rig.api.post(
        f"/api/v1/actions/{started['actionId']}/approve", headers=approver
    )

    assert approved.status_code == 200, approved.text
    action = approved.json()
    assert action["status"] == "executed" and action["executedAt"] and action["approvedAt"]
    assert action["executedBy"] == action["approvedBy"] and action["approvedBy"].startswith(
        "user:approver-"
    )
    assert Decimal(action["previousState"]["budgetAmount"]) == 40
    assert Decimal(action["newState"]["budgetAmount"]) == 48  # read back from Reddit
    assert (await sim_object(rig, "reddit", "campaigns", platform_id))["goal_value"] == 48_000_000
    assert Decimal((await registry(rig))[platform_id]["budgetAmount"]) == 48
    history = (await get(rig, "/actions", sinceHours=24))["items"]
    assert history[0]["id"] == started["actionId"] and history[0]["campaignName"] == "Budget up"
    audit = await get(rig, "/audit-log", entity=started["actionId"])
    assert {e["action"] for e in audit["items"]} == {"ai_action.proposed", "ai_action.executed"}
    await rig.record_history(started["workflowId"], "apply_action_approved")


async def test_a_rejected_action_leaves_the_platform_untouched(rig: System) -> None:
    await rig.connect_reddit()
    platform_id = await platform_campaign(rig, "reddit", "Not now", budget="40")
    campaign = await registered(rig, platform_id)
    started = await propose(rig, {"actionType": "PAUSE", "campaignId": campaign})
    approver = await user_headers(rig, "approver")

    rejected = await rig.api.post(
        f"/api/v1/actions/{started['actionId']}/reject", json={"reason": "season starts"},
        headers=approver,
    )  # fmt: skip

    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and "season starts" in rejected.json()["outcome"]
    assert rejected.json()["executedAt"] is None
    assert rejected.json()["decidedBy"].startswith("user:approver-")
    assert (await sim_object(rig, "reddit", "campaigns", platform_id))["configured_status"] == (
        "ACTIVE"
    )
    again = await rig.api.post(f"/api/v1/actions/{started['actionId']}/approve", headers=approver)
    assert again.status_code == 409
    await rig.record_history(started["workflowId"], "apply_action_rejected")


async def test_a_stale_approval_is_refused_and_nothing_changes(rig: System) -> None:
    await rig.connect_reddit()
    platform_id = await platform_campaign(rig, "reddit", "Moved on", budget="40")
    campaign = await registered(rig, platform_id)
    started = await propose(
        rig, {"actionType": "BUDGET_CHANGE", "campaignId": campaign, "budgetAmount": "60"}
    )
    # Someone changes the budget in Reddit's UI meanwhile.
    edit = {"goal_value": 45_000_000}
    assert (
        await rig.sim.patch(f"/_sim/state/reddit/campaigns/{platform_id}", json=edit)
    ).is_success
    approver = await user_headers(rig, "approver")

    refused = await rig.api.post(f"/api/v1/actions/{started['actionId']}/approve", headers=approver)

    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "stale_request"
    assert "budgetAmount" in refused.json()["detail"]
    assert (await sim_object(rig, "reddit", "campaigns", platform_id))["goal_value"] == 45_000_000
    action = await get(rig, f"/actions/{started['actionId']}")
    assert action["status"] == "pending_approval" and action["executedAt"] is None


async def test_only_approvers_approve(rig: System) -> None:
    await rig.connect_reddit()
    platform_id = await platform_campaign(rig, "reddit", "Roles", budget="40")
    campaign = await registered(rig, platform_id)
    started = await propose(rig, {"actionType": "PAUSE", "campaignId": campaign})
    for role in ("viewer", "editor"):
        headers = await user_headers(rig, role)
        for verb in ("approve", "reject"):
            response = await rig.api.post(
                f"/api/v1/actions/{started['actionId']}/{verb}", headers=headers
            )
            assert response.status_code == 403, (role, verb, response.text)
    viewer = await user_headers(rig, "viewer")
    assert (await rig.api.post("/api/v1/actions", json={"actionType": "PAUSE",
            "campaignId": campaign}, headers=viewer)).status_code == 403  # fmt: skip
    assert (await get(rig, f"/actions/{started['actionId']}", viewer))["status"] == (
        "pending_approval"
    )


async def test_a_meta_pause_is_approved_then_reverted_the_same_way(rig: System) -> None:
    await connect_meta(rig)
    platform_id = await platform_campaign(rig, "meta", "Pause me")
    campaign = await registered(rig, platform_id)
    approver = await user_headers(rig, "approver")
    started = await propose(rig, {"actionType": "PAUSE", "campaignId": campaign})
    paused = await rig.api.post(f"/api/v1/actions/{started['actionId']}/approve", headers=approver)
    assert paused.json()["status"] == "executed", paused.text
    assert (await sim_object(rig, "facebook", "campaigns", platform_id))["status"] == "PAUSED"

    revert = await rig.api.post(
        f"/api/v1/actions/{started['actionId']}/revert", headers=rig.headers
    )
    assert revert.status_code == 202, revert.text
    undo = await get(rig, f"/actions/{revert.json()['actionId']}")
    assert undo["revertsActionId"] == started["actionId"]
    assert undo["newState"] == {"status": "active"} and undo["previousState"]["status"] == "paused"
    assert (await sim_object(rig, "facebook", "campaigns", platform_id))["status"] == "PAUSED"
    resumed = await rig.api.post(
        f"/api/v1/actions/{revert.json()['actionId']}/approve", headers=approver
    )
    assert resumed.json()["status"] == "executed", resumed.text
    assert (await sim_object(rig, "facebook", "campaigns", platform_id))["status"] == "ACTIVE"


async def test_relay_published_campaigns_are_paused_through_the_relay(rig: System) -> None:
    plan = await rig.publish(make_plan())
    assert (await rig.wait_job(plan["workflowId"]))["status"] == "completed"
    await cycle(rig)
    relay = next(c for c in (await registry(rig)).values() if c["origin"] == "relay")
    started = await propose(rig, {"actionType": "PAUSE", "campaignId": relay["id"]})
    approver = await user_headers(rig, "approver")

    approved = await rig.api.post(
        f"/api/v1/actions/{started['actionId']}/approve", headers=approver
    )

    assert approved.json()["status"] == "executed", approved.text
    fb = await sim_object(rig, "facebook", "campaigns", relay["platformCampaignId"])
    assert fb["status"] == "PAUSED"


async def test_accepting_a_recommendation_proposes_an_action(rig: System) -> None:
    await rig.connect_reddit()
    platform_id = await platform_campaign(rig, "reddit", "Underperformer", budget="300")
    settings = {"recommendations": {"targetRoas": "1000"}}  # nothing reaches it: cut budgets
    put = await rig.api.put("/api/v1/performance-settings", json=settings, headers=rig.headers)
    assert put.status_code == 200, put.text
    await cycle(rig)
    pending = (await get(rig, "/recommendations"))["items"]
    (rec,) = [r for r in pending if r["campaignName"] == "Underperformer"]
    assert rec["recommendationType"] == "DECREASE_BUDGET" and rec["actionType"] == "BUDGET_CHANGE"
    assert rec["proposedChange"] == {"budgetAmount": "240.00"}
    assert "ROAS" in rec["recommendationText"] and Decimal(rec["confidenceScore"]) >= Decimal("0.5")
    await cycle(rig)  # the same change again: refreshed, not a second pending one
    assert [r["id"] for r in (await get(rig, "/recommendations"))["items"]] == [rec["id"]]

    accepted = await rig.api.post(
        f"/api/v1/recommendations/{rec['id']}/accept", headers=rig.headers
    )
    assert accepted.status_code == 202, accepted.text
    approver = await user_headers(rig, "approver")
    done = await rig.api.post(
        f"/api/v1/actions/{accepted.json()['actionId']}/approve", headers=approver
    )
    assert done.json()["status"] == "executed", done.text
    assert (await sim_object(rig, "reddit", "campaigns", platform_id))["goal_value"] == 240_000_000
    final = await get(rig, f"/recommendations/{rec['id']}")
    assert final["status"] == "executed" and final["actionId"] == accepted.json()["actionId"]


async def test_autonomous_mode_acts_inside_its_guardrails_and_asks_beyond_them(
    rig: System,
) -> None:
    await rig.connect_reddit()
    zero = await platform_campaign(rig, "reddit", "Burning cash", budget="300")
    costly = await platform_campaign(rig, "reddit", "Below target", budget="300")
    await shape(rig, {"platform": "reddit", "campaignId": zero, "multipliers": {"conversions": 0}})
    settings = {
        "recommendations": {"targetRoas": "1000"},
        "autonomous": {
            "enabled": True,
            "actionTypes": ["PAUSE", "BUDGET_CHANGE"],
            "maxBudgetChangeRatio": "0.10",  # the engine moves budgets by 20 %: beyond
            "maxActionsPerDay": 5,
            "minConfidence": "0.5",
        },
    }
    assert (
        await rig.api.put("/api/v1/performance-settings", json=settings, headers=rig.headers)
    ).status_code == 200

    await cycle(rig, record="metrics_sync_autonomous")

    async def settled() -> bool:
        actions = (await get(rig, "/actions"))["items"]
        return len(actions) == 2 and any(a["status"] == "executed" for a in actions)

    await eventually(settled)
    actions = {a["campaignName"]: a for a in (await get(rig, "/actions"))["items"]}
    paused = actions["Burning cash"]
    assert paused["status"] == "executed" and paused["executedBy"] == "ai_autonomous"
    assert paused["approvedBy"] == "ai_autonomous" and paused["approvalRequired"] is False
    assert paused["autonomous"] is True and paused["proposedBy"] == "ai"
    assert (await sim_object(rig, "reddit", "campaigns", zero))["configured_status"] == "PAUSED"
    waiting = actions["Below target"]
    assert waiting["status"] == "pending_approval" and waiting["executedAt"] is None
    assert "exceeds the 10.0% guardrail" in waiting["outcome"]
    assert (await sim_object(rig, "reddit", "campaigns", costly))["goal_value"] == 300_000_000
    await rig.record_history(paused["workflowId"], "apply_action_autonomous")


async def test_another_tenant_sees_none_of_it(rig: System) -> None:
    await rig.connect_reddit()
    platform_id = await platform_campaign(rig, "reddit", "Private", budget="300")
    await rig.api.put(
        "/api/v1/performance-settings", json={"recommendations": {"targetRoas": "1000"}},
        headers=rig.headers,
    )  # fmt: skip
    campaign = await registered(rig, platform_id)
    started = await propose(rig, {"actionType": "PAUSE", "campaignId": campaign})
    (rec,) = (await get(rig, "/recommendations"))["items"]
    other = await rig.new_tenant_headers()
    for method, path in (
        ("GET", f"/api/v1/metrics/campaigns/{campaign}"),
        ("GET", f"/api/v1/metrics/series?campaignId={campaign}"),
        ("GET", f"/api/v1/actions/{started['actionId']}"),
        ("POST", f"/api/v1/actions/{started['actionId']}/approve"),
        ("POST", f"/api/v1/actions/{started['actionId']}/reject"),
        ("POST", f"/api/v1/actions/{started['actionId']}/revert"),
        ("GET", f"/api/v1/recommendations/{rec['id']}"),
        ("POST", f"/api/v1/recommendations/{rec['id']}/accept"),
        ("POST", f"/api/v1/recommendations/{rec['id']}/reject"),
    ):
        response = await rig.api.request(method, path, headers=other)
        assert response.status_code == 404, (path, response.text)
    refused = await rig.api.post(
        "/api/v1/actions", json={"actionType": "PAUSE", "campaignId": campaign}, headers=other
    )
    assert refused.status_code == 404
    assert (await get(rig, "/metrics/campaigns", other))["items"] == []
    assert (await get(rig, "/recommendations", other))["items"] == []
    assert (await get(rig, "/actions", other))["items"] == []
    await asyncio.sleep(0)
