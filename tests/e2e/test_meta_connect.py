"""Connecting a Meta account through the API and Facebook Login (the Graph simulator's dialog):
the long-lived token, its scopes, the discovered world, the selection, and every way a
connection is reported unable to publish, with its reason. Tokens never leave the server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import update

from flightdeck.db.models import CampaignMetaConnection
from flightdeck.db.tenancy import system_session
from tests.e2e.conftest import META_APP_SECRET, System
from tests.e2e.meta_support import (
    connect_meta,
    create_campaign,
    eventually,
    facebook_counts,
    graph_requests,
    publish,
)
from tests.platforms.meta_support import DISABLED_ACCOUNT, MAIN_ACCOUNT, UNFUNDED_ACCOUNT


async def test_connect_discovers_and_selects_without_showing_tokens(rig: System) -> None:
    connection = await connect_meta(rig, account=None)
    assert connection["status"] == "pending_selection"
    assert {a["id"] for a in connection["discovered"]["adAccounts"]} >= {
        MAIN_ACCOUNT, DISABLED_ACCOUNT, UNFUNDED_ACCOUNT,
    }  # fmt: skip
    assert connection["discovered"]["instagramAccounts"][0]["username"] == "acme.ads"
    expires = datetime.fromisoformat(connection["tokenExpiresAt"])
    assert timedelta(days=59) < expires - datetime.now(UTC) <= timedelta(days=60)
    selected = await connect_meta(rig)
    assert selected["status"] == "connected" and selected["problems"] == []
    assert selected["adAccount"] == {
        "id": MAIN_ACCOUNT, "name": "Acme Main", "currency": "USD", "accountStatus": 1,
        "paymentConnected": True,
    }  # fmt: skip
    assert selected["instagram"] == {"id": "500000000000001", "username": "acme.ads"}
    listed = await rig.api.get("/api/v1/meta/connections", headers=rig.headers)
    text = listed.text + json.dumps(selected)
    assert "EAA" not in text and META_APP_SECRET not in text  # no token, no secret


async def test_a_declined_permission_is_reported(rig: System) -> None:
    connection = await connect_meta(rig, account=None, decline=("ads_management",))
    assert connection["status"] == "missing_scopes"
    assert "ads_management" in connection["statusReason"]
    assert "ads_management" in connection["declinedScopes"]
    assert {p["code"] for p in connection["problems"]} >= {"missing_scopes"}


async def test_disabled_and_unfunded_accounts_are_reported(rig: System) -> None:
    disabled = await connect_meta(rig, account=DISABLED_ACCOUNT)
    assert disabled["status"] == "account_disabled"
    assert "DISABLED" in disabled["statusReason"]
    assert {p["code"] for p in disabled["problems"]} == {"account_not_active"}
    unfunded = await connect_meta(rig, account=UNFUNDED_ACCOUNT)
    assert unfunded["status"] == "no_payment_method"
    assert {p["code"] for p in unfunded["problems"]} == {"no_payment_method"}
    # Meta changes its mind: the refreshed connection says so.
    await rig.sim.patch(f"/_sim/state/meta/adaccounts/{MAIN_ACCOUNT}", json={"account_status": 2})
    ok = await connect_meta(rig, account=None)
    await rig.sim.patch(f"/_sim/state/meta/adaccounts/{MAIN_ACCOUNT}", json={"account_status": 1})
    selected = await rig.api.put(
        f"/api/v1/meta/connections/{ok['id']}/selection",
        json={"adAccountId": MAIN_ACCOUNT, "pageId": "400000000000001"},
        headers=rig.headers,
    )
    assert selected.json()["status"] == "connected"
    await rig.sim.patch(f"/_sim/state/meta/adaccounts/{MAIN_ACCOUNT}", json={"account_status": 2})
    refreshed = await rig.api.get(
        f"/api/v1/meta/connections/{ok['id']}", params={"refresh": "true"}, headers=rig.headers
    )
    await rig.sim.patch(f"/_sim/state/meta/adaccounts/{MAIN_ACCOUNT}", json={"account_status": 1})
    assert refreshed.json()["status"] == "account_disabled"


async def test_a_cancelled_dialog_and_a_replayed_callback_are_refused(rig: System) -> None:
    start = (await rig.api.get("/api/v1/meta/connect", headers=rig.headers)).json()
    denied = await rig.sim.get(start["authorizeUrl"] + "&sim_deny=1", follow_redirects=False)
    query = {k: v[0] for k, v in parse_qs(urlsplit(denied.headers["location"]).query).items()}
    refused = await rig.api.get("/api/v1/meta/callback", params=query)
    assert refused.status_code == 400 and refused.json()["error"] == "access_denied"
    again = await rig.api.get(
        "/api/v1/meta/callback", params={"state": query["state"], "code": "x"}
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_state"


async def test_a_selection_outside_the_connection_names_the_field(rig: System) -> None:
    connection = await connect_meta(rig, account=None)
    wrong = await rig.api.put(
        f"/api/v1/meta/connections/{connection['id']}/selection",
        json={"adAccountId": "act_999", "pageId": "400000000000001"},
        headers=rig.headers,
    )
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "adAccountId"
    bad = await rig.api.put(
        f"/api/v1/meta/connections/{connection['id']}/selection",
        json={"adAccountId": "123", "pageId": "400000000000001"},
        headers=rig.headers,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "adAccountId"


async def test_an_expired_token_is_refused_before_any_call(rig: System) -> None:
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=1)
    async with system_session(rig.sessions, "cli") as session, session.begin():
        await session.execute(
            update(CampaignMetaConnection)
            .where(CampaignMetaConnection.id == connection["id"])
            .values(token_expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    calls_before = len(await graph_requests(rig))
    response = await rig.api.post(
        f"/api/v1/meta/campaigns/{campaign_id}/publish", headers=rig.headers
    )
    assert response.status_code == 409, response.text
    assert "token_expired" in {p["code"] for p in response.json()["detail"]}
    assert len(await graph_requests(rig)) == calls_before  # not one Graph call


async def test_a_token_that_dies_mid_run_ends_it_asking_to_reconnect(rig: System) -> None:
    connection = await connect_meta(rig)
    campaign_id = await create_campaign(rig, connection["id"], ads=3)
    await rig.faults({"platform": "meta", "path": "/adcreatives$", "latencyMs": 400})
    job_id = await publish(rig, campaign_id)

    async def campaign_exists() -> bool:
        return (await facebook_counts(rig))["campaigns"] == 1

    await eventually(campaign_exists)
    await rig.sim.post("/_sim/meta/users/10000000000001/expire-tokens")
    job = await rig.wait_job(job_id, timeout=60)
    assert job["status"] == "failed", job
    assert "reconnect" in job["error"]
    await rig.record_history(job_id, "meta_publish_reconnect")
    body = (await rig.api.get(f"/api/v1/meta/campaigns/{campaign_id}", headers=rig.headers)).json()
    assert body["publishedStatus"] == "error" and "reconnect" in body["published"]["errorMessage"]
    assert body["published"]["metaCampaignId"]  # what was created stays mapped
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["facebook"]
    assert state["campaigns"]["items"][0]["status"] == "PAUSED"
