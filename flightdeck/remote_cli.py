"""`flightdeck publish|sets|conflicts|actions …`: the API from a terminal, against a running
Flightdeck (`--url`/`FLIGHTDECK_API_URL`, `--api-key`/`FLIGHTDECK_API_KEY`).

Exit codes: 0 done (or the run succeeded), 1 the run ended failed/cancelled, 2 the API refused
the request (4xx: bad input, not found, forbidden, conflict), 3 the API could not be reached or
failed (5xx, timeout). `--json` prints the API's documents (one JSON object per line while
following) instead of text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import httpx

from flightdeck.settings import Settings

OK, RUN_FAILED, REFUSED, UNAVAILABLE = 0, 1, 2, 3
RUNNING = {"running", "pending", "queued", "not_started", "unknown", "continued_as_new"}
SUCCEEDED = {"completed"}
POLL_SECONDS = 0.5
BAR_WIDTH = 30


class CliError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def add_commands(sub: Any) -> None:
    """The remote subcommands, on the `flightdeck` parser's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="the API's base URL (FLIGHTDECK_API_URL)")
    common.add_argument("--api-key", help="an API key (FLIGHTDECK_API_KEY)")
    common.add_argument("--json", action="store_true", help="print JSON documents")
    follow = argparse.ArgumentParser(add_help=False)
    follow.add_argument("--follow", action="store_true", help="show progress until the run ends")
    follow.add_argument("--timeout", type=float, default=900, help="seconds to follow at most")

    publish = sub.add_parser("publish", parents=[common, follow], help="submit a campaign plan")
    publish.add_argument("plan", type=Path, help="a plan JSON file (see examples/plan.json)")

    sets = sub.add_parser("sets", help="campaign sets").add_subparsers(
        dest="sets_command", required=True
    )
    sync = sets.add_parser("sync", parents=[common, follow], help="push a set to its platform")
    sync.add_argument("set_id")

    conflicts = sub.add_parser("conflicts", help="sync-back conflicts").add_subparsers(
        dest="conflicts_command", required=True
    )
    listed = conflicts.add_parser("list", parents=[common], help="list conflicts")
    listed.add_argument("--status", default="open", choices=["open", "resolved"])
    resolve = conflicts.add_parser("resolve", parents=[common, follow], help="resolve one")
    resolve.add_argument("conflict_id")
    resolve.add_argument("resolution", choices=["use_local", "use_platform"])

    actions = sub.add_parser("actions", help="proposed actions").add_subparsers(
        dest="actions_command", required=True
    )
    actions_list = actions.add_parser("list", parents=[common], help="list actions")
    actions_list.add_argument("--status", help="e.g. pending_approval, executed")
    approve = actions.add_parser("approve", parents=[common], help="approve (approver role)")
    approve.add_argument("action_id")
    reject = actions.add_parser("reject", parents=[common], help="reject (approver role)")
    reject.add_argument("action_id")
    reject.add_argument("--reason")


REMOTE_COMMANDS = {"publish", "sets", "conflicts", "actions"}


async def run(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout) -> int:
    """Run one remote command; its exit code (errors are printed to stderr)."""
    url = args.url or settings.api_url or f"http://{settings.api_host}:{settings.api_port}"
    key = args.api_key or (settings.api_key.get_secret_value() if settings.api_key else None)
    try:
        if not key:
            raise CliError(REFUSED, "no API key: pass --api-key or set FLIGHTDECK_API_KEY")
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
            return await _dispatch(Remote(http, out, args.json), args)
    except CliError as exc:
        print(f"flightdeck: {exc}", file=sys.stderr)
        return exc.code


