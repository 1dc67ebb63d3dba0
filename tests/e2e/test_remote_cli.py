"""`flightdeck publish|sets|conflicts|actions` as a user runs them: the real command in a
subprocess, over real HTTP, against the API served by uvicorn on the e2e rig — exit codes,
progress while following, `--json`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from flightdeck.api.app import create_app
from tests.conftest import free_port
from tests.e2e.conftest import System, make_plan
from tests.e2e.metrics_support import platform_campaign
from tests.e2e.test_actions import propose, registered
from tests.e2e.test_alerts import user_headers
from tests.e2e.test_set_sync import campaign
from tests.e2e.test_sync_back import both_sides_change_the_budget


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture(scope="module")
async def api_url(system: System) -> AsyncIterator[str]:
    port = free_port()
    app = create_app(system.settings, sessions=system.sessions, temporal=system.client)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


def key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def flightdeck(url: str, key: str | None, *args: str) -> Ran:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLIGHTDECK_")}
    env["FLIGHTDECK_API_URL"] = url
    if key:
        env["FLIGHTDECK_API_KEY"] = key
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "flightdeck.cli", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    async with asyncio.timeout(180):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())


def plan_file(tmp_path: Path, **overrides: Any) -> str:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(make_plan(**overrides)))
    return str(path)


async def test_publish_follow_shows_progress_and_exits_0(
    rig: System, api_url: str, tmp_path: Path
) -> None:
    ran = await flightdeck(api_url, key_of(rig.headers), "publish", plan_file(tmp_path), "--follow")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0].startswith("plan ") and "run publish-" in lines[0]
    assert any(line.startswith("[" + "#" * 30 + "] 14/14") for line in lines), ran.out
    assert "completed" in lines[-2] and lines[-1].startswith("Facebook campaign ")


async def test_publish_json_prints_the_documents(rig: System, api_url: str, tmp_path: Path) -> None:
    args = ("publish", plan_file(tmp_path), "--follow", "--json")
    ran = await flightdeck(api_url, key_of(rig.headers), *args)
    assert ran.code == 0, ran.err
    documents = ran.lines()
    assert documents[0]["status"] == "pending" and documents[0]["workflowId"]
    assert documents[-1]["status"] == "completed"
    assert documents[-1]["progress"] == {"step": "done", "done": 14, "total": 14}


async def test_exit_codes_tell_a_failed_run_from_refused_and_unreachable(
    rig: System, api_url: str, tmp_path: Path
) -> None:
    key = key_of(rig.headers)
    await rig.faults({"platform": "relay", "method": "POST", "errorRate": 1.0, "status": 400})
    failed = await flightdeck(api_url, key, "publish", plan_file(tmp_path), "--follow")
    assert failed.code == 1, failed.out + failed.err
    assert "failed" in failed.err

    bad = await flightdeck(api_url, key, "publish", plan_file(tmp_path, adSets=[]))
    assert bad.code == 2 and "adSets" in bad.err
    wrong_key = await flightdeck(api_url, "not-a-key", "publish", plan_file(tmp_path))
    assert wrong_key.code == 2 and "401" in wrong_key.err
    no_key = await flightdeck(api_url, None, "publish", plan_file(tmp_path))
    assert no_key.code == 2 and "FLIGHTDECK_API_KEY" in no_key.err
    nobody = await flightdeck(f"http://127.0.0.1:{free_port()}", key, "conflicts", "list")
    assert nobody.code == 3 and "unreachable" in nobody.err


async def test_sets_sync_follow(rig: System, api_url: str) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(2)], account)
    ran = await flightdeck(api_url, key_of(rig.headers), "sets", "sync", created["id"], "--follow")
    assert ran.code == 0, ran.err
    assert ran.out.splitlines()[0] == f"sync queued: job sync-set-{created['id']}"
    assert f"[{'#' * 30}] 2/2" in ran.out and "completed" in ran.out.splitlines()[-1]


async def test_conflicts_list_and_resolve(rig: System, api_url: str) -> None:
    _group, conflict = await both_sides_change_the_budget(rig)
    key = key_of(rig.headers)
    listed = await flightdeck(api_url, key, "conflicts", "list", "--json")
    assert listed.code == 0, listed.err
    (page,) = listed.lines()
    assert [c["id"] for c in page["items"]] == [conflict["id"]]
    text = await flightdeck(api_url, key, "conflicts", "list")
    assert text.out.startswith(conflict["id"]) and "local" in text.out

    args = ("conflicts", "resolve", conflict["id"], "use_platform", "--follow")
    resolved = await flightdeck(api_url, key, *args)
    assert resolved.code == 0, resolved.err
    again = await flightdeck(api_url, key, "conflicts", "resolve", conflict["id"], "use_local")
    assert again.code == 2 and "409" in again.err
    left = await flightdeck(api_url, key, "conflicts", "list", "--json")
    assert left.lines()[0]["items"] == []


async def test_actions_list_approve_reject(rig: System, api_url: str) -> None:
    await rig.connect_reddit()
    first = await registered(rig, await platform_campaign(rig, "reddit", "Cli one", budget="40"))
    second = await registered(rig, await platform_campaign(rig, "reddit", "Cli two", budget="40"))
    paused = await propose(rig, {"actionType": "PAUSE", "campaignId": first})
    kept = await propose(rig, {"actionType": "PAUSE", "campaignId": second})
    approver = key_of(await user_headers(rig, "approver"))

    listed = await flightdeck(api_url, approver, "actions", "list", "--status", "pending_approval")
    assert listed.code == 0, listed.err
    assert {paused["actionId"], kept["actionId"]} <= {
        line.split()[0] for line in listed.out.splitlines()
    }
    editor = await flightdeck(api_url, key_of(await user_headers(rig, "editor")), "actions",
                              "approve", paused["actionId"])  # fmt: skip
    assert editor.code == 2 and "403" in editor.err
    approved = await flightdeck(
        api_url, approver, "actions", "approve", paused["actionId"], "--json"
    )
    assert approved.code == 0, approved.err
    assert approved.lines()[0]["status"] == "executed"
    args = ("actions", "reject", kept["actionId"], "--reason", "not now")
    rejected = await flightdeck(api_url, approver, *args)
    assert rejected.code == 0 and "rejected" in rejected.out
