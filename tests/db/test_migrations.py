"""The Alembic-owned schema: migrations apply, match the models exactly, and reverse cleanly."""

from __future__ import annotations

import asyncio
import uuid
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


async def test_0050_backfills_one_target_per_existing_set(scratch_url: str) -> None:
    """Every set made before targets gets its one target from its platform and ad account
    (its sync status and last sync too); a set without an account gets a target without one."""
    await asyncio.to_thread(command.upgrade, alembic_config(scratch_url), "0049")
    tenant, account = uuid.uuid4(), uuid.uuid4()
    with_account, without = uuid.uuid4(), uuid.uuid4()
    connection = await asyncpg.connect(to_asyncpg_dsn(scratch_url))
    try:
        await connection.execute("SELECT set_config('flightdeck.tenant_id', '*', false)")
        await connection.execute("INSERT INTO tenants (id, name) VALUES ($1, 'm')", tenant)
        await connection.execute(
            "INSERT INTO ad_accounts (id, tenant_id, platform) VALUES ($1, $2, 'google')",
            account,
            tenant,
        )
        await connection.execute(
            "INSERT INTO campaign_sets (id, tenant_id, name, platform, ad_account_id, "
            "sync_status, last_synced_at) VALUES ($1, $2, 'g', 'google', $3, 'synced', now())",
            with_account,
            tenant,
            account,
        )
        await connection.execute(
            "INSERT INTO campaign_sets (id, tenant_id, name) VALUES ($1, $2, 'r')", without, tenant
        )
        await upgrade_to_head(scratch_url)
        rows = await connection.fetch(
            "SELECT campaign_set_id, position, platform, ad_account_id, sync_status, "
            "last_synced_at IS NOT NULL AS synced_once FROM campaign_set_targets"
        )
    finally:
        await connection.close()
    found = {row["campaign_set_id"]: tuple(row)[1:] for row in rows}
    assert found == {
        with_account: (0, "google", account, "synced", True),
        without: (0, "reddit", None, "pending", False),
    }
