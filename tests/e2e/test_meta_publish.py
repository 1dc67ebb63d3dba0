"""Publishing a wizard-built campaign to the Meta Graph API end to end: the real worker on a
Temporal dev server, Postgres, the Graph simulator over HTTP, the API in process."""

from __future__ import annotations

import json

from sqlalchemy import select

from flightdeck.db.models import Alert
from flightdeck.db.tenancy import system_session
from tests.e2e.conftest import META_APP_SECRET, System
from tests.e2e.meta_support import (
    campaign,
    connect_meta,
    create_campaign,
    eventually,
    facebook_counts,
    graph_requests,
    image_url,
    publish,
)


async def test_happy_path_maps_every_id_and_follows_review(rig: System) -> None:
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=3)
    job_id = await publish(rig, campaign_id)
    job = await rig.wait_job(job_id)
    assert job["status"] == "completed", job
    assert job["result"]["status"] == "active" and job["result"]["verify"]["mismatches"] == []
    await rig.record_history(job_id, "meta_publish_completed")

    body = await campaign(rig, campaign_id)
    published = body["published"]
    assert body["publishedStatus"] == "active" and published["publishStatus"] == "active"
    assert published["metaCampaignId"] and published["metaAdsetId"]
    assert len(published["metaAdIds"]) == 3
    assert job["result"]["metaCampaignId"] == published["metaCampaignId"]
    assert sorted(job["result"]["metaAdIds"]) == sorted(published["metaAdIds"])
    assert sorted(a["metaAdId"] for a in body["ads"]) == sorted(published["metaAdIds"])
    assert all(a["metaCreativeId"] for a in body["ads"])
    metadata = body["publishData"]["metadata"]
    assert sorted(metadata["creativeIds"]) == sorted(a["metaCreativeId"] for a in body["ads"])
    assert len(metadata["imageHashes"]) == 3
    assert await facebook_counts(rig) == {
        "campaigns": 1, "adsets": 1, "adcreatives": 3, "ads": 3, "adimages": 3,
    }  # fmt: skip
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["facebook"]
    meta_campaign = state["campaigns"]["items"][0]
    assert meta_campaign["id"] == published["metaCampaignId"]
    assert meta_campaign["status"] == "ACTIVE"  # created paused, turned on last
    assert (await rig.sim.get("/_sim/meta/sdk-problems")).json() == []
    assert META_APP_SECRET not in json.dumps(body)

    async def reviewed() -> bool:
        ads = (await campaign(rig, campaign_id))["ads"]
        return all(a["status"] == "approved" and a["approvedAt"] for a in ads)

    await eventually(reviewed)

    async def findable() -> bool:  # the Web UI finds the publish and its review by campaign
        query = f"MetaCampaignId = '{campaign_id}'"
        ids = [w.id async for w in rig.client.list_workflows(query)]
        return {job_id, published["reviewWorkflowId"]} <= set(ids)

    await eventually(findable)
    events = await rig.api.get(f"/api/v1/meta/campaigns/{campaign_id}/events", headers=rig.headers)
    assert "event: complete" in events.text and '"status": "active"' in events.text


async def test_same_image_uploads_once_and_a_republish_uploads_nothing(rig: System) -> None:
    connection = await connect_meta(rig)
    same = image_url(rig, "hero")
    campaign_id = await create_campaign(rig, connection["id"], ads=3, images=[same])
    job = await rig.wait_job(await publish(rig, campaign_id))
    assert job["status"] == "completed", job
    uploads = await graph_requests(rig, "POST", "/adimages$")
    assert len(uploads) == 1
    delete = await rig.api.post(f"/api/v1/meta/campaigns/{campaign_id}/delete", headers=rig.headers)
    assert delete.status_code == 202, delete.text
    assert (await rig.wait_job(delete.json()["jobId"]))["status"] == "completed"
    again = await rig.wait_job(await publish(rig, campaign_id))
    assert again["status"] == "completed", again
    assert len(await graph_requests(rig, "POST", "/adimages$")) == 1  # nothing uploaded again
    counts = await facebook_counts(rig)
    assert (counts["campaigns"], counts["ads"], counts["adimages"]) == (2, 6, 1)
    body = await campaign(rig, campaign_id)
    assert body["published"]["generation"] == 2 and body["publishedStatus"] == "active"


