"""The simulators' admin surface under `/_sim`, generic over platforms: state, faults, reset,
request log and platform-side edits (as if someone changed an object in the platform's UI)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException

from flightdeck.simulators.faults import FaultConfig
from flightdeck.simulators.state import StateDep

router = APIRouter()


@router.get("/state")
async def read_state(state: StateDep) -> dict[str, Any]:
    """Every stored object: platform -> object type -> {count, items}."""
    return {
        "platforms": {
            platform: {
                kind: {"count": len(items), "items": list(items.values())}
                for kind, items in kinds.items()
            }
            for platform, kinds in state.objects.items()
        }
    }


@router.patch("/state/{platform}/{object_type}/{object_id}")
async def edit_object(
    platform: str, object_type: str, object_id: str, fields: dict[str, Any], state: StateDep
) -> dict[str, Any]:
    """Change stored fields directly, bypassing validation (a platform-side edit). The object's
    modification time moves as the platform's own would, unless the edit sets it."""
    items = state.objects.get(platform, {}).get(object_type)
    obj = items.get(object_id) if items is not None else None
    if obj is None:
        raise HTTPException(404, f"no {platform} {object_type} {object_id!r}")
    async with state.lock:
        state.touch(platform, obj)
        obj.update({k: v for k, v in fields.items() if k != "id"})
    return obj


@router.get("/faults")
async def read_faults(state: StateDep) -> dict[str, Any]:
    return state.faults.config().model_dump(by_alias=True)


@router.post("/faults")
async def set_faults(config: FaultConfig, state: StateDep) -> dict[str, Any]:
    """Replace the fault rules (an empty list clears them) and reseed the random source."""
    state.faults.configure(config.seed, config.rules)
    return state.faults.config().model_dump(by_alias=True)


@router.post("/reset")
async def reset(state: StateDep) -> dict[str, Any]:
    async with state.lock:
        state.reset()
    return {"reset": True}


@router.get("/requests")
async def list_requests(
    state: StateDep,
    platform: str | None = None,
    method: str | None = None,
    path: str | None = None,
) -> list[dict[str, Any]]:
    """The request log, oldest first; `path` is a regex searched in the path under the prefix."""
    try:
        pattern = re.compile(path) if path else None
    except re.error as exc:
        raise HTTPException(422, f"path is not a valid regex: {exc}") from None
    return [
        entry.to_json()
        for entry in state.requests
        if platform in (None, entry.platform)
        and (method is None or entry.method == method.upper())
        and (pattern is None or pattern.search(entry.path))
    ]
