"""The web console without a browser: login keeps the key in a sealed HttpOnly, SameSite=Strict
cookie; every form needs its CSRF token; pages and buttons go through the JSON API as the
logged-in user (so its roles hold); a forged or expired cookie is no session."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.console.session import SESSION_COOKIE, seal, unseal
from flightdeck.db.models import Alert, MetaCampaign, MetaPublishedCampaign
from flightdeck.db.tenancy import tenant_session
from flightdeck.settings import Settings


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


async def login(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/console/login")
    assert form.status_code == 200
    return await client.post(
        "/console/login",
        data={"api_key": key, "csrf": csrf_of(form.text), "next": "/console/inbox"},
    )


def key_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def browser(api: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client with its own cookie jar on the same app (a browser of its own)."""
    return httpx.AsyncClient(transport=api._transport, base_url="http://api")


async def test_pages_need_a_login_and_the_cookie_is_sealed_httponly_strict(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    async with await browser(api) as client:
        page = await client.get("/console/inbox")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/console/login?next=%2Fconsole%2Finbox")

        bad = await login(client, "fd_not-a-key")
        assert bad.status_code == 303 and "not+accepted" in bad.headers["location"]
        assert SESSION_COOKIE not in client.cookies

        done = await login(client, key_of(headers))
        assert done.status_code == 303 and done.headers["location"] == "/console/inbox"
        cookie = done.headers["set-cookie"]
        assert f"{SESSION_COOKIE}=" in cookie
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        assert key_of(headers) not in cookie, "the key is sealed, never in the clear"

        inbox = await client.get("/console/inbox")
        assert inbox.status_code == 200
        assert "admin" in inbox.text and "Open conflicts" in inbox.text
        assert "No open conflicts." in inbox.text


async def test_a_tampered_or_expired_cookie_is_no_session(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    settings = Settings(environment="test")
    sealed = seal(settings, key_of(headers))
    assert unseal(settings, sealed) is not None
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert unseal(settings, flipped) is None
    old = seal(settings, key_of(headers), now=datetime.now(UTC).timestamp() - 13 * 3600)
    assert unseal(settings, old) is None
    for cookie in (flipped, old, "garbage"):
        async with await browser(api) as client:
            client.cookies.set(SESSION_COOKIE, cookie, path="/console")
            assert (await client.get("/console/inbox")).status_code == 303


async def test_every_form_needs_its_csrf_token(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    async with await browser(api) as client:
        # The login form's token is bound to a pre-login cookie: another's token fails.
        refused = await client.post("/console/login", data={"api_key": key_of(headers)})
        assert refused.status_code == 403 and SESSION_COOKIE not in client.cookies
        await login(client, key_of(headers))
        token = csrf_of((await client.get("/console/inbox")).text)
        for path in (
            "/console/logout",
            f"/console/alerts/{uuid.uuid4()}/acknowledge",
            f"/console/conflicts/{uuid.uuid4()}/resolve",
            f"/console/actions/{uuid.uuid4()}/approve",
            f"/console/sets/{uuid.uuid4()}/sync",
        ):
            for data in ({}, {"csrf": "0" * 64}):
                answer = await client.post(path, data=data)
                assert answer.status_code == 403, (path, data)
        # Still logged in (the refused logout did nothing); with the token it logs out.
        assert (await client.get("/console/inbox")).status_code == 200
        out = await client.post("/console/logout", data={"csrf": token})
        assert out.status_code == 303 and out.headers["location"] == "/console/login"
        assert (await client.get("/console/inbox")).status_code == 303

    async with await browser(api) as other:
        await login(other, key_of(headers))
        # A token from one session is worthless in another.
        answer = await other.post("/console/logout", data={"csrf": token})
        assert answer.status_code == 403


async def test_buttons_act_through_the_api_with_its_roles(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    async with tenant_session(sessions, tenant_id) as session, session.begin():
        alert = Alert(
            tenant_id=tenant_id, alert_type="conflict_escalated", severity="HIGH",
            entity_type="ad_group", entity_id=str(uuid.uuid4()), message="waiting too long",
            created_at=datetime.now(UTC) - timedelta(minutes=5),
        )  # fmt: skip
        session.add(alert)
    made = await api.post("/api/v1/users", json={"name": "vic", "role": "viewer"}, headers=headers)
    viewer_key = made.json()["apiKey"]["apiKey"]

    async with await browser(api) as viewer:
        await login(viewer, viewer_key)
        page = (await viewer.get("/console/inbox")).text
        assert "waiting too long" in page and "viewer" in page
        assert f"/console/alerts/{alert.id}/acknowledge" not in page, "no button for a viewer"
        forced = await viewer.post(
            f"/console/alerts/{alert.id}/acknowledge",
            data={"csrf": csrf_of(page), "next": "/console/inbox"},
        )
        assert forced.status_code == 303 and "error=forbidden" in forced.headers["location"]
    got = (await api.get(f"/api/v1/alerts/{alert.id}", headers=headers)).json()
    assert got["acknowledgedAt"] is None

    async with await browser(api) as admin:
        await login(admin, key_of(headers))
        page = (await admin.get("/console/inbox")).text
        done = await admin.post(
            f"/console/alerts/{alert.id}/acknowledge",
            data={"csrf": csrf_of(page), "next": "/console/inbox"},
        )
        assert done.status_code == 303 and "ok=Alert+acknowledged" in done.headers["location"]
        after = (await admin.get(done.headers["location"])).text
        assert "acknowledged by user:admin" in after
    got = (await api.get(f"/api/v1/alerts/{alert.id}", headers=headers)).json()
    assert got["acknowledgedBy"] == "user:admin"


async def test_an_open_redirect_is_not_possible(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    async with await browser(api) as client:
        form = await client.get("/console/login")
        done = await client.post(
            "/console/login",
            data={"api_key": key_of(headers), "csrf": csrf_of(form.text),
                  "next": "https://evil.example/console"},
        )  # fmt: skip
        assert done.headers["location"] == "/console/inbox"


async def test_every_page_renders(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    async with await browser(api) as client:
        await login(client, key_of(headers))
        for path, text in (
            ("/console/plans", "Campaign plans"),
            ("/console/performance?days=7", "By platform"),
            ("/console/assets", "Campaign spaces"),
        ):
            page = await client.get(path)
            assert page.status_code == 200 and text in page.text, path
        missing = await client.get(f"/console/sets/{uuid.uuid4()}")
        assert missing.status_code == 404


async def test_what_the_api_returns_is_escaped_on_the_page(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    async with tenant_session(sessions, tenant_id) as session, session.begin():
        session.add(
            Alert(
                tenant_id=tenant_id,
                alert_type="conflict_escalated",
                severity="LOW",
                entity_type="ad_group",
                entity_id="x",
                message='<script>alert("x")</script>',
            )  # fmt: skip
        )
    async with await browser(api) as client:
        await login(client, key_of(headers))
        page = await client.get("/console/inbox?ok=<b>hi</b>")
        assert "<script>alert" not in page.text and "&lt;script&gt;alert(" in page.text
        assert "<b>hi</b>" not in page.text and "&lt;b&gt;hi&lt;/b&gt;" in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp


async def test_a_never_synced_set_s_progress_stream_ends_at_once(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await api.post("/api/v1/campaign-sets", json={"name": "never"}, headers=headers)
    set_id = created.json()["id"]
    async with await browser(api) as client:
        await login(client, key_of(headers))
        page = await client.get(f"/console/sets/{set_id}")
        assert page.status_code == 200 and "never" in page.text
        stream = await client.get(f"/console/sets/{set_id}/progress")
        assert stream.status_code == 200
        assert stream.text.count("event: progress") == 1
        assert stream.text.rstrip().split("\n\n")[-1].startswith("event: complete")
    async with await browser(api) as stranger:
        assert (await stranger.get(f"/console/sets/{set_id}/progress")).status_code == 303


async def test_a_failed_meta_publish_is_in_the_inbox_with_its_reason(
    api: httpx.AsyncClient,
    tenant: tuple[uuid.UUID, dict[str, str]],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id, headers = tenant
    made = await api.post(
        "/api/v1/meta/campaigns", json={"name": "Coffee", "initialGoal": "leads"}, headers=headers
    )
    assert made.status_code == 201, made.text
    campaign_id = uuid.UUID(made.json()["id"])
    async with tenant_session(sessions, tenant_id) as session, session.begin():
        campaign = await session.get(MetaCampaign, campaign_id)
        assert campaign is not None
        campaign.published_status = "error"
        session.add(
            MetaPublishedCampaign(
                tenant_id=tenant_id,
                campaign_id=campaign_id,
                publish_status="error",
                error_message="create ad set: (#100) daily_budget is too low",
            )  # fmt: skip
        )
    async with await browser(api) as client:
        await login(client, key_of(headers))
        page = (await client.get("/console/inbox")).text
        assert f'data-meta-campaign-id="{campaign_id}"' in page
        assert "daily_budget is too low" in page
        assert f"/console/meta/{campaign_id}/publish" in page


async def test_a_revoked_key_ends_its_console_session_at_once(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    admin = (await api.get("/api/v1/me", headers=headers)).json()
    issued = await api.post(f"/api/v1/users/{admin['userId']}/api-keys", headers=headers)
    assert issued.status_code == 201, issued.text
    async with await browser(api) as client:
        await login(client, issued.json()["apiKey"])
        page = await client.get("/console/inbox")
        assert page.status_code == 200
        token = csrf_of(page.text)
        revoked = await api.delete(f"/api/v1/api-keys/{issued.json()['id']}", headers=headers)
        assert revoked.status_code in (200, 204), revoked.text
        again = await client.get("/console/plans")
        assert again.status_code == 303 and again.headers["location"].startswith("/console/login")
        # A form sent with the dead session goes to the login, then back to the inbox.
        sent = await client.post(
            f"/console/alerts/{uuid.uuid4()}/resolve",
            data={"csrf": token, "next": "/console/inbox"},
        )
        assert sent.status_code == 303
        assert sent.headers["location"] == "/console/login?next=%2Fconsole%2Finbox"
