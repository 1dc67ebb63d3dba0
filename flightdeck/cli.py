"""The `flightdeck` command: dev, api, worker, migrate, simulators, tenant create/register,
user create; and, against a running API, publish, sets sync, conflicts, actions."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from flightdeck.settings import Settings, get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="flightdeck", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help="run everything on this machine and publish the example plan")
    api = sub.add_parser("api", help="serve the HTTP API")
    api.add_argument("--port", type=int, default=None)
    api.add_argument("--host", default=None)
    sub.add_parser("worker", help="run the Temporal workers")
    sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    sims = sub.add_parser("simulators", help="serve the platform simulators")
    sims.add_argument("--port", type=int, default=None)
    sims.add_argument("--host", default="127.0.0.1")
    tenant = sub.add_parser("tenant", help="manage tenants")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    create = tenant_sub.add_parser(
        "create", help="create a tenant (with its first admin user) and print a new key once"
    )
    create.add_argument("name")
    register = tenant_sub.add_parser(
        "register", help="let a tenant publish to Strategis organizations / Facebook ad accounts"
    )
    register.add_argument("name")
    register.add_argument("--organization", action="append", default=[], metavar="ORG")
    register.add_argument("--ad-account", action="append", default=[], metavar="act_ID")
    user = sub.add_parser("user", help="manage a tenant's users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    user_create = user_sub.add_parser(
        "create", help="add a user to a tenant (or reuse it) and print a new API key once"
    )
    user_create.add_argument("tenant")
    user_create.add_argument("name")
    user_create.add_argument(
        "--role", choices=["viewer", "editor", "approver", "admin"], default="editor"
    )
    from flightdeck.remote_cli import REMOTE_COMMANDS, add_commands
    from flightdeck.remote_cli import run as run_remote

    add_commands(sub)
    args = parser.parse_args(argv)

    settings = get_settings()
    if args.command in REMOTE_COMMANDS:
        sys.exit(asyncio.run(run_remote(args, settings)))
    _observe(settings, f"flightdeck-{args.command}")
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=_loop(args)) as run:
        run.run(_until_stopped(_dispatch(args, settings)))


# The commands that serve for long (requests, activities, simulated platforms) run on uvloop.
FAST_LOOP_COMMANDS = frozenset({"api", "worker", "dev", "simulators"})


def _loop(args: argparse.Namespace) -> Any:
    """uvloop for the serving commands (flightdeck/event_loop.py); one-shot commands keep the
    stdlib loop."""
    if args.command not in FAST_LOOP_COMMANDS:
        return None
    from flightdeck.event_loop import loop_factory

    return loop_factory()


def _observe(settings: Settings, service: str) -> None:
    """Logs (text or JSON) and, when the OTEL_* variables ask for it, traces."""
    from flightdeck.observability.logs import configure_logging
    from flightdeck.observability.tracing import configure_tracing

    configure_logging(settings.log_format)
    configure_tracing(service)


async def _until_stopped(work: Any) -> None:
    """Run `work`; SIGTERM (a container stop, a supervisor) ends it as cleanly as Ctrl-C does:
    the task is cancelled, so every `finally` runs — workers drain, child servers stop."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _dispatch(args: argparse.Namespace, settings: Settings) -> None:
    if args.command == "dev":
        from flightdeck.dev import run_dev

        await run_dev(settings)
    elif args.command == "api":
        await _serve_api(settings, args.host or settings.api_host, args.port or settings.api_port)
    elif args.command == "worker":
        await _run_worker(settings)
    elif args.command == "migrate":
        url = await _database_url(settings)
        from flightdeck.db.migrate import upgrade_to_head

        await upgrade_to_head(url)
        print("database is at the latest migration")
    elif args.command == "simulators":
        await _serve_simulators(settings, args.host, args.port or settings.simulators_port)
    elif args.command == "tenant" and args.tenant_command == "create":
        await _create_tenant(settings, args.name)
    elif args.command == "tenant":
        await _register_targets(settings, args.name, args.organization, args.ad_account)
    elif args.command == "user":
        await _create_user(settings, args.tenant, args.name, args.role)


