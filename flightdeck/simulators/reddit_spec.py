"""Reddit's OpenAPI spec (the extract in `specs/`, see scripts/extract_reddit_spec.py) as the
Reddit simulator uses it: request bodies and query parameters are validated against the
operation's own schemas, and its scopes and rate-limit policies come from the same entry, so
the simulator accepts exactly what the spec accepts.

Validation errors come out as Reddit's 400 `fields` entries: the path into the body joined
with `/` and jsonschema's message, e.g. `{"field": "data/objective", "message": "'X' is not
one of [...]"}` (the format [CAM] observed, reddit-ads-api.md §5).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

SPEC_PATH = Path(__file__).parent / "specs" / "reddit-ads-v3.openapi.json"
COMBINATORS = ("oneOf", "anyOf", "allOf")

FieldError = dict[str, str]


@dataclass(frozen=True)
class RateLimitPolicy:
    """A named quota: `quota` requests per `window` seconds."""

    name: str
    quota: int
    window: float


@dataclass(frozen=True)
class Operation:
    """One method on one spec path, e.g. `POST /ad_accounts/{ad_account_id}/campaigns`."""

    method: str
    path: str
    operation_id: str
    scopes: frozenset[str]
    policies: tuple[RateLimitPolicy, ...]
    parameters: tuple[dict[str, Any], ...]
    body_schema: dict[str, Any] | None
    body_validator: Draft202012Validator | None
    data_properties: Mapping[str, dict[str, Any]] = field(default_factory=dict)

    def writable(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The fields of `data` the operation declares and does not mark read-only; anything
        else is accepted by the schema (where it allows extras) but not applied."""
        return {
            key: value
            for key, value in data.items()
            if key in self.data_properties and not self.data_properties[key].get("readOnly")
        }

    def body_errors(self, body: Any) -> list[FieldError]:
        return _errors(self.body_validator, body) if self.body_validator else []

    def decode_query(self, query: Mapping[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
        """The declared query parameters, decoded per their schema, and any errors."""
        values: dict[str, Any] = {}
        errors: list[FieldError] = []
        for parameter in self.parameters:
            name = parameter["name"]
            if parameter.get("in") != "query" or name not in query:
                continue
            raw = query[name]
            if raw == "" and parameter.get("allowEmptyValue"):
                continue
            schema = parameter.get("schema", {})
            value = _decode(raw, schema)
            problems = [error.message for error in Draft202012Validator(schema).iter_errors(value)]
            if problems:
                errors.append({"field": name, "message": problems[0]})
            else:
                values[name] = value
        return values, errors


class RedditSpec:
    """The operations of the extract, found by method and spec path template."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.operations = {
            (method.upper(), path): _operation(method.upper(), path, entry)
            for path, entries in spec["paths"].items()
            for method, entry in entries.items()
        }

    def operation(self, method: str, path: str) -> Operation | None:
        return self.operations.get((method.upper(), path))

    def default_policies(self) -> dict[str, RateLimitPolicy]:
        """Every policy any operation names, with the spec's quota and window."""
        return {p.name: p for op in self.operations.values() for p in op.policies}


@cache
def reddit_spec() -> RedditSpec:
    """The spec extract, loaded once per process."""
    return RedditSpec(json.loads(SPEC_PATH.read_text()))


def _operation(method: str, path: str, entry: Mapping[str, Any]) -> Operation:
    body = entry.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = body.get("schema")
    scopes = {
        scope
        for requirement in entry.get("security", [])
        for names in requirement.values()
        for scope in names
    }
    return Operation(
        method=method,
        path=path,
        operation_id=entry["operationId"],
        scopes=frozenset(scopes),
        policies=tuple(
            RateLimitPolicy(p["policy"], p["quota"], p["window"])
            for p in entry.get("x-ratelimit-policies", [])
        ),
        parameters=tuple(entry.get("parameters", [])),
        body_schema=schema,
        body_validator=Draft202012Validator(schema) if schema else None,
        data_properties=_properties(schema["properties"]["data"]) if schema else {},
    )


def _properties(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Property schemas of an object schema, merged across its oneOf/anyOf/allOf branches."""
    found: dict[str, dict[str, Any]] = {}
    for node in _branches(schema):
        for name, prop in node.get("properties", {}).items():
            merged = found.setdefault(name, {})
            merged.update(prop)
            merged["readOnly"] = merged.get("readOnly", False) or _read_only(prop)
    return found


def _branches(schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield schema
    for keyword in COMBINATORS:
        for branch in schema.get(keyword, []):
            yield from _branches(branch)


def _read_only(schema: Mapping[str, Any]) -> bool:
    return any(node.get("readOnly") is True for node in _branches(schema))


def _errors(validator: Draft202012Validator, instance: Any) -> list[FieldError]:
    """One entry per failed keyword; inside a oneOf/anyOf the most relevant branch's error,
    so `data/name` is blamed rather than "not valid under any of the given schemas"."""
    entries = []
    for error in sorted(
        validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        leaf: ValidationError = best_match([error]) if error.context else error
        entries.append({"field": _field(leaf), "message": leaf.message})
    return entries


def _field(error: ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "body"


def _decode(raw: str, schema: Mapping[str, Any]) -> Any:
    """A query string value as its schema's type: form style, `explode: false` arrays are
    comma-joined (the only array style the spec uses)."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds:
        return [_decode(item, schema.get("items", {})) for item in raw.split(",")]
    if "integer" in kinds:
        try:
            return int(raw)
        except ValueError:
            return raw
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw
