"""An advertiser's webhook endpoint (mounted at `/hooks`), so alert webhooks can be delivered
and checked in development and tests without the internet:

    POST /hooks/{name}                    records the delivery (headers, body); answers the
                                          status set for `name` (default 200)
    GET  /_sim/hooks/{name}               what `name` received, oldest first
    POST /_sim/hooks/{name}/status        {"status": 503}: how `name` answers from now on
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from flightdeck.simulators.state import StateDep

router = APIRouter()
admin_router = APIRouter()


class StatusIn(BaseModel):
    status: int = Field(ge=200, le=599)


@router.post("/{name}")
async def receive(name: str, request: Request, state: StateDep) -> Response:
    body = (await request.body()).decode("utf-8", "replace")
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower().startswith("x-")}
    headers["content-type"] = request.headers.get("content-type", "")
    async with state.lock:
        state.received_webhooks.setdefault(name, []).append(
            {"at": time.time(), "headers": headers, "body": body}
        )
        status = state.webhook_statuses.get(name, 200)
    return Response(status_code=status)


@admin_router.get("/{name}")
async def received(name: str, state: StateDep) -> list[dict[str, Any]]:
    return list(state.received_webhooks.get(name, []))


@admin_router.post("/{name}/status")
async def set_status(name: str, body: StatusIn, state: StateDep) -> dict[str, int]:
    state.webhook_statuses[name] = body.status
    return {"status": body.status}
