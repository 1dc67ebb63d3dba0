"""Errors a client can act on: a body that is not JSON is a 400 saying so and where (line,
column, character), and every validation error names the field as the wire spells it —
camelCase, dotted through lists (`campaigns.0.adGroups.0.bidAmount`) — on POST, PUT and PATCH
alike, including the rules a PATCH is checked against after merging with the stored entity."""

from __future__ import annotations

import functools
import json
import re
import uuid
from typing import Any

import httpx
import pytest

from flightdeck.api.app import create_app
from flightdeck.settings import Settings
from tests.api.test_campaign_sets_api import SETS, create_set

CAMEL_PATH = re.compile(r"^(body|[a-z][A-Za-z0-9]*(\.([a-z][A-Za-z0-9]*|\d+))*)$")
JSON = {"Content-Type": "application/json"}


@functools.cache
def openapi() -> dict[str, Any]:
    app = create_app(Settings(environment="test"), sessions=object(), temporal=object())  # type: ignore[arg-type]
    document: dict[str, Any] = app.openapi()
    return document


def json_body_operations() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            body = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in body:
                found.append((method.upper(), path, operation))
    return found


@pytest.mark.parametrize(
    ("body", "line", "column", "problem"),
    [
        (b'{"name": "Set one",\n "campaigns": ]}', 2, 15, "Expecting value"),
        (b'{"name": "Set one"} trailing', 1, 21, "Extra data"),
        (b'{"name": "Set one"', 1, 19, "Expecting ',' delimiter"),
        (b'{\n  "name": "Caf\xc3\xa9",\n  "x": \xff}', 3, 8, "byte 0xff is not UTF-8 text"),
    ],
)
async def test_a_body_that_is_not_json_says_what_and_where(
    api: httpx.AsyncClient, headers: dict[str, str], body: bytes, line: int, column: int,
    problem: str,
) -> None:  # fmt: skip
    response = await api.post(SETS, content=body, headers={**headers, **JSON})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_json"
    (detail,) = response.json()["detail"]
    assert detail["field"] == "body"
    assert (detail["line"], detail["column"]) == (line, column)
    assert detail["message"].startswith("the body is not valid JSON: ")
    assert problem in detail["message"]
    assert f"line {line}, column {column}" in detail["message"]


async def test_put_and_patch_bodies_too(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    made = await create_set(api, headers)
    for method, path in (
        ("PATCH", f"{SETS}/{made['id']}"),
        ("PATCH", f"/api/v1/users/{uuid.uuid4()}"),
        ("PUT", "/api/v1/performance-settings"),
    ):
        response = await api.request(method, path, content=b"{,}", headers={**headers, **JSON})
        assert response.status_code == 400, (method, path, response.text)
        assert response.json()["detail"][0]["char"] == 1


def test_every_json_body_declares_the_400() -> None:
    missing = [f"{m} {p}" for m, p, op in json_body_operations() if "400" not in op["responses"]]
    assert missing == []


async def test_post_errors_name_nested_fields_in_camel_case(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = {
        "name": "Set one",
        "adAccountId": 5,
        "campaigns": [
            {"name": "Camp one", "objective": "traffic", "budgetOptimization": "sometimes",
             "adGroups": [{"name": "Group one", "bidStrategy": "manual_cpc", "bidAmount": "x",
                           "targeting": {"geolocations": [1]}}]},
        ],
    }  # fmt: skip
    response = await api.post(SETS, json=body, headers=headers)
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["detail"]) == [
        "adAccountId",
        "campaigns.0.adGroups.0.bidAmount",
        "campaigns.0.adGroups.0.targeting.geolocations.0",
        "campaigns.0.budgetOptimization",
    ]


async def test_patch_errors_name_the_field_as_the_wire_spells_it(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """Including the rules checked on the entity merged with the patch."""
    made = await create_set(api, headers)
    campaign = made["campaigns"][0]
    group = campaign["adGroups"][0]
    ad, keyword = group["ads"][0], group["keywords"][0]
    cases = [
        (f"{SETS}/{made['id']}", {"adAccountId": "nope"}, "adAccountId"),
        (f"/api/v1/campaigns/{campaign['id']}", {"startTime": "soon"}, "startTime"),
        (
            f"/api/v1/campaigns/{campaign['id']}",
            {"budget": {"type": "daily", "amount": 1.001, "currency": "USD"}},
            "budget.amount",
        ),  # fmt: skip
        (f"/api/v1/ad-groups/{group['id']}", {"bidAmount": "x"}, "bidAmount"),
        (f"/api/v1/ad-groups/{group['id']}", {"optimizationGoal": "x" * 300}, "optimizationGoal"),
        (f"/api/v1/ad-groups/{group['id']}", {"bidStrategy": None}, "bidStrategy"),
        (f"/api/v1/ads/{ad['id']}", {"finalUrl": "not a url"}, "finalUrl"),
        (f"/api/v1/ads/{ad['id']}", {"callToAction": None}, "callToAction"),
        (f"/api/v1/keywords/{keyword['id']}", {"text": ""}, "text"),
        (f"/api/v1/users/{uuid.uuid4()}", {"role": "boss"}, "role"),
    ]
    for path, patch, field in cases:
        response = await api.patch(path, json=patch, headers=headers)
        assert response.status_code == 422, (path, patch, response.text)
        fields = [e["field"] for e in response.json()["detail"]]
        assert fields == [field], (path, patch, fields)
        assert not any(e["message"].startswith("Value error") for e in response.json()["detail"])


def wrong(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> Any:
    """A value of the wrong type everywhere the schema asks for one (objects recursed)."""
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    options = [s for s in schema.get("anyOf", []) + schema.get("oneOf", []) if s]
    if options:
        return wrong(options[0], schemas, depth)
    if depth > 4:
        return None
    kind = schema.get("type")
    if kind == "object" and schema.get("properties"):
        return {name: wrong(sub, schemas, depth + 1) for name, sub in schema["properties"].items()}
    if kind == "array":
        return [wrong(schema.get("items", {}), schemas, depth + 1)]
    return {"wrong": True} if kind == "string" else "wrong"


async def test_every_json_body_names_fields_in_camel_case(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    """Every POST/PUT/PATCH with a JSON body, sent the wrong type in every field."""
    schemas = openapi()["components"]["schemas"]
    checked = 0
    for method, path, operation in json_body_operations():
        body = wrong(operation["requestBody"]["content"]["application/json"]["schema"], schemas)
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        response = await api.request(
            method, url, content=json.dumps(body), headers={**headers, **JSON}
        )
        assert response.status_code < 500, (method, path, response.text)
        if response.status_code == 422:
            fields = [e["field"] for e in response.json()["detail"]]
            assert fields and all(CAMEL_PATH.match(f) for f in fields), (method, path, fields)
            checked += 1
    assert checked >= 20
