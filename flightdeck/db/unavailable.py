"""Postgres unreachable — refused, reset, restarting, out of connections, the pool exhausted —
as opposed to a bad statement: the API answers it with a 503 (`api/errors.py`), and an activity
fails with a retryable `DatabaseUnavailable` naming it (`observability/interceptors.py`)."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

# SQLSTATE classes of a server that cannot take the connection: 08 (connection exception),
# 57P (operator intervention: shutting down, starting up, crash recovery) and 53 (insufficient
# resources: too many connections, out of memory or disk) — all worth retrying later.
_UNAVAILABLE_SQLSTATES = ("08", "57P", "53")
_DRIVER_MODULES = ("asyncpg", "sqlalchemy")


def database_down(exc: BaseException) -> bool:
    """Postgres unreachable (refused, reset, pool exhausted) rather than a bad statement."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.InterfaceError | ConnectionError | OSError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError):
            return True
        return any(_server_unavailable(cause) for cause in causes(exc))
    return type(exc).__module__.startswith("asyncpg") and "Connection" in type(exc).__name__


def raised_by_the_database_driver(exc: BaseException) -> bool:
    """Raised inside asyncpg or SQLAlchemy: an `OSError` from there (the server's socket
    refused, reset or — a unix socket while the server restarts — missing) is the database's,
    while one from anywhere else (a file, a platform call) is not."""
    traceback = exc.__traceback__
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(_DRIVER_MODULES):
            return True
        traceback = traceback.tb_next
    return False


def why_down(exc: BaseException) -> str:
    """Which failure it was (the driver's error class and SQLSTATE — `53300` is too many
    connections — or the pool's own timeout), never a message that could carry data."""
    if isinstance(exc, sa_exc.TimeoutError):
        return "TimeoutError (every pooled connection was busy: FLIGHTDECK_DB_POOL_SIZE)"
    for cause in causes(exc):
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(sqlstate, str):
            return f"{type(exc).__name__} ({type(cause).__name__}, SQLSTATE {sqlstate})"
    innermost = causes(exc)[-1]
    return f"{type(exc).__name__} ({type(innermost).__name__})"


def _server_unavailable(exc: BaseException) -> bool:
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def causes(exc: BaseException) -> list[BaseException]:
    """The exception, its DBAPI original and their causes (a short, cycle-safe walk)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc, getattr(exc, "orig", None)]
    while pending and len(seen) < 10:
        current = pending.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        pending.extend([current.__cause__, current.__context__])
    return seen
