"""The console talks to the JSON API in-process, as the logged-in user.

Every read and every action of the console is a request to the same `/api/v1` route a `curl`
would call, through an ASGI transport into this very app, with the session's API key as its
`Authorization: Bearer`: the same authentication, roles (`api/deps.py`), validation, business
logic and error mapping, and nothing the console could get wrong on its own.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

INTERNAL_BASE = "http://flightdeck.console"


class ApiFailure(Exception):
    """A non-2xx answer of the JSON API, with its `{error, detail}`."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        error = body.get("error") if isinstance(body, dict) else None
        detail = body.get("detail") if isinstance(body, dict) else body
        self.error = str(error or f"http_{status}")
        self.message = describe(detail) or self.error
        super().__init__(f"{status} {self.error}: {self.message}")


def describe(detail: Any) -> str:
    """The API's `detail` as one line for a person."""
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "field" in item:
                parts.append(f"{item['field']}: {item.get('message', '')}")
            else:
                parts.append(describe(item))
        return "; ".join(parts)
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {describe(v)}" for k, v in detail.items())
    return "" if detail is None else str(detail)


PAGE_SIZE = 200  # the API's largest page
MAX_ROWS = 2000  # a page of the console shows no more rows than this from one list


class Api:
    """The JSON API as the user whose key the session holds."""

    def __init__(self, app: FastAPI, api_key: str) -> None:
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=INTERNAL_BASE,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=60.0,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._client.request(method, path, **kwargs)

    async def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        return self._checked(await self._client.get(path, params=clean))

    async def get_all(self, path: str, **params: Any) -> Any:
        """A list endpoint's rows across its pages (following `nextCursor`), at most
        `MAX_ROWS`: `{"items": [...], "nextCursor": null}` (or the cursor where it stopped)."""
        items: list[Any] = []
        page: dict[str, Any] = {"nextCursor": None}
        cursor = None
        while len(items) < MAX_ROWS:
            size = min(PAGE_SIZE, MAX_ROWS - len(items))
            page = await self.get(path, **params, limit=size, cursor=cursor)
            items += page["items"]
            cursor = page.get("nextCursor")
            if not cursor:
                break
        return {**page, "items": items, "nextCursor": cursor}

    async def post(self, path: str, json: Any = None) -> Any:
        return self._checked(await self._client.post(path, json=json))

    @staticmethod
    def _checked(response: httpx.Response) -> Any:
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            raise ApiFailure(response.status_code, body)
        return body
