"""The Strategis API simulator (mounted at `/strategis`): tracking templates and campaigns, as
described in ../shared/platforms/strategis.md.

Error bodies are `{"error": "<slug>", "message": "<text>"}` with the HTTP status (401
unauthorized, 400 bad_request, 404 not_found, 409 conflict, and for injected faults the status
phrase, e.g. service_unavailable). This shape is ASSUMED: the seed does not describe Strategis
errors; `flightdeck/platforms/strategis.py` relies only on the status and the `message`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from flightdeck.simulators.routing import (
    SimulatorError,
    SimulatorRoute,
    bearer_matches,
    read_json_object,
    record_created,
)
from flightdeck.simulators.state import SimulatorState, StateDep

PLATFORM = "strategis"
CAMPAIGN_STATUSES = frozenset({"active", "paused", "archived"})
PATCHABLE_FIELDS = frozenset({"name", "category", "status", "properties", "template"})


def strategis_error(status_code: int, error: str, message: str) -> SimulatorError:
    return SimulatorError(status_code, {"error": error, "message": message})


def bad_request(message: str) -> SimulatorError:
    return strategis_error(400, "bad_request", message)


def render_strategis_fault(
    status: int, retry_after: float | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """An injected failure in Strategis's (assumed) error envelope."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name, e.g. 599
        phrase = "Error"
    headers = {"Retry-After": f"{retry_after:g}"} if status == 429 and retry_after else {}
    body = {"error": phrase.lower().replace(" ", "_"), "message": f"{phrase} (injected fault)"}
    return body, headers


async def require_api_key(request: Request, state: StateDep) -> None:
    if not bearer_matches(request, state.api_key):
        raise strategis_error(401, "unauthorized", "missing or invalid API key")


router = APIRouter(route_class=SimulatorRoute, dependencies=[Depends(require_api_key)])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{field} is required (a non-empty string)")
    return value


# -- templates ---------------------------------------------------------------------------------


@router.post("/api/templates", status_code=201)
async def create_template(request: Request, state: StateDep) -> JSONResponse:
    body = await read_json_object(request, bad_request)
    organization, key = _text(body, "organization"), _text(body, "key")
    value = body.get("value")
    if not isinstance(value, dict | str) or not value:
        raise bad_request("value is required (an object or a string)")
    async with state.lock:
        templates = state.store(PLATFORM, "templates")
        if any(t["organization"] == organization and t["key"] == key for t in templates.values()):
            raise strategis_error(
                409,
                "conflict",
                f"template {key!r} already exists for organization {organization!r}",
            )
        now, template_id = _now(), state.new_strategis_id("templates")
        template = {
            "id": template_id,
            "key": key,
            "value": value,
            "organization": organization,
            "createdAt": now,
            "updatedAt": now,
        }
        templates[template_id] = template
    record_created(request, template_id)
    return JSONResponse(template, status_code=201)


@router.get("/api/templates")
async def list_templates(
    state: StateDep, organization: str | None = None, key: str | None = None
) -> dict[str, Any]:
    templates = state.store(PLATFORM, "templates").values()
    return {
        "data": [
            t
            for t in templates
            if organization in (None, t["organization"]) and key in (None, t["key"])
        ]
    }


# -- campaigns ---------------------------------------------------------------------------------


@router.post("/api/campaigns", status_code=201)
async def create_campaign(request: Request, state: StateDep) -> JSONResponse:
    body = await read_json_object(request, bad_request)
    _text(body, "name")
    _text(body, "category")
    organizations = _organizations(body)
    _properties(body.get("properties"))
    status = body.get("status", "active")
    _status(status)
    async with state.lock:
        _template(state, body.get("template"), organizations)
        now = _now()
        campaign = {
            **body,
            "id": state.new_strategis_id("campaigns"),
            "status": status,
            "createdAt": now,
            "updatedAt": now,
        }
        state.store(PLATFORM, "campaigns")[campaign["id"]] = campaign
    record_created(request, campaign["id"])
    return JSONResponse(campaign, status_code=201)


@router.get("/api/campaigns")
async def list_campaigns(
    state: StateDep, organization: str | None = None, name: str | None = None
) -> dict[str, Any]:
    campaigns = state.store(PLATFORM, "campaigns").values()
    return {
        "data": [
            c
            for c in campaigns
            if (organization is None or organization in c["organizations"])
            and name in (None, c["name"])
        ]
    }


@router.get("/api/campaigns/{campaign_id}")
async def get_campaign(campaign_id: str, state: StateDep) -> dict[str, Any]:
    return _campaign(state, campaign_id)


@router.patch("/api/campaigns/{campaign_id}")
async def update_campaign(campaign_id: str, request: Request, state: StateDep) -> dict[str, Any]:
    """Partial update; `properties` is merged key by key (JSON merge-patch style)."""
    body = await read_json_object(request, bad_request)
    unknown = sorted(set(body) - PATCHABLE_FIELDS)
    if unknown:
        raise bad_request(f"cannot update {', '.join(unknown)}")
    async with state.lock:
        campaign = _campaign(state, campaign_id)
        changes = _campaign_changes(state, campaign, body)
        campaign.update(changes, updatedAt=_now())
        return campaign


def _campaign(state: SimulatorState, campaign_id: str) -> dict[str, Any]:
    campaign = state.store(PLATFORM, "campaigns").get(campaign_id)
    if campaign is None:
        raise strategis_error(404, "not_found", f"campaign {campaign_id!r} not found")
    return campaign


def _campaign_changes(
    state: SimulatorState, campaign: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    changes = dict(body)
    for field in ("name", "category"):
        if field in body:
            _text(body, field)
    if "status" in body:
        _status(body["status"])
    if "properties" in body:
        if not isinstance(body["properties"], dict):
            raise bad_request("properties must be an object")
        changes["properties"] = {**campaign["properties"], **body["properties"]}
        _properties(changes["properties"])
    if "template" in body:
        _template(state, body["template"], campaign["organizations"])
    return changes


def _organizations(body: dict[str, Any]) -> list[str]:
    value = body.get("organizations")
    if not isinstance(value, list) or not value or not all(isinstance(o, str) and o for o in value):
        raise bad_request("organizations is required (a non-empty list of organization names)")
    return value


def _properties(value: Any) -> None:
    if not isinstance(value, dict):
        raise bad_request("properties is required (an object)")
    if value.get("networkName") != "facebook":
        raise bad_request(
            f"properties.networkName must be 'facebook'; got {value.get('networkName')!r}"
        )


def _status(value: Any) -> None:
    if value not in CAMPAIGN_STATUSES:
        raise bad_request(
            f"status must be one of {', '.join(sorted(CAMPAIGN_STATUSES))}; got {value!r}"
        )


def _template(state: SimulatorState, value: Any, organizations: list[str]) -> None:
    template_id = value.get("id") if isinstance(value, dict) else None
    if not isinstance(template_id, str) or not template_id:
        raise bad_request("template.id is required")
    template = state.store(PLATFORM, "templates").get(template_id)
    if template is None:
        raise bad_request(f"template.id {template_id!r} does not exist")
    if template["organization"] not in organizations:
        raise bad_request(
            f"template.id {template_id!r} belongs to organization {template['organization']!r}, "
            "which is not in organizations"
        )
