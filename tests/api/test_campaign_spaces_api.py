"""`/api/v1/campaign-spaces` (seed 003): the nine space endpoints, every list filter, ranked
full-text search, keyset pages with a total, validation naming the field, and tenant
isolation on each endpoint."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

BASE = "/api/v1/campaign-spaces"


def space(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "campaignName": f"Space {uuid.uuid4().hex[:6]}",
        "platform": "reddit",
        "brandId": "brand-1",
        "tags": ["summer"],
    }
    return body | overrides


async def create(api: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> Any:
    response = await api.post(BASE, json=space(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def fields(response: httpx.Response) -> list[str]:
    return [d["field"] for d in response.json()["detail"]]


async def test_create_and_read_back(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    created = await create(
        api,
        headers,
        description="Hero banners",
        budget=5000,
        currency="USD",
        targetAudience={"age": [25, 45]},
        campaignObjective="conversion",
        externalCampaignId="c-1",
    )
    assert created["platform"] == "reddit"
    assert created["assetCount"] == 0 and created["totalAssetSizeBytes"] == 0
    assert created["isActive"] is True and created["isTemplate"] is False
    assert created["importSource"] == "manual_upload"
    me = (await api.get("/api/v1/me", headers=headers)).json()
    assert created["userId"] == me["userId"]
    got = await api.get(f"{BASE}/{created['id']}", headers=headers)
    assert got.status_code == 200
    assert got.json() == created


async def test_seed_style_snake_case_body_is_accepted(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    body = {
        "campaign_name": "Summer Sale 2024",
        "platform": "google_ads",
        "import_source": "manual_upload",
        "brand_id": "brand789",
        "campaign_objective": "conversion",
        "budget": 5000.00,
        "currency": "USD",
        "is_active": True,
        "tags": ["summer", "sale", "2024"],
    }
    response = await api.post(BASE, json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["campaignName"] == "Summer Sale 2024"
    assert response.json()["budget"] == 5000


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"platform": "myspace"}, "platform"),
        ({"campaignName": ""}, "campaignName"),
        ({"campaignName": "bad\x07name"}, "campaignName"),
        ({"targetAudience": {"a": {"b": "nul\x00"}}}, "targetAudience"),
        ({"currency": "usd"}, "currency"),
        ({"budget": -1}, "budget"),
        ({"tags": ["ok", "x" * 101]}, "tags"),
        ({"startDate": "2026-07-02T00:00:00Z", "endDate": "2026-07-01T00:00:00Z"}, ""),
        ({"startDate": "2026-07-02T00:00:00"}, "startDate"),
        ({"importSource": "fax"}, "importSource"),
        ({"adAccountId": str(uuid.uuid4())}, "adAccountId"),
        ({"surprise": 1}, "surprise"),
    ],
)
async def test_bad_input_names_the_field(
    api: httpx.AsyncClient, headers: dict[str, str], overrides: dict[str, Any], field: str
) -> None:
    response = await api.post(BASE, json=space(**overrides), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert any(f == field or f.startswith(field) for f in fields(response)), response.text


async def test_filters(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    a = await create(api, headers, platform="reddit", brandId="b1", tags=["x", "y"], category="c1")
    b = await create(api, headers, platform="meta", brandId="b2", tags=["x"], category="c2")
    c = await create(
        api, headers, platform="meta", brandId="b1", tags=["y"], isActive=False, isArchived=True
    )
    d = await create(api, headers, platform="tiktok", isTemplate=True)

    async def ids(**params: Any) -> set[str]:
        response = await api.get(BASE, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return {item["id"] for item in body["items"]}

    assert await ids() == {a["id"], b["id"], c["id"], d["id"]}
    assert await ids(platform="meta") == {b["id"], c["id"]}
    assert await ids(brandId="b1") == {a["id"], c["id"]}
    assert await ids(tags="x,y") == {a["id"]}  # AND
    assert await ids(tags=["x", "y"]) == {a["id"]}  # repeated form, same meaning
    assert await ids(tags="x") == {a["id"], b["id"]}
    assert await ids(category="c2") == {b["id"]}
    assert await ids(isActive="false") == {c["id"]}
    assert await ids(isArchived="true") == {c["id"]}
    assert await ids(isTemplate="true") == {d["id"]}
    assert await ids(platform="meta", brandId="b1") == {c["id"]}
    bad = await api.get(BASE, params={"platform": "myspace"}, headers=headers)
    assert bad.status_code == 422 and fields(bad) == ["platform"]


async def test_search_is_ranked_full_text(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    in_name = await create(api, headers, campaignName="Winter running shoes")
    in_text = await create(
        api,
        headers,
        campaignName="Spring line",
        description="Shoes for the trail, for anyone who runs",
    )
    await create(api, headers, campaignName="Sunglasses", description="Beach")

    async def search(q: str) -> list[str]:
        response = await api.get(BASE, params={"search": q}, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    # The name match ranks first (weight A over B); stemming: "shoe" finds "shoes".
    assert await search("shoe") == [in_name["id"], in_text["id"]]
    assert await search("run") == [in_name["id"], in_text["id"]]  # running, runs
    # Full text, not a substring match: "sun" is not a word of "Sunglasses".
    assert await search("sun") == []
    assert await search('"trail" -winter') == [in_text["id"]]  # web-search syntax
    nul = await api.get(BASE, params={"search": "a\x00b"}, headers=headers)
    assert nul.status_code == 422 and fields(nul) == ["search"]


async def test_pagination_edges(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    made = [await create(api, headers, campaignName=f"Paged shoes {i}") for i in range(5)]
    newest_first = [m["id"] for m in reversed(made)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.get(BASE, params=params, headers=headers)).json()
        assert page["total"] == 5 and page["limit"] == 2
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == newest_first and pages == 3
    exact = (await api.get(BASE, params={"limit": 5}, headers=headers)).json()
    assert len(exact["items"]) == 5 and exact["nextCursor"] is None
    # Ranked pages (search) page by rank, then age, without repeats.
    ranked: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "search": "shoes"} | ({"cursor": cursor} if cursor else {})
        page = (await api.get(BASE, params=params, headers=headers)).json()
        ranked += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(ranked) == sorted(newest_first) and len(ranked) == 5
    for params in ({"limit": 0}, {"limit": 201}, {"cursor": "not-a-cursor"}):
        response = await api.get(BASE, params=params, headers=headers)
        assert response.status_code == 422, params
        assert fields(response) == [next(iter(params))]
    # A plain cursor is not a ranked one.
    plain = (await api.get(BASE, params={"limit": 1}, headers=headers)).json()["nextCursor"]
    mixed = await api.get(BASE, params={"cursor": plain, "search": "x"}, headers=headers)
    assert mixed.status_code == 422 and fields(mixed) == ["cursor"]


async def test_update_changes_only_given_fields(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    created = await create(api, headers, description="before", category="c")
    url = f"{BASE}/{created['id']}"
    response = await api.put(
        url, json={"description": "after", "tags": ["a", "a", "b"]}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["description"] == "after" and body["tags"] == ["a", "b"]
    assert body["category"] == "c" and body["campaignName"] == created["campaignName"]
    cleared = await api.put(url, json={"category": None}, headers=headers)
    assert cleared.json()["category"] is None
    refused = await api.put(url, json={"campaignName": None}, headers=headers)
    assert refused.status_code == 422 and fields(refused) == ["campaignName"]
    found = (await api.get(BASE, params={"search": "after"}, headers=headers)).json()["items"]
    assert [s["id"] for s in found] == []  # "after" is an English stop word
    renamed = await api.put(url, json={"campaignName": "Autumn gala"}, headers=headers)
    assert renamed.status_code == 200
    found = (await api.get(BASE, params={"search": "gala"}, headers=headers)).json()["items"]
    assert [s["id"] for s in found] == [created["id"]]  # the search vector follows edits


async def test_soft_and_hard_delete(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    soft = await create(api, headers)
    hard = await create(api, headers)
    assert (await api.delete(f"{BASE}/{soft['id']}", headers=headers)).status_code == 204
    assert (await api.get(f"{BASE}/{soft['id']}", headers=headers)).status_code == 404
    assert (await api.delete(f"{BASE}/{soft['id']}", headers=headers)).status_code == 404
    listed = {s["id"] for s in (await api.get(BASE, headers=headers)).json()["items"]}
    assert soft["id"] not in listed and hard["id"] in listed
    gone = await api.delete(f"{BASE}/{hard['id']}", params={"hard": "true"}, headers=headers)
    assert gone.status_code == 204
    assert (await api.get(f"{BASE}/{hard['id']}", headers=headers)).status_code == 404
    # A soft-deleted space can still be removed for good; then it is gone entirely.
    purge = await api.delete(f"{BASE}/{soft['id']}", params={"hard": "true"}, headers=headers)
    assert purge.status_code == 204
    again = await api.delete(f"{BASE}/{soft['id']}", params={"hard": "true"}, headers=headers)
    assert again.status_code == 404


async def test_templates(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    plain = await create(api, headers, platform="meta")
    await create(api, headers)
    marked = await api.post(
        f"{BASE}/{plain['id']}/mark-as-template",
        json={"templateMetadata": {"layout": "hero"}},
        headers=headers,
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["isTemplate"] is True
    assert marked.json()["templateMetadata"] == {"layout": "hero"}
    again = await api.post(f"{BASE}/{plain['id']}/mark-as-template", headers=headers)
    assert again.status_code == 200 and again.json()["templateMetadata"] == {"layout": "hero"}
    templates = (await api.get(f"{BASE}/templates", headers=headers)).json()
    assert [t["id"] for t in templates["items"]] == [plain["id"]] and templates["total"] == 1
    filtered = await api.get(f"{BASE}/templates", params={"platform": "reddit"}, headers=headers)
    assert filtered.json()["items"] == []


async def test_performance(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    created = await create(api, headers)
    url = f"{BASE}/{created['id']}/update-performance"
    figures = {
        "totalImpressions": 10_000,
        "totalClicks": 250,
        "totalSpend": 125.5,
        "totalConversions": 10,
        "totalRevenue": 502,
        "asOf": "2026-11-01T00:00:00Z",
    }
    response = await api.post(url, json=figures, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ctr"] == 0.025 and body["roas"] == 4
    assert body["performanceSource"] == "manual"
    partial = await api.post(
        url, json={"totalClicks": 500, "asOf": "2026-11-02T00:00:00Z"}, headers=headers
    )
    assert partial.json()["ctr"] == 0.05 and partial.json()["totalImpressions"] == 10_000
    stale = await api.post(
        url, json={"totalClicks": 1, "asOf": "2026-10-01T00:00:00Z"}, headers=headers
    )
    assert stale.status_code == 409 and stale.json()["error"] == "stale_performance"
    negative = await api.post(url, json={"totalClicks": -1}, headers=headers)
    assert negative.status_code == 422 and fields(negative) == ["totalClicks"]
    zero = await create(api, headers)
    no_spend = await api.post(
        f"{BASE}/{zero['id']}/update-performance", json={"totalRevenue": 5}, headers=headers
    )
    assert no_spend.json()["roas"] is None and no_spend.json()["ctr"] is None
    stats = (await api.get(f"{BASE}/{created['id']}/stats", headers=headers)).json()
    assert stats["totalClicks"] == 500 and stats["ctr"] == 0.05 and stats["assetCount"] == 0


async def test_every_endpoint_is_tenant_isolated(
    api: httpx.AsyncClient, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    mine = await create(api, headers, isTemplate=True)
    url = f"{BASE}/{mine['id']}"
    calls = [
        api.get(url, headers=other_headers),
        api.put(url, json={"description": "x"}, headers=other_headers),
        api.delete(url, headers=other_headers),
        api.delete(url, params={"hard": "true"}, headers=other_headers),
        api.post(f"{url}/mark-as-template", headers=other_headers),
        api.get(f"{url}/stats", headers=other_headers),
        api.post(f"{url}/update-performance", json={"totalClicks": 1}, headers=other_headers),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "not_found"
    assert (await api.get(BASE, headers=other_headers)).json()["total"] == 0
    assert (await api.get(f"{BASE}/templates", headers=other_headers)).json()["total"] == 0
    untouched = (await api.get(url, headers=headers)).json()
    assert untouched == mine
    assert (await api.get(BASE)).status_code == 401
    assert (await api.get(f"{BASE}/not-a-uuid", headers=headers)).status_code == 404


async def test_viewers_read_but_cannot_write(
    api: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    mine = await create(api, headers)
    made = await api.post("/api/v1/users", json={"name": "vic", "role": "viewer"}, headers=headers)
    assert made.status_code == 201, made.text
    viewer = {"Authorization": f"Bearer {made.json()['apiKey']['apiKey']}"}
    assert (await api.get(f"{BASE}/{mine['id']}", headers=viewer)).status_code == 200
    refused = await api.post(BASE, json=space(), headers=viewer)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert (await api.delete(f"{BASE}/{mine['id']}", headers=viewer)).status_code == 403
