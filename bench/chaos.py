"""The chaos suite (issue 8): publish and set sync under harsh faults, then an audit.

One process controls everything as subprocesses, on this machine:

- an embedded Postgres (`pgserver`) it restarts once (stopped for a few seconds);
- a file-backed Temporal dev server it restarts once (stopped for a few seconds);
- the simulators (`flightdeck simulators`, state in a file) injecting 20% 5xx, 10% lost
  responses (the create commits, the answer is a 502) and 429 bursts on the relay, Strategis and
  Reddit;
- the API (`flightdeck api`) and TWO workers (`flightdeck worker`), one of which is SIGKILLed
  every ~10 s (and started again).

Load: plans of irregular shapes from 3 tenants (some sharing requestIds and Strategis
organizations; a few made to fail for good, a few cancelled, half of those with cleanup), and
one campaign set per tenant on Reddit (all three in the SAME Reddit ad account, with the same
campaign names). Then everything settles (no more kills, faults off) and the audit reads the
simulators' state (`/_sim/state`, `/_sim/requests`) and Postgres:

- runs: plans and sets completed / failed / cancelled / stuck (not terminal);
- orphans: objects on the simulators created during the run that no local row maps;
- duplicates: objects mapped by two local rows;
- lost IDs: local rows naming an object the platform does not have;
- cross-tenant effects: an object created under one tenant's key but mapped by another tenant,
  an object of a run that ended `active` paused or deleted (only another run could have), a
  Reddit object mapped by two tenants.

Goal (and what resolves issue 8): 100% terminal, 0 orphans, 0 duplicates, 0 lost IDs, 0
cross-tenant effects. The process exits 1 when a goal is missed.

    .venv/bin/python bench/chaos.py              # the full suite (100 plans, 3 x 100 campaigns)
    .venv/bin/python bench/chaos.py --quick      # what CI runs (tests/chaos/test_chaos.py)
    .venv/bin/python bench/chaos.py --keep       # keep the scratch directory (logs, state)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLE_PLAN = json.loads((ROOT / "examples" / "plan.json").read_text())
SHARED_ORG = EXAMPLE_PLAN["organization"]
AD_ACCOUNT = EXAMPLE_PLAN["adAccountId"]
FAIL_MARKER = "chaosfail"  # in an ad's hookId: the relay refuses that ad for good (a 400)
TERMINAL_PLAN = {"active", "failed", "cancelled", "paused"}
CAMPAIGN_TERMINAL_SYNC = {"synced", "failed", "conflict"}


@dataclass(frozen=True)
class Shape:
    plans: int = 100
    sets: int = 3  # one per tenant (3 tenants)
    campaigns_per_set: int = 100
    submit_seconds: float = 90.0  # plans are submitted over this long (through both restarts)
    chaos_seconds: float = 120.0  # kills, restarts and faults last this long
    kill_every: float = 10.0
    settle_seconds: float = 900.0  # then wait at most this long for every run to end
    failing_plans: int = 5
    cancelled_plans: int = 6
    seed: int = 8


FULL = Shape()
QUICK = Shape(
    plans=15,
    campaigns_per_set=6,
    submit_seconds=35.0,
    chaos_seconds=45.0,
    settle_seconds=150.0,
    failing_plans=2,
    cancelled_plans=2,
)


@dataclass
class Report:
    """Figures, and problems by goal; each problem belongs to an area (publish or sets)."""

    figures: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # What the audit found about a missed goal's objects (requests, ledger rows, audit log):
    # printed under the goals so a failure seen once (say, in CI) can be diagnosed.
    details: list[str] = field(default_factory=list)

    GOALS = ("stuck", "orphans", "duplicates", "lost_ids", "cross_tenant")

    def missed(self, area: str | None = None) -> dict[str, list[str]]:
        """The goals missed (in `area`, or anywhere), with their problems."""
        return {
            goal: [text for a, text in self.problems.get(goal, []) if area in (None, a)]
            for goal in self.GOALS
            if any(area in (None, a) for a, _ in self.problems.get(goal, []))
        }

    @property
    def goals_met(self) -> bool:
        return not self.missed()

    def add(self, goal: str, problem: str, area: str = "publish") -> None:
        self.problems.setdefault(goal, []).append((area, problem))

    def render(self) -> str:
        lines = ["", "=== chaos suite ==="]
        for name, value in self.figures.items():
            lines.append(f"{name:<38} {value}")
        lines.append("--- goals (publish / sets) ---")
        for goal in self.GOALS:
            found = self.problems.get(goal, [])
            counts = [sum(1 for a, _ in found if a == area) for area in ("publish", "sets")]
            lines.append(f"{goal:<38} {counts[0]} / {counts[1]}{'  MISSED' if found else ''}")
            lines.extend(f"    [{a}] {p}" for a, p in found[:15])
            if len(found) > 15:
                lines.append(f"    ... and {len(found) - 15} more")
        for other in sorted(set(self.problems) - set(self.GOALS)):
            lines.append(f"(not a goal) {other:<25} {len(self.problems[other])}")
            lines.extend(f"    [{a}] {p}" for a, p in self.problems[other][:10])
        if self.details:
            lines.append("--- details of what was missed ---")
            lines.extend(self.details[:80])
        lines.append("GOALS MET" if self.goals_met else "GOALS MISSED")
        return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str, started: float = time.monotonic()) -> None:
    print(f"[{time.monotonic() - started:7.1f}s] {message}", flush=True)


# -- the processes -------------------------------------------------------------------------------


class Service:
    """A subprocess this suite started (and the only kind it ever signals, by its pid)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], root: Path) -> None:
        self.name, self.argv, self.env, self.root = name, argv, env, root
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        out = open(self.root / f"{self.name}.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            self.argv, env=self.env, cwd=self.root, stdout=out, stderr=subprocess.STDOUT
        )
        out.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 20) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Postgres:
    """An embedded server (the `pgserver` wheel's binaries) under the scratch directory."""

    def __init__(self, root: Path) -> None:
        import pgserver

        self.server = pgserver.get_server(root / "pgdata", cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        self.socket_dir = info.socket_dir
        self.restarts = 0

    def uri(self, database: str) -> str:
        from flightdeck.db.bootstrap import embedded_url

        return embedded_url(self.server, database)

    def admin_dsn(self) -> str:
        return str(self.server.get_uri("postgres"))

    def _pg_ctl(self, args: list[str]) -> None:
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(args, pgdata=self.server.pgdata, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        self._pg_ctl(["-w", "-m", "fast", "stop"])

    def start(self) -> None:
        self.restarts += 1
        opts = ["-o", '-h ""'] + (["-o", f"-k {self.socket_dir}"] if self.socket_dir else [])
        self._pg_ctl(["-w", *opts, "-l", str(self.server.log), "start"])


@dataclass
class Tenant:
    name: str
    key: str
    org: str  # its own organization (the shared one is registered too)
    headers: dict[str, str] = field(default_factory=dict)
    reddit_account: str | None = None
    tenant_id: str = ""


class Rig:
    def __init__(self, root: Path, shape: Shape) -> None:
        self.root, self.shape = root, shape
        self.rng = random.Random(shape.seed)
        self.ports = {k: free_port() for k in ("temporal", "http", "metrics", "api", "sim")}
        self.pg: Postgres | None = None
        self.services: dict[str, Service] = {}
        self.tenants: list[Tenant] = []
        self.events: Counter[str] = Counter()
        self.plans: list[dict[str, Any]] = []  # what was submitted, with its expectations
        self.sets: list[dict[str, Any]] = []
        self.env: dict[str, str] = {}

    # -- bring-up ------------------------------------------------------------------------------

    async def start(self) -> None:
        from flightdeck.db.bootstrap import ensure_database
        from flightdeck.dev import on_local_simulators
        from flightdeck.settings import Settings

        self.pg = await asyncio.to_thread(Postgres, self.root)
        await ensure_database(self.pg.admin_dsn(), "flightdeck")
        settings = on_local_simulators(
            Settings(
                simulators_port=self.ports["sim"],
                api_port=self.ports["api"],
                data_dir=self.root / "data",
            )
        )
        urls = {k: v for k, v in settings.model_dump().items() if k.endswith(("_url", "_uri"))}
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FLIGHTDECK_")},
            **{f"FLIGHTDECK_{k.upper()}": str(v) for k, v in urls.items() if v},
            "FLIGHTDECK_DATABASE_URL": self.pg.uri("flightdeck"),
            "FLIGHTDECK_TEMPORAL_ADDRESS": f"127.0.0.1:{self.ports['temporal']}",
            "FLIGHTDECK_DATA_DIR": str(self.root / "data"),
            "FLIGHTDECK_API_PORT": str(self.ports["api"]),
            "FLIGHTDECK_API_HOST": "127.0.0.1",
            "FLIGHTDECK_SIMULATORS_PORT": str(self.ports["sim"]),
            "FLIGHTDECK_ENVIRONMENT": "development",
            # A killed worker's activity is retried after this, not after a minute.
            "FLIGHTDECK_PUBLISH_ACTIVITY_TIMEOUT_SECONDS": "10",
            "FLIGHTDECK_STRATEGIS_RATE_LIMIT": "200",
            "FLIGHTDECK_REDDIT_RATE_LIMIT": "50",
            "FLIGHTDECK_REDDIT_CREATIVE_RATE_LIMIT": "50",
            "FLIGHTDECK_SYNC_RETRY_INITIAL_SECONDS": "0.2",
            "FLIGHTDECK_PENDING_PLAN_GRACE_SECONDS": "20",
            "FLIGHTDECK_SET_ENTITY_IDLE_SECONDS": "5",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("FLIGHTDECK_DATABASE_URL_", None)
        (self.root / "data").mkdir(exist_ok=True)
        cli = [sys.executable, "-m", "flightdeck.cli"]
        self.services["temporal"] = Service("temporal", self._temporal_argv(), self.env, self.root)
        self.services["sim"] = Service(
            "simulators",
            [*cli, "simulators", "--port", str(self.ports["sim"])],
            self.env,
            self.root,
        )
        self.services["api"] = Service("api", [*cli, "api"], self.env, self.root)
        for n in (1, 2):
            self.services[f"worker{n}"] = Service(
                f"worker{n}", [*cli, "worker"], self.env, self.root
            )
        # Temporal and the simulators need neither the database nor each other: they come up
        # while the migrations run; the API and the workers once all three are ready.
        self.services["temporal"].start()
        self.services["sim"].start()
        migrate = await asyncio.create_subprocess_exec(
            *cli, "migrate", env=self.env, cwd=self.root,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await migrate.communicate()
        if migrate.returncode != 0:
            raise SystemExit(f"migrate failed:\n{out.decode()}")
        await self._wait_port(self.ports["temporal"])
        await self._wait_http(f"{self.sim_url}/_sim/state")
        self.services["api"].start()
        for n in (1, 2):
            self.services[f"worker{n}"].start()
        await self._wait_http(f"{self.api_url}/healthz")

    def _temporal_argv(self) -> list[str]:
        from flightdeck.dev import temporal_binary
        from flightdeck.temporal import search_attribute_flags

        return [
            temporal_binary(), "server", "start-dev",
            "--db-filename", str(self.root / "temporal.db"),
            "--ip", "127.0.0.1", "--port", str(self.ports["temporal"]),
            "--http-port", str(self.ports["http"]), "--metrics-port", str(self.ports["metrics"]),
            "--headless", "--log-level", "warn",
            *search_attribute_flags(),
        ]  # fmt: skip

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sim']}"

    async def _wait_port(self, port: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            await asyncio.sleep(0.2)
        raise SystemExit(f"nothing listens on {port}; see {self.root}/*.log")

    async def _wait_http(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(url)).status_code < 500:
                        return
                await asyncio.sleep(0.2)
        raise SystemExit(f"{url} did not come up; see {self.root}/*.log")

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()

    # -- tenants, accounts ----------------------------------------------------------------------

    async def cli(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "flightdeck.cli", *args, env=self.env, cwd=self.root,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"flightdeck {' '.join(args)} failed:\n{out.decode()}")
        return out.decode()

    async def create_tenants(self, api: httpx.AsyncClient, sim: httpx.AsyncClient) -> None:
        """Three tenants, set up side by side (each is two CLI processes and a consent)."""

        async def one(i: int) -> Tenant:
            name = f"chaos-{i}-{uuid.uuid4().hex[:4]}"
            out = await self.cli("tenant", "create", name)
            key = out.split("API key (shown once):")[1].split()[0]
            tenant = Tenant(name, key, f"ChaosOrg{i}", {"Authorization": f"Bearer {key}"})
            tenant.tenant_id = out.split("(")[1].split(")")[0]
            await self.cli(
                "tenant", "register", name, "--organization", SHARED_ORG,
                "--organization", tenant.org, "--ad-account", AD_ACCOUNT,
            )  # fmt: skip
            tenant.reddit_account = await connect_reddit(api, sim, tenant.headers)
            return tenant

        self.tenants.extend(await asyncio.gather(*(one(i) for i in range(3))))

    # -- harm -----------------------------------------------------------------------------------

    async def kill_workers(self, until: float) -> None:
        """A kill every ~kill_every seconds until `until` (none after it: the chaos is over)."""
        n = 0
        while True:
            pause = self.shape.kill_every * self.rng.uniform(0.7, 1.3)
            if time.monotonic() + pause >= until:
                return
            await asyncio.sleep(pause)
            victim = self.services[f"worker{n % 2 + 1}"]
            n += 1
            victim.kill()
            self.events["worker SIGKILLs"] += 1
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))
            victim.start()

    async def restart_temporal(self, at: float, down: float = 4.0) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        log("Temporal dev server: stopping")
        service = self.services["temporal"]
        await asyncio.to_thread(service.stop)
        await asyncio.sleep(down)
        service.start()
        await self._wait_port(self.ports["temporal"])
        self.events["Temporal restarts"] += 1
        log("Temporal dev server: back")

    async def restart_postgres(self, at: float, down: float = 5.0) -> None:
        assert self.pg is not None
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        log("Postgres: stopping")
        await asyncio.to_thread(self.pg.stop)
        await asyncio.sleep(down)
        await asyncio.to_thread(self.pg.start)
        self.events["Postgres restarts"] += 1
        log("Postgres: back")

    async def keep_up(self, until: float) -> None:
        """Anything but a killed worker that dies on its own is a finding: restart it, count."""
        while time.monotonic() < until:
            await asyncio.sleep(1)
            for name in ("api", "sim"):
                if not self.services[name].alive():
                    self.events[f"{name} died"] += 1
                    self.services[name].start()


async def connect_reddit(api: httpx.AsyncClient, sim: httpx.AsyncClient, headers: Any) -> str:
    start = (
        await api.get("/api/v1/ad-accounts/reddit/connect", headers=headers)
    ).raise_for_status()
    consent = await sim.get(start.json()["authorizeUrl"], follow_redirects=False)
    query = parse_qs(urlsplit(consent.headers["location"]).query)
    callback = await api.get(
        "/api/v1/ad-accounts/reddit/callback",
        params={"code": query["code"][0], "state": query["state"][0]},
    )
    account: str = callback.raise_for_status().json()["id"]
    return account


# -- load ---------------------------------------------------------------------------------------


def plan_body(rng: random.Random, n: int, request_id: str, org: str, fail: bool) -> dict[str, Any]:
    """The example plan, reshaped: 1-4 ad sets of 1-3 ads (a failing plan's last ad is refused)."""
    body = json.loads(json.dumps(EXAMPLE_PLAN))
    body["requestId"] = request_id
    body["organization"] = org
    body["hookSetId"] = f"hs_{request_id}"
    template_set = body["adSets"][0]
    template_ad = template_set["ads"][0]
    ad_sets = []
    for i in range(rng.randint(1, 4)):
        ads = [dict(template_ad, hookId=f"h{n}x{i}x{j}") for j in range(rng.randint(1, 3))]
        ad_sets.append(dict(template_set, audienceKey=f"aud{i}", ads=ads))
    if fail:
        ad_sets[-1]["ads"][-1]["hookId"] = f"{FAIL_MARKER}{n}"
    body["adSets"] = ad_sets
    return body


def reddit_campaign(i: int) -> dict[str, Any]:
    """The seed's campaign; the same names in every set (all in one Reddit ad account)."""
    return {
        "name": f"Chaos Sale {i}",
        "objective": "traffic",
        "status": "active",
        "adGroups": [
            {
                "name": f"Chaos Sale {i} group",
                "bidStrategy": "automatic",
                "budget": {"type": "daily", "amount": 50, "currency": "USD"},
                "targeting": {"geolocations": ["US"], "communities": ["deals"]},
                "keywords": [{"text": "summer sale"}],
                "ads": [
                    {
                        "name": f"Chaos Sale {i} ad",
                        "headline": "Summer Sale: 30% off",
                        "description": "This week only.",
                        "finalUrl": "https://shop.example.com/summer",
                        "callToAction": "SHOP_NOW",
                    }
                ],
            }
        ],
    }


async def call(
    http: httpx.AsyncClient, method: str, url: str, rig: Rig, **kwargs: Any
) -> httpx.Response:
    """A client that keeps trying through outages: 5xx and dropped connections are retried
    (every write here is idempotent: a plan by its requestId, a sync joins the running one)."""
    delay = 0.5
    for _ in range(200):
        try:
            response = await http.request(method, url, **kwargs)
        except httpx.TransportError:
            rig.events["API calls retried (connection)"] += 1
        else:
            if response.status_code < 500:
                return response
            rig.events[f"API answers {response.status_code} (retried)"] += 1
            if not response.headers.get("content-type", "").startswith("application/json"):
                rig.events["API 5xx not JSON"] += 1
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 5)
    raise RuntimeError(f"{method} {url} never succeeded")


async def submit_plans(rig: Rig, api: httpx.AsyncClient) -> None:
    shape, rng = rig.shape, rig.rng
    shared_ids = max(1, shape.plans // 20)  # requestIds posted by every tenant
    failing = set(rng.sample(range(shape.plans), shape.failing_plans))
    cancelled = set(rng.sample(sorted(set(range(shape.plans)) - failing), shape.cancelled_plans))
    gap = shape.submit_seconds / max(1, shape.plans)
    tasks = []
    for n in range(shape.plans):
        tenant = rig.tenants[n % 3]
        request_id = f"chaos-shared-{n // 3}" if n < shared_ids * 3 else f"chaos-{n}"
        org = SHARED_ORG if n % 2 == 0 or n < shared_ids * 3 else tenant.org
        body = plan_body(rng, n, request_id, org, fail=n in failing)
        entry = {"n": n, "tenant": tenant, "body": body, "fail": n in failing,
                 "cancel": n in cancelled, "cleanup": n in cancelled and n % 2 == 0}  # fmt: skip
        rig.plans.append(entry)
        tasks.append(asyncio.create_task(_submit(rig, api, entry)))
        await asyncio.sleep(gap * rng.uniform(0.2, 1.8))
    # A tenant naming another tenant's own organization is refused before anything is stored.
    intruder, victim = rig.tenants[0], rig.tenants[1]
    foreign = plan_body(rng, 9999, "chaos-intruder", victim.org, fail=False)
    refused = await call(api, "POST", "/api/v1/campaign-plans", rig, json=foreign,
                         headers=intruder.headers)  # fmt: skip
    fields = [d.get("field") for d in refused.json().get("detail", [])] if refused.is_error else []
    if refused.status_code != 422 or "organization" not in fields:
        rig.events["foreign organization NOT refused"] += 1
    else:
        rig.events["foreign organization refused (422)"] += 1
    await asyncio.gather(*tasks)


async def _submit(rig: Rig, api: httpx.AsyncClient, entry: dict[str, Any]) -> None:
    tenant: Tenant = entry["tenant"]
    response = await call(api, "POST", "/api/v1/campaign-plans", rig, json=entry["body"],
                          headers=tenant.headers)  # fmt: skip
    if response.status_code not in (200, 202):
        rig.events[f"plan refused {response.status_code}"] += 1
        entry["refused"] = response.text[:300]
        return
    entry["id"] = response.json()["id"]
    if entry["cancel"]:
        await asyncio.sleep(rig.rng.uniform(0.5, 6))
        cancel = await call(
            api, "POST", f"/api/v1/campaign-plans/{entry['id']}/cancel", rig,
            params={"cleanup": str(entry["cleanup"]).lower()}, headers=tenant.headers,
        )  # fmt: skip
        rig.events[f"cancel answered {cancel.status_code}"] += 1


async def watch(rig: Rig, api: httpx.AsyncClient, until: float) -> None:
    """A user reading plans through the outages: every answer must be JSON, a 5xx a 503."""
    tenant = rig.tenants[0]
    while time.monotonic() < until:
        try:
            response = await api.get("/api/v1/campaign-plans", params={"limit": 5},
                                     headers=tenant.headers)  # fmt: skip
        except httpx.TransportError:
            rig.events["reads: connection refused/dropped"] += 1
        else:
            rig.events[f"reads answered {response.status_code}"] += 1
            if not response.headers.get("content-type", "").startswith("application/json"):
                rig.events["API 5xx not JSON"] += 1
        await asyncio.sleep(0.5)


async def sync_sets(rig: Rig, api: httpx.AsyncClient) -> None:
    async def one(tenant: Tenant) -> None:
        body = {
            "name": f"chaos-set-{tenant.name}",
            "adAccountId": tenant.reddit_account,
            "campaigns": [reddit_campaign(i) for i in range(rig.shape.campaigns_per_set)],
        }
        created = await call(api, "POST", "/api/v1/campaign-sets", rig, json=body,
                             headers=tenant.headers)  # fmt: skip
        if created.status_code != 201:
            rig.events[f"set refused {created.status_code}"] += 1
            return
        set_id = created.json()["id"]
        rig.sets.append({"id": set_id, "tenant": tenant})
        sync = await call(api, "POST", f"/api/v1/campaign-sets/{set_id}/sync", rig,
                          headers=tenant.headers)  # fmt: skip
        rig.events[f"set sync answered {sync.status_code}"] += 1

    await asyncio.gather(*(one(t) for t in rig.tenants[: rig.shape.sets]))


FAULT_PLATFORMS = ("relay", "strategis", "reddit")


def fault_rules(burst: bool) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        # A failing plan's marked ad is refused for good (a validation error, not a fault).
        {"platform": "relay", "method": "POST", "path": "ads/create$",
         "bodyContains": FAIL_MARKER, "errorRate": 1.0, "status": 400},
    ]  # fmt: skip
    for platform in FAULT_PLATFORMS:
        if burst:
            rules.append({"platform": platform, "errorRate": 1.0, "status": 429,
                          "retryAfterSeconds": 1, "remaining": 15})  # fmt: skip
        rules.append({"platform": platform, "errorRate": 0.2, "status": 503})
        rules.append({"platform": platform, "method": "POST", "lostResponseRate": 0.1})
    return rules


async def inject_faults(rig: Rig, sim: httpx.AsyncClient, until: float) -> None:
    """20% 5xx and 10% lost responses throughout; a burst of 429s every ~15 s."""
    seed = rig.shape.seed
    while time.monotonic() < until:
        seed += 1
        (await sim.post("/_sim/faults", json={"seed": seed, "rules": fault_rules(True)}))
        rig.events["429 bursts"] += 1
        await asyncio.sleep(min(15.0, max(0.0, until - time.monotonic())))


async def settle(rig: Rig, deadline: float) -> None:
    """Until every plan and set is terminal (read in Postgres), or the deadline."""
    import asyncpg

    assert rig.pg is not None
    while time.monotonic() < deadline:
        try:
            conn = await asyncpg.connect(rig.pg.uri("flightdeck").replace("+asyncpg", ""))
        except (OSError, asyncpg.PostgresError):
            await asyncio.sleep(1)
            continue
        try:
            open_plans = await conn.fetchval(
                "SELECT count(*) FROM campaign_plans WHERE status <> ALL($1::text[])",
                list(TERMINAL_PLAN),
            )
            open_campaigns = await conn.fetchval(
                "SELECT count(*) FROM generated_campaigns WHERE deleted_at IS NULL"
                " AND sync_status <> ALL($1::text[])",
                list(CAMPAIGN_TERMINAL_SYNC),
            )
            open_sets = await conn.fetchval(
                "SELECT count(*) FROM campaign_sets WHERE 'syncing' IN (status, sync_status)"
            )
        finally:
            await conn.close()
        if open_plans == 0 and open_campaigns == 0 and open_sets == 0:
            if not [run for run in await open_runs(rig) if run[0] != "other"]:
                return
        await asyncio.sleep(2)


# -- audit --------------------------------------------------------------------------------------


async def audit(rig: Rig, sim: httpx.AsyncClient, baseline: set[str], report: Report) -> None:
    import asyncpg

    assert rig.pg is not None
    state = (await sim.get("/_sim/state")).json()["platforms"]
    requests = (await sim.get("/_sim/requests")).json()
    conn = await asyncpg.connect(rig.pg.uri("flightdeck").replace("+asyncpg", ""))
    try:
        await _audit_plans(rig, conn, state, requests, baseline, report)
        await _audit_sets(rig, conn, state, baseline, report)
        if report.missed("sets"):
            await _set_details(conn, requests, report)
    finally:
        await conn.close()
    await _audit_workflows(rig, report)
    faults = Counter(r["fault"] for r in requests if r.get("fault"))
    report.figures["platform requests"] = len(requests)
    report.figures["injected: errors / lost / dropped"] = (
        f"{faults['error']} / {faults['lost_response']} / {faults['dropped_connection']}"
    )


# Workflows whose id starts so are a plan's or a set's runs; a set's entity workflow ends once
# idle for FLIGHTDECK_SET_ENTITY_IDLE_SECONDS.
RUN_PREFIXES = {"publish-": "publish", "sync-set-": "sets", "status-set-": "sets",
                "campaign-set-": "sets"}  # fmt: skip


async def open_runs(rig: Rig) -> list[tuple[str, str, str]]:
    """(area, workflow id, type) of every plan or set run still open in Temporal."""
    from temporalio.client import Client
    from temporalio.contrib.pydantic import pydantic_data_converter

    client = await Client.connect(
        f"127.0.0.1:{rig.ports['temporal']}", data_converter=pydantic_data_converter
    )
    found = []
    async for wf in client.list_workflows("ExecutionStatus = 'Running'"):
        area = next((a for p, a in RUN_PREFIXES.items() if wf.id.startswith(p)), None)
        found.append((area or "other", wf.id, wf.workflow_type))
    return found


async def _audit_workflows(rig: Rig, report: Report) -> None:
    """Publish and set runs still open in Temporal once everything settled."""
    running: Counter[str] = Counter()
    for area, workflow_id, workflow_type in await open_runs(rig):
        if area != "other":
            report.add("stuck", f"workflow {workflow_id} still running", area)
        running[workflow_type] += 1
    report.figures["workflows still running (by type)"] = dict(running) or 0


def _objects(state: dict[str, Any], platform: str, kind: str, baseline: set[str]) -> list[Any]:
    items = state.get(platform, {}).get(kind, {}).get("items", [])
    return [o for o in items if f"{platform}/{kind}/{o['id']}" not in baseline]


def snapshot_ids(state: dict[str, Any]) -> set[str]:
    return {
        f"{platform}/{kind}/{item['id']}"
        for platform, kinds in state.items()
        for kind, body in kinds.items()
        for item in body.get("items", [])
        if isinstance(item, dict) and "id" in item
    }


async def _audit_plans(
    rig: Rig,
    conn: Any,
    state: dict[str, Any],
    requests: list[dict[str, Any]],
    baseline: set[str],
    report: Report,
) -> None:
    plans = await conn.fetch("SELECT id, tenant_id, status, request_id FROM campaign_plans")
    statuses = Counter(p["status"] for p in plans)
    report.figures["plans submitted / stored"] = (
        f"{sum(1 for p in rig.plans if 'id' in p)} / {len(plans)}"
    )
    report.figures["plans active / failed / cancelled"] = (
        f"{statuses['active']} / {statuses['failed']} / {statuses['cancelled']}"
    )
    for p in plans:
        if p["status"] not in TERMINAL_PLAN:
            report.add("stuck", f"plan {p['id']} ({p['request_id']}) is {p['status']}")
    expected = {e["id"]: e for e in rig.plans if "id" in e}
    by_id = {str(p["id"]): p for p in plans}
    for plan_id, entry in expected.items():
        got = by_id.get(plan_id)
        if got is None:
            report.add("lost_ids", f"plan {plan_id} accepted by the API but not stored")
        elif entry["fail"] and got["status"] == "active":
            report.add("wrong_outcome", f"plan {plan_id} should have failed, is active")
        elif not entry["fail"] and not entry["cancel"] and got["status"] != "active":
            report.add("not_active", f"plan {plan_id} ({got['request_id']}) ended {got['status']}")

    rows = await conn.fetch(
        "SELECT r.tenant_id, r.system, r.object_type, r.external_id, r.state,"
        " r.client_request_key, r.campaign_plan_id, p.status AS plan_status"
        " FROM remote_objects r LEFT JOIN campaign_plans p ON p.id = r.campaign_plan_id"
        " WHERE r.system IN ('facebook', 'strategis')"
    )
    templates = await conn.fetch("SELECT tenant_id, strategis_template_id FROM strategis_templates")
    left_requested = [r for r in rows if r["state"] == "requested"]
    report.figures["ledger rows (left requested)"] = f"{len(rows)} ({len(left_requested)})"
    for r in left_requested:
        if r["plan_status"] in TERMINAL_PLAN:
            report.add("stuck", f"ledger row {r['client_request_key']} left requested")
    mapped: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        if r["external_id"]:
            system = "facebook" if r["system"] == "facebook" else "strategis"
            mapped[f"{system}/{r['external_id']}"].append(r)
    for t in templates:
        mapped[f"strategis/{t['strategis_template_id']}"].append(t)

    remote: dict[str, tuple[str, dict[str, Any]]] = {}
    for kind in ("campaigns", "adsets", "adcreatives", "ads"):
        for obj in _objects(state, "facebook", kind, baseline):
            remote[f"facebook/{obj['id']}"] = (kind, obj)
    for kind in ("campaigns", "templates"):
        for obj in _objects(state, "strategis", kind, baseline):
            remote[f"strategis/{obj['id']}"] = (kind, obj)
    report.figures["relay + Strategis objects created"] = len(remote)
    for key, (kind, obj) in remote.items():
        owners = mapped.get(key, [])
        if not owners:
            live = obj.get("status") not in ("DELETED", "PAUSED", "paused", "deleted")
            report.add("orphans", f"{key} ({kind}, {obj.get('name')!r}, live={live})")
        elif len(owners) > 1:
            report.add("duplicates", f"{key} ({kind}) mapped {len(owners)} times")
        if len({str(o["tenant_id"]) for o in owners}) > 1:
            report.add("cross_tenant", f"{key} ({kind}) mapped by two tenants")
    for key, owners in mapped.items():
        if key not in remote and not _in_baseline(key, baseline):
            report.add("lost_ids", f"{key} mapped by {len(owners)} row(s), not on the platform")

    # Created under one tenant's key, mapped by another: the relay answered across tenants.
    hex_to_tenant = {uuid.UUID(t.tenant_id).hex: t.tenant_id for t in rig.tenants}
    for entry in requests:
        created, request_key = entry.get("createdObjectId"), entry.get("clientRequestKey")
        if not created or not request_key or entry.get("platform") != "relay":
            continue
        creator = next((tid for h, tid in hex_to_tenant.items() if h in request_key), None)
        for owner in mapped.get(f"facebook/{created}", []):
            if creator is not None and str(owner["tenant_id"]) != creator:
                report.add("cross_tenant", f"facebook/{created} created by key {request_key!r} of "
                           f"another tenant")  # fmt: skip

    # A run that ended `active` must find its objects as it left them: only another run's
    # compensation could have paused or deleted them.
    for key, owners in mapped.items():
        if key not in remote:
            continue
        kind, obj = remote[key]
        status = str(obj.get("status", ""))
        for owner in owners:
            if owner.get("plan_status") != "active":
                continue
            if kind in ("campaigns", "adsets") and status.upper() != "ACTIVE":
                report.add("cross_tenant", f"{key} ({kind}) of an active run is {status}")
            if kind == "ads" and status.upper() == "DELETED":
                report.add("cross_tenant", f"{key} (ad) of an active run is DELETED")
    # Issue 10: what a failed or cancelled run created must not stay live.
    for key, owners in mapped.items():
        if key not in remote:
            continue
        kind, obj = remote[key]
        for owner in owners:
            if owner.get("plan_status") not in ("failed", "cancelled"):
                continue
            if kind == "campaigns" and str(obj.get("status")).upper() == "ACTIVE":
                report.add(
                    "live_after_failure", f"{key} ({kind}, {obj.get('name')!r}) still ACTIVE"
                )


def _in_baseline(key: str, baseline: set[str]) -> bool:
    platform, object_id = key.split("/", 1)
    return any(b.startswith(f"{platform}/") and b.endswith(f"/{object_id}") for b in baseline)


async def _audit_sets(
    rig: Rig, conn: Any, state: dict[str, Any], baseline: set[str], report: Report
) -> None:
    if not rig.sets:
        return
    set_rows = await conn.fetch("SELECT id, tenant_id, status, sync_status FROM campaign_sets")
    campaigns = await conn.fetch(
        "SELECT c.id, c.tenant_id, c.campaign_set_id, c.sync_status, c.platform_campaign_id,"
        " c.deleted_at, c.sync_error FROM generated_campaigns c"
    )
    groups = await conn.fetch(
        "SELECT g.id, g.tenant_id, g.platform_ad_group_id, g.sync_status FROM ad_groups g"
    )
    ads = await conn.fetch(
        "SELECT a.id, a.tenant_id, a.platform_ad_id, a.platform_post_id, a.sync_status"
        " FROM generated_ads a"
    )
    report.figures["sets: status"] = dict(Counter(s["sync_status"] for s in set_rows))
    report.figures["set campaigns: sync status"] = dict(
        Counter(c["sync_status"] for c in campaigns if c["deleted_at"] is None)
    )
    why = Counter(_failure_kind(c["sync_error"]) for c in campaigns if c["sync_status"] == "failed")
    if why:
        report.figures["set campaigns failed, by cause"] = dict(why.most_common())
    for c in campaigns:
        if c["deleted_at"] is None and c["sync_status"] not in CAMPAIGN_TERMINAL_SYNC:
            report.add("stuck", f"set campaign {c['id']} is {c['sync_status']}", "sets")
    for kind, rows in (("ad group", groups), ("ad", ads)):
        for row in rows:  # every run has ended: nothing it touched may still read `syncing`
            if row["sync_status"] == "syncing":
                report.add("stuck", f"{kind} {row['id']} is syncing", "sets")
    for s in set_rows:
        if s["sync_status"] == "syncing" or s["status"] == "syncing":
            report.add("stuck", f"set {s['id']} is syncing", "sets")
    mapped: dict[str, list[Any]] = defaultdict(list)
    for c in campaigns:
        if c["platform_campaign_id"]:
            mapped[f"campaigns/{c['platform_campaign_id']}"].append(c)
    for g in groups:
        if g["platform_ad_group_id"]:
            mapped[f"ad_groups/{g['platform_ad_group_id']}"].append(g)
    for a in ads:
        if a["platform_ad_id"]:
            mapped[f"ads/{a['platform_ad_id']}"].append(a)
        if a["platform_post_id"]:
            mapped[f"posts/{a['platform_post_id']}"].append(a)
    remote: dict[str, dict[str, Any]] = {}
    for kind in ("campaigns", "ad_groups", "ads", "posts"):
        for obj in _objects(state, "reddit", kind, baseline):
            remote[f"{kind}/{obj['id']}"] = obj
    report.figures["Reddit objects created"] = len(remote)
    for key, obj in remote.items():
        owners = mapped.get(key, [])
        if not owners:
            report.add("orphans", f"reddit/{key} ({obj.get('name')!r})", "sets")
        elif len(owners) > 1:
            report.add("duplicates", f"reddit/{key} mapped {len(owners)} times", "sets")
        if len({str(o["tenant_id"]) for o in owners}) > 1:
            report.add("cross_tenant", f"reddit/{key} mapped by two tenants", "sets")
    for key in mapped:
        if key not in remote and f"reddit/{key}" not in baseline:
            report.add("lost_ids", f"reddit/{key} mapped, not on the platform", "sets")


def _failure_kind(error: str | None) -> str:
    """A failed campaign's error, short: its error type and the call (ids left out)."""
    if not error:
        return "no reason"
    first = error.split(";")[0]
    kind, _, rest = first.partition(":")
    words = rest.split()
    call = [
        "/".join("*" if any(ch.isdigit() for ch in part) else part for part in w.split("/"))
        for w in words[:3]
    ]
    status = next((words[i + 1].rstrip(":") for i, w in enumerate(words[:-1]) if w == "HTTP"), "")
    return " ".join([kind.strip()[:40], *call, status]).strip()


async def _set_details(conn: Any, requests: list[dict[str, Any]], report: Report) -> None:
    """Where each missed set object came from, and every set ledger row not settled well."""
    for _, problem in report.problems.get("orphans", []) + report.problems.get("duplicates", []):
        if not problem.startswith("reddit/"):
            continue
        object_id = problem.split("/")[2].split(" ")[0]
        for r in requests:
            if r["platform"] == "reddit" and r["createdObjectId"] == object_id:
                report.details.append(
                    f"{object_id}: {r['method']} {r['path']} at {r['at']:.3f}"
                    f" -> {r['status']} fault={r['fault']}"
                )
    rows = await conn.fetch(
        "SELECT entity_type, entity_id, state, sync_status, platform_id, attempts,"
        " updated_at, error_log FROM sync_records WHERE platform = 'reddit'"
        " AND (state <> 'synced' OR sync_status <> 'synced') ORDER BY updated_at"
    )
    for row in rows:
        errors = [e.get("message", e) for e in json.loads(row["error_log"] or "[]")][-2:]
        report.details.append(
            f"record {row['entity_type']} {row['entity_id']} {row['state']}/{row['sync_status']}"
            f" id={row['platform_id']} attempts={row['attempts']} {errors}"
        )
    for row in await conn.fetch(
        "SELECT id, sync_status, sync_error FROM generated_campaigns WHERE sync_status = 'failed'"
    ):
        report.details.append(f"campaign {row['id']} failed: {row['sync_error']}")
    for row in await conn.fetch("SELECT * FROM unmarked_creates ORDER BY id"):
        report.details.append(
            f"unmarked #{row['id']} {row['owner'][:24]} {row['content_key'][:8]} {row['state']}"
            f" remote={row['remote_id']} at={row['created_at']:%H:%M:%S.%f}"
        )
    entries = await conn.fetch(
        "SELECT action, entity_id, details, created_at FROM audit_log WHERE action LIKE 'post.%'"
        " OR action LIKE '%found_after_lost_answer' OR action LIKE '%not_created' ORDER BY id"
    )
    for e in entries:
        details = json.loads(e["details"] or "{}")
        report.details.append(
            f"audit {e['created_at']:%H:%M:%S.%f} {e['action']} {e['entity_id']}"
            f" {details.get('platformId')} {details.get('reason', '')[:120]}"
        )


# -- the run ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def scratch(keep: bool) -> AsyncIterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="flightdeck-chaos-"))
    try:
        yield root
    finally:
        if keep:
            print(f"(kept {root})")
        else:
            shutil.rmtree(root, ignore_errors=True)


async def run(shape: Shape, *, keep: bool = False) -> Report:
    report = Report()
    started = time.monotonic()
    async with scratch(keep) as root:
        rig = Rig(root, shape)
        try:
            log(f"bringing up Postgres, Temporal, simulators, API, 2 workers under {root}")
            await rig.start()
            async with (
                httpx.AsyncClient(base_url=rig.api_url, timeout=30) as api,
                httpx.AsyncClient(base_url=rig.sim_url, timeout=60) as sim,
            ):
                await rig.create_tenants(api, sim)
                baseline = snapshot_ids((await sim.get("/_sim/state")).json()["platforms"])
                log(f"load: {shape.plans} plans, {shape.sets} sets x {shape.campaigns_per_set}")
                load_started = time.monotonic()
                until = load_started + shape.chaos_seconds
                harm = [
                    asyncio.create_task(inject_faults(rig, sim, until)),
                    asyncio.create_task(rig.kill_workers(until)),
                    asyncio.create_task(rig.keep_up(until)),
                    asyncio.create_task(watch(rig, api, until)),
                    asyncio.create_task(
                        rig.restart_temporal(load_started + shape.chaos_seconds * 0.3)
                    ),
                    asyncio.create_task(
                        rig.restart_postgres(load_started + shape.chaos_seconds * 0.6)
                    ),
                ]
                await asyncio.gather(sync_sets(rig, api), submit_plans(rig, api))
                log("load submitted")
                await asyncio.gather(*harm)
                chaos_ended = time.monotonic()
                log("chaos over: faults off, no more kills; settling")
                await sim.post("/_sim/faults", json={"seed": 0, "rules": fault_rules(False)[:1]})
                for n in (1, 2):
                    if not rig.services[f"worker{n}"].alive():
                        rig.services[f"worker{n}"].start()
                await settle(rig, time.monotonic() + shape.settle_seconds)
                settled = time.monotonic()
                log("auditing")
                await audit(rig, sim, baseline, report)
        finally:
            rig.stop()
            if rig.pg is not None:
                # pgserver's own cleanup does not stop a server restarted behind its back.
                with contextlib.suppress(Exception):
                    rig.pg.stop()
        report.figures = {
            "duration (s): total / chaos / settle": (
                f"{time.monotonic() - started:.0f} / {chaos_ended - load_started:.0f} / "
                f"{settled - chaos_ended:.0f}"
            ),
            **{k: v for k, v in sorted(rig.events.items())},
            **report.figures,
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the short version CI runs")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--plans", type=int, default=None)
    parser.add_argument("--campaigns", type=int, default=None, help="campaigns per set")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    shape = QUICK if args.quick else FULL
    changes = {k: v for k, v in {"plans": args.plans, "campaigns_per_set": args.campaigns,
                                 "seed": args.seed}.items() if v is not None}  # fmt: skip
    if changes:
        shape = Shape(**{**shape.__dict__, **changes})
    from flightdeck import event_loop

    report = event_loop.run(run(shape, keep=args.keep))
    print(report.render())
    sys.exit(0 if report.goals_met else 1)


if __name__ == "__main__":
    main()