async def _database_url(settings: Settings) -> str:
    from flightdeck.db.bootstrap import resolve_database_url

    url, _server = await resolve_database_url(settings.database_url, settings.data_dir)
    return url


KEEP_ALIVE_SECONDS = 75


async def serve(app: Any, host: str, port: int, *, sockets: list[Any] | None = None) -> None:
    """Serve `app` until cancelled; then finish in-flight requests (up to 10 s) and run the
    app's shutdown. Signals stay with `_until_stopped`, which cancels the whole command."""
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Any:  # our own handler owns SIGINT/SIGTERM
            yield

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=10,
        # Longer than clients and proxies keep an idle connection (httpx 5 s, load balancers
        # 60 s): at uvicorn's default of 5 s the server closed connections a client was just
        # reusing, and the request failed (ReadError) without ever reaching the app.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = _Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=sockets))
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await serving
        raise


# Set in the extra processes `flightdeck api` starts when FLIGHTDECK_API_WORKERS > 1.
_API_CHILD = "FLIGHTDECK_API_CHILD"


async def _serve_api(settings: Settings, host: str, port: int) -> None:
    """One API process, or `api_workers` of them: this one and `api_workers - 1` copies, each
    binding the same port with SO_REUSEPORT, so the kernel spreads connections across them.
    Stopping this process (SIGTERM/Ctrl-C) stops the copies the same way."""
    import socket
    import subprocess

    from flightdeck.api.app import create_app

    child = os.environ.get(_API_CHILD) == "1"
    copies: list[subprocess.Popen[bytes]] = []
    sockets = None
    if settings.api_workers > 1 or child:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sockets = [sock]
    if not child:
        print(f"Flightdeck API on http://{host}:{port} (docs: http://{host}:{port}/docs)")
        command = [sys.executable, "-m", "flightdeck.cli", "api", "--host", host]
        for _ in range(settings.api_workers - 1):
            copies.append(
                subprocess.Popen(
                    [*command, "--port", str(port)], env={**os.environ, _API_CHILD: "1"}
                )
            )
    try:
        await serve(create_app(settings), host, port, sockets=sockets)
    finally:
        for copy in copies:
            copy.terminate()
        for copy in copies:
            await asyncio.to_thread(copy.wait)


def simulator_app(settings: Settings) -> Any:
    """The simulators as `flightdeck simulators` and `flightdeck dev` run them: state kept in the
    data dir, accepting the Strategis key and the Reddit, Meta and Google apps Flightdeck is
    configured with."""
    from flightdeck.simulators.app import create_simulator_app
    from flightdeck.simulators.google_ads_state import GoogleApp
    from flightdeck.simulators.meta_state import MetaApp
    from flightdeck.simulators.reddit_auth import OAuthApp

    reddit_app = OAuthApp(
        settings.reddit_client_id,
        settings.reddit_client_secret.get_secret_value(),
        settings.reddit_redirect_uri,
    )
    meta_app = MetaApp(
        app_id=settings.meta_app_id,
        app_secret=settings.meta_app_secret.get_secret_value(),
        redirect_uri=settings.meta_redirect_uri,
    )
    return create_simulator_app(
        settings.strategis_api_key.get_secret_value(),
        state_path=settings.data_dir / "simulators.state"
        if settings.simulators_keep_state
        else None,
        reddit_apps=[reddit_app],
        meta_apps=[meta_app],
        google_apps=[
            GoogleApp(
                settings.google_client_id,
                settings.google_client_secret.get_secret_value(),
                settings.google_redirect_uri,
            )
        ],
    )


async def _serve_simulators(settings: Settings, host: str, port: int) -> None:
    print(f"Platform simulators on http://{host}:{port} (admin: /_sim/state)")
    await serve(simulator_app(settings), host, port)


