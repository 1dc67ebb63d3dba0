"""`FLIGHTDECK_WORKER_NICENESS`: `flightdeck worker` lowers its CPU priority at start so that,
on a host it shares with the API, interactive requests preempt the runs' CPU work. On Linux a
niceness is per thread, so every thread must get it — the ones already running and, by
inheritance, the ones started later (the Temporal core's)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from flightdeck.settings import Settings

PROBE = textwrap.dedent(
    """
    import os, threading
    from flightdeck.cli import lower_priority

    ready, stop = threading.Event(), threading.Event()
    seen = {}
    def early():
        seen["early"] = threading.get_native_id()
        ready.set()
        stop.wait()
    thread = threading.Thread(target=early)
    thread.start()
    ready.wait()
    now = lower_priority(7)
    again = lower_priority(3)  # never lowered back: that would need privileges
    late = {}
    worker = threading.Thread(target=lambda: late.update(n=os.getpriority(os.PRIO_PROCESS, 0)))
    worker.start(); worker.join()
    print(now, again, os.getpriority(os.PRIO_PROCESS, seen["early"]), late["n"])
    stop.set(); thread.join()
    """
)


def test_every_thread_of_the_worker_gets_the_niceness_and_it_never_goes_back_down() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    process, after_lower_ask, thread_running_before, thread_started_after = map(int, out)
    assert process == 7 and after_lower_ask == 7
    assert thread_running_before == 7 and thread_started_after == 7


def test_the_setting_is_bounded_to_what_nice_accepts() -> None:
    assert Settings(environment="test").worker_niceness == 0
    assert Settings(environment="test", worker_niceness=19).worker_niceness == 19
    for wrong in (-1, 20):
        try:
            Settings(environment="test", worker_niceness=wrong)
        except ValueError as exc:
            assert "worker_niceness" in str(exc)
        else:
            raise AssertionError(f"niceness {wrong} was accepted")
