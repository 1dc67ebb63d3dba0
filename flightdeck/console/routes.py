"""The console's pages and form actions (`/console`).

Every page reads, and every button acts, through the JSON API in-process as the logged-in user
(`api_client.Api`), so the console has the API's authorization and business rules and none of
its own. Forms are plain HTML POSTs (each with a CSRF token) answered by a 303 back to the page
with a one-line outcome; the little JavaScript there is (`static/console.js`) only adds live
progress and keyboard shortcuts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from flightdeck.console import charts
from flightdeck.console.api_client import Api, ApiFailure
from flightdeck.console.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    SESSION_SECONDS,
    csrf_token,
    csrf_valid,
    new_login_nonce,
    seal,
    unseal,
)
from flightdeck.domain.users import role_at_least
from flightdeck.settings import Settings

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TERMINAL = frozenset({"completed", "failed", "canceled", "cancelled", "terminated", "timed_out"})
PROGRESS_POLL_SECONDS = 0.5
PROGRESS_MAX_SECONDS = 3600.0
INBOX_SETS_CHECKED = 30
RESOLUTION_WAIT_SECONDS = 15.0
# Every console page: scripts, styles and images from this app only, forms only to it, never
# framed.
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """No valid session: the handler sends the browser to the login form."""

    def __init__(self, next_path: str = "/console") -> None:
        self.next_path = next_path


class CsrfRejected(Exception):
    """A form without a valid CSRF token."""


def seg(value: str) -> str:
    """One path segment for the JSON API (an id from the URL never escapes its segment)."""
    return quote(value, safe="")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/console") and "//" not in value and "\\" not in value:
        return value
    return "/console/inbox"


@dataclass
class Ctx:
    """One console request: the user (from `/api/v1/me`), their API and the CSRF token."""

    request: Request
    api: Api
    me: dict[str, Any]
    csrf: str

    def can(self, role: str) -> bool:
        return role_at_least(self.me["role"], role)  # type: ignore[arg-type]

    def render(self, template: str, **values: Any) -> HTMLResponse:
        settings = _settings(self.request)
        context = {
            "me": self.me,
            "csrf": self.csrf,
            "can": self.can,
            "ok": self.request.query_params.get("ok"),
            "error": self.request.query_params.get("error"),
            "path": self.request.url.path,
            "here": str(self.request.url.path)
            + (f"?{self.request.url.query}" if self.request.url.query else ""),
            "temporal_ui": settings.temporal_ui_url.rstrip("/"),
            "namespace": settings.temporal_namespace,
            **values,
        }
        return templates.TemplateResponse(self.request, template, context, headers=CONSOLE_HEADERS)


async def open_ctx(request: Request) -> Ctx:
    settings = _settings(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    session = unseal(settings, cookie)
    if session is None or cookie is None:
        # After logging in the browser GETs `next`: a form's target is no page to return to.
        raise LoginRequired(request.url.path if request.method == "GET" else "/console/inbox")
    api = Api(request.app, session.api_key)
    try:
        me = await api.get("/api/v1/me")
    except ApiFailure as exc:
        await api.aclose()
        if exc.status == 401:
            raise LoginRequired(
                request.url.path if request.method == "GET" else "/console/inbox"
            ) from None
        raise
    return Ctx(request, api, me, csrf_token(settings, cookie))


async def checked_form(request: Request) -> dict[str, str]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    if not csrf_valid(_settings(request), request.cookies.get(SESSION_COOKIE), values.get("csrf")):
        raise CsrfRejected()
    return values


def back(target: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    path = _safe_next(target).split("?", 1)[0]
    query = urlencode({k: v for k, v in (("ok", ok), ("error", error)) if v})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


# -- login ----------------------------------------------------------------------------------


@router.get("", response_class=RedirectResponse)
async def console_root() -> RedirectResponse:
    return RedirectResponse("/console/inbox", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, next: str | None = None, error: str | None = None
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or new_login_nonce()
    response = templates.TemplateResponse(
        request,
        "login.html",
        {
            "csrf": csrf_token(_settings(request), nonce),
            "next": _safe_next(next),
            "error": error,
            "me": None,
        },
        headers=CONSOLE_HEADERS,
    )
    response.set_cookie(
        LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=_secure(request),
        path="/console", max_age=3600,
    )  # fmt: skip
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    settings = _settings(request)
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    next_path = _safe_next(values.get("next"))
    if not csrf_valid(settings, request.cookies.get(LOGIN_COOKIE), values.get("csrf")):
        raise CsrfRejected()
    key = values.get("api_key", "").strip()
    if not key:
        return _login_again(next_path, "enter an API key")
    api = Api(request.app, key)
    try:
        await api.get("/api/v1/me")
    except ApiFailure as exc:
        return _login_again(
            next_path, "that API key was not accepted" if exc.status == 401 else exc.message
        )
    finally:
        await api.aclose()
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, seal(settings, key), httponly=True, samesite="strict",
        secure=_secure(request), path="/console", max_age=SESSION_SECONDS,
    )  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


def _login_again(next_path: str, error: str) -> RedirectResponse:
    return RedirectResponse(
        "/console/login?" + urlencode({"next": next_path, "error": error}), status_code=303
    )


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


# -- inbox ----------------------------------------------------------------------------------


async def _or_empty(coro: Any, errors: list[str], what: str) -> Any:
    try:
        return await coro
    except ApiFailure as exc:
        errors.append(f"{what}: {exc.message}")
        return {"items": []}


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request) -> Response:
    ctx = await open_ctx(request)
    try:
        problems: list[str] = []
        api = ctx.api
        conflicts, actions, alerts, plans, sets, meta = await asyncio.gather(
            _or_empty(api.get_all("/api/v1/conflicts", status="open"), problems, "conflicts"),
            _or_empty(
                api.get_all("/api/v1/actions", status="pending_approval"), problems, "actions"
            ),
            _or_empty(api.get_all("/api/v1/alerts", status="open"), problems, "alerts"),
            _or_empty(
                api.get("/api/v1/campaign-plans", status="failed", limit=20), problems, "plans"
            ),
            _or_empty(api.get_all("/api/v1/campaign-sets"), problems, "sets"),
            _or_empty(
                api.get("/api/v1/meta/campaigns", publishedStatus="error", limit=20),
                problems, "meta campaigns",
            ),
        )  # fmt: skip
        failed_plans = []
        for plan in plans["items"][:10]:
            mapping = await _or_empty(
                api.get(f"/api/v1/campaign-plans/{seg(plan['id'])}/mapping"), problems, "mapping"
            )
            failed_plans.append({"plan": plan, "errors": mapping.get("errors", [])})
        # A set is "synced" when only some of its campaigns failed: ask the newest sets (and
        # every set whose sync failed outright) for their campaigns' outcome.
        recent = sorted(sets["items"], key=lambda s: s["updatedAt"], reverse=True)
        candidates = [s for s in recent if s["syncStatus"] == "failed"]
        candidates += [s for s in recent[:INBOX_SETS_CHECKED] if s not in candidates]
        statuses = await asyncio.gather(
            *(
                _or_empty(
                    api.get(f"/api/v1/campaign-sets/{seg(item['id'])}/sync-status"),
                    problems, "sync",
                )
                for item in candidates
            )
        )  # fmt: skip
        failed_sets = [
            {"set": item, "status": status}
            for item, status in zip(candidates, statuses, strict=True)
            if item["syncStatus"] == "failed" or status.get("progress", {}).get("failed")
        ]
        failed_meta = await asyncio.gather(
            *(
                _or_empty(api.get(f"/api/v1/meta/campaigns/{seg(c['id'])}"), problems, "meta")
                for c in meta["items"][:10]
            )
        )
        all_alerts = alerts["items"]
        rejected = [a for a in all_alerts if a["alertType"] == "meta_ad_rejected"]
        others = [a for a in all_alerts if a["alertType"] != "meta_ad_rejected"]
        conflict_items = sorted(conflicts["items"], key=lambda c: c["detectedAt"], reverse=True)
        action_items = sorted(actions["items"], key=lambda a: a["createdAt"], reverse=True)
        return ctx.render(
            "inbox.html",
            conflicts=conflict_items,
            actions=action_items,
            alerts=others,
            rejected=rejected,
            failed_plans=failed_plans,
            failed_sets=failed_sets,
            failed_meta=[c for c in failed_meta if c.get("id")],
            problems=problems,
        )
    finally:
        await ctx.api.aclose()


async def _act(request: Request, path: str, body: Any, done: str) -> Response:
    form = await checked_form(request)
    ctx = await open_ctx(request)
    try:
        await ctx.api.post(path, json=body)
    except ApiFailure as exc:
        return back(form.get("next", ""), error=f"{exc.error}: {exc.message}")
    finally:
        await ctx.api.aclose()
    return back(form.get("next", ""), ok=done)


@router.post("/conflicts/{conflict_id}/resolve")
async def resolve_conflict(request: Request, conflict_id: str) -> Response:
    """The API accepts a resolution at once (its validator has checked it) and applies it in
    the background; the console follows that job for a few seconds so one click shows the
    outcome — or says it is still being applied."""
    form = await checked_form(request)
    resolution = form.get("resolution", "")
    words = {"use_local": "kept the local value", "use_platform": "took the platform's value"}
    ctx = await open_ctx(request)
    try:
        accepted = await ctx.api.post(
            f"/api/v1/conflicts/{seg(conflict_id)}/resolve", json={"resolution": resolution}
        )
        job = await _follow(ctx.api, accepted["jobId"], RESOLUTION_WAIT_SECONDS)
    except ApiFailure as exc:
        return back(form.get("next", ""), error=f"{exc.error}: {exc.message}")
    finally:
        await ctx.api.aclose()
    if job.get("status") == "completed":
        return back(form.get("next", ""), ok=f"Conflict resolved: {words.get(resolution, '')}.")
    if job.get("status") == "failed":
        return back(form.get("next", ""), error=f"The resolution failed: {job.get('error')}")
    return back(form.get("next", ""), ok="Resolution accepted; it is being applied.")


async def _follow(api: Api, job_id: str, seconds: float) -> dict[str, Any]:
    """GET /jobs/{id} until it ends or `seconds` pass; its last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        job: dict[str, Any] = await api.get(f"/api/v1/jobs/{seg(job_id)}")
        if job.get("status") in TERMINAL or loop.time() >= deadline:
            return job
        await asyncio.sleep(0.2)


