"""Publishing a plan end to end: API -> Temporal -> worker -> simulators -> Postgres."""

from __future__ import annotations

import json

from tests.e2e.conftest import System, make_plan

EXPECTED = {"campaigns": 1, "adsets": 2, "adcreatives": 4, "ads": 4}


async def test_happy_path_maps_every_id(rig: System) -> None:
    plan = make_plan()
    accepted = await rig.publish(plan)
    assert accepted["status"] == "pending" and accepted["requestId"] == plan["requestId"]
    job = await rig.wait_job(accepted["workflowId"])
    await rig.record_history(accepted["workflowId"], "publish_completed")
    assert job["status"] == "completed", job
    assert job["progress"] == {"step": "done", "done": 14, "total": 14}

    counts = await rig.sim_counts()
    assert counts["facebook"] == EXPECTED
    assert counts["strategis"] == {"templates": 1, "campaigns": 2}

    mapping = (
        await rig.api.get(f"/api/v1/campaign-plans/{accepted['id']}/mapping", headers=rig.headers)
    ).json()
    assert mapping["status"] == "active" and mapping["errors"] == []
    assert mapping["requestId"] == plan["requestId"]
    assert mapping["facebookCampaignId"]
    assert len(mapping["facebookAdSetIds"]) == 2
    assert len(mapping["facebookCreativeIds"]) == 4 and len(mapping["facebookAdIds"]) == 4
    assert len(mapping["strategisCampaignIds"]) == 2
    assert mapping["strategisTemplateId"]
    for stg_id, url in zip(mapping["strategisCampaignIds"], mapping["trackingUrls"], strict=True):
        assert url == f"https://r.strateg.is/route?campaignId={stg_id}&fbclid={{{{fbclid}}}}"

    # The platform objects are wired to each other the way the mapping says.
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]
    adsets = {a["id"]: a for a in state["facebook"]["adsets"]["items"]}
    assert set(adsets) == set(mapping["facebookAdSetIds"])
    assert {a["campaign_id"] for a in adsets.values()} == {mapping["facebookCampaignId"]}
    for stg in state["strategis"]["campaigns"]["items"]:
        assert stg["properties"]["fbAdSetId"] in adsets
    creatives = state["facebook"]["adcreatives"]["items"]
    links = {c["object_story_spec"]["link_data"]["link"] for c in creatives}
    assert links == set(mapping["trackingUrls"])

    plan_out = (
        await rig.api.get(f"/api/v1/campaign-plans/{accepted['id']}", headers=rig.headers)
    ).json()
    assert plan_out["status"] == "active"
    assert plan_out["adSetNames"] == [
        "women2545_feeds_PURCHASE_ABO_v1",
        "women4565_reels_PURCHASE_ABO_v1",
    ]


async def test_lookups_by_request_id_facebook_id_hook_set_and_status(rig: System) -> None:
    accepted = await rig.publish(make_plan(hookSetId="hookset_lookup"))
    await rig.wait_job(accepted["workflowId"])
    by_request = await rig.api.get(
        "/api/v1/campaign-mappings",
        params={"requestId": accepted["requestId"]},
        headers=rig.headers,
    )
    assert by_request.status_code == 200
    fb_id = by_request.json()["facebookCampaignId"]
    by_fb = await rig.api.get(
        "/api/v1/campaign-mappings", params={"facebookCampaignId": fb_id}, headers=rig.headers
    )
    assert by_fb.json()["campaignPlanId"] == accepted["id"]
    listed = await rig.api.get(
        "/api/v1/campaign-plans",
        params={"hookSetId": "hookset_lookup", "status": "active"},
        headers=rig.headers,
    )
    assert [p["id"] for p in listed.json()["items"]] == [accepted["id"]]
    none = await rig.api.get(
        "/api/v1/campaign-plans", params={"status": "failed"}, headers=rig.headers
    )
    assert none.json()["items"] == []
    missing = await rig.api.get(
        "/api/v1/campaign-mappings", params={"requestId": "nope"}, headers=rig.headers
    )
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_runs_are_findable_by_search_attributes(rig: System) -> None:
    accepted = await rig.publish(make_plan(hookSetId="hookset_search"))
    await rig.wait_job(accepted["workflowId"])
    found = [
        wf.id
        async for wf in rig.client.list_workflows(
            f"CampaignPlanId = '{accepted['id']}' AND HookSetId = 'hookset_search'"
        )
    ]
    assert found == [accepted["workflowId"]]


async def test_repeated_post_returns_the_existing_plan_and_creates_nothing(rig: System) -> None:
    plan = make_plan()
    first = await rig.publish(plan)
    again = await rig.api.post("/api/v1/campaign-plans", json=plan, headers=rig.headers)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"] and again.json()["workflowId"] == first["workflowId"]
    await rig.wait_job(first["workflowId"])
    third = await rig.api.post("/api/v1/campaign-plans", json=plan, headers=rig.headers)
    assert third.status_code == 200 and third.json()["status"] == "active"
    assert (await rig.sim_counts())["facebook"] == EXPECTED
    runs = [wf async for wf in rig.client.list_workflows(f"WorkflowId = '{first['workflowId']}'")]
    assert len(runs) == 1


async def test_progress_streams_as_server_sent_events(rig: System) -> None:
    # Slow enough for the stream (polled every 0.25 s) to see the creates land one by one.
    await rig.faults({"platform": "relay", "latencyMs": 150})
    accepted = await rig.publish(make_plan())
    events: list[tuple[str, dict]] = []
    async with rig.api.stream(
        "GET", f"/api/v1/campaign-plans/{accepted['id']}/events", headers=rig.headers
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event:
                events.append((event, json.loads(line.removeprefix("data: "))))
    assert events[-1][0] == "complete" and events[-1][1]["status"] == "active"
    done_counts = [data["done"] for name, data in events if name == "progress"]
    assert done_counts == sorted(done_counts) and len(set(done_counts)) > 2
    assert done_counts[-1] == 14
