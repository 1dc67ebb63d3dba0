"""Helpers for tests against the Graph simulator: the test app's credentials, Facebook Login
played like a browser, wizard sections that make a valid campaign, and a recorder that checks
every request our client sends against the official SDK's parameter types."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from flightdeck.domain.meta_publish import AdRow, ConnectionFacts, Prepared, prepare
from flightdeck.domain.meta_rules import REQUESTED_SCOPES
from flightdeck.platforms.meta import MetaGraphClient
from flightdeck.simulators.meta_sdk_spec import check_params, decode_form, encode_check_key

APP_ID = "987654321098765"
APP_SECRET = "meta-app-secret-do-not-leak"
REDIRECT_URI = "http://api/api/v1/meta/callback"
MAIN_ACCOUNT = "act_300000000000001"
EU_ACCOUNT = "act_300000000000002"
DISABLED_ACCOUNT = "act_300000000000003"
UNFUNDED_ACCOUNT = "act_300000000000004"
PAGE_ID = "400000000000001"
INSTAGRAM_ID = "500000000000001"

SECTIONS: dict[str, Any] = {
    "goal": {"goal": "website-visits", "launchStatus": "ACTIVE"},
    "location": {"countries": ["US"], "ageMin": 25, "ageMax": 54, "genders": [1, 2]},
    "budget": {"type": "daily", "amount": 25.0, "level": "adset"},
    "adCopy": {
        "variations": [
            {"primaryText": "Fresh coffee, delivered.", "headline": "Try it free"},
            {"primaryText": "Beans roasted this week.", "headline": "Order today"},
        ]
    },
    "adPreview": {
        "ads": [
            {
                "name": "Coffee ad 1",
                "copyVariation": 0,
                "imageUrl": "https://images.example.com/coffee-1.png",
                "destination": {"type": "website", "url": "https://shop.example.com/coffee"},
            },
            {
                "name": "Coffee ad 2",
                "copyVariation": 1,
                "imageUrl": "https://images.example.com/coffee-2.png",
                "callToAction": "SHOP_NOW",
                "destination": {"type": "website", "url": "https://shop.example.com/beans"},
            },
        ]
    },
    "metaConnection": {"connectionId": "00000000-0000-0000-0000-000000000001"},
}


def sections(**overrides: Any) -> dict[str, Any]:
    out = copy.deepcopy(SECTIONS)
    out.update(copy.deepcopy(overrides))
    return out


def connection_facts(**overrides: Any) -> ConnectionFacts:
    values: dict[str, Any] = {
        "connection_id": "00000000-0000-0000-0000-000000000001",
        "status": "connected",
        "status_reason": None,
        "token_expires_at": datetime.now(UTC) + timedelta(days=59),
        "scopes": frozenset(REQUESTED_SCOPES),
        "ad_account_id": MAIN_ACCOUNT,
        "ad_account_status": 1,
        "currency": "USD",
        "payment_connected": True,
        "page_id": PAGE_ID,
        "instagram_user_id": INSTAGRAM_ID,
    }
    values.update(overrides)
    return ConnectionFacts(**values)


def prepared(section_data: dict[str, Any] | None = None, **connection: Any) -> Prepared:
    data = section_data or sections()
    ads = [AdRow(f"ad-{i}", ad["name"]) for i, ad in enumerate(data["adPreview"]["ads"])]
    return prepare(
        name="Coffee launch",
        sections=data,
        connection=connection_facts(**connection),
        ads=ads,
        previous_metadata=None,
        now=datetime.now(UTC),
        token_validity_needed=timedelta(hours=2),
    )


async def register_app(sim: httpx.AsyncClient, **extra: Any) -> None:
    body = {"appId": APP_ID, "appSecret": APP_SECRET, "redirectUri": REDIRECT_URI, **extra}
    response = await sim.post("/_sim/meta/apps", json=body)
    assert response.status_code == 201, response.text


async def consent(
    sim: httpx.AsyncClient,
    authorize_url: str,
    *,
    decline: tuple[str, ...] = (),
    deny: bool = False,
) -> dict[str, str]:
    """Play the browser through the Facebook Login dialog; the callback's query."""
    extra = {}
    if decline:
        extra["sim_decline"] = ",".join(decline)
    if deny:
        extra["sim_deny"] = "1"
    url = f"{authorize_url}&{urlencode(extra)}" if extra else authorize_url
    response = await sim.get(url, follow_redirects=False)
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def login(
    sim: httpx.AsyncClient, graph: MetaGraphClient, *, decline: tuple[str, ...] = ()
) -> str:
    """A long-lived user token for the seeded user, as the connect flow obtains it."""
    url = graph.dialog_url("http://sim/facebook", REDIRECT_URI, "state-1", REQUESTED_SCOPES)
    query = await consent(sim, url, decline=decline)
    short = await graph.exchange_code(query["code"], REDIRECT_URI)
    return (await graph.exchange_long_lived(short.access_token)).access_token


class SdkRecorder:
    """`on_request` hook: every request the client sends, checked against the SDK's types
    (strict: parameters the SDK does not know are problems too)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.problems: list[str] = []

    def __call__(self, method: str, path: str, params: dict[str, Any]) -> None:
        self.requests.append((method, path, params))
        key = encode_check_key(method, path)
        if key is None:
            return
        from flightdeck.platforms.meta import encode_params

        # What went over the wire, decoded as the simulator (and Graph) decode it.
        wire = decode_form(encode_params(params))
        self.problems += [f"{method} {path}: {p}" for p in check_params(key, wire, strict=True)]

    @property
    def checked(self) -> int:
        return sum(1 for m, p, _ in self.requests if encode_check_key(m, p) is not None)
