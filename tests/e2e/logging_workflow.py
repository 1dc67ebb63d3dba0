"""A workflow and an activity that only log (for the JSON-log test; a module of its own so
the workflow sandbox re-imports nothing heavy)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError


@dataclass
class Greeting:
    tenant_id: str


@activity.defn(name="obs_test.log_something")
async def log_something(inp: Greeting) -> None:
    logging.getLogger("flightdeck.somewhere").warning("an activity speaks")


@workflow.defn(name="ObsTestLogging")
class LoggingWorkflow:
    @workflow.run
    async def run(self, inp: Greeting) -> None:
        workflow.logger.warning("a workflow speaks")
        await workflow.execute_activity(
            log_something, inp, start_to_close_timeout=timedelta(seconds=10)
        )


@activity.defn(name="obs_test.refuse_input")
async def refuse_input(inp: Greeting) -> None:
    from flightdeck.failures import Failure, failure

    raise failure(
        Failure.PLATFORM_REJECTED, "relay answered 400: daily_budget below the minimum (100)"
    )


@activity.defn(name="obs_test.crash")
async def crash(inp: Greeting) -> None:
    raise RuntimeError("a bug nobody expected")


@workflow.defn(name="ObsTestFailures")
class FailuresWorkflow:
    @workflow.run
    async def run(self, inp: Greeting) -> int:
        failed = 0
        for step in (refuse_input, crash):
            try:
                await workflow.execute_activity(
                    step,
                    inp,
                    start_to_close_timeout=timedelta(seconds=10),
                    retry_policy=RetryPolicy(maximum_attempts=1),
                )
            except ActivityError:
                failed += 1
        return failed
