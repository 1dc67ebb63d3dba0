"""The Meta campaign wizard's sections (seed 001 `campaign_states.*_data`) and the JSON Schema
each is validated against before it is saved (seed best practice 5). The schemas are
published at `GET /api/v1/meta/schemas[/{section}]`; a refused section names every failing
field, as `<section>.<path>` (e.g. `adPreview.ads.0.destination.url`).
"""

from __future__ import annotations

from typing import Any, Literal

from jsonschema import Draft202012Validator

from flightdeck.domain.graph import SPECIAL_AD_CATEGORIES
from flightdeck.domain.meta_rules import EU_COUNTRIES

Section = Literal["goal", "location", "budget", "adCopy", "adPreview", "metaConnection"]
SECTIONS: tuple[Section, ...] = (
    "goal",
    "location",
    "budget",
    "adCopy",
    "adPreview",
    "metaConnection",
)
# Section -> its column in campaign_states.
COLUMNS: dict[str, str] = {
    "goal": "goal_data",
    "location": "location_data",
    "budget": "budget_data",
    "adCopy": "ad_copy_data",
    "adPreview": "ad_preview_data",
    "metaConnection": "meta_connect_data",
}
GOALS = ("leads", "website-visits", "calls")
CONVERSION_EVENTS = ("LEAD", "COMPLETE_REGISTRATION", "CONTACT", "SUBMIT_APPLICATION", "SCHEDULE")
CALLS_TO_ACTION = ("LEARN_MORE", "SIGN_UP", "APPLY_NOW", "GET_QUOTE", "CONTACT_US", "BOOK_NOW",
                   "SHOP_NOW", "CALL_NOW", "SUBSCRIBE", "DOWNLOAD")  # fmt: skip
ISO_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$"
HTTP_URL = r"^https?://[^\s/$.?#][^\s]*$"
DIGITS = r"^[0-9]{5,20}$"
_ID = "https://flightdeck.dev/schemas/meta"


def _object(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
        **extra,
    }


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": r"\S"}


def _when(condition: dict[str, Any], then_required: list[str]) -> dict[str, Any]:
    return {"if": condition, "then": {"required": then_required}}


DESTINATION = _object(
    ["type"],
    {
        "type": {"enum": ["website", "form", "call"]},
        "url": {"type": "string", "pattern": HTTP_URL, "maxLength": 2000},
        "phoneNumber": {"type": "string", "pattern": r"^\+[0-9]{7,15}$"},
        "leadFormId": {"type": "string", "pattern": DIGITS},
    },
    allOf=[
        # Every ad links a website (Graph's link_data.link); forms and calls add their own.
        _when({"properties": {"type": {"const": "website"}}}, ["url"]),
        _when({"properties": {"type": {"const": "form"}}}, ["url", "leadFormId"]),
        _when({"properties": {"type": {"const": "call"}}}, ["url", "phoneNumber"]),
    ],
)

