"""Helpers for database tests: scratch databases on the local server, example plans."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from flightdeck.domain.plans import CampaignPlanIn, GeneratedNames

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"
EXAMPLE_PLAN = Path(__file__).resolve().parents[2] / "examples" / "plan.json"


async def create_database(name: str) -> str:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{SERVER_URL}/{name}"


async def drop_database(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
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
