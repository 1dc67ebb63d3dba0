"""The official Meta SDK's parameter types for the Graph calls Flightdeck makes, read from the
extract in `specs/meta-graph-v23.0.sdk-params.json` (scripts/extract_meta_sdk_spec.py), and a
checker that applies them the way the SDK's `TypeChecker` does, one level deeper: it also
walks the nested ad objects (targeting, object_story_spec, promoted_object …).

The Graph simulator refuses a request whose parameters fail it (Graph answers a wrongly typed
parameter with error 100); the tests run every request our client sends through it with
`strict=True`, which also flags parameters the SDK does not know.

    problems = check_params("POST act/adsets", decode_form(form))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).with_name("specs") / "meta-graph-v23.0.sdk-params.json"
# Sent with every call by the SDK's session, or paging/reading options of Graph itself.
TRANSPORT_PARAMS = frozenset(
    {"access_token", "appsecret_proof", "fields", "limit", "after", "before", "summary",
     "filtering", "ids", "hashes", "method"}
)  # fmt: skip
# Nested objects whose unknown keys are flagged (typos there are silently ignored by Graph);
# other nested types are accepted as the SDK accepts them.
STRICT_TYPES = frozenset(
    {"Targeting", "TargetingGeoLocation", "AdCreativeObjectStorySpec", "AdCreativeLinkData",
     "AdCreativeLinkDataCallToAction", "AdCreativeLinkDataCallToActionValue", "AdPromotedObject",
     "TargetingAutomation"}
)  # fmt: skip
_NUMERIC = ("int", "unsigned int", "float")


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return loaded


def endpoint_types(endpoint: str) -> dict[str, str]:
    """`param -> SDK type` of an endpoint key such as "POST act/campaigns"."""
    params: dict[str, str] = spec()["endpoints"][endpoint]["params"]
    return params


def decode_form(form: Mapping[str, str]) -> dict[str, Any]:
    """Undo the SDK's encoding: it JSON-encodes every list, dict and bool value and sends the
    rest (strings, numbers) as they are."""
    decoded: dict[str, Any] = {}
    for key, value in form.items():
        text = value.strip()
        if text[:1] in ("[", "{") or text in ("true", "false"):
            try:
                decoded[key] = json.loads(text)
                continue
            except ValueError:
                pass
        decoded[key] = value
    return decoded


def check_params(endpoint: str, params: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Problems with `params` (decoded) for `endpoint`, as "path: problem" strings."""
    entry = spec()["endpoints"][endpoint]
    types, enums = entry["params"], entry["enums"]
    problems: list[str] = []
    for name, value in params.items():
        if name in TRANSPORT_PARAMS:
            continue
        if name not in types:
            if strict:
                problems.append(f"{name}: not a parameter of {endpoint} in the SDK")
            continue
        _check(name, types[name], value, enums, problems)
    return problems


def coerce(endpoint: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Top-level numbers arrive as form strings: turn digit strings typed int into ints."""
    types = spec()["endpoints"][endpoint]["params"]
    out = dict(params)
    for name, value in params.items():
        kind = types.get(name)
        if kind in ("int", "unsigned int") and isinstance(value, str) and _is_int(value):
            out[name] = int(value)
    return out


def _is_int(text: str) -> bool:
    return text.isdigit() or (text.startswith("-") and text[1:].isdigit())


def _check(
    path: str, kind: str, value: Any, enums: Mapping[str, list[str]], out: list[str]
) -> None:
    if value is None:
        return
    if kind in enums:
        if value not in enums[kind]:
            out.append(f"{path}: {value!r} is not one of the SDK's {kind} values")
        return
    if kind.startswith("list<"):
        if not isinstance(value, list):
            out.append(f"{path}: expected a list ({kind}); got {type(value).__name__}")
            return
        inner = kind[5:-1].strip()
        for index, item in enumerate(value):
            _check(f"{path}.{index}", inner, item, enums, out)
        return
    if kind.startswith("map") or kind == "Object":
        if kind.startswith("map") and not isinstance(value, dict):
            out.append(f"{path}: expected an object ({kind})")
        return
    if kind in ("string", "datetime"):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            out.append(f"{path}: expected a {kind}; got {type(value).__name__}")
        return
    if kind == "bool":
        if not (isinstance(value, bool) or value in ("true", "false")):
            out.append(f"{path}: expected a bool; got {value!r}")
        return
    if kind in _NUMERIC:
        _check_number(path, kind, value, out)
        return
    _check_object(path, kind, value, out)


def _check_number(path: str, kind: str, value: Any, out: list[str]) -> None:
    # The SDK takes numbers, and strings only when all digits: "12.5" is not a budget.
    if isinstance(value, bool) or not (
        isinstance(value, int | float) or (isinstance(value, str) and value.isdigit())
    ):
        out.append(f"{path}: expected {kind}; got {value!r}")
    elif kind == "unsigned int" and isinstance(value, int | float) and value < 0:
        out.append(f"{path}: expected {kind}; got {value!r}")
    elif kind != "float" and isinstance(value, float) and not value.is_integer():
        out.append(f"{path}: expected {kind}; got {value!r}")


def _check_object(path: str, kind: str, value: Any, out: list[str]) -> None:
    described = spec()["types"].get(kind)
    if not isinstance(value, dict):
        if described is not None:
            out.append(f"{path}: expected an object ({kind}); got {type(value).__name__}")
        return
    if described is None:
        return  # an ad-object type outside the extract: the SDK accepts any dict for it
    fields, enums = described["fields"], described["enums"]
    for name, item in value.items():
        if name not in fields:
            if kind in STRICT_TYPES:
                out.append(f"{path}.{name}: not a field of {kind}")
            continue
        _check(f"{path}.{name}", fields[name], item, enums, out)


def encode_check_key(method: str, path: str) -> str | None:
    """The extract's endpoint key for a call on an ad account's edge (`act_1/campaigns` ->
    "POST act/campaigns"); None for other paths."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) == 2 and parts[0].startswith("act_"):
        key = f"{method} act/{parts[1]}"
        return key if key in spec()["endpoints"] else None
    return None
