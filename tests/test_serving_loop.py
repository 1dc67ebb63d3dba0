"""The long-running commands (worker, API, dev, simulators) and the benchmarks run on uvloop;
one-shot commands keep the stdlib loop (flightdeck/event_loop.py, `cli._loop`)."""

from __future__ import annotations

import argparse
import asyncio

import pytest
import uvloop

from flightdeck import event_loop
from flightdeck.cli import _loop


@pytest.mark.parametrize("command", ["worker", "api", "dev", "simulators"])
def test_serving_commands_run_on_uvloop(command: str) -> None:
    factory = _loop(argparse.Namespace(command=command))
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


@pytest.mark.parametrize("command", ["migrate", "tenant", "user"])
def test_one_shot_commands_keep_the_stdlib_loop(command: str) -> None:
    assert _loop(argparse.Namespace(command=command)) is None


def test_run_runs_a_coroutine_on_uvloop() -> None:
    async def which_loop() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert event_loop.run(which_loop()).startswith("uvloop")