async def test_throttling_is_honoured_without_failing_the_run(rig: System) -> None:
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=3)
    quota = await rig.sim.post("/_sim/meta/quota", json={"callsPerWindow": 5, "windowSeconds": 3})
    assert quota.status_code == 200
    job = await rig.wait_job(await publish(rig, campaign_id), timeout=120)
    assert job["status"] == "completed", job
    throttled = [r for r in await graph_requests(rig) if r["status"] == 400]
    assert throttled, "the quota must have throttled some calls (code 80004)"
    assert await facebook_counts(rig) == {
        "campaigns": 1, "adsets": 1, "adcreatives": 3, "ads": 3, "adimages": 3,
    }  # fmt: skip


async def test_lost_responses_leave_no_duplicates(rig: System) -> None:
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=4)
    await rig.faults(
        {"platform": "meta", "method": "POST",
         "path": r"/act_\d+/(campaigns|adsets|adcreatives|ads)$", "lostResponseRate": 0.5,
         "remaining": 5},
        seed=7,
    )  # fmt: skip
    job_id = await publish(rig, campaign_id)
    job = await rig.wait_job(job_id, timeout=120)
    assert job["status"] == "completed", job
    await rig.record_history(job_id, "meta_publish_lost_responses")
    assert await facebook_counts(rig) == {
        "campaigns": 1, "adsets": 1, "adcreatives": 4, "ads": 4, "adimages": 4,
    }  # fmt: skip
    lost = [r for r in await graph_requests(rig, "POST") if r["fault"] == "lost_response"]
    assert lost, "some creates must have lost their answer"
    objects = (
        await rig.api.get(f"/api/v1/meta/campaigns/{campaign_id}/publication", headers=rig.headers)
    ).json()["objects"]
    assert any(o["adopted"] for o in objects), objects


async def test_rejected_ad_is_recorded_with_feedback_and_an_alert(rig: System) -> None:
    rules = [
        {"nameContains": "Coffee ad 2", "outcome": "disapprove",
         "feedback": {"HEALTH_CLAIMS": "Ads can't make health claims."}},
        {"outcome": "approve"},
    ]  # fmt: skip
    assert (await rig.sim.post("/_sim/meta/review", json={"rules": rules})).status_code == 200
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=2)
    assert (await rig.wait_job(await publish(rig, campaign_id)))["status"] == "completed"

    async def decided() -> bool:
        ads = (await campaign(rig, campaign_id))["ads"]
        return all(a["status"] in ("approved", "rejected") for a in ads)

    await eventually(decided)
    ads = {a["name"]: a for a in (await campaign(rig, campaign_id))["ads"]}
    rejected = ads["Coffee ad 2"]
    assert rejected["metaReviewStatus"] == "DISAPPROVED" and rejected["rejectedAt"]
    assert rejected["reviewFeedback"] == {
        "global": {"HEALTH_CLAIMS": "Ads can't make health claims."}
    }
    assert ads["Coffee ad 1"]["status"] == "approved"

    async def alerted() -> bool:  # the alert is written in its own step, after the verdicts
        async with system_session(rig.sessions, "cli") as session:
            found = await session.scalars(select(Alert).where(Alert.entity_id == campaign_id))
            return bool(found.all())

    await eventually(alerted)
    async with system_session(rig.sessions, "cli") as session:
        alerts = (await session.scalars(select(Alert).where(Alert.entity_id == campaign_id))).all()
    assert [a.alert_type for a in alerts] == ["meta_ad_rejected"]
    assert alerts[0].severity == "HIGH"
    assert alerts[0].details["ads"][0]["feedback"]["global"]["HEALTH_CLAIMS"]
    review = await _review_history(rig, campaign_id)
    await rig.record_history(review, "meta_review_rejected")


