"""/docs and /redoc work offline: their JavaScript and CSS come from this app, never a CDN, and
the OpenAPI document carries examples that match the routes' own schemas."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jsonschema

from flightdeck.console.docs_examples import examples


async def test_docs_pages_load_everything_from_this_app(api: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await api.get(page)).text
        urls = re.findall(r'(?:src|href)="([^"]+)"|url: *[\'"]([^\'"]+)', html)
        loaded = [a or b for a, b in urls]
        assert loaded, page
        for url in loaded:
            assert url.startswith("/"), f"{page} loads {url} from elsewhere"
        assert "cdn" not in html.lower() and "fonts.googleapis" not in html
        for url in loaded:
            answer = await api.get(url)
            assert answer.status_code == 200, url
            assert len(answer.content) > 0
    js = await api.get("/docs-static/swagger-ui-bundle.js")
    assert "javascript" in js.headers["content-type"] and len(js.content) > 100_000
    redoc = await api.get("/docs-static/redoc.standalone.js")
    assert len(redoc.content) > 100_000


def _schema(document: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    return {**media["schema"], "components": document["components"]}


async def test_the_main_endpoints_have_examples_that_match_their_schemas(
    api: httpx.AsyncClient,
) -> None:
    document = (await api.get("/openapi.json")).json()
    wanted = examples()
    for path in ("/api/v1/campaign-plans", "/api/v1/conflicts", "/api/v1/actions"):
        assert ("get", path) in wanted
    checked = 0
    for (method, path), example in wanted.items():
        operation = document["paths"][path][method]
        if "request" in example:
            media = operation["requestBody"]["content"]["application/json"]
            assert media["example"] == example["request"]
            jsonschema.validate(media["example"], _schema(document, media))
            checked += 1
        for status, body in example.get("responses", {}).items():
            media = operation["responses"][status]["content"]["application/json"]
            assert media["example"] == body
            if "schema" in media:
                jsonschema.validate(body, _schema(document, media))
                checked += 1
    assert checked >= 20
