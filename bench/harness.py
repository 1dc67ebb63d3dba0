"""What every benchmark runs on: a fresh Postgres database, a Temporal dev server, the platform
simulators in their own process (as a remote platform would be: sharing the worker's event
loop would bill their request handling to Flightdeck), the workers and the API in-process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "examples" / "plan.json"
REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET = "flightdeck-bench", "bench-secret"
META_APP_ID, META_APP_SECRET = "700000000000001", "bench-meta-secret"
GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET = "flightdeck-bench.apps.googleusercontent.com", "bench-g"


@dataclass
class Bench:
    env: Any  # temporalio.testing.WorkflowEnvironment
    settings: Any  # flightdeck.settings.Settings
    sessions: Any
    api: httpx.AsyncClient
    sim: httpx.AsyncClient
    sim_url: str
    sim_pid: int | None = None  # the simulators' process (bench/cpu.py)
    worker_engine: Any = None  # the workers' engine (counting their statements)
    worker_pids: tuple[int, ...] = ()  # workers in processes of their own (else in this one)

    async def new_tenant(self) -> Any:
        """A fresh tenant whose API key the `api` client now sends; returns the tenant."""
        from flightdeck.db.tenancy import system_session
        from flightdeck.db.tenants import create_tenant_with_key, register_publish_targets

        name = f"bench-{uuid.uuid4().hex[:6]}"
        async with system_session(self.sessions, "cli") as session:
            tenant, key = await create_tenant_with_key(session, name)
        example = json.loads(EXAMPLE_PLAN.read_text())
        async with system_session(self.sessions, "cli") as session:
            await register_publish_targets(
                session,
                name,
                organizations=[example["organization"]],
                ad_accounts=[example["adAccountId"]],
            )
        self.api.headers["Authorization"] = f"Bearer {key}"
        return tenant

    async def connect_reddit(self) -> str:
        """Register the OAuth app with the simulator and connect its ad account; its id."""
        app = {
            "clientId": REDDIT_CLIENT_ID,
            "clientSecret": REDDIT_CLIENT_SECRET,
            "redirectUri": self.settings.reddit_redirect_uri,
        }
        (await self.sim.post("/_sim/reddit/oauth/apps", json=app)).raise_for_status()
        start = (await self.api.get("/api/v1/ad-accounts/reddit/connect")).raise_for_status()
        consent = await self.sim.get(start.json()["authorizeUrl"], follow_redirects=False)
        query = parse_qs(urlsplit(consent.headers["location"]).query)
        callback = await self.api.get(
            "/api/v1/ad-accounts/reddit/callback",
            params={"code": query["code"][0], "state": query["state"][0]},
        )
        account: str = callback.raise_for_status().json()["id"]
        return account

    async def connect_google(self, access_level: str = "STANDARD") -> str:
        """Register the Cloud project's OAuth client with the simulator and connect the seeded
        client customer (through its manager); the ad account's id. Standard access by
        default: Basic access caps a developer token at 15,000 operations a day (the
        simulator's 429 RESOURCE_EXHAUSTED, "retry in 24 hours"): the 1,000-campaign bench's
        trees (~26 operations each) ran into it after 576 — a deployment syncing that much has
        Standard access."""
        app = {
            "clientId": GOOGLE_CLIENT_ID,
            "clientSecret": GOOGLE_CLIENT_SECRET,
            "redirectUri": self.settings.google_redirect_uri,
            "accessLevel": access_level,
        }
        (await self.sim.post("/_sim/google/oauth/apps", json=app)).raise_for_status()
        start = (await self.api.get("/api/v1/ad-accounts/google/connect")).raise_for_status()
        consent = await self.sim.get(start.json()["authorizeUrl"], follow_redirects=False)
        query = parse_qs(urlsplit(consent.headers["location"]).query)
        callback = await self.api.get(
            "/api/v1/ad-accounts/google/callback",
            params={"code": query["code"][0], "state": query["state"][0]},
        )
        account: str = callback.raise_for_status().json()["id"]
        return account

    async def connect_meta(self, ad_account: str, page: str) -> str:
        """Register the Facebook app with the simulator, log in and select; the connection."""
        app = {
            "appId": META_APP_ID,
            "appSecret": META_APP_SECRET,
            "redirectUri": self.settings.meta_redirect_uri,
        }
        (await self.sim.post("/_sim/meta/apps", json=app)).raise_for_status()
        start = (await self.api.get("/api/v1/meta/connect")).raise_for_status()
        consent = await self.sim.get(start.json()["authorizeUrl"], follow_redirects=False)
        query = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["location"]).query).items()}
        callback = (await self.api.get("/api/v1/meta/callback", params=query)).raise_for_status()
        connection: str = callback.json()["id"]
        selection = {"adAccountId": ad_account, "pageId": page}
        (
            await self.api.put(f"/api/v1/meta/connections/{connection}/selection", json=selection)
        ).raise_for_status()
        return connection


@contextlib.asynccontextmanager
async def bench_system(
    sim_env: dict[str, str] | None = None,
    worker_processes: int = 0,
    single_partition: bool = False,
    **overrides: Any,
) -> AsyncIterator[Bench]:
    """`sim_env`: extra environment of the simulators' process (e.g. a prepared state file:
    `FLIGHTDECK_SIMULATORS_KEEP_STATE=true`, `FLIGHTDECK_DATA_DIR=…`). `worker_processes`: run
    the workers in that many processes of their own (`bench/worker_process.py`, each with a
    pool of 15 + 5 connections), as a deployment runs `flightdeck worker`, instead of in this
    process beside the API and the benchmark (0, the default)."""
    import asyncpg
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from flightdeck.api.app import create_app
    from flightdeck.db.engine import create_engine, create_sessionmaker
    from flightdeck.db.migrate import upgrade_to_head
    from flightdeck.dev import temporal_binary
    from flightdeck.settings import Settings
    from flightdeck.temporal import SEARCH_ATTRIBUTES, partition_flags
    from flightdeck.worker import running_workers
    from tests.conftest import free_port
    from tests.db.support import admin_dsn, database_url

    db = f"flightdeck_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(await admin_dsn())
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    url = await database_url(db)
    await upgrade_to_head(url)
    # `single_partition`: every task queue one partition, as a deployment gives its rate-limited
    # queues (flightdeck.temporal.SINGLE_PARTITION); FLIGHTDECK_BENCH_TQ_PARTITIONS=N sets N.
    default = "1" if single_partition else "0"  # 0: Temporal's default
    partitions = int(os.environ.get("FLIGHTDECK_BENCH_TQ_PARTITIONS") or default)
    extra = partition_flags(partitions) if partitions else []
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_binary(),
        search_attributes=list(SEARCH_ATTRIBUTES),
        dev_server_extra_args=extra,
    )
    # SIGTERM (`timeout`, a runner giving up) cancels the benchmark as Ctrl-C would, so the
    # `finally` below still stops the simulators, the workers and the dev server and drops the
    # database; its default action killed this process alone and left them all running.
    loop, benchmark = asyncio.get_running_loop(), asyncio.current_task()
    if benchmark is not None:
        loop.add_signal_handler(signal.SIGTERM, benchmark.cancel)
    port = free_port()
    sim_proc = subprocess.Popen(
        [sys.executable, "-m", "flightdeck.cli", "simulators", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # A fresh, unsaved world per benchmark (never the dev simulators' saved state).
        env={**os.environ, "FLIGHTDECK_SIMULATORS_KEEP_STATE": "false", **(sim_env or {})},
    )
    sim_url = f"http://127.0.0.1:{port}"
    engine = worker_engine = None
    workers: list[subprocess.Popen[bytes]] = []
    try:
        await wait_until_serving(f"{sim_url}/_sim/state")
        values = {
            "environment": "test",
            "database_url": url,
            "temporal_address": env.client.service_client.config.target_host,
            "strategis_base_url": f"{sim_url}/strategis",
            "strategis_relay_base_url": f"{sim_url}/relay",
            "reddit_ads_base_url": f"{sim_url}/reddit/api/v3",
            "reddit_oauth_base_url": f"{sim_url}/reddit",
            "reddit_client_id": REDDIT_CLIENT_ID,
            "reddit_client_secret": REDDIT_CLIENT_SECRET,
            "reddit_redirect_uri": "http://api/api/v1/ad-accounts/reddit/callback",
            "meta_graph_base_url": f"{sim_url}/graph",
            "meta_dialog_base_url": f"{sim_url}/facebook",
            "meta_app_id": META_APP_ID,
            "meta_app_secret": META_APP_SECRET,
            "meta_redirect_uri": "http://api/api/v1/meta/callback",
            "google_ads_base_url": f"{sim_url}/google",
            "google_oauth_authorize_url": f"{sim_url}/google/o/oauth2/v2/auth",
            "google_oauth_token_url": f"{sim_url}/google/oauth2/v3/token",
            "google_client_id": GOOGLE_CLIENT_ID,
            "google_client_secret": GOOGLE_CLIENT_SECRET,
            "google_redirect_uri": "http://api/api/v1/ad-accounts/google/callback",
            "asset_download_allowed_hosts": [f"127.0.0.1:{port}"],
            **overrides,
        }
        settings = Settings(**values)
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        # As in production: the worker's own pool (no pre-ping), the API's with it.
        worker_engine = create_engine(url, pre_ping=False)
        app = create_app(settings, sessions=sessions, temporal=env.client)
        pool = {"db_pool_size": 15, "db_max_overflow": 5}
        for _ in range(worker_processes):
            workers.append(
                subprocess.Popen(
                    [sys.executable, str(Path(__file__).resolve().parent / "worker_process.py")],
                    stdout=subprocess.PIPE,
                    env={**os.environ, "FLIGHTDECK_BENCH_SETTINGS": json.dumps({**values, **pool})},
                )
            )
        for worker in workers:  # every worker polls before the benchmark starts
            assert worker.stdout is not None
            line = await asyncio.to_thread(worker.stdout.readline)
            if line.strip() != b"ready":
                raise RuntimeError("a bench worker process did not start")
        in_process = (
            running_workers(env.client, create_sessionmaker(worker_engine), settings)
            if not workers
            else contextlib.nullcontext()
        )
        async with (
            in_process,
            app.router.lifespan_context(app),  # the API's startup, as uvicorn runs it
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as api,
            httpx.AsyncClient(base_url=sim_url, timeout=60) as sim,
        ):
            yield Bench(
                env, settings, sessions, api, sim, sim_url, sim_proc.pid, worker_engine,
                tuple(w.pid for w in workers),
            )  # fmt: skip
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        sim_proc.terminate()
        sim_proc.wait(timeout=10)
        if engine is not None:
            await engine.dispose()
            await worker_engine.dispose()
        await env.shutdown()
        admin = await asyncpg.connect(await admin_dsn())
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()
        loop.remove_signal_handler(signal.SIGTERM)


async def wait_until_serving(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"simulators did not start serving {url}")
            await asyncio.sleep(0.1)