SCHEMAS: dict[str, dict[str, Any]] = {
    "goal": _object(
        ["goal"],
        {
            "goal": {"enum": list(GOALS)},
            "pixelId": {"type": "string", "pattern": DIGITS},
            "conversionEvent": {"enum": list(CONVERSION_EVENTS)},
            "specialAdCategories": {
                "type": "array",
                "uniqueItems": True,
                "items": {"enum": sorted(SPECIAL_AD_CATEGORIES - {"NONE"})},
            },
            "launchStatus": {"enum": ["ACTIVE", "PAUSED"]},
        },
    ),
    "location": _object(
        ["countries"],
        {
            "countries": {
                "type": "array",
                "minItems": 1,
                "maxItems": 25,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
            },
            "regions": {
                "type": "array",
                "items": _object(["key"], {"key": {"type": "string", "pattern": "^[0-9]+$"}}),
            },
            "cities": {
                "type": "array",
                "items": _object(
                    ["key"],
                    {
                        "key": {"type": "string", "pattern": "^[0-9]+$"},
                        "radius": {"type": "integer", "minimum": 10, "maximum": 50},
                        "distanceUnit": {"enum": ["mile", "kilometer"]},
                    },
                ),
            },
            "ageMin": {"type": "integer", "minimum": 18, "maximum": 65},
            "ageMax": {"type": "integer", "minimum": 18, "maximum": 65},
            "genders": {
                "type": "array",
                "uniqueItems": True,
                "items": {"enum": [1, 2]},
            },
            "dsaBeneficiary": _text(200),
            "dsaPayor": _text(200),
        },
        allOf=[
            # The Digital Services Act: ads shown in the EU name who benefits and who pays.
            _when(
                {"properties": {"countries": {"contains": {"enum": sorted(EU_COUNTRIES)}}}},
                ["dsaBeneficiary", "dsaPayor"],
            )
        ],
    ),
    "budget": _object(
        ["type", "amount"],
        {
            "type": {"enum": ["daily", "lifetime"]},
            "amount": {"type": "number", "exclusiveMinimum": 0, "maximum": 10_000_000},
            "level": {"enum": ["campaign", "adset"]},
            "bidStrategy": {
                "enum": ["LOWEST_COST_WITHOUT_CAP", "LOWEST_COST_WITH_BID_CAP", "COST_CAP"]
            },
            "bidAmount": {"type": "number", "exclusiveMinimum": 0},
            "startTime": {"type": "string", "pattern": ISO_TIME},
            "endTime": {"type": "string", "pattern": ISO_TIME},
        },
        allOf=[
            _when({"properties": {"type": {"const": "lifetime"}}}, ["endTime"]),
            _when(
                {
                    "properties": {
                        "bidStrategy": {"enum": ["LOWEST_COST_WITH_BID_CAP", "COST_CAP"]}
                    },
                    "required": ["bidStrategy"],
                },
                ["bidAmount"],
            ),
        ],
    ),
    "adCopy": _object(
        ["variations"],
        {
            "variations": {
                "type": "array",
                "minItems": 1,
                "maxItems": 20,
                "items": _object(
                    ["primaryText", "headline"],
                    {
                        "primaryText": _text(2200),
                        "headline": _text(255),
                        "description": _text(255),
                    },
                ),
            }
        },
    ),
    "adPreview": _object(
        ["ads"],
        {
            "ads": {
                "type": "array",
                "minItems": 1,
                "maxItems": 100,
                "items": _object(
                    ["name", "copyVariation", "imageUrl", "destination"],
                    {
                        "name": _text(300),
                        "copyVariation": {"type": "integer", "minimum": 0},
                        "imageUrl": {"type": "string", "pattern": HTTP_URL, "maxLength": 2000},
                        "callToAction": {"enum": list(CALLS_TO_ACTION)},
                        "destination": DESTINATION,
                    },
                ),
            }
        },
    ),
    "metaConnection": _object(
        ["connectionId"],
        {
            "connectionId": {
                "type": "string",
                "pattern": "^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$",
            }
        },
    ),
}


def published_schema(section: str) -> dict[str, Any]:
    """The section's schema as served, with its `$schema` and `$id`."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_ID}/{section}.json",
        "title": f"Meta campaign wizard: {section}",
        **SCHEMAS[section],
    }


_VALIDATORS = {name: Draft202012Validator(schema) for name, schema in SCHEMAS.items()}


def section_errors(section: str, data: Any) -> list[dict[str, str]]:
    """Every way `data` breaks the section's schema, as `{field, message}` (field paths start
    with the section name; a missing property is named itself)."""
    found = []
    for error in _VALIDATORS[section].iter_errors(data):
        path = [section, *(str(p) for p in error.absolute_path)]
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path.append(missing)
            message = "is required"
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - known):
                found.append({"field": ".".join([*path, extra]), "message": "unknown field"})
            continue
        else:
            message = error.message
        found.append({"field": ".".join(p for p in path if p), "message": message})
    return sorted(found, key=lambda e: e["field"])
