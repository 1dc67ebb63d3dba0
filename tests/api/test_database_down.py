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
async def test_a_restarting_database_is_a_json_503(
    cause: Exception, caplog: pytest.LogCaptureFixture
) -> None:
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
    # The log says which failure it was (too many clients is not a restart), by class and code.
    [line] = [r.getMessage() for r in caplog.records if "Postgres unreachable" in r.getMessage()]
    assert f"{type(cause).__name__}, SQLSTATE {cause.sqlstate}" in line  # type: ignore[attr-defined]


async def test_an_exhausted_pool_is_a_503_that_the_log_names(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise sa_exc.TimeoutError("QueuePool limit of size 30 overflow 20 reached")

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://api"
    ) as api:
        response = await api.get("/boom")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert any("FLIGHTDECK_DB_POOL_SIZE" in r.getMessage() for r in caplog.records)


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