@router.post("/actions/{action_id}/{decision}")
async def decide_action(request: Request, action_id: str, decision: str) -> Response:
    if decision not in ("approve", "reject"):
        return Response(status_code=404)
    form = await checked_form(request)
    body = {"reason": form["reason"]} if form.get("reason") and decision == "reject" else None
    done = "Action approved and applied." if decision == "approve" else "Action rejected."
    return await _act(request, f"/api/v1/actions/{seg(action_id)}/{decision}", body, done)


@router.post("/alerts/{alert_id}/{step}")
async def alert_step(request: Request, alert_id: str, step: str) -> Response:
    if step not in ("acknowledge", "resolve"):
        return Response(status_code=404)
    done = "Alert acknowledged." if step == "acknowledge" else "Alert resolved."
    return await _act(request, f"/api/v1/alerts/{seg(alert_id)}/{step}", None, done)


@router.post("/sets/{set_id}/sync")
async def sync_set(request: Request, set_id: str) -> Response:
    return await _act(request, f"/api/v1/campaign-sets/{seg(set_id)}/sync", None, "Sync started.")


@router.post("/meta/{campaign_id}/publish")
async def publish_meta(request: Request, campaign_id: str) -> Response:
    return await _act(
        request,
        f"/api/v1/meta/campaigns/{seg(campaign_id)}/publish",
        None,
        "Publishing again: it continues where it stopped.",
    )


