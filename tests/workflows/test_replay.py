"""Replay recorded histories of every workflow (publish, the set entity, set sync and its
batches, sync-back, conflicts, Meta publish and review, metrics cycles, actions) with the
current code.

A change to the workflow that would break runs already in flight (non-determinism) fails here.
Histories are recorded from the end-to-end tests:
    FLIGHTDECK_RECORD_HISTORIES=tests/histories ./scripts/test.sh tests/e2e
Re-record only when a change is deliberately incompatible (and patched with workflow.patched).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from flightdeck.worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).resolve().parents[1] / "histories").glob("*.json"))


def test_histories_are_recorded() -> None:
    names = {path.stem for path in HISTORIES}
    assert {
        "publish_completed",
        "publish_failed_validation",
        "publish_cancelled_cleanup",
        "publish_ad_set_completed",
        "publish_ad_set_refused",
        "sync_set_completed",
        "campaign_set_entity",
        "sync_batch_completed",
        "sync_batch_partial_failure",
        "sync_set_reauth_required",
        "sync_back_conflict",
        "sync_back_conflict_started_by_activity",
        "conflict_resolved_use_local",
        "conflict_resolved_use_local_since_init",
        "meta_publish_completed",
        "meta_publish_lost_responses",
        "meta_publish_reconnect",
        "meta_review_rejected",
        "meta_operation_pause",
        "metrics_sync_cycle",
        "metrics_sync_account_failed",
        "metrics_sync_autonomous",
        "apply_action_approved",
        "apply_action_rejected",
        "apply_action_autonomous",
        "sync_set_multi_target",
        "sync_batch_multi_target",
        "sync_batch_multi_target_platform_down",
        "sync_set_bookkeeping_activities",
        "sync_batch_bookkeeping_activities",
    } <= names


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays_with_current_code(path: Path) -> None:
    recorded = json.loads(path.read_text())
    history = WorkflowHistory.from_json(recorded["workflowId"], recorded["history"])
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
