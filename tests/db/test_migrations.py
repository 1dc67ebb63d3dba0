"""The Alembic-owned schema: migrations apply, match the models exactly, and reverse cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from alembic import command
from alembic.script import ScriptDirectory

from flightdeck.db.bootstrap import to_asyncpg_dsn
from flightdeck.db.migrate import SchemaDriftError, alembic_config, check_schema, upgrade_to_head
from flightdeck.db.models import Base
from tests.db.support import create_database, drop_database, unique_database_name


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("unused://")).get_current_head()
    assert head is not None
    return head


async def fetch_column(url: str, query: str) -> list[str]:
    connection = await asyncpg.connect(to_asyncpg_dsn(url))
    try:
        return [row[0] for row in await connection.fetch(query)]
    finally:
        await connection.close()


async def user_tables(url: str) -> set[str]:
    """Tables and partitioned tables; not the partitions the metrics schedule creates."""
    query = (
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
    )
    return set(await fetch_column(url, query)) - {"alembic_version"}


@pytest.fixture
async def scratch_url() -> AsyncIterator[str]:
    """A second, throwaway database, for tests that break or rewind the schema."""
    name = unique_database_name()
    url = await create_database(name)
    try:
        yield url
    finally:
        await drop_database(name)


async def test_migrations_create_every_model_table(database_url: str) -> None:
    assert await user_tables(database_url) == set(Base.metadata.tables)
    versions = await fetch_column(database_url, "SELECT version_num FROM alembic_version")
    assert versions == [head_revision()]


async def test_models_and_migrations_do_not_drift(database_url: str) -> None:
    await check_schema(database_url)


async def test_check_schema_reports_drift(scratch_url: str) -> None:
    await upgrade_to_head(scratch_url)
    connection = await asyncpg.connect(to_asyncpg_dsn(scratch_url))
    try:
        await connection.execute("DROP INDEX ix_remote_objects_external")
    finally:
        await connection.close()

    with pytest.raises(SchemaDriftError, match="ix_remote_objects_external"):
        await check_schema(scratch_url)


async def test_downgrade_to_base_then_upgrade_again(scratch_url: str) -> None:
    await upgrade_to_head(scratch_url)
    await asyncio.to_thread(command.downgrade, alembic_config(scratch_url), "base")
    assert await user_tables(scratch_url) == set()

    await upgrade_to_head(scratch_url)
    await upgrade_to_head(scratch_url)  # already at head: a no-op, not an error
    await check_schema(scratch_url)