async def test_operations_push_just_the_change(rig: System) -> None:
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=1)
    assert (await rig.wait_job(await publish(rig, campaign_id)))["status"] == "completed"
    before = len(await graph_requests(rig, "POST"))
    for path in ("pause", "resume"):
        accepted = await rig.api.post(
            f"/api/v1/meta/campaigns/{campaign_id}/{path}", headers=rig.headers
        )
        assert (await rig.wait_job(accepted.json()["jobId"]))["status"] == "completed"
        if path == "pause":
            await rig.record_history(accepted.json()["jobId"], "meta_operation_pause")
    edit = await rig.api.patch(
        f"/api/v1/meta/campaigns/{campaign_id}", json={"budgetAmount": 40}, headers=rig.headers
    )
    assert edit.status_code == 202, edit.text
    result = await rig.wait_job(edit.json()["jobId"])
    assert result["status"] == "completed" and result["result"]["changed"][0].endswith(
        "daily_budget"
    )
    posts = (await graph_requests(rig, "POST"))[before:]
    assert len(posts) == 3  # pause, resume, the budget: one call each, nothing else
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["facebook"]
    assert state["adsets"]["items"][0]["daily_budget"] == 4000
    assert state["campaigns"]["items"][0]["status"] == "ACTIVE"
    audit = (await rig.api.get("/api/v1/audit-log", params={"entity": campaign_id},
                               headers=rig.headers)).json()  # fmt: skip
    actions = {e["action"] for e in audit["items"]}
    assert {"meta_campaign.pause", "meta_campaign.resume", "meta_campaign.update",
            "meta_publish.finished", "meta_publish.verified"} <= actions  # fmt: skip


async def test_another_tenant_sees_nothing(rig: System) -> None:
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=1)
    job_id = await publish(rig, campaign_id)
    await rig.wait_job(job_id)
    other = await rig.new_tenant_headers()
    for method, path in (
        ("GET", f"/api/v1/meta/campaigns/{campaign_id}"),
        ("POST", f"/api/v1/meta/campaigns/{campaign_id}/publish"),
        ("POST", f"/api/v1/meta/campaigns/{campaign_id}/pause"),
        ("GET", f"/api/v1/meta/connections/{connection['id']}"),
        ("GET", f"/api/v1/jobs/{job_id}"),
        ("PUT", f"/api/v1/meta/campaigns/{campaign_id}/sections/goal"),
    ):
        response = await rig.api.request(method, path, headers=other, json={"goal": "leads"})
        assert response.status_code == 404, (method, path, response.text)


async def _review_history(rig: System, campaign_id: str) -> str:
    body = await campaign(rig, campaign_id)
    workflow_id: str = body["published"]["reviewWorkflowId"]
    handle = rig.client.get_workflow_handle(workflow_id)
    await handle.result()
    return workflow_id


async def test_validate_only_asks_graph_and_creates_nothing(rig: System) -> None:
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=2)
    url = f"/api/v1/meta/campaigns/{campaign_id}/prepare"
    checked = (await rig.api.post(url, params={"validateOnly": "true"}, headers=rig.headers)).json()
    assert checked["ready"] is True, checked["problems"]
    by_object = {c["object"]: c for c in checked["graphChecks"]}
    assert by_object["campaign"]["checkedBy"] == "graph" and by_object["campaign"]["ok"]
    assert by_object["creative[1]"]["checkedBy"] == "graph" and by_object["creative[1]"]["ok"]
    assert by_object["adset"]["checkedBy"] == "local"
    assert await facebook_counts(rig) == {
        "campaigns": 0, "adsets": 0, "adcreatives": 0, "ads": 0, "adimages": 0,
    }  # fmt: skip
    # Graph refuses what our rules cannot see: the Page is no longer the user's.
    await rig.sim.patch("/_sim/state/meta/pages/400000000000001", json={"users": []})
    refused = (await rig.api.post(url, params={"validateOnly": "true"}, headers=rig.headers)).json()
    assert refused["ready"] is False
    graph_problems = [p for p in refused["problems"] if p["code"] == "graph_refused"]
    assert {p["field"] for p in graph_problems} == {"metaConnection"}, refused["problems"]
    assert not any(c["ok"] for c in refused["graphChecks"] if c["object"].startswith("creative"))


