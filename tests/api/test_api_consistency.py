"""API-wide consistency, read from the OpenAPI document itself: every JSON property a response
can carry is camelCase, and every list endpoint answers `{items, nextCursor}` — never a bare
array. A new route that breaks either fails here."""

from __future__ import annotations

import re
from typing import Any

import pytest

from flightdeck.api.app import create_app
from flightdeck.settings import Settings

SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    app = create_app(Settings(environment="test"), sessions=object(), temporal=object())  # type: ignore[arg-type]
    document: dict[str, Any] = app.openapi()
    return document


def json_responses(openapi: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for code, response in (operation.get("responses") or {}).items():
                schema = (response.get("content") or {}).get("application/json", {}).get("schema")
                if code.startswith("2") and schema:
                    found.append((f"{method.upper()} {path}", schema))
    return found


def referenced(schema: Any, schemas: dict[str, Any], seen: set[str]) -> None:
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                referenced(schemas[name], schemas, seen)
        for value in schema.values():
            referenced(value, schemas, seen)
    elif isinstance(schema, list):
        for value in schema:
            referenced(value, schemas, seen)


def property_names(schema: Any, where: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            found.append((f"{where}.{name}", name))
            found += property_names(sub, f"{where}.{name}")
        for key in ("items", "additionalProperties"):
            found += property_names(schema.get(key), where)
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in schema.get(key, []):
                found += property_names(sub, where)
    return found


def test_every_response_property_is_camel_case(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    names: set[str] = set()
    for _, schema in json_responses(openapi):
        referenced(schema, schemas, names)
    snake = [
        where
        for name in sorted(names)
        for where, prop in property_names(schemas[name], name)
        if SNAKE.match(prop)
    ]
    assert snake == []


def test_every_list_endpoint_answers_items_and_next_cursor(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    bare = [op for op, schema in json_responses(openapi) if schema.get("type") == "array"]
    assert bare == []
    pages = []
    for op, schema in json_responses(openapi):
        if "$ref" in schema:
            properties = schemas[schema["$ref"].rsplit("/", 1)[-1]].get("properties", {})
            if properties.get("items", {}).get("type") == "array":
                pages.append(op)
                assert "nextCursor" in properties, f"{op} pages without nextCursor"
    assert "GET /api/v1/sync-back/runs" in pages and "GET /api/v1/conflicts" in pages


def test_the_checks_catch_what_they_claim(openapi: dict[str, Any]) -> None:
    """The walkers see a snake_case property and a bare array when there is one."""
    fake = {"type": "object", "properties": {"ok": {"type": "object", "properties": {
        "rows_changed": {"type": "integer"}}}}}  # fmt: skip
    assert [p for _, p in property_names(fake, "X") if SNAKE.match(p)] == ["rows_changed"]
    bare = {"paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {
        "schema": {"type": "array"}}}}}}}}}  # fmt: skip
    assert [op for op, s in json_responses(bare) if s.get("type") == "array"] == ["GET /x"]


def test_every_list_endpoint_takes_limit_and_cursor(openapi: dict[str, Any]) -> None:
    """The same two paging parameters everywhere, `limit` bounded (api/paging.py)."""
    schemas = openapi["components"]["schemas"]
    wrong, lists = [], 0
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for _, schema in json_responses({"paths": {path: {method: operation}}}):
                name = schema.get("$ref", "").rsplit("/", 1)[-1]
                if "nextCursor" not in schemas.get(name, {}).get("properties", {}):
                    continue
                lists += 1
                query = {p["name"]: p["schema"] for p in operation.get("parameters", [])
                         if p["in"] == "query"}  # fmt: skip
                limit = query.get("limit", {})
                if (limit.get("minimum"), limit.get("maximum"), limit.get("default")) != (
                    1,
                    200,
                    100,
                ) or "cursor" not in query:
                    wrong.append(f"{method.upper()} {path}")
    assert wrong == [] and lists >= 29
