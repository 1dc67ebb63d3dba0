"""The `flightdeck` command: dev, api, worker, migrate, simulators, tenant create."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
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
    create = tenant_sub.add_parser("create", help="create a tenant and print a new API key once")
    create.add_argument("name")
    args = parser.parse_args(argv)

    settings = get_settings()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_dispatch(args, settings))


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
        await _serve_simulators(args.host, args.port or settings.simulators_port)
    elif args.command == "tenant":
        await _create_tenant(settings, args.name)


async def _database_url(settings: Settings) -> str:
    from flightdeck.db.bootstrap import resolve_database_url

    url, _server = await resolve_database_url(settings.database_url, settings.data_dir)
    return url


async def serve(app: Any, host: str, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve()


async def _serve_api(settings: Settings, host: str, port: int) -> None:
    from flightdeck.api.app import create_app

    print(f"Flightdeck API on http://{host}:{port} (docs: http://{host}:{port}/docs)")
    await serve(create_app(settings), host, port)


async def _serve_simulators(host: str, port: int) -> None:
    from flightdeck.simulators.app import create_simulator_app

    print(f"Platform simulators on http://{host}:{port} (admin: /_sim/state)")
    await serve(create_simulator_app(), host, port)


async def _run_worker(settings: Settings) -> None:
    from flightdeck.db.engine import create_engine, create_sessionmaker
    from flightdeck.schedules import ensure_schedules
    from flightdeck.temporal import connect, ensure_search_attributes
    from flightdeck.worker import running_workers

    url = await _database_url(settings)
    engine = create_engine(url)
    client = await connect(settings)
    await ensure_search_attributes(client, settings.temporal_namespace)
    schedules = await ensure_schedules(client, settings)
    queues = (settings.task_queue, settings.strategis_task_queue, settings.reddit_task_queue)
    print(f"worker polling {', '.join(map(repr, queues))}; schedules: {', '.join(schedules)}")
    sys.stdout.flush()
    try:
        async with running_workers(client, create_sessionmaker(engine), settings):
            await asyncio.Event().wait()
    finally:
        await engine.dispose()


async def _create_tenant(settings: Settings, name: str) -> None:
    from flightdeck.db.engine import create_engine, create_sessionmaker
    from flightdeck.db.tenants import create_tenant_with_key

    engine = create_engine(await _database_url(settings))
    try:
        async with create_sessionmaker(engine)() as session:
            tenant, key = await create_tenant_with_key(session, name)
        print(f"tenant {tenant.name} ({tenant.id})")
        print(f"API key (shown once): {key}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
