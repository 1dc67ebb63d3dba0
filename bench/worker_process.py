"""A benchmark's workers in a process of their own (`bench_system(worker_processes=N)`), as a
deployment runs `flightdeck worker`: the same `running_workers` on the settings the harness
built (passed as JSON in FLIGHTDECK_BENCH_SETTINGS), without the Schedules `flightdeck worker`
creates (a benchmark's numbers must not include a sweep or a sync-back cycle). Prints `ready`
once every worker polls; stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def main() -> None:
    from flightdeck.db.engine import PoolSize, create_engine, create_sessionmaker
    from flightdeck.observability.logs import configure_logging
    from flightdeck.settings import Settings
    from flightdeck.temporal import connect
    from flightdeck.worker import running_workers

    settings = Settings(**json.loads(os.environ["FLIGHTDECK_BENCH_SETTINGS"]))
    configure_logging(settings.log_format)  # as `flightdeck worker` (to stderr)
    assert settings.database_url is not None
    engine = create_engine(
        settings.database_url, pre_ping=False, pool=PoolSize.from_settings(settings)
    )
    client = await connect(settings)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        async with running_workers(client, create_sessionmaker(engine), settings):
            print("ready", flush=True)
            await stop.wait()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    from flightdeck import event_loop

    event_loop.run(main())
