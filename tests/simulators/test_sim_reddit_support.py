"""Shared by the Reddit simulator and client tests (no tests here): a driver for the simulator,
valid request bodies (seed 002's "Summer Sale", in Reddit's terms) that tests change one field
of, and checks against the spec extract that do not go through the simulator's own code."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from flightdeck.simulators.reddit_spec import SPEC_PATH
from flightdeck.simulators.reddit_state import (
    AD_ACCOUNT_ID,
    FUNDING_INSTRUMENT_ID,
    PIXEL_ID,
    PROFILE_ID,
)

API = "/reddit/api/v3"
CLIENT_ID = "flightdeck-test-app"
CLIENT_SECRET = "reddit-client-secret-do-not-leak"
REDIRECT_URI = "http://127.0.0.1:8000/api/v1/reddit/callback"

# Seed 002's example campaign ("Summer Sale", $50 a day) as Reddit wants it: the budget moves
# to the ad group in micros, the objective and bidding are Reddit's enums, the copy is a post.
CAMPAIGN = {
    "name": "Summer Sale",
    "objective": "CONVERSIONS",
    "configured_status": "PAUSED",
    "funding_instrument_id": FUNDING_INSTRUMENT_ID,
}
AD_GROUP = {
    "name": "Summer Sale - deal hunters",
    "configured_status": "PAUSED",
    "bid_strategy": "MAXIMIZE_VOLUME",
    "bid_type": "CPM",
    "goal_type": "DAILY_SPEND",
    "goal_value": 50_000_000,
    "optimization_goal": "PURCHASE",
    "conversion_pixel_id": PIXEL_ID,
    "targeting": {
        "communities": ["deals", "frugal"],
        "geolocations": ["US"],
        "keywords": ["summer sale", "discount code"],
        "excluded_keywords": ["free"],
        "devices": [{"type": "MOBILE", "os": "IOS"}],
        "locations": ["FEED"],
    },
}
POST = {
    "type": "IMAGE",
    "headline": "Summer Sale: 40% off everything",
    "content": [
        {
            "destination_url": "https://shop.example.com/summer",
            "display_url": "shop.example.com",
            "media_url": "https://cdn.example.com/summer.jpg",
            "call_to_action": "Shop Now",
        }
    ],
    "allow_comments": False,
}
AD = {
    "name": "Summer Sale - image 1",
    "configured_status": "PAUSED",
    "click_url": "https://shop.example.com/summer?utm_source=reddit",
}


def body(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of a valid body with some fields changed (None values stay, as nulls)."""
    return {**copy.deepcopy(base), **changes}


class RedditSim:
    """Drives the Reddit simulator like a client would; calls return the raw response."""

    account = AD_ACCOUNT_ID
    profile = PROFILE_ID

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers: dict[str, str] = {}

    async def register_app(self, ttl: float = 3600, client_id: str = CLIENT_ID) -> None:
        app = {
            "clientId": client_id,
            "clientSecret": CLIENT_SECRET,
            "redirectUri": REDIRECT_URI,
            "accessTokenTtlSeconds": ttl,
        }
        response = await self.http.post("/_sim/reddit/oauth/apps", json=app)
        assert response.status_code == 201, response.text

    async def tokens(self, client_id: str = CLIENT_ID, **grant: str) -> dict[str, Any]:
        response = await self.http.post(
            "/_sim/reddit/oauth/tokens", json={"clientId": client_id, **grant}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens

    async def login(self, **grant: str) -> dict[str, Any]:
        tokens = await self.tokens(**grant)
        self.headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        return tokens

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(API + path, params=params, headers=self.headers)

    async def post(self, path: str, data: Any) -> httpx.Response:
        return await self.http.post(API + path, json={"data": data}, headers=self.headers)

    async def patch(self, path: str, data: Any) -> httpx.Response:
        return await self.http.patch(API + path, json={"data": data}, headers=self.headers)

    async def created(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        response = await self.post(path, data)
        assert response.status_code == 201, response.text
        obj: dict[str, Any] = response.json()["data"]
        return obj

    async def campaign(self, **changes: Any) -> dict[str, Any]:
        return await self.created(
            f"/ad_accounts/{self.account}/campaigns", body(CAMPAIGN, **changes)
        )

    async def ad_group(self, campaign_id: str, **changes: Any) -> dict[str, Any]:
        data = body(AD_GROUP, campaign_id=campaign_id, **changes)
        return await self.created(f"/ad_accounts/{self.account}/ad_groups", data)

    async def post_(self, **changes: Any) -> dict[str, Any]:
        return await self.created(f"/profiles/{self.profile}/posts", body(POST, **changes))

    async def ad(self, ad_group_id: str, post_id: str, **changes: Any) -> dict[str, Any]:
        data = body(AD, ad_group_id=ad_group_id, post_id=post_id, **changes)
        return await self.created(f"/ad_accounts/{self.account}/ads", data)

    async def tree(self) -> tuple[dict[str, Any], ...]:
        """A campaign with one ad group and one ad on one post."""
        campaign = await self.campaign()
        ad_group = await self.ad_group(campaign["id"])
        post = await self.post_()
        return campaign, ad_group, post, await self.ad(ad_group["id"], post["id"])

    async def rate_limits(self, **policies: tuple[int, float]) -> None:
        limits = {
            name.replace("_", "-"): {"quota": q, "window": w} for name, (q, w) in policies.items()
        }
        response = await self.http.post("/_sim/reddit/rate-limits", json={"policies": limits})
        assert response.status_code == 200, response.text

    async def faults(self, *rules: dict[str, Any], seed: int = 0) -> None:
        response = await self.http.post("/_sim/faults", json={"seed": seed, "rules": list(rules)})
        assert response.status_code == 200, response.text

    async def stored(self, kind: str) -> dict[str, Any]:
        state = (await self.http.get("/_sim/state")).json()["platforms"]["reddit"]
        stored: dict[str, Any] = state[kind]
        return stored


# -- the spec, read directly (not through the simulator's reddit_spec) -------------------------


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return spec


def spec_operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec template and operation for a concrete API path (under /api/v3)."""
    for template, entries in _spec()["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in entries:
            return template, entries[method.lower()]
    raise AssertionError(f"{method} {path} is not an operation of the Reddit spec")


def request_problems(method: str, path: str, payload: Any) -> list[str]:
    """Why a request body is invalid for its operation: schema errors, plus fields the spec
    marks read-only (a client must not send what the platform computes)."""
    template, operation = spec_operation(method, path)
    schema = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
    if "schema" not in schema:
        return [] if payload is None else [f"{method} {template} takes no body"]
    validator = Draft202012Validator(schema["schema"])
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(payload)
    ]
    data = payload.get("data") if isinstance(payload, dict) else None
    read_only = _read_only_properties(schema["schema"]["properties"]["data"])
    problems += [f"data/{name} is read-only" for name in (data or {}) if name in read_only]
    return problems


def response_problems(method: str, path: str, status: int, payload: Any) -> list[str]:
    _, operation = spec_operation(method, path)
    content = operation["responses"].get(str(status), {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return [f"the spec has no {status} answer for {method} {path}"]
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(payload)
    ]


def _read_only_properties(schema: dict[str, Any]) -> set[str]:
    names = {name for name, prop in schema.get("properties", {}).items() if _read_only(prop)}
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(keyword, []):
            names |= _read_only_properties(branch)
    return names


def _read_only(prop: dict[str, Any]) -> bool:
    return bool(prop.get("readOnly") or any(p.get("readOnly") for p in prop.get("allOf", [])))
