"""Postgres shutting down or starting up (a restart) is the database being unavailable: a JSON
503 with Retry-After, not a 500 (found by the chaos suite, bench/chaos.py)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi

from flightdeck.api.errors import install_error_handlers


def refused(message: str, cause: Exception) -> sa_exc.DBAPIError:
    """What SQLAlchemy raises when the asyncpg connect is refused with `cause`."""
    adapted = AsyncAdapt_asyncpg_dbapi.Error(message)
    adapted.__cause__ = cause
    return sa_exc.DBAPIError(None, None, adapted)


@pytest.mark.parametrize(
    "cause",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        # More clients than max_connections (several API processes with their pools).
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    ],
)
async def test_a_restarting_database_is_a_json_503(cause: Exception) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise refused(str(cause), cause)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://api"
    ) as api:
        response = await api.get("/boom")
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "database_unavailable"
    assert response.headers["Retry-After"]


async def test_a_bad_statement_is_still_a_500() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise refused("syntax error", asyncpg.exceptions.PostgresSyntaxError("syntax error"))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://api"
    ) as api:
        response = await api.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