async def test_maintenance_cleans_failed_publishes_and_archives_the_audit_log(
    rig: System,
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, update

    from flightdeck.db.models import AuditLogArchiveEntry, AuditLogEntry, MetaPublishedCampaign
    from flightdeck.domain.meta_io import MaintenanceInput, MaintenanceResult
    from flightdeck.workflows.meta_ops import MetaMaintenanceWorkflow

    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=1)
    await rig.faults({"platform": "meta", "method": "POST", "path": "/ads$", "errorRate": 1.0,
                      "status": 400})  # fmt: skip
    job = await rig.wait_job(await publish(rig, campaign_id))
    assert job["status"] == "failed"
    await rig.faults()
    old = datetime.now(UTC) - timedelta(days=31)
    async with system_session(rig.sessions, "cli") as session, session.begin():
        await session.execute(
            update(MetaPublishedCampaign)
            .where(MetaPublishedCampaign.campaign_id == campaign_id)
            .values(updated_at=old)
        )
        await session.execute(
            update(AuditLogEntry)
            .where(AuditLogEntry.entity_id == campaign_id)
            .values(created_at=datetime.now(UTC) - timedelta(days=400))
        )
    result = await rig.client.execute_workflow(
        MetaMaintenanceWorkflow.run,
        MaintenanceInput(failed_publish_retention_days=30, audit_retention_days=365),
        id=f"maintenance-{campaign_id}",
        task_queue=rig.settings.task_queue,
        result_type=MaintenanceResult,
    )
    assert result.failed_publishes_cleaned >= 1 and result.audit_entries_archived >= 1
    body = await campaign(rig, campaign_id)
    assert body["publishedStatus"] is None and body["published"]["publishStatus"] == "deleted"
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["facebook"]
    assert state["campaigns"]["items"][0]["status"] == "DELETED"  # removed from Meta too
    async with system_session(rig.sessions, "cli") as session:
        archived = await session.scalar(
            select(func.count())
            .select_from(AuditLogArchiveEntry)
            .where(AuditLogArchiveEntry.entity_id == campaign_id)
        )
    assert archived and archived >= 3


async def test_a_running_publishs_job_shows_its_progress(rig: System) -> None:
    """A poller sees a Meta publish move before it ends: the ids the publish records as it
    creates them (campaign, ad set, each ad) out of 2 + the campaign's ads. The ads' creates
    are slowed so that the state between is there to be seen, not raced."""
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=2)
    await rig.faults({"platform": "meta", "method": "POST", "path": "/ads$", "latencyMs": 3000})
    job_id = await publish(rig, campaign_id)
    seen: list[dict[str, object]] = []

    async def campaign_and_ad_set_created() -> bool:
        job = (await rig.api.get(f"/api/v1/jobs/{job_id}", headers=rig.headers)).json()
        seen.append(job["progress"])
        return job["status"] == "running" and job["progress"]["done"] == 2

    await eventually(campaign_and_ad_set_created, timeout=60)
    assert seen[-1] == {"step": "publishing", "done": 2, "total": 4}
    assert all(p["total"] == 4 for p in seen), seen
    job = await rig.wait_job(job_id, timeout=60)
    assert job["status"] == "completed" and job["progress"] == {
        "step": "done", "done": 4, "total": 4,
    }  # fmt: skip
