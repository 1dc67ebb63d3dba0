"""Run Alembic programmatically (`flightdeck migrate`, dev, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parent / "alembic.ini"


def alembic_config(url: str) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["url"] = url
    return config


async def upgrade_to_head(url: str) -> None:
    # env.py runs its own event loop, so it goes to a thread rather than blocking ours.
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")


async def check_schema(url: str) -> None:
    """Raise if the models and the migrations disagree (`alembic check`)."""
    await asyncio.to_thread(command.check, alembic_config(url))
