"""Bad input never reaches Postgres or Temporal: NUL characters anywhere and oversized JSON
bodies are refused up front with a 4xx that names the field, and nothing is stored."""

from __future__ import annotations

import httpx

SETS = "/api/v1/campaign-sets"
PLANS = "/api/v1/campaign-plans"


async def test_a_nul_character_in_a_json_field_is_a_422_naming_it(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = {"name": "ok", "campaigns": [{"name": "c\u0000", "objective": "CLICKS"}]}
    refused = await api.post(SETS, json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == [
        {"field": "campaigns.0.name", "message": "must not contain NUL characters"}
    ]
    plan = {"requestId": "r", "brand": "B\u0000"}
    refused = await api.post(PLANS, json=plan, headers=headers)
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "brand"
    assert (await api.get(SETS, headers=headers)).json()["items"] == []


async def test_a_nul_character_in_a_query_parameter_or_path_is_a_422(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    refused = await api.get(f"{PLANS}?hookSetId=a%00b", headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "hookSetId"
    refused = await api.get(f"{PLANS}/abc%00", headers=headers)
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "path"


async def test_an_oversized_json_body_is_a_413_before_it_is_read(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    huge = {"name": "big", "description": "x" * 2_000_000}
    refused = await api.post(SETS, json=huge, headers=headers)
    assert refused.status_code == 413 and refused.json()["error"] == "payload_too_large"

    async def chunks() -> object:  # no Content-Length: counted while it streams
        for _ in range(40):
            yield b" " * 65_536

    streamed = await api.post(
        SETS, content=chunks(), headers={**headers, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert (await api.get(SETS, headers=headers)).json()["items"] == []


async def test_an_escaped_backslash_before_u0000_is_not_a_nul(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await api.post(SETS, json={"name": "path\\u0000-not-a-nul"}, headers=headers)
    assert created.status_code == 201, created.text
