"""The fuzz tests get a database of their own (they create many rows)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.db.support import migrated_database


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    async with migrated_database() as url:
        yield url
