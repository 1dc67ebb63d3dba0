"""What the API does at the end of its startup, so that requests do not pay for it later:

- **Route one request.** FastAPI builds every route's state (its dependencies and the pydantic
  adapters of its parameters and response: some 40,000 objects, ~0.5 s of CPU on this machine)
  lazily, on the first request through the router. One request to `/healthz` builds it now.
- **Freeze the heap.** A full (generation-2) collection walks every container object in the
  process — about 250,000 once FastAPI, pydantic, SQLAlchemy, temporalio and the app are loaded,
  100–200 ms of CPU here — and a response of a few thousand rows (the metrics queries) leaves
  enough survivors to trigger one every few requests. That pause, not Postgres, was the 7-day
  performance query's p95 (bench/metrics.py). `gc.freeze()` moves what exists at the end of
  startup into the permanent generation, which collections skip; whatever requests allocate is
  collected as before.
"""

from __future__ import annotations

import gc

import httpx
from fastapi import FastAPI


async def settle(app: FastAPI) -> None:
    """The end of startup: route one request, then freeze what startup built."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://startup") as client:
        (await client.get("/healthz")).raise_for_status()
    freeze_startup_heap()


def freeze_startup_heap() -> bool:
    """Once per process: collect, then freeze what survived. False if something was frozen
    already (a second app in the same process: tests)."""
    if gc.get_freeze_count():
        return False
    gc.collect()
    gc.freeze()
    return True
