"""The seed-004 API without Temporal: performance settings (admin only, every invalid field
named), alerts in the seed's order and tenant-scoped, and the metrics queries' input checks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.db.models import Alert
from flightdeck.db.tenancy import tenant_session
from tests.api.test_users_api import add_user

SETTINGS = "/api/v1/performance-settings"


async def test_settings_have_defaults_and_only_admins_change_them(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    current = (await api.get(SETTINGS, headers=headers)).json()
    assert current["alerts"]["roasDropRatio"] == "0.30" and current["actionExpiryHours"] == 24
    assert current["autonomous"]["enabled"] is False and current["webhookSecretSet"] is False
    for role in ("viewer", "editor", "approver"):
        caller = await add_user(api, headers, role)
        refused = await api.put(SETTINGS, json={"actionExpiryHours": 2}, headers=caller)
        assert refused.status_code == 403, role
    changed = await api.put(
        SETTINGS,
        json={"actionExpiryHours": 2, "alerts": {"minClicks": 20},
              "webhookUrl": "https://hooks.example.com/flightdeck"},
        headers=headers,
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["actionExpiryHours"] == 2 and body["alerts"]["minClicks"] == 20
    assert body["webhookSecret"].startswith("whsec_") and body["webhookSecretSet"] is True
    again = (await api.get(SETTINGS, headers=headers)).json()
    assert "webhookSecret" not in again and again["webhookSecretSet"] is True
    rotated = await api.post(f"{SETTINGS}/webhook-secret", headers=headers)
    assert rotated.json()["webhookSecret"] != body["webhookSecret"]


async def test_invalid_settings_name_every_field(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    bad = await api.put(
        SETTINGS,
        json={"alerts": {"roasDropRatio": "1.5", "cooldownHours": -1},
              "autonomous": {"actionTypes": ["DELETE_EVERYTHING"]}, "surprise": 1},
        headers=headers,
    )  # fmt: skip
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["detail"]}
    assert {"alerts.roasDropRatio", "alerts.cooldownHours", "autonomous.actionTypes.0",
            "surprise"} <= fields  # fmt: skip
    for url in ("ftp://x.example.com", "http://host:port/x", "https://user:pw@x.example.com/"):
        refused = await api.put(SETTINGS, json={"webhookUrl": url}, headers=headers)
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "webhookUrl"


async def test_alerts_come_in_the_seeds_order_and_only_to_their_tenant(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    other_headers: dict[str, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    start = datetime.now(UTC) - timedelta(hours=1)
    made = []
    async with tenant_session(sessions, tenant_id) as session, session.begin():
        for minutes, severity in ((0, "LOW"), (1, "CRITICAL"), (2, "MEDIUM"), (3, "CRITICAL")):
            alert = Alert(
                tenant_id=tenant_id, alert_type="conflict_escalated", severity=severity,
                entity_type="ad_group", entity_id=str(uuid.uuid4()), message=severity,
                created_at=start + timedelta(minutes=minutes),
            )  # fmt: skip
            session.add(alert)
            made.append(alert)
    listed = (await api.get("/api/v1/alerts", headers=headers)).json()["items"]
    assert [(a["severity"], a["createdAt"][:19]) for a in listed] == [
        ("CRITICAL", (start + timedelta(minutes=3)).isoformat()[:19]),
        ("CRITICAL", (start + timedelta(minutes=1)).isoformat()[:19]),
        ("MEDIUM", (start + timedelta(minutes=2)).isoformat()[:19]),
        ("LOW", start.isoformat()[:19]),
    ]
    page = (await api.get("/api/v1/alerts", params={"limit": 3}, headers=headers)).json()
    rest = await api.get("/api/v1/alerts", params={"cursor": page["nextCursor"]}, headers=headers)
    assert [a["id"] for a in page["items"] + rest.json()["items"]] == [a["id"] for a in listed]
    assert (await api.get("/api/v1/alerts", headers=other_headers)).json()["items"] == []
    foreign = await api.post(f"/api/v1/alerts/{made[0].id}/resolve", headers=other_headers)
    assert foreign.status_code == 404
    assert (await api.get(f"/api/v1/alerts/{made[0].id}", headers=headers)).status_code == 200
    bad = await api.get("/api/v1/alerts", params={"cursor": "x"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "cursor"


async def test_metrics_queries_check_their_input(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    empty = await api.get("/api/v1/metrics/performance", headers=headers)
    assert empty.status_code == 200 and empty.json()["items"] == []
    unknown = await api.get(
        "/api/v1/metrics/series", params={"campaignId": str(uuid.uuid4())}, headers=headers
    )
    assert unknown.status_code == 404
    sort = await api.get("/api/v1/metrics/performance", params={"sort": "vibes"}, headers=headers)
    assert sort.status_code == 422 and sort.json()["detail"][0]["field"] == "sort"
    too_long = await api.get(
        "/api/v1/metrics/platforms", params={"since": "2020-01-01", "until": "2026-01-01"},
        headers=headers,
    )  # fmt: skip
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["field"] == "since"
    assert (await api.get("/api/v1/metrics/campaigns/nope", headers=headers)).status_code == 404
    bad = await api.post(
        "/api/v1/actions", json={"actionType": "PAUSE", "campaignId": "nope"}, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "campaignId"
    kind = await api.post(
        "/api/v1/actions", json={"actionType": "EXPLODE", "campaignId": str(uuid.uuid4())},
        headers=headers,
    )  # fmt: skip
    assert kind.status_code == 422 and kind.json()["detail"][0]["field"] == "actionType"
