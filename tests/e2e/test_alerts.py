"""Performance alerts end to end: a campaign whose conversions collapse raises ZERO_CONVERSIONS
and ROAS_DROP after a metrics cycle (signed webhook delivered once), re-firing updates the open
alert instead of adding one, recovery resolves it by itself, the cooldown keeps a relapse quiet,
and people acknowledge and resolve with their name on it."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from tests.e2e.conftest import System
from tests.e2e.metrics_support import REDDIT_TZ, days_ago, get, platform_campaign, shape
from tests.e2e.metrics_support import sync_metrics as cycle


async def open_alerts(rig: System, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await get(rig, "/alerts", **params))["items"]
    return items


async def test_collapsing_conversions_raise_alerts_once_and_they_resolve_themselves(
    rig: System,
) -> None:
    await rig.connect_reddit()
    campaign = await platform_campaign(rig, "reddit", "Collapsing", budget="300")
    hook = f"alerts-{uuid.uuid4().hex[:8]}"
    settings = await rig.api.put(
        "/api/v1/performance-settings",
        json={"webhookUrl": f"{str(rig.sim.base_url).rstrip('/')}/hooks/{hook}"},
        headers=rig.headers,
    )
    assert settings.status_code == 200, settings.text
    secret = settings.json()["webhookSecret"]
    collapse = {"platform": "reddit", "campaignId": campaign,
                "since": days_ago(REDDIT_TZ, 4).isoformat(),
                "multipliers": {"conversions": 0}}  # fmt: skip
    await shape(rig, collapse)

    await cycle(rig)

    alerts = await open_alerts(rig)
    kinds = {a["alertType"]: a for a in alerts}
    assert {"ZERO_CONVERSIONS", "ROAS_DROP"} <= set(kinds)
    zero = kinds["ZERO_CONVERSIONS"]
    assert zero["severity"] == "CRITICAL" and zero["campaignName"] == "Collapsing"
    assert zero["metricName"] == "spend" and zero["thresholdValue"] == "100.000000"
    assert zero["platform"] == "reddit" and zero["fireCount"] == 1
    ranks = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    assert [ranks.index(a["severity"]) for a in alerts] == sorted(
        ranks.index(a["severity"]) for a in alerts
    )
    deliveries = (await rig.sim.get(f"/_sim/hooks/{hook}")).json()
    assert len(deliveries) == len(alerts)
    for delivery in deliveries:
        stamp, _, mac = delivery["headers"]["x-flightdeck-signature"].partition(",v1=")
        expected = hmac.new(
            secret.encode(), f"{stamp.removeprefix('t=')}.".encode() + delivery["body"].encode(),
            hashlib.sha256,
        ).hexdigest()  # fmt: skip
        assert hmac.compare_digest(mac, expected)
        assert json.loads(delivery["body"])["alert"]["id"] in {a["id"] for a in alerts}
    assert secret not in json.dumps(await get(rig, "/performance-settings"))
    bad = await rig.api.put(
        "/api/v1/performance-settings", json={"webhookUrl": "http://host:port/x"},
        headers=rig.headers,
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "webhookUrl"

    # Still collapsed: the same alerts fire again (updated, not duplicated, not re-sent).
    await cycle(rig)
    again = {a["alertType"]: a for a in await open_alerts(rig)}
    assert again["ZERO_CONVERSIONS"]["id"] == zero["id"]
    assert again["ZERO_CONVERSIONS"]["fireCount"] == 2
    assert len(await open_alerts(rig, alertType="ZERO_CONVERSIONS")) == 1
    assert len((await rig.sim.get(f"/_sim/hooks/{hook}")).json()) == len(deliveries)

    # Conversions are back: the alert resolves itself.
    await shape(rig)
    await cycle(rig)
    resolved = await get(rig, f"/alerts/{zero['id']}")
    assert resolved["resolvedAt"] and resolved["resolvedBy"] == "auto"

    # A relapse inside the cooldown (24 h by default) stays quiet.
    await shape(rig, collapse)
    await cycle(rig)
    assert await open_alerts(rig, alertType="ZERO_CONVERSIONS") == []


async def test_people_acknowledge_and_resolve_alerts_with_their_names(rig: System) -> None:
    await rig.connect_reddit()
    campaign = await platform_campaign(rig, "reddit", "Acked", budget="300")
    await shape(rig, {"platform": "reddit", "campaignId": campaign,
                      "multipliers": {"conversions": 0}})  # fmt: skip
    await cycle(rig)
    (alert,) = await open_alerts(rig, alertType="ZERO_CONVERSIONS")

    acked = await rig.api.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=rig.headers)
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledgedBy"] == "user:admin" and acked.json()["acknowledgedAt"]
    done = await rig.api.post(f"/api/v1/alerts/{alert['id']}/resolve", headers=rig.headers)
    assert done.json()["resolvedBy"] == "user:admin" and done.json()["resolvedAt"]
    assert await open_alerts(rig, alertType="ZERO_CONVERSIONS") == []
    everything = await open_alerts(rig, status="all", alertType="ZERO_CONVERSIONS")
    assert [a["id"] for a in everything] == [alert["id"]]

    viewer = await user_headers(rig, "viewer")
    refused = await rig.api.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=viewer)
    assert refused.status_code == 403
    other = await rig.new_tenant_headers()
    for method, path in (
        ("GET", f"/api/v1/alerts/{alert['id']}"),
        ("POST", f"/api/v1/alerts/{alert['id']}/acknowledge"),
        ("POST", f"/api/v1/alerts/{alert['id']}/resolve"),
    ):
        response = await rig.api.request(method, path, headers=other)
        assert response.status_code == 404, (path, response.text)
    assert (await get(rig, "/alerts", other, status="all"))["items"] == []


async def user_headers(
    rig: System, role: str, headers: dict[str, str] | None = None
) -> dict[str, str]:
    """A user of the tenant with `role`, and the headers its new key authenticates with."""
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    response = await rig.api.post(
        "/api/v1/users", json={"name": name, "role": role}, headers=headers or rig.headers
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['apiKey']['apiKey']}"}
