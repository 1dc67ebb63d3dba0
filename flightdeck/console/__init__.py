"""The operator's web console (`/console`) and the offline API docs (`/docs`, `/redoc`).

`install(app)` is the one call the app factory makes: it adds the console's pages, its static
files (CSS, a little JavaScript, and Swagger UI / ReDoc's bundles — all from this package,
nothing from a CDN) and replaces FastAPI's CDN-backed docs pages with ones served from here.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from flightdeck.console.docs import install_docs
from flightdeck.console.routes import CsrfRejected, LoginRequired, router

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    install_docs(app)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if request.headers.get("accept", "").startswith("text/event-stream"):
            return Response(status_code=401)
        target = "/console/login?" + urlencode({"next": exc.next_path})
        return RedirectResponse(target, status_code=303)

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        return HTMLResponse(
            "<!doctype html><title>Refused</title><p>This form was not sent from a page of "
            'this console (its CSRF token is missing or wrong). <a href="/console/inbox">'
            "Back to the console</a>.</p>",
            status_code=403,
        )

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