# -- plans and sets -------------------------------------------------------------------------


@router.get("/plans", response_class=HTMLResponse)
async def plans(
    request: Request, status: str | None = None, hookSetId: str | None = None,  # noqa: N803
    cursor: str | None = None, setStatus: str | None = None,  # noqa: N803
) -> Response:  # fmt: skip
    ctx = await open_ctx(request)
    try:
        problems: list[str] = []
        page = await _or_empty(
            ctx.api.get(
                "/api/v1/campaign-plans", status=status, hookSetId=hookSetId, cursor=cursor
            ),
            problems,
            "plans",
        )
        sets = await _or_empty(
            ctx.api.get("/api/v1/campaign-sets", status=setStatus, limit=100), problems, "sets"
        )
        return ctx.render(
            "plans.html",
            plans=page["items"],
            next_cursor=page.get("nextCursor"),
            sets=sets["items"],
            status=status or "",
            hook_set_id=hookSetId or "",
            set_status=setStatus or "",
            problems=problems,
        )
    finally:
        await ctx.api.aclose()


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
async def plan_detail(request: Request, plan_id: str) -> Response:
    ctx = await open_ctx(request)
    try:
        try:
            plan = await ctx.api.get(f"/api/v1/campaign-plans/{seg(plan_id)}")
        except ApiFailure as exc:
            return _not_found(ctx, exc)
        problems: list[str] = []
        mapping = await _or_empty(
            ctx.api.get(f"/api/v1/campaign-plans/{seg(plan_id)}/mapping"), problems, "mapping"
        )
        job = await _or_empty(
            ctx.api.get(f"/api/v1/jobs/{seg(plan['workflowId'])}"), problems, "job"
        )
        return ctx.render(
            "plan.html", plan=plan, mapping=mapping, job=job, problems=problems,
            running=job.get("status") not in TERMINAL and bool(job.get("status")),
        )  # fmt: skip
    finally:
        await ctx.api.aclose()


