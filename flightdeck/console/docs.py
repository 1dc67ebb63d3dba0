"""API docs that work offline: `/docs` (Swagger UI) and `/redoc` (ReDoc) load their JavaScript
and CSS from the `fastapi-offline` package's bundled copies, served by this app under
`/docs-static` — no CDN — and the OpenAPI document carries request/response examples for the
main endpoints (`docs_examples.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute, Route

from flightdeck.console.docs_examples import add_examples

DOCS_STATIC = "/docs-static"
# Nothing but this app: Swagger UI and ReDoc run inline bootstrap scripts and styles, ReDoc a
# worker from a blob; its footer's logo (a CDN image) is refused and hidden.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:; "
    "frame-ancestors 'none'"
)
HIDE_CDN_LOGO = '<style>a[href*="redocly"] img, a[href*="redoc.ly"] img {display:none}</style>'


def _offline(page: HTMLResponse) -> HTMLResponse:
    html = bytes(page.body).decode().replace("</head>", f"{HIDE_CDN_LOGO}</head>", 1)
    return HTMLResponse(html, headers={"Content-Security-Policy": DOCS_CSP})


def bundle_dir() -> Path:
    """Where the installed `fastapi_offline` package keeps Swagger UI's and ReDoc's files."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


def _is_default_docs(route: BaseRoute, app: FastAPI) -> bool:
    paths = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    return isinstance(route, Route) and route.path in paths


def install_docs(app: FastAPI) -> None:
    # FastAPI registered /docs and /redoc pointing at a CDN when the app was made: replace them.
    app.router.routes[:] = [r for r in app.router.routes if not _is_default_docs(r, app)]
    app.mount(DOCS_STATIC, StaticFiles(directory=bundle_dir()), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _offline(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{title} — API docs",
                oauth2_redirect_url="/docs/oauth2-redirect",
                swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
                swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
                swagger_favicon_url=f"{DOCS_STATIC}/favicon.png",
            )
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _offline(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{title} — API reference",
                redoc_js_url=f"{DOCS_STATIC}/redoc.standalone.js",
                redoc_favicon_url=f"{DOCS_STATIC}/favicon.png",
                with_google_fonts=False,
            )
        )

    generate = app.openapi

    def openapi_with_examples() -> dict[str, Any]:
        if app.openapi_schema is None:
            add_examples(generate())
        schema: dict[str, Any] = app.openapi_schema or generate()
        return schema

    app.openapi = openapi_with_examples  # type: ignore[method-assign]
