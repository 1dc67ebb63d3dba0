"""Regenerate `flightdeck/simulators/specs/reddit-ads-v3.openapi.json` from Reddit's official
OpenAPI spec in ../shared/platforms (1.8 MB), keeping only the paths Flightdeck uses.

The extract keeps every schema, parameter, security requirement and response of those paths
as is, so validation against it is validation against Reddit's spec. It drops only prose
(`description`, `examples`, `example`, `title` of schemas, which do not affect validation) and
records each operation's rate-limit policies, parsed from its HTML description, under
`x-ratelimit-policies: [{"policy", "quota", "window"}]`.

    .venv/bin/python scripts/extract_reddit_spec.py [SOURCE] [TARGET]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "platforms" / "reddit-ads-v3.openapi.json"
TARGET = ROOT / "flightdeck" / "simulators" / "specs" / "reddit-ads-v3.openapi.json"
PATHS = (
    "/me",
    "/me/businesses",
    "/businesses/{business_id}/ad_accounts",
    "/ad_accounts/{ad_account_id}",
    "/ad_accounts/{ad_account_id}/funding_instruments",
    "/ad_accounts/{ad_account_id}/pixels",
    "/ad_accounts/{ad_account_id}/profiles",
    "/ad_accounts/{ad_account_id}/campaigns",
    "/campaigns/{campaign_id}",
    "/ad_accounts/{ad_account_id}/ad_groups",
    "/ad_groups/{ad_group_id}",
    "/ad_accounts/{ad_account_id}/ads",
    "/ads/{ad_id}",
    "/profiles/{profile_id}/posts",
    "/posts/{post_id}",
    "/ad_accounts/{ad_account_id}/reports",
)
METHODS = ("get", "post", "patch", "put", "delete")
PROSE = frozenset({"description", "examples", "example", "title", "summary"})
# Keywords whose value maps arbitrary names (property names, not schema keywords) to schemas.
NAME_MAPS = frozenset({"properties", "patternProperties", "$defs", "headers"})
POLICY = re.compile(r"Policy Slug:\s*<span[^>]*>\s*([\w-]+)\s*</span>")
LIMIT = re.compile(r"Window:\s*(\d+)\s*seconds</li>\s*<li>Quota:\s*(\d+)\s*requests")


def without_prose(node: Any) -> Any:
    """The node minus documentation keys; keys of name maps are kept whatever they are."""
    if isinstance(node, list):
        return [without_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: {name: without_prose(v) for name, v in value.items()}
        if key in NAME_MAPS and isinstance(value, dict)
        else without_prose(value)
        for key, value in node.items()
        if key not in PROSE
    }


def rate_limit_policies(description: str) -> list[dict[str, Any]]:
    """The policies named in an operation's description, in order, with quota and window."""
    slugs, limits = POLICY.findall(description), LIMIT.findall(description)
    if len(slugs) != len(limits):
        raise ValueError(f"cannot pair policies {slugs} with limits {limits}")
    return [
        {"policy": slug, "quota": int(quota), "window": int(window)}
        for slug, (window, quota) in zip(slugs, limits, strict=True)
    ]


def extract(spec: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path in PATHS:
        operations = {}
        for method, operation in spec["paths"][path].items():
            if method not in METHODS:
                continue
            kept = without_prose(operation)
            kept["operationId"] = operation["operationId"]
            kept["x-ratelimit-policies"] = rate_limit_policies(operation.get("description", ""))
            operations[method] = kept
        paths[path] = operations
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": spec["info"]["title"],
            "version": spec["info"]["version"],
            "x-extracted-by": "scripts/extract_reddit_spec.py",
        },
        "servers": spec["servers"],
        "paths": paths,
        "components": {"securitySchemes": spec["components"]["securitySchemes"]},
    }


def main(argv: list[str]) -> None:
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    target = Path(argv[2]) if len(argv) > 2 else TARGET
    extracted = extract(json.loads(source.read_text()))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(extracted, indent=1, sort_keys=True) + "\n")
    print(f"{target}: {len(extracted['paths'])} paths, {target.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv)