@router.get("/sets", response_class=HTMLResponse)
async def sets_list(request: Request, status: str | None = None) -> Response:
    query = f"?setStatus={quote(status)}" if status else ""
    return RedirectResponse(f"/console/plans{query}#sets", status_code=303)


@router.get("/sets/{set_id}", response_class=HTMLResponse)
async def set_detail(request: Request, set_id: str) -> Response:
    ctx = await open_ctx(request)
    try:
        try:
            campaign_set = await ctx.api.get(f"/api/v1/campaign-sets/{seg(set_id)}")
        except ApiFailure as exc:
            return _not_found(ctx, exc)
        problems: list[str] = []
        status = await _or_empty(
            ctx.api.get(f"/api/v1/campaign-sets/{seg(set_id)}/sync-status"), problems, "sync"
        )
        job: dict[str, Any] = {}
        if status.get("jobId"):
            try:
                job = await ctx.api.get(f"/api/v1/jobs/{seg(status['jobId'])}")
            except ApiFailure:
                job = {}  # never synced: no job yet
        return ctx.render(
            "set.html", set=campaign_set, sync=status, job=job, problems=problems,
            running=job.get("status") == "running" or status.get("status") == "syncing",
        )  # fmt: skip
    finally:
        await ctx.api.aclose()


def _not_found(ctx: Ctx, exc: ApiFailure) -> HTMLResponse:
    response = ctx.render("error.html", title=f"{exc.status} {exc.error}", message=exc.message)
    response.status_code = exc.status
    return response


async def _progress_events(
    request: Request, job_path: str, extra: str | None
) -> AsyncIterator[str]:
    """SSE from the JSON API's job (and, for sets, sync-status) polled in-process: `progress`
    whenever what it says changes, `complete` once the run ended. Any API process serves it."""
    ctx = await open_ctx(request)
    last: str | None = None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROGRESS_MAX_SECONDS
    try:
        while loop.time() < deadline and not await request.is_disconnected():
            try:
                job = await ctx.api.get(job_path)
            except ApiFailure as exc:
                if exc.status != 404:
                    raise
                job = {"status": "none"}  # no run yet (a set never synced)
            payload = {"job": job}
            if extra:
                try:
                    payload["sync"] = await ctx.api.get(extra)
                except ApiFailure:
                    pass
            text = json.dumps(payload, default=str)
            if text != last:
                last = text
                yield f"event: progress\ndata: {text}\n\n"
            sync_state = payload.get("sync", {}).get("status") if extra else None
            ended = job.get("status") in TERMINAL or job.get("status") == "none"
            if ended and sync_state != "syncing":
                yield f"event: complete\ndata: {text}\n\n"
                return
            await asyncio.sleep(PROGRESS_POLL_SECONDS)
    finally:
        await ctx.api.aclose()


