"""The web console end to end in headless Chromium: log in with an API key, resolve a conflict,
approve an action, watch a sync's progress live, see the performance chart with its alert, a
plan's ID mapping and the asset library; and the API docs render with nothing from the
internet. Each page's screenshot is taken (kept with FLIGHTDECK_SCREENSHOTS=docs/screenshots)."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, async_playwright, expect

from tests.e2e.conftest import System, make_plan
from tests.e2e.console_support import launch, log_in, serve, shot
from tests.e2e.metrics_support import REDDIT_TZ, days_ago, platform_campaign, shape
from tests.e2e.test_actions import propose, registered, sim_object
from tests.e2e.test_alerts import user_headers
from tests.e2e.test_set_sync import campaign
from tests.e2e.test_sync_back import both_sides_change_the_budget

Rig = System


@pytest.fixture(scope="module")
async def console_url(system: System) -> AsyncIterator[str]:
    async for url in serve(system.api._transport.app):  # type: ignore[attr-defined]
        yield url


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await launch(playwright)
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    yield ctx
    await ctx.close()


async def test_log_in_and_resolve_a_conflict_with_the_keyboard(
    rig: Rig, context: BrowserContext, console_url: str, tmp_path: Path
) -> None:
    group, conflict = await both_sides_change_the_budget(rig)
    page = await context.new_page()
    await log_in(page, console_url, rig.headers)
    assert page.url.endswith("/console/inbox")
    cookie = next(c for c in await context.cookies() if c["name"] == "fd_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert await page.evaluate("document.cookie") == "", "no script can read the session"

    card = page.locator(f'article[data-conflict-id="{conflict["id"]}"]')
    row = card.locator("tbody tr", has_text="budget")
    await expect(row.locator("td").nth(0)).to_contain_text("amount: 50")  # base
    await expect(row.locator("td.local")).to_contain_text("amount: 60")
    await expect(row.locator("td.platform")).to_contain_text("amount: 70")
    await shot(page, "inbox", tmp_path)

    button = card.get_by_role("button", name=re.compile("Keep local"))
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator(".flash.ok")).to_contain_text("Conflict resolved")
    await expect(page.locator(f'article[data-conflict-id="{conflict["id"]}"]')).to_have_count(0)

    got = (await rig.api.get(f"/api/v1/conflicts/{conflict['id']}", headers=rig.headers)).json()
    assert (got["status"], got["resolution"]) == ("resolved", "use_local")
    reddit = await rig.reddit_objects("ad_groups")
    assert [g["goal_value"] for g in reddit if g["id"] == group["platformAdGroupId"]] == [
        60_000_000
    ], "the local value was pushed to Reddit"

    # Keyboard navigation: g then p opens plans and sets; logging out ends the session.
    await page.keyboard.press("g")
    await page.keyboard.press("p")
    await page.wait_for_url(re.compile(r"/console/plans"))
    await page.get_by_role("button", name="Log out").click()
    await page.wait_for_url(re.compile(r"/console/login"))
    await page.goto(console_url + "/console/inbox")
    assert "/console/login" in page.url


async def test_an_approver_approves_an_action_and_it_runs_on_reddit(
    rig: Rig, context: BrowserContext, console_url: str
) -> None:
    await rig.connect_reddit()
    platform_id = await platform_campaign(rig, "reddit", "Budget up", budget="40")
    campaign_id = await registered(rig, platform_id)
    started = await propose(
        rig, {"actionType": "BUDGET_CHANGE", "campaignId": campaign_id, "budgetAmount": "48.00",
              "reasoning": "ROAS well above target"},
    )  # fmt: skip

    # An editor sees the action but no button to approve it.
    editor = await context.new_page()
    await log_in(editor, console_url, await user_headers(rig, "editor"))
    card = editor.locator(f'article[data-action-id="{started["actionId"]}"]')
    await expect(card).to_contain_text("ROAS well above target")
    await expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    await editor.context.clear_cookies()

    page = await context.new_page()
    await log_in(page, console_url, await user_headers(rig, "approver"))
    card = page.locator(f'article[data-action-id="{started["actionId"]}"]')
    await expect(card).to_contain_text("BUDGET_CHANGE")
    await expect(card).to_contain_text("Budget up")
    await card.get_by_role("button", name="Approve").click()
    await expect(page.locator(".flash.ok")).to_contain_text("Action approved")
    await expect(page.locator(f'article[data-action-id="{started["actionId"]}"]')).to_have_count(0)

    action = (
        await rig.api.get(f"/api/v1/actions/{started['actionId']}", headers=rig.headers)
    ).json()
    assert action["status"] == "executed" and action["approvedBy"].startswith("user:approver-")
    assert Decimal(action["newState"]["budgetAmount"]) == 48
    assert (await sim_object(rig, "reddit", "campaigns", platform_id))["goal_value"] == 48_000_000


def watch(field: str) -> str:
    """An init script: from before the page's own script runs, note the progress box's `field`
    as first rendered and each time it changes (window.__seen: [[value, state], …])."""
    return """document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector('.progress-box');
  if (!box) return;
  const note = () => window.__seen.push(
    [box.querySelector('[data-field=FIELD]').textContent, box.dataset.state || '']);
  window.__seen = [];
  note();
  new MutationObserver(note).observe(box, {subtree: true, childList: true, characterData: true,
                                            attributes: true});
});""".replace("FIELD", field)


async def test_watch_a_sync_progress_live(
    rig: Rig, context: BrowserContext, console_url: str, tmp_path: Path
) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(5)], account)
    # Slow Reddit down a little so the progress has steps to show.
    await rig.faults({"platform": "reddit", "method": "POST", "latencyMs": 150})
    page = await context.new_page()
    await log_in(page, console_url, rig.headers, f"/console/sets/{created['id']}")
    await expect(page.locator("h1")).to_have_text(created["name"])
    await page.add_init_script(watch("synced"))
    await page.get_by_role("button", name="Sync now").click()
    await page.wait_for_url(re.compile(r"ok=Sync"))
    box = page.locator(".progress-box")
    await expect(box).to_have_attribute("data-state", "complete", timeout=90_000)
    await expect(box.locator("[data-field=synced]")).to_have_text("5")
    await expect(box.locator("[data-field=failed]")).to_have_text("0")
    seen: list[list[str]] = await page.evaluate("window.__seen")
    synced = [int(s) for s, _ in seen]
    assert synced == sorted(synced) and synced[-1] == 5, seen
    assert any(n < 5 for n in synced), f"the page showed the sync as it went: {seen}"

    link = page.get_by_role("link", name=re.compile("Temporal Web UI"))
    href = await link.get_attribute("href")
    assert href == (
        f"{rig.settings.temporal_ui_url}/namespaces/{rig.settings.temporal_namespace}"
        f"/workflows/sync-set-{created['id']}"
    )
    await page.reload()
    ids = await page.locator("ul.tree code").all_inner_texts()
    assert len(ids) == 15 and "—" not in ids, "every campaign, ad group and ad has its Reddit id"
    await shot(page, "campaign-set", tmp_path)

    await page.goto(console_url + "/console/plans")
    await expect(page.locator("#sets")).to_contain_text(created["name"])
    await shot(page, "plans-and-sets", tmp_path)


async def test_see_the_performance_chart_with_its_alert(
    rig: Rig, context: BrowserContext, console_url: str, tmp_path: Path
) -> None:
    await rig.connect_reddit()
    platform_id = await platform_campaign(rig, "reddit", "Collapsing", budget="300")
    since = days_ago(REDDIT_TZ, 4).isoformat()
    collapse = {"platform": "reddit", "campaignId": platform_id, "since": since,
                "multipliers": {"conversions": 0}}  # fmt: skip
    await shape(rig, collapse)
    campaign_id = await registered(rig, platform_id)
    alerts = (
        await rig.api.get("/api/v1/alerts", params={"campaignId": campaign_id}, headers=rig.headers)
    ).json()["items"]
    assert alerts, "the collapse raised alerts"

    page = await context.new_page()
    await log_in(page, console_url, rig.headers, "/console/performance?days=14")
    table = page.locator("table", has_text="Collapsing")
    await expect(table).to_contain_text("reddit")
    await expect(table.locator("tr", has_text="Collapsing")).to_contain_text("alert")
    chart = page.locator(f'figure[data-chart="{campaign_id}"] svg.chart')
    await expect(chart).to_be_visible()
    assert await chart.locator("polyline").count() == 2  # spend and revenue
    assert await chart.locator("circle").count() == 2 * 14  # a dot per day each
    assert await chart.locator(".alert-marker").count() >= 1
    title = await chart.locator(".alert-marker title").first.text_content()
    assert title and alerts[0]["alertType"] in " ".join(
        await chart.locator(".alert-marker title").all_text_contents()
    )
    await expect(page.locator('figure[data-chart="total"] svg')).to_be_visible()
    await shot(page, "performance", tmp_path)

    await page.get_by_role("link", name="7 days").click()
    await page.wait_for_url(re.compile("days=7"))
    assert await page.locator(f'figure[data-chart="{campaign_id}"] circle').count() == 2 * 7


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_plan_s_mapping_the_asset_library_and_offline_docs(
    rig: Rig, context: BrowserContext, console_url: str, tmp_path: Path
) -> None:
    accepted = await rig.publish(make_plan())
    job = await rig.wait_job(accepted["workflowId"])
    assert job["status"] == "completed", job
    mapping = (
        await rig.api.get(f"/api/v1/campaign-plans/{accepted['id']}/mapping", headers=rig.headers)
    ).json()

    space = await rig.api.post(
        "/api/v1/campaign-spaces",
        json={"campaignName": "Winter launch", "platform": "meta", "tags": ["winter"]},
        headers=rig.headers,
    )
    assert space.status_code == 201, space.text
    space_id = space.json()["id"]
    for name, colour, tags in (
        ("snow", (40, 90, 200), "winter,blue"),
        ("sun", (230, 160, 20), "summer"),
    ):
        uploaded = await rig.api.post(
            f"/api/v1/campaign-assets/campaign-spaces/{space_id}/assets",
            data={"asset_type": "image", "asset_name": name, "tags": tags},
            files={"file": (f"{name}.png", png(colour), "image/png")},
            headers=rig.headers,
        )
        assert uploaded.status_code == 201, uploaded.text

    page = await context.new_page()
    outside: list[str] = []
    # Whatever a page asks for, only this app answers (ReDoc's footer logo URL points at a
    # CDN: the docs' Content-Security-Policy refuses it before any network call).
    ours = (console_url, f"blob:{console_url}")  # a blob is made by the page itself
    page.on("response", lambda r: None if r.url.startswith(ours) else outside.append(r.url))
    page.on("requestfinished", lambda r: None if r.url.startswith(ours) else outside.append(r.url))
    await log_in(page, console_url, rig.headers, f"/console/plans/{accepted['id']}")
    await expect(page.locator("ul.tree")).to_contain_text(mapping["facebookCampaignId"])
    for ad_set in mapping["facebookAdSetIds"]:
        await expect(page.locator("ul.tree")).to_contain_text(ad_set)
    run = page.get_by_role("link", name=re.compile("Temporal Web UI"))
    assert (await run.get_attribute("href") or "").endswith(f"/workflows/{accepted['workflowId']}")
    await shot(page, "plan", tmp_path)

    await page.goto(f"{console_url}/console/assets?space={space_id}")
    await expect(page.locator("li.asset")).to_have_count(2)
    image = page.locator("li.asset", has_text="snow").locator("img")
    await expect(image).to_be_visible()
    loaded = await image.evaluate(
        """i => i.complete ? i.naturalWidth : new Promise(done => {
             i.onload = () => done(i.naturalWidth); i.onerror = () => done(-1); })"""
    )
    assert loaded == 256, "the thumbnail (256 px wide) loads through the console"
    await shot(page, "assets", tmp_path)
    await page.keyboard.press("/")
    await page.keyboard.type("snow")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile("search=snow"))
    await expect(page.locator("li.asset")).to_have_count(1)
    await page.locator("li.asset .tag", has_text="blue").click()
    await page.wait_for_url(re.compile("tags=blue"))
    await expect(page.locator("li.asset")).to_have_count(1)

    await page.goto(console_url + "/docs")
    await expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    await page.locator(
        "#operations-campaign-plans-submit_campaign_plan_api_v1_campaign_plans_post, .opblock-post"
    ).first.click()
    await shot(page, "api-docs", tmp_path, full_page=False)
    docs = await page.goto(console_url + "/redoc")
    assert docs is not None and "default-src 'self'" in docs.headers["content-security-policy"]
    await expect(page.locator("redoc, .redoc-wrap").first).to_be_attached()
    # ReDoc lays out the whole OpenAPI document in the browser before showing a tag: give it
    # longer than the default 5 s (it took more on a busy CI machine).
    await expect(page.get_by_text("campaign-plans").first).to_be_visible(timeout=30_000)
    assert outside == [], f"every file comes from the app: {outside}"


async def test_the_login_page(context: BrowserContext, console_url: str, tmp_path: Path) -> None:
    page = await context.new_page()
    await page.goto(console_url + "/console/inbox")
    await expect(page.get_by_label("API key")).to_be_focused()
    await page.fill("#api_key", "fd_wrong")
    await page.press("#api_key", "Enter")
    await expect(page.locator(".flash.error")).to_contain_text("not accepted")
    await shot(page, "login", tmp_path)


async def test_a_failed_sync_shows_its_reason_in_the_inbox_and_retries(
    rig: Rig, context: BrowserContext, console_url: str
) -> None:
    account = await rig.connect_reddit()
    created = await rig.create_set([campaign(i) for i in range(3)], account)
    # Reddit refuses campaign 1's ad group (a 400: not retried).
    await rig.faults(
        {"platform": "reddit", "method": "POST", "path": r"/ad_groups$",
         "bodyContains": "Summer Sale 1 group", "errorRate": 1.0, "status": 400}
    )  # fmt: skip
    job = await rig.sync(created["id"])
    assert (job["progress"]["synced"], job["progress"]["failed"]) == (2, 1), job

    page = await context.new_page()
    await log_in(page, console_url, rig.headers)
    card = page.locator(f'article[data-set-id="{created["id"]}"]')
    await expect(card).to_contain_text("1 of 3 campaigns failed")
    failed = created["campaigns"][1]["id"]
    await expect(card.locator("li", has_text=failed)).to_contain_text("400")

    await rig.faults()  # Reddit accepts it now
    await card.get_by_role("button", name="Retry sync").click()
    await expect(page.locator(".flash.ok")).to_contain_text("Sync started")
    handle = rig.client.get_workflow_handle(f"sync-set-{created['id']}")
    await handle.result()
    status = (
        await rig.api.get(f"/api/v1/campaign-sets/{created['id']}/sync-status", headers=rig.headers)
    ).json()
    progress = status["progress"]
    assert (progress["synced"], progress["failed"], progress["total"]) == (3, 0, 3), status
    await page.reload()
    await expect(page.locator(f'article[data-set-id="{created["id"]}"]')).to_have_count(0)


async def test_a_publish_is_followed_live_on_its_plan_page(
    rig: Rig, context: BrowserContext, console_url: str
) -> None:
    page = await context.new_page()
    await log_in(page, console_url, rig.headers, "/console/plans")
    # The ads wait 3 s on the relay, so the page opens while the run is part way.
    await rig.faults({"platform": "relay", "path": r"^/api/facebook/ads/create$",
                      "latencyMs": 3000})  # fmt: skip
    accepted = await rig.publish(make_plan())
    await page.add_init_script(watch("done"))
    await page.goto(f"{console_url}/console/plans/{accepted['id']}")
    box = page.locator(".progress-box")
    await expect(box).to_have_attribute("data-live", "1")  # the run was going: followed
    await expect(box).to_have_attribute("data-state", "complete", timeout=90_000)
    await expect(box.locator("[data-field=status]")).to_have_text("completed")
    total = await box.locator("[data-field=total]").inner_text()
    await expect(box.locator("[data-field=done]")).to_have_text(total)
    seen: list[list[str]] = await page.evaluate("window.__seen")
    done = [int(d) for d, _ in seen]
    assert done == sorted(done) and done[-1] == int(total), seen
    assert any(d < int(total) for d in done), f"the page showed the publish as it went: {seen}"