async def _run_worker(settings: Settings) -> None:
    from flightdeck.db.engine import PoolSize, create_engine, create_sessionmaker
    from flightdeck.schedules import ensure_schedules
    from flightdeck.temporal import connect, ensure_search_attributes
    from flightdeck.worker import running_workers

    niceness = lower_priority(settings.worker_niceness)
    url = await _database_url(settings)
    engine = create_engine(url, pre_ping=False, pool=PoolSize.from_settings(settings))
    sessions = create_sessionmaker(engine)
    sdk_metrics, runtime = _worker_runtime(settings)
    client = await connect(settings, runtime=runtime)
    await ensure_search_attributes(client, settings.temporal_namespace)
    schedules = await ensure_schedules(client, settings)
    queues = (settings.task_queue, settings.strategis_task_queue, settings.reddit_task_queue)
    print(f"worker polling {', '.join(map(repr, queues))}; schedules: {', '.join(schedules)}")
    if niceness:
        print(f"worker niceness {niceness}")
    metrics_server = None
    if settings.worker_metrics_port is not None:
        from flightdeck.observability.worker_metrics import worker_metrics_app

        host, port = settings.worker_metrics_host, settings.worker_metrics_port
        app = worker_metrics_app(sessions, sdk_metrics)
        metrics_server = asyncio.create_task(serve(app, host, port))
        print(f"worker metrics on http://{host}:{port}/metrics")
    sys.stdout.flush()
    try:
        async with running_workers(client, sessions, settings):
            await asyncio.Event().wait()
    finally:
        if metrics_server is not None:
            metrics_server.cancel()
            await asyncio.gather(metrics_server, return_exceptions=True)
        await engine.dispose()


def lower_priority(niceness: int) -> int:
    """Raise this process's niceness to `niceness`; returns the niceness it now has. On Linux a
    niceness belongs to each thread (and a new thread inherits its creator's), so every thread
    running now is lowered, and every one started later — the Temporal core's, the thread
    pools' — inherits it. Never lowers it: that would need privileges, and a process started
    niced was niced on purpose."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness <= current:
        return current
    tasks = Path("/proc/self/task")
    for tid in [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [0]:
        with contextlib.suppress(ProcessLookupError):  # a thread that just ended
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
    return os.getpriority(os.PRIO_PROCESS, 0)


def _worker_runtime(settings: Settings) -> tuple[str | None, Any]:
    """With a metrics port: a Temporal runtime exporting the SDK's metrics on a loopback port
    (relayed by the worker's /metrics) — else the default runtime."""
    if settings.worker_metrics_port is None:
        return None, None
    from flightdeck.observability.worker_metrics import free_loopback_address, prometheus_runtime

    address = free_loopback_address()
    return address, prometheus_runtime(address)


async def _create_tenant(settings: Settings, name: str) -> None:
    from flightdeck.db.tenants import create_tenant_with_key

    async with _system_session(settings) as session:
        tenant, key = await create_tenant_with_key(session, name)
    print(f"tenant {tenant.name} ({tenant.id}), user admin (role admin)")
    print(f"API key (shown once): {key}")


async def _create_user(settings: Settings, tenant: str, name: str, role: str) -> None:
    from flightdeck.db.tenants import create_user_with_key

    async with _system_session(settings) as session:
        try:
            found, user, key = await create_user_with_key(session, tenant, name, role)  # type: ignore[arg-type]
        except LookupError as exc:
            raise SystemExit(str(exc)) from None
    print(f"user {user.name} of tenant {found.name} (role {user.role})")
    print(f"API key (shown once): {key}")


async def _register_targets(
    settings: Settings, tenant: str, organizations: list[str], ad_accounts: list[str]
) -> None:
    from flightdeck.db.tenants import register_publish_targets

    if not organizations and not ad_accounts:
        raise SystemExit("name at least one --organization or --ad-account")
    async with _system_session(settings) as session:
        try:
            await register_publish_targets(
                session, tenant, organizations=organizations, ad_accounts=ad_accounts
            )
        except LookupError as exc:
            raise SystemExit(str(exc)) from None
    print(f"tenant {tenant} may publish to: {', '.join([*organizations, *ad_accounts])}")


@contextlib.asynccontextmanager
async def _system_session(settings: Settings) -> AsyncIterator[Any]:
    from flightdeck.db.engine import create_engine, create_sessionmaker
    from flightdeck.db.tenancy import system_session

    engine = create_engine(await _database_url(settings))
    try:
        async with system_session(create_sessionmaker(engine), "cli") as session:
            yield session
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
