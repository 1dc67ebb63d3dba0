"""Runs that read like the business in the Temporal Web UI: a static summary on every run, a
summary on every activity, and TenantId on every kind of run (sync-back, conflict and batch
runs included)."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.e2e.conftest import System, make_plan
from tests.e2e.test_sync_back import both_sides_change_the_budget


async def activity_summaries(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    found: list[str] = []
    converter = pydantic_data_converter.payload_converter
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            assert event.user_metadata.HasField("summary"), event
            found.append(converter.from_payload(event.user_metadata.summary, str))
        marker = event.marker_recorded_event_attributes.marker_name
        # Local activities record a marker each; `workflow.patched` markers are not steps.
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED and marker != "core_patch":
            assert event.user_metadata.HasField("summary"), event
            found.append(converter.from_payload(event.user_metadata.summary, str))
    return found


async def tenant_of(rig: System) -> str:
    me: dict[str, Any] = (await rig.api.get("/api/v1/me", headers=rig.headers)).json()
    return str(me["tenantId"])


async def runs_of(rig: System, query: str, at_least: int = 1) -> list[Any]:
    """Visibility is eventually consistent: wait (bounded) for the runs to be listed."""
    async with asyncio.timeout(20):
        while True:
            found = [wf async for wf in rig.client.list_workflows(query)]
            if len(found) >= at_least:
                return found
            await asyncio.sleep(0.2)


async def test_a_publish_run_and_its_activities_say_what_they_do(rig: System) -> None:
    plan = make_plan(brand="BrandX", hookSetId="hookset_juvederm")
    accepted = await rig.publish(plan)
    await rig.wait_job(accepted["workflowId"])
    described = await rig.client.get_workflow_handle(accepted["workflowId"]).describe()
    assert (
        await described.static_summary() == "Publish BrandX · hookset_juvederm · 2 ad sets / 4 ads"
    )
    summaries = await activity_summaries(rig.client, accepted["workflowId"])
    assert "ensure the Strategis tracking template" in summaries
    assert (
        "publish ad set 1 'women2545_feeds_PURCHASE_ABO_v1': the ad set, its tracking campaign, "
        "2 creatives and 2 ads"
    ) in summaries
    assert any(s.startswith("publish ad set 2 '") for s in summaries)
    assert "mark the plan active" in summaries


async def test_sync_back_conflict_and_batch_runs_carry_the_tenant(rig: System) -> None:
    tenant = await tenant_of(rig)
    _group, conflict = await both_sides_change_the_budget(rig)
    by_type = {
        wf.workflow_type: wf
        for wf in await runs_of(
            rig,
            f"TenantId = '{tenant}' AND WorkflowType IN "
            "('SyncBackWorkflow', 'ConflictWorkflow', 'SyncCampaignBatchWorkflow')",
            at_least=3,
        )
    }
    assert set(by_type) == {"SyncBackWorkflow", "ConflictWorkflow", "SyncCampaignBatchWorkflow"}
    conflict_run = await rig.client.get_workflow_handle(by_type["ConflictWorkflow"].id).describe()
    assert (await conflict_run.static_summary() or "").startswith("Conflict on ad_group ")
    batch = await rig.client.get_workflow_handle(by_type["SyncCampaignBatchWorkflow"].id).describe()
    assert await batch.static_summary() == "Push batch 1: 1 campaigns"
    pushes = await activity_summaries(rig.client, by_type["SyncCampaignBatchWorkflow"].id)
    assert any(s.startswith("push campaign ") and s.endswith(" on Reddit") for s in pushes)
    assert conflict["status"] == "open"
