"""Helpers for database tests: scratch databases on the local server, example plans."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from flightdeck.db.bootstrap import embedded_url, server_reachable, start_embedded
from flightdeck.domain.plans import CampaignPlanIn, GeneratedNames

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
EXAMPLE_PLAN = Path(__file__).resolve().parents[2] / "examples" / "plan.json"
# `FLIGHTDECK_TEST_POSTGRES=embedded` skips the local server even when one is running (to prove
# the fallback); otherwise 127.0.0.1:5432 is used when it answers, else an embedded server.
EMBEDDED_ONLY = os.environ.get("FLIGHTDECK_TEST_POSTGRES") == "embedded"

_server: dict[str, Any] = {}


async def admin_dsn() -> str:
    """Where the test databases are created: the local server if it answers, else an embedded
    one from the `pgserver` wheel (started once per process, in a scratch directory)."""
    if "dsn" not in _server:
        if not EMBEDDED_ONLY and await server_reachable(ADMIN_DSN):
            _server["dsn"] = ADMIN_DSN
        else:
            root = Path(tempfile.gettempdir()) / f"flightdeck-test-pg-{os.getuid()}"
            _, server = await start_embedded(root, "postgres")
            _server["handle"] = server  # keep it referenced: it stops at process exit
            _server["dsn"] = server.get_uri("postgres")
    return str(_server["dsn"])


async def database_url(name: str) -> str:
    """The SQLAlchemy URL of database `name` on the test server."""
    await admin_dsn()
    if "handle" in _server:
        return embedded_url(_server["handle"], name)
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def create_database(name: str) -> str:
    admin = await asyncpg.connect(await admin_dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return await database_url(name)


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(await admin_dsn())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def migrated_database() -> AsyncIterator[str]:
    """A uniquely named database on 127.0.0.1:5432, migrated to head, dropped afterwards."""
    from flightdeck.db.migrate import upgrade_to_head

    name = unique_database_name()
    url = await create_database(name)
    try:
        await upgrade_to_head(url)
        yield url
    finally:
        await drop_database(name)


def unique_database_name() -> str:
    return f"flightdeck_test_{uuid.uuid4().hex}"


def plan_in(**overrides: Any) -> CampaignPlanIn:
    """The example plan with a fresh requestId, and any field overridden (camelCase keys)."""
    data: dict[str, Any] = json.loads(EXAMPLE_PLAN.read_text())
    data["requestId"] = f"req-{uuid.uuid4().hex[:10]}"
    data.update(overrides)
    return CampaignPlanIn.model_validate(data)


def names_for(plan: CampaignPlanIn) -> GeneratedNames:
    return GeneratedNames(
        campaign_name=f"{plan.brand}_{plan.hook_set_id}",
        ad_set_names=[f"adset{i}" for i, _ in enumerate(plan.ad_sets)],
        ad_names=[[f"ad{i}-{j}" for j, _ in enumerate(s.ads)] for i, s in enumerate(plan.ad_sets)],
    )