class Remote:
    def __init__(self, http: httpx.AsyncClient, out: TextIO, as_json: bool) -> None:
        self.http, self.out, self.as_json = http, out, as_json

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(UNAVAILABLE, f"{self.http.base_url} unreachable: {exc}") from None
        body = _body(response)
        if response.status_code >= 500:
            raise CliError(UNAVAILABLE, f"{response.status_code} {_problem(body)}")
        if response.status_code >= 400:
            raise CliError(REFUSED, f"{response.status_code} {_problem(body)}")
        return body

    async def every(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """Every row of a list endpoint, following `nextCursor` page by page."""
        items: list[Any] = []
        cursor: str | None = None
        while True:
            paging = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = await self.call("GET", path, params={**params, **paging})
            items += page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                return {"items": items, "nextCursor": None}

    def show(self, document: Any, text: str) -> None:
        print(json.dumps(document) if self.as_json else text, file=self.out, flush=True)

    async def follow(self, job_id: str, timeout: float) -> int:
        """Poll the job until it ends, showing its progress; the exit code of its outcome."""
        last = ""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    job = await self.call("GET", f"/api/v1/jobs/{job_id}")
                    line = progress_line(job)
                    if self.as_json:
                        if line != last:
                            self.show(job, "")
                    elif self.out.isatty():
                        print(f"\r{line}\033[K", end="", file=self.out, flush=True)
                    elif line != last:
                        print(line, file=self.out, flush=True)
                    last = line
                    if job["status"] not in RUNNING:
                        break
                    await asyncio.sleep(POLL_SECONDS)
        except TimeoutError:
            raise CliError(UNAVAILABLE, f"{job_id} still running after {timeout:.0f}s") from None
        if self.out.isatty() and not self.as_json:
            print(file=self.out)
        if job["status"] in SUCCEEDED:
            return OK
        if not self.as_json:
            print(f"{job_id} {job['status']}: {_problem(job.get('error'))}", file=sys.stderr)
        return RUN_FAILED


def progress_line(job: dict[str, Any]) -> str:
    """`[#########.....]  9/14 facebook_ad[1][0]  running` for a job document."""
    progress = job.get("progress") or {}
    total = progress.get("total") or 0
    done = progress.get("done")
    if done is None:
        done = (progress.get("synced") or 0) + (progress.get("failed") or 0)
    filled = int(BAR_WIDTH * done / total) if total else 0
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    step = progress.get("step") or ""
    failed = f" ({progress['failed']} failed)" if progress.get("failed") else ""
    return f"[{bar}] {done}/{total}{failed} {step} {job['status']}".replace("  ", " ")


async def _dispatch(remote: Remote, args: argparse.Namespace) -> int:
    if args.command == "publish":
        return await _publish(remote, args)
    if args.command == "sets":
        accepted = await remote.call("POST", f"/api/v1/campaign-sets/{args.set_id}/sync")
        remote.show(accepted, f"sync {accepted['status']}: job {accepted['jobId']}")
        return await remote.follow(accepted["jobId"], args.timeout) if args.follow else OK
    if args.command == "conflicts" and args.conflicts_command == "list":
        page = await remote.every("/api/v1/conflicts", {"status": args.status})
        remote.show(page, "\n".join(map(_conflict_line, page["items"])) or "no conflicts")
        return OK
    if args.command == "conflicts":
        path = f"/api/v1/conflicts/{args.conflict_id}/resolve"
        accepted = await remote.call("POST", path, json={"resolution": args.resolution})
        remote.show(accepted, f"{args.resolution} accepted: job {accepted['jobId']}")
        return await remote.follow(accepted["jobId"], args.timeout) if args.follow else OK
    if args.actions_command == "list":
        params = {"status": args.status} if args.status else {}
        page = await remote.every("/api/v1/actions", params)
        remote.show(page, "\n".join(map(_action_line, page["items"])) or "no actions")
        return OK
    body = {"reason": args.reason} if args.actions_command == "reject" and args.reason else None
    action = await remote.call(
        "POST", f"/api/v1/actions/{args.action_id}/{args.actions_command}", json=body
    )
    remote.show(action, _action_line(action))
    return OK


async def _publish(remote: Remote, args: argparse.Namespace) -> int:
    try:
        plan = json.loads(args.plan.read_text())
    except (OSError, ValueError) as exc:
        raise CliError(REFUSED, f"{args.plan}: {exc}") from None
    accepted = await remote.call("POST", "/api/v1/campaign-plans", json=plan)
    remote.show(
        accepted,
        f"plan {accepted['id']} ({accepted['requestId']}): {accepted['status']}, "
        f"run {accepted['workflowId']}",
    )
    if not args.follow:
        return OK
    code = await remote.follow(accepted["workflowId"], args.timeout)
    if code == OK and not remote.as_json:
        mapping = await remote.call("GET", f"/api/v1/campaign-plans/{accepted['id']}/mapping")
        remote.show(mapping, f"Facebook campaign {mapping.get('facebookCampaignId')}")
    return code


def _conflict_line(conflict: dict[str, Any]) -> str:
    fields = ", ".join(
        f"{f['field']}: local {f.get('local')!r} / platform {f.get('platform')!r}"
        for f in conflict.get("fields", [])
    )
    return f"{conflict['id']}  {conflict['entityType']} {conflict['entityId']}  {fields}"


def _action_line(action: dict[str, Any]) -> str:
    name = action.get("campaignName") or action.get("campaignId")
    return (
        f"{action['id']}  {action['actionType']} {action['platform']} {name}  "
        f"{action.get('previousState')} → {action.get('newState')}  {action['status']}"
    )


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"error": f"http_{response.status_code}", "detail": response.text[:200]}


def _problem(body: Any) -> str:
    if not isinstance(body, dict):
        return str(body)
    detail = body.get("detail")
    if isinstance(detail, list):
        detail = "; ".join(
            f"{d.get('field')}: {d.get('message')}" if isinstance(d, dict) else str(d)
            for d in detail
        )
    return f"{body.get('error', '')}: {detail}" if detail else str(body.get("error", body))
