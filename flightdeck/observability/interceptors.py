"""A Temporal interceptor that puts the activity's workflow id, run id and tenant into the
logging context (`logs.py`), so every line an activity's code logs — through any logger —
says which run and tenant it belongs to, and names an activity's failure on an unreachable
Postgres (`database_unreachable`). Given to the client, so every worker uses it."""

from __future__ import annotations

from typing import Any

from temporalio import activity, client, worker
from temporalio.exceptions import ApplicationError

from flightdeck.db.unavailable import database_down, raised_by_the_database_driver, why_down
from flightdeck.failures import Failure, failure
from flightdeck.observability.logs import run_id_var, tenant_id_var, workflow_id_var


def _tenant_of(args: Any) -> str | None:
    """Activity inputs name their tenant as `tenant_id`, or on a `ref`."""
    for arg in args:
        for holder in (arg, getattr(arg, "ref", None)):
            tenant = getattr(holder, "tenant_id", None)
            if tenant:
                return str(tenant)
    return None


def database_unreachable(err: BaseException) -> ApplicationError | None:
    """An activity's failure on an unreachable Postgres, named for the person who reads it
    (the run's error, a failed campaign's reason) — "the database was unreachable", not an
    asyncpg `InterfaceError` or a `FileNotFoundError` for a unix socket that a restarting server
    had removed — and retryable; None for any other error (an `OSError` counts only when the
    database driver raised it)."""
    if isinstance(err, ApplicationError) or not database_down(err):
        return None
    if isinstance(err, OSError) and not raised_by_the_database_driver(err):
        return None
    return failure(
        Failure.DATABASE_UNAVAILABLE,
        f"the database was unreachable: {why_down(err)}",
        non_retryable=False,
    )


class _ActivityContext(worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: worker.ExecuteActivityInput) -> Any:
        info = activity.info()
        tokens = (
            workflow_id_var.set(info.workflow_id),
            run_id_var.set(info.workflow_run_id),
            tenant_id_var.set(_tenant_of(input.args)),
        )
        try:
            return await super().execute_activity(input)
        except Exception as err:
            unreachable = database_unreachable(err)
            if unreachable is None:
                raise
            raise unreachable from err
        finally:
            run_id_var.reset(tokens[1])
            workflow_id_var.reset(tokens[0])
            tenant_id_var.reset(tokens[2])


class LogContextInterceptor(client.Interceptor, worker.Interceptor):
    def intercept_activity(
        self, next: worker.ActivityInboundInterceptor
    ) -> worker.ActivityInboundInterceptor:
        return _ActivityContext(next)
