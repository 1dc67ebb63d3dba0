"""An ad set is published in one activity (`strategis.publish_ad_set`): its creates keep every
guarantee they had as activities of their own — one object each, recorded as it answers, a
failure naming its object — and one create's trouble costs a retry of that create, not of the
ad set."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import EventType

from tests.e2e.conftest import System, big_plan
from tests.e2e.test_publish_trust import facebook, mapping_of


async def started_attempts(rig: System, workflow_id: str) -> dict[str, list[int]]:
    """Each activity type of the run, with the attempt number of each of its starts."""
    history = await rig.client.get_workflow_handle(workflow_id).fetch_history()
    scheduled: dict[int, str] = {}
    attempts: dict[str, list[int]] = {}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            attempts.setdefault(scheduled[started.scheduled_event_id], []).append(started.attempt)
    return attempts


async def relay_posts(rig: System, path: str, key_end: str) -> list[dict[str, Any]]:
    """The relay's creates at `path` whose clientRequestKey ends with `key_end`, in order."""
    log = (await rig.sim.get("/_sim/requests", params={"path": path, "method": "POST"})).json()
    return [e for e in log if (e["clientRequestKey"] or "").endswith(key_end)]


async def test_one_refused_creative_fails_the_run_at_it_and_its_siblings_stay_mapped(
    rig: System,
) -> None:
    plan = big_plan(2, 2)
    # The relay refuses ad 1.0's creative (a 400: non-retryable); every other create succeeds.
    await rig.faults({"platform": "relay", "method": "POST", "path": "adcreatives/create",
                      "bodyContains": f'{plan["requestId"]}-1-0"', "errorRate": 1.0,
                      "status": 400})  # fmt: skip
    accepted = await rig.publish(plan)
    job = await rig.wait_job(accepted["workflowId"])
    await rig.record_history(accepted["workflowId"], "publish_ad_set_refused")
    assert job["status"] == "failed"
    assert job["error"].startswith("facebook_creative[1][0]:"), job["error"]
    await rig.faults()
    mapping = await mapping_of(rig, accepted["id"], rig.headers)
    assert [e["step"] for e in mapping["errors"]] == ["facebook_creative[1][0]"]
    objects = await facebook(rig)
    # The other ad of the refused creative's ad set ran to its end in the same activity, and
    # the other ad set's activity finished: 3 creatives and 3 ads, each once, all mapped.
    assert len(objects["adcreatives"]) == 3 and len(objects["ads"]) == 3
    assert sorted(mapping["facebookAdIds"]) == sorted(a["id"] for a in objects["ads"])
    assert sorted(mapping["facebookAdSetIds"]) == sorted(a["id"] for a in objects["adsets"])
    [campaign] = objects["campaigns"]
    assert campaign["status"] == "PAUSED", "compensated"
    refused = await relay_posts(rig, "adcreatives/create", f"{plan['requestId']}-1-0")
    assert [e["status"] for e in refused] == [400], "a refusal is not retried"


async def test_a_failing_create_is_retried_in_the_attempt_not_the_whole_ad_set(
    rig: System,
) -> None:
    plan = big_plan(2, 2)
    # Ad 0.1's creative: twice a 503, then its answer lost once (the relay committed it). (A
    # rule that fires counts an effect even when another rule's error answers: 2 + 1.)
    key = f'{plan["requestId"]}-0-1"'
    await rig.faults(
        {"platform": "relay", "method": "POST", "path": "adcreatives/create",
         "bodyContains": key, "errorRate": 1.0, "status": 503, "remaining": 2},
        {"platform": "relay", "method": "POST", "path": "adcreatives/create",
         "bodyContains": key, "lostResponseRate": 1.0, "remaining": 3},
    )  # fmt: skip
    accepted = await rig.publish(plan)
    job = await rig.wait_job(accepted["workflowId"])
    await rig.record_history(accepted["workflowId"], "publish_ad_set_completed")
    assert job["status"] == "completed", job
    sent = await relay_posts(rig, "adcreatives/create", key.rstrip('"'))
    assert [e["fault"] for e in sent] == ["error", "error", "lost_response", None], (
        "tried again in the attempt"
    )
    assert sent[-1]["replayed"], "the relay answered the last try from its clientRequestKey"
    attempts = await started_attempts(rig, accepted["workflowId"])
    assert attempts["strategis.publish_ad_set"] == [1, 1], "each ad set in one attempt"
    objects = await facebook(rig)
    assert len(objects["adcreatives"]) == 4 and len(objects["ads"]) == 4, "the lost one adopted"
    mapping = await mapping_of(rig, accepted["id"], rig.headers)
    assert sorted(mapping["facebookAdIds"]) == sorted(a["id"] for a in objects["ads"])
    creatives = {o["externalId"] for o in mapping["objects"] if o["objectType"] == "creative"}
    assert creatives == {c["id"] for c in objects["adcreatives"]}
