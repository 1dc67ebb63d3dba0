"""Alembic environment: async engine (run_sync), Flightdeck's metadata, URL from the caller.

The URL comes from `config.attributes["url"]` (flightdeck.db.migrate), else the ini's
`sqlalchemy.url`, else FLIGHTDECK_DATABASE_URL. Runs its own event loop, so programmatic
callers run Alembic commands in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import re
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from flightdeck.db.models import Base

config = context.config
target_metadata = Base.metadata

# Only the alembic CLI configures logging; programmatic callers keep their own configuration.
if config.cmd_opts is not None and config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = (
        config.attributes.get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("FLIGHTDECK_DATABASE_URL")
    )
    if not url:
        raise RuntimeError("no database URL: pass one to flightdeck.db.migrate or set it")
    return str(url)


# Monthly partitions of `campaign_metrics` are created at run time (migration 0030's
# `flightdeck_ensure_metric_partitions`), not declared as models: not schema drift.
METRIC_PARTITION = re.compile(r"^campaign_metrics_p\d{6}$")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "table" and reflected and METRIC_PARTITION.match(name or ""))


def configure(**options: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        # Server defaults carry meaning here (status, attributes, timestamps): check them too.
        compare_server_default=True,
        **options,
    )


def run_migrations(connection: Connection) -> None:
    configure(connection=connection)
    with context.begin_transaction():
        # Data migrations see every tenant's rows even when the login user owns the tables
        # (row-level security is FORCEd on the owner too; superusers bypass it anyway).
        connection.execute(text("SELECT set_config('flightdeck.tenant_id', '*', true)"))
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(database_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    configure(url=database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
