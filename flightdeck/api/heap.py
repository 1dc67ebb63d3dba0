"""The API process's garbage collector: what exists after startup is frozen out of full
collections.

A full (generation-2) collection walks every container object in the process — about 250,000
once FastAPI, pydantic, SQLAlchemy, temporalio and the app are loaded, 100–200 ms of CPU on this
machine — and a response of a few thousand rows (the metrics queries) leaves enough survivors to
trigger one every few requests. That pause, not Postgres, was the 7-day performance query's
p95 (bench/metrics.py). `gc.freeze()` moves what exists at startup (modules, classes, schemas,
the engine) into the permanent generation, which collections skip; everything requests
allocate is still collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> bool:
    """Once per process, at the end of startup: collect, then freeze what survived. False if
    something was frozen already (a second app in the same process: tests)."""
    if gc.get_freeze_count():
        return False
    gc.collect()
    gc.freeze()
    return True
