"""An activity that fails because Postgres is unreachable says so — "the database was
unreachable", retryable — instead of the driver's `InterfaceError` or a unix socket's
`FileNotFoundError`; any other error passes through unchanged."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from flightdeck.failures import Failure
from flightdeck.observability.interceptors import LogContextInterceptor, database_unreachable


async def _query(url: str, statement: str = "SELECT 1") -> None:
    engine = create_async_engine(url, connect_args={"timeout": 5})
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _raised(url: str, statement: str = "SELECT 1") -> BaseException:
    with pytest.raises(Exception) as raised:
        await _query(url, statement)
    return raised.value


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://nobody@127.0.0.1:1/flightdeck",  # nothing listens: refused
        # The unix socket of a server that is restarting is missing: FileNotFoundError.
        "postgresql+asyncpg://nobody@/flightdeck?host=/nonexistent-flightdeck-socket-dir",
    ],
    ids=["refused", "socket_missing"],
)
async def test_an_unreachable_database_is_named_and_retryable(url: str) -> None:
    err = await _raised(url)
    named = database_unreachable(err)
    assert named is not None, f"{type(err).__name__} was not recognized"
    assert named.type == Failure.DATABASE_UNAVAILABLE and not named.non_retryable
    assert named.message.startswith("the database was unreachable: ")


async def test_a_bad_statement_and_a_missing_file_are_not_the_database_being_down(
    database_url: str,
) -> None:
    bad_statement = await _raised(database_url, "SELECT 1 / 0")
    assert database_unreachable(bad_statement) is None
    with pytest.raises(FileNotFoundError) as missing:
        open(f"/nonexistent-{uuid.uuid4()}")  # noqa: SIM115, ASYNC230
    assert database_unreachable(missing.value) is None
    assert database_unreachable(ApplicationError("already ours", type="X")) is None


@activity.defn(name="test.read_unreachable_database")
async def read_unreachable_database() -> None:
    await _query("postgresql+asyncpg://nobody@127.0.0.1:1/flightdeck")


@workflow.defn(sandboxed=False)
class ReadsTheDatabaseOnce:
    @workflow.run
    async def run(self) -> list[str]:
        try:
            await workflow.execute_activity(
                read_unreachable_database,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except ActivityError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            return [cause.type or "", cause.message, str(cause.non_retryable)]
        return []


async def test_the_interceptor_names_the_activitys_failure(dev_env: WorkflowEnvironment) -> None:
    queue = f"db-down-{uuid.uuid4()}"
    async with Worker(
        dev_env.client,
        task_queue=queue,
        workflows=[ReadsTheDatabaseOnce],
        activities=[read_unreachable_database],
        interceptors=[LogContextInterceptor()],
    ):
        kind, message, non_retryable = await dev_env.client.execute_workflow(
            ReadsTheDatabaseOnce.run, id=f"db-down-{uuid.uuid4()}", task_queue=queue
        )
    assert kind == Failure.DATABASE_UNAVAILABLE and non_retryable == "False"
    assert message.startswith("the database was unreachable: ")