def _sse(events: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/sets/{set_id}/progress")
async def set_progress(request: Request, set_id: str) -> Response:
    await (await open_ctx(request)).api.aclose()  # a 303 to the login form before streaming
    return _sse(
        _progress_events(
            request,
            f"/api/v1/jobs/sync-set-{seg(set_id)}",
            f"/api/v1/campaign-sets/{seg(set_id)}/sync-status",
        )
    )


@router.get("/plans/{plan_id}/progress")
async def plan_progress(request: Request, plan_id: str) -> Response:
    ctx = await open_ctx(request)
    try:
        plan = await ctx.api.get(f"/api/v1/campaign-plans/{seg(plan_id)}")
    except ApiFailure as exc:
        return Response(status_code=exc.status)
    finally:
        await ctx.api.aclose()
    return _sse(_progress_events(request, f"/api/v1/jobs/{seg(plan['workflowId'])}", None))


# -- performance ----------------------------------------------------------------------------


def _window(days: int | None, since: str | None, until: str | None) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    try:
        end = date.fromisoformat(until) if until else today
        start = date.fromisoformat(since) if since else end - timedelta(days=(days or 14) - 1)
    except ValueError:
        end, start = today, today - timedelta(days=13)
    if start > end:
        start, end = end, start
    return start, end


def _num(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


@router.get("/performance", response_class=HTMLResponse)
async def performance(
    request: Request, days: int | None = None, since: str | None = None,
    until: str | None = None, platform: str | None = None,
) -> Response:  # fmt: skip
    ctx = await open_ctx(request)
    try:
        start, end = _window(days, since, until)
        problems: list[str] = []
        window = {"since": start.isoformat(), "until": end.isoformat()}
        platforms, campaigns, alerts = await asyncio.gather(
            _or_empty(
                ctx.api.get_all("/api/v1/metrics/platforms", **window), problems, "platforms"
            ),
            _or_empty(
                ctx.api.get(
                    "/api/v1/metrics/performance", **window, platform=platform, sort="spend",
                    order="desc", limit=50,
                ),
                problems, "campaigns",
            ),
            _or_empty(ctx.api.get_all("/api/v1/alerts", status="all"), problems, "alerts"),
        )  # fmt: skip
        top = [c["campaignId"] for c in campaigns["items"][:6]]
        series: dict[str, Any] = {"items": []}
        if top:
            series = await _or_empty(
                ctx.api.get("/api/v1/metrics/series", campaignId=top, **window), problems, "series"
            )
        alert_days: dict[str, list[charts.Marker]] = {}
        for alert in alerts["items"]:
            if alert.get("campaignId"):
                when = datetime.fromisoformat(alert["createdAt"]).date()
                label = f"{alert['alertType']} ({alert['severity']}): {alert['message']}"
                alert_days.setdefault(alert["campaignId"], []).append(charts.Marker(when, label))
        totals_spend: dict[date, float] = {}
        totals_revenue: dict[date, float] = {}
        rendered = []
        for item in series["items"]:
            spend = {date.fromisoformat(d["day"]): _num(d["spend"]) for d in item["days"]}
            revenue = {date.fromisoformat(d["day"]): _num(d["revenue"]) for d in item["days"]}
            for day, value in spend.items():
                totals_spend[day] = totals_spend.get(day, 0.0) + value
            for day, value in revenue.items():
                totals_revenue[day] = totals_revenue.get(day, 0.0) + value
            markers = alert_days.get(item["campaignId"], [])
            chart = charts.Chart(
                title=f"{item.get('name') or item['campaignId']} · {item['platform']} · daily "
                f"spend and revenue ({item.get('currency') or ''})",
                since=start, until=end, markers=markers,
                lines=[charts.Line("spend", spend), charts.Line("revenue", revenue)],
            )  # fmt: skip
            rendered.append(
                {"item": item, "svg": Markup(charts.render(chart)), "alerts": len(markers)}
            )
        total_chart = None
        if series["items"]:
            total_chart = Markup(
                charts.render(
                    charts.Chart(
                        title="Top campaigns together · daily spend and revenue",
                        since=start, until=end,
                        markers=[m for ms in alert_days.values() for m in ms],
                        lines=[
                            charts.Line("spend", totals_spend),
                            charts.Line("revenue", totals_revenue),
                        ],
                    )
                )
            )  # fmt: skip
        return ctx.render(
            "performance.html", since=start, until=end, platform=platform or "",
            platforms=platforms["items"], campaigns=campaigns["items"], charts=rendered,
            total_chart=total_chart, problems=problems,
            flagged={c for c in alert_days},
            platform_choices=sorted(
                {"meta", "reddit", *(p["platform"] for p in platforms["items"])}
                | ({platform} if platform else set())
            ),
        )  # fmt: skip
    finally:
        await ctx.api.aclose()


# -- assets ---------------------------------------------------------------------------------


@router.get("/assets", response_class=HTMLResponse)
async def assets(
    request: Request, space: str | None = None, search: str | None = None,
    tags: str | None = None,
) -> Response:  # fmt: skip
    ctx = await open_ctx(request)
    try:
        problems: list[str] = []
        spaces = await _or_empty(
            ctx.api.get("/api/v1/campaign-spaces", limit=100), problems, "spaces"
        )
        path = (
            f"/api/v1/campaign-assets/campaign-spaces/{seg(space)}/assets"
            if space
            else "/api/v1/campaign-assets/assets"
        )
        found = await _or_empty(
            ctx.api.get(path, search=search, tags=tags, limit=60), problems, "assets"
        )
        return ctx.render(
            "assets.html", spaces=spaces["items"], assets=found["items"],
            total=found.get("total", len(found["items"])), space=space or "",
            search=search or "", tags=tags or "", problems=problems,
        )  # fmt: skip
    finally:
        await ctx.api.aclose()


@router.get("/assets/{asset_id}/thumbnail")
async def asset_thumbnail(request: Request, asset_id: str) -> Response:
    ctx = await open_ctx(request)
    try:
        answer = await ctx.api.request("GET", f"/api/v1/campaign-assets/{seg(asset_id)}/thumbnail")
    finally:
        await ctx.api.aclose()
    if answer.status_code != 200:
        return Response(status_code=answer.status_code)
    return Response(
        answer.content,
        media_type=answer.headers.get("content-type", "image/jpeg"),
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
