"""A workflow and an activity that only log (for the JSON-log test; a module of its own so
the workflow sandbox re-imports nothing heavy)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow


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
