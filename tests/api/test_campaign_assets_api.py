"""`/api/v1/campaign-assets…` (seed 003): uploads (streamed, sniffed, deduplicated per tenant),
lists with every filter and the pagination edges, get/update/delete with the space's counters
kept true, shared bytes, reuse, downloads, and tenant isolation on each endpoint."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.asset_support import (
    ASSETS,
    MAX_UPLOAD,
    SPACES,
    jpeg,
    library_client,
    library_settings,
    new_space,
    png,
    space_counts,
    stored_files,
    upload,
)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("library")


@pytest.fixture(scope="module")
async def lib(
    database_url: str, sessions: async_sessionmaker[AsyncSession], root: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async for client in library_client(library_settings(database_url, root), sessions):
        yield client


def fields(response: httpx.Response) -> list[str]:
    return [d["field"] for d in response.json()["detail"]]


async def test_upload_reads_everything_from_the_bytes(
    lib: httpx.AsyncClient, headers: dict[str, str], root: Path
) -> None:
    space = await new_space(lib, headers, brandId="acme")
    data = jpeg(640, 480)
    # The client calls it a PNG named .gif: the bytes say JPEG, and that is what counts.
    response = await upload(
        lib,
        headers,
        space,
        data,
        filename="hero.gif",
        content_type="image/png",
        asset_name="Hero",
        title="Main hero",
        tags="hero, summer,hero",
        platform_metadata='{"placement": "feed"}',
    )
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["mimeType"] == "image/jpeg"
    assert (asset["width"], asset["height"]) == (640, 480)
    assert asset["fileHash"] == hashlib.sha256(data).hexdigest()
    assert asset["fileSize"] == len(data)
    assert asset["tags"] == ["hero", "summer"] and asset["brandId"] == "acme"
    assert asset["platformMetadata"] == {"placement": "feed"}
    assert asset["originalFilename"] == "hero.gif" and asset["duplicate"] is False
    sha = asset["fileHash"]
    assert asset["storagePath"].endswith(f"/{sha[:2]}/{sha}")  # content-addressed
    assert (root / "store" / asset["storagePath"]).read_bytes() == data
    file = await lib.get(asset["fileUrl"], headers=headers)
    assert file.status_code == 200 and file.content == data
    assert file.headers["content-type"] == "image/jpeg"
    assert file.headers["x-content-type-options"] == "nosniff"
    assert file.headers["content-disposition"].startswith("attachment")
    thumb = await lib.get(asset["thumbnailUrl"], headers=headers)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) == 256
    assert await space_counts(lib, headers, space) == (1, len(data))


async def test_duplicates_and_skip_duplicate_check(
    lib: httpx.AsyncClient, headers: dict[str, str], root: Path
) -> None:
    space, other_space = await new_space(lib, headers), await new_space(lib, headers)
    data = png(seed=4242)
    before = len(stored_files(root))
    first = (await upload(lib, headers, space, data)).json()
    again = await upload(lib, headers, space, data, asset_name="again")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"] and again.json()["duplicate"] is True
    assert await space_counts(lib, headers, space) == (1, len(data))
    forced = await upload(lib, headers, space, data, skip_duplicate_check="true")
    assert forced.status_code == 201 and forced.json()["id"] != first["id"]
    assert forced.json()["storagePath"] == first["storagePath"]
    assert await space_counts(lib, headers, space) == (2, 2 * len(data))
    elsewhere = await upload(lib, headers, other_space, data)
    assert elsewhere.status_code == 201 and elsewhere.json()["storagePath"] == first["storagePath"]
    # Three assets, one stored file (+ its thumbnail).
    assert len(stored_files(root)) == before + 2


async def test_dedup_is_per_tenant(
    lib: httpx.AsyncClient, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    data = png(seed=777)
    mine = (await upload(lib, headers, await new_space(lib, headers), data)).json()
    theirs = (await upload(lib, other_headers, await new_space(lib, other_headers), data)).json()
    assert theirs["duplicate"] is False and theirs["id"] != mine["id"]
    assert theirs["storagePath"] != mine["storagePath"]  # never shared across tenants
    assert theirs["fileHash"] == mine["fileHash"]


async def test_soft_and_hard_delete_keep_counters_and_shared_bytes(
    lib: httpx.AsyncClient, headers: dict[str, str], root: Path
) -> None:
    space = await new_space(lib, headers)
    shared, single = png(seed=9001), png(seed=9002, width=80)
    a = (await upload(lib, headers, space, shared)).json()
    b = (await upload(lib, headers, space, shared, skip_duplicate_check="true")).json()
    c = (await upload(lib, headers, space, single)).json()
    total = 2 * len(shared) + len(single)
    assert await space_counts(lib, headers, space) == (3, total)
    shared_path = root / "store" / a["storagePath"]

    # Soft: hidden, counted out, bytes kept; twice is a 404 and counts nothing.
    assert (await lib.delete(f"{ASSETS}/{a['id']}", headers=headers)).status_code == 204
    assert (await lib.get(f"{ASSETS}/{a['id']}", headers=headers)).status_code == 404
    assert (await lib.delete(f"{ASSETS}/{a['id']}", headers=headers)).status_code == 404
    assert await space_counts(lib, headers, space) == (2, total - len(shared))
    assert shared_path.exists()

    # Hard-deleting the soft-deleted one: no double count; b still uses the bytes.
    hard = {"hard": "true"}
    assert (
        await lib.delete(f"{ASSETS}/{a['id']}", params=hard, headers=headers)
    ).status_code == 204
    assert await space_counts(lib, headers, space) == (2, total - len(shared))
    assert shared_path.exists()
    assert (await lib.get(b["fileUrl"], headers=headers)).content == shared

    # Hard-deleting the last user of the bytes removes them (and the thumbnail).
    assert (
        await lib.delete(f"{ASSETS}/{b['id']}", params=hard, headers=headers)
    ).status_code == 204
    assert not shared_path.exists()
    assert not any(p.name.startswith(a["fileHash"]) for p in stored_files(root))
    assert await space_counts(lib, headers, space) == (1, len(single))
    assert (
        await lib.delete(f"{ASSETS}/{b['id']}", params=hard, headers=headers)
    ).status_code == 404

    # Hard delete of a live asset counts it out once.
    assert (
        await lib.delete(f"{ASSETS}/{c['id']}", params=hard, headers=headers)
    ).status_code == 204
    assert await space_counts(lib, headers, space) == (0, 0)


async def test_hard_deleting_a_space_frees_only_unshared_bytes(
    lib: httpx.AsyncClient, headers: dict[str, str], root: Path
) -> None:
    doomed, keeper = await new_space(lib, headers), await new_space(lib, headers)
    shared, own = png(seed=3131), png(seed=3132)
    (await upload(lib, headers, doomed, shared)).json()
    only = (await upload(lib, headers, doomed, own)).json()
    kept = (await upload(lib, headers, keeper, shared)).json()
    response = await lib.delete(f"{SPACES}/{doomed}", params={"hard": "true"}, headers=headers)
    assert response.status_code == 204
    assert (root / "store" / kept["storagePath"]).exists()
    assert not (root / "store" / only["storagePath"]).exists()
    assert (await lib.get(f"{ASSETS}/{only['id']}", headers=headers)).status_code == 404


async def test_text_assets(lib: httpx.AsyncClient, headers: dict[str, str]) -> None:
    space = await new_space(lib, headers)
    headline = await upload(
        lib, headers, space, None, asset_type="headline", headline_text="Fly for less"
    )
    assert headline.status_code == 201, headline.text
    assert headline.json()["assetName"] == "Fly for less" and headline.json()["fileSize"] == 0
    cta = await upload(lib, headers, space, None, asset_type="call_to_action", cta_text="Shop Now")
    assert cta.status_code == 201
    with_file = await upload(lib, headers, space, png(), asset_type="headline", headline_text="x")
    assert with_file.status_code == 422 and fields(with_file) == ["file"]
    missing = await upload(lib, headers, space, None, asset_type="ad_copy")
    assert missing.status_code == 422 and fields(missing) == ["ad_copy_text"]
    no_file = await upload(lib, headers, space, None, asset_type="image")
    assert no_file.status_code == 422 and fields(no_file) == ["file"]
    assert await space_counts(lib, headers, space) == (2, 0)


async def test_oversized_uploads_are_cut_off(
    lib: httpx.AsyncClient, headers: dict[str, str], root: Path
) -> None:
    space = await new_space(lib, headers)
    big = b"\x89PNG\r\n\x1a\n" + bytes(MAX_UPLOAD + 10)
    response = await upload(lib, headers, space, big)
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "payload_too_large" and fields(response) == ["file"]

    # Without a Content-Length (chunked), the stream is cut at the first byte past the limit.
    boundary = "b0undary"

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="asset_type"\r\n\r\nimage\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x.png"'
            "\r\nContent-Type: image/png\r\n\r\n"
        ).encode()
        for _ in range(MAX_UPLOAD // 65536 + 3):
            yield bytes(65536)
        yield f"\r\n--{boundary}--\r\n".encode()

    chunked = await lib.post(
        f"{ASSETS}/campaign-spaces/{space}/assets",
        content=body(),
        headers=headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert chunked.status_code == 413, chunked.text
    assert await space_counts(lib, headers, space) == (0, 0)
    assert list((root / "store" / ".staging").glob("upload-*")) == []  # nothing left behind


@pytest.mark.parametrize(
    ("data", "asset_type"),
    [
        (b"%PDF-1.7\n% a document pretending to be an image\n", "image"),
        (b"<!doctype html><script>alert(1)</script>", "image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image"),
        (b"\x00\x01\x02 random binary \xff\xfe", "image"),
        (png()[:60], "image"),  # a truncated PNG
        (png(), "video"),
        (png(), "document"),
    ],
    # Fixed ids: the PNGs differ per run, and pytest-xdist needs every worker to collect the
    # same names.
    ids=["pdf", "html", "svg", "binary", "truncated-png", "png-as-video", "png-as-document"],
)
async def test_lying_content_types_are_refused(
    lib: httpx.AsyncClient, headers: dict[str, str], data: bytes, asset_type: str
) -> None:
    space = await new_space(lib, headers)
    response = await upload(
        lib,
        headers,
        space,
        data,
        filename="fine.png",
        content_type="image/png",
        asset_type=asset_type,
    )
    assert response.status_code == 422, response.text
    assert fields(response) == ["file"]
    assert await space_counts(lib, headers, space) == (0, 0)


async def test_image_bombs_are_refused(lib: httpx.AsyncClient, headers: dict[str, str]) -> None:
    from tests.api.asset_support import png_claiming

    space = await new_space(lib, headers)
    claimed = await upload(lib, headers, space, png_claiming(100_000, 100_000))
    assert claimed.status_code == 422 and fields(claimed) == ["file"]
    assert "pixels" in claimed.json()["detail"][0]["message"]
    # A real, highly compressible image over the pixel limit (1 MP here): refused too.
    bomb = io.BytesIO()
    Image.new("L", (1200, 1000)).save(bomb, "PNG")
    assert len(bomb.getvalue()) < 20_000
    real = await upload(lib, headers, space, bomb.getvalue())
    assert real.status_code == 422 and fields(real) == ["file"]
    assert await space_counts(lib, headers, space) == (0, 0)


async def test_names_never_become_paths(
    lib: httpx.AsyncClient, headers: dict[str, str], root: Path
) -> None:
    space = await new_space(lib, headers)
    outside = sorted(p for p in root.parent.rglob("passwd*"))
    response = await upload(lib, headers, space, png(), filename="../../../../etc/passwd.png")
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["originalFilename"] == "passwd.png"
    assert asset["storagePath"].startswith("blobs/") and ".." not in asset["storagePath"]
    assert sorted(p for p in root.parent.rglob("passwd*")) == outside
    windows = await upload(lib, headers, space, png(), filename="..\\..\\boot.ini.png")
    assert windows.json()["originalFilename"] == "boot.ini.png"

    # Control characters: refused in names we store as given, dropped from file names.
    bell = await upload(lib, headers, space, png(), asset_name="evil\x07name")
    assert bell.status_code == 422 and fields(bell) == ["asset_name"]  # as the form named it
    nul = await upload(lib, headers, space, png(), title="a\x00b")
    assert nul.status_code == 422 and fields(nul) == ["title"]
    boundary = "xyz"
    raw = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="asset_type"\r\n\r\nimage\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="a\x01b\x1b[31m.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + png()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = await lib.post(
        f"{ASSETS}/campaign-spaces/{space}/assets",
        content=raw,
        headers=headers | {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["originalFilename"] == "ab[31m.png"


async def test_malformed_forms(lib: httpx.AsyncClient, headers: dict[str, str]) -> None:
    space = await new_space(lib, headers)
    url = f"{ASSETS}/campaign-spaces/{space}/assets"
    unknown = await upload(lib, headers, space, png(), surprise="1")
    assert unknown.status_code == 422 and fields(unknown) == ["surprise"]
    bad_type = await upload(lib, headers, space, png(), asset_type="hologram")
    assert bad_type.status_code == 422 and fields(bad_type)[0].startswith("asset")
    bad_json = await upload(lib, headers, space, png(), platform_metadata="{nope")
    assert bad_json.status_code == 422 and fields(bad_json)[0].startswith("platform")
    not_form = await lib.post(url, json={"assetType": "image"}, headers=headers)
    assert not_form.status_code == 415
    broken = await lib.post(
        url,
        content=b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
        headers=headers | {"Content-Type": "multipart/form-data; boundary=zz"},
    )
    assert broken.status_code == 400, broken.text
    empty = await upload(lib, headers, space, b"")
    assert empty.status_code == 422 and fields(empty) == ["file"]


async def test_lists_and_filters(lib: httpx.AsyncClient, headers: dict[str, str]) -> None:
    space, other = await new_space(lib, headers), await new_space(lib, headers)
    wide = (
        await upload(
            lib, headers, space, png(1200, 628), tags="hero,summer", asset_name="Beach hero banner"
        )
    ).json()
    square = (
        await upload(lib, headers, space, png(600, 600), tags="summer", asset_name="Square promo")
    ).json()
    copy = (
        await upload(
            lib,
            headers,
            space,
            None,
            asset_type="ad_copy",
            asset_name="Summer copy",
            ad_copy_text="Beaches await: book a summer escape",
            tags="hero",
        )
    ).json()
    elsewhere = (
        await upload(lib, headers, other, png(300, 250), asset_name="Sidebar beach")
    ).json()

    async def ids(url: str, **params: Any) -> list[str]:
        response = await lib.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] >= len(body["items"])
        return [item["id"] for item in body["items"]]

    in_space = f"{ASSETS}/campaign-spaces/{space}/assets"
    assert set(await ids(in_space)) == {wide["id"], square["id"], copy["id"]}
    assert set(await ids(in_space, assetType="image")) == {wide["id"], square["id"]}
    assert set(await ids(in_space, assetType=["image", "ad_copy"])) == {
        wide["id"],
        square["id"],
        copy["id"],
    }
    assert set(await ids(in_space, tags="hero,summer")) == {wide["id"]}
    assert set(await ids(in_space, tags="hero")) == {wide["id"], copy["id"]}
    assert set(await ids(in_space, minWidth=1000)) == {wide["id"]}
    assert set(await ids(in_space, maxWidth=700, minHeight=600)) == {square["id"]}
    assert set(await ids(in_space, maxHeight=600, assetType="image")) == {square["id"]}
    assert await ids(in_space, importSource="csv_import") == []
    # Ranked full text over names, titles and copy: the name match first, stemming on.
    assert await ids(in_space, search="beaches") == [wide["id"], copy["id"]]
    everywhere = f"{ASSETS}/assets"
    assert set(await ids(everywhere, search="beach")) == {wide["id"], copy["id"], elsewhere["id"]}
    assert set(await ids(everywhere, maxWidth=300)) == {elsewhere["id"]}
    bad = await lib.get(in_space, params={"minWidth": 10, "maxWidth": 5}, headers=headers)
    assert bad.status_code == 422 and fields(bad) == ["maxWidth"]
    bad_type = await lib.get(in_space, params={"assetType": "hologram"}, headers=headers)
    assert bad_type.status_code == 422 and fields(bad_type)[0].startswith("assetType")
    # A soft-deleted space's assets leave the tenant-wide list.
    await lib.delete(f"{SPACES}/{other}", headers=headers)
    assert elsewhere["id"] not in await ids(everywhere)


async def test_pagination_edges(lib: httpx.AsyncClient, headers: dict[str, str]) -> None:
    space = await new_space(lib, headers)
    made = [
        (
            await upload(
                lib, headers, space, None, asset_type="headline", headline_text=f"Deal {i}"
            )
        ).json()["id"]
        for i in range(5)
    ]
    url = f"{ASSETS}/campaign-spaces/{space}/assets"
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await lib.get(url, params=params, headers=headers)).json()
        assert page["total"] == 5
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    last = (await lib.get(url, params={"limit": 5}, headers=headers)).json()
    assert last["nextCursor"] is None
    for params in ({"limit": 0}, {"limit": 201}, {"cursor": "garbage"}):
        response = await lib.get(url, params=params, headers=headers)
        assert response.status_code == 422 and fields(response) == [next(iter(params))]


async def test_update_and_reuse(lib: httpx.AsyncClient, headers: dict[str, str]) -> None:
    space = await new_space(lib, headers)
    asset = (await upload(lib, headers, space, png())).json()
    url = f"{ASSETS}/{asset['id']}"
    updated = await lib.put(
        url,
        json={"title": "New", "impressions": 1000, "clicks": 30, "tags": ["a"]},
        headers=headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["ctr"] == 0.03 and updated.json()["title"] == "New"
    assert updated.json()["fileHash"] == asset["fileHash"]
    refused = await lib.put(url, json={"assetName": None}, headers=headers)
    assert refused.status_code == 422 and fields(refused) == ["assetName"]

    place = {
        "reusedInType": "campaign",
        "reusedInId": "campaign_xyz",
        "reusedInName": "Fall Campaign 2024",
        "platform": "meta",
        "reuseContext": {"placement": "hero_banner"},
    }
    first = await lib.post(f"{url}/reuse", json=place, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["recorded"] is True and first.json()["asset"]["reusedCount"] == 1
    again = await lib.post(f"{url}/reuse", json=place, headers=headers)
    assert again.json()["recorded"] is False and again.json()["asset"]["reusedCount"] == 1
    other_place = await lib.post(
        f"{url}/reuse", json=place | {"reusedInId": "campaign_abc"}, headers=headers
    )
    assert other_place.json()["asset"]["reusedCount"] == 2
    assert other_place.json()["asset"]["lastReusedAt"] is not None
    history = (await lib.get(f"{url}/reuses", headers=headers)).json()["items"]
    me = (await lib.get("/api/v1/me", headers=headers)).json()
    assert {h["reusedInId"] for h in history} == {"campaign_xyz", "campaign_abc"}
    assert all(h["userId"] == me["userId"] and h["platform"] == "meta" for h in history)
    assert history[-1]["context"] == {"placement": "hero_banner"}
    bad = await lib.post(f"{url}/reuse", json=place | {"reusedInType": "Bad Type"}, headers=headers)
    assert bad.status_code == 422 and fields(bad) == ["reusedInType"]


async def test_every_endpoint_is_tenant_isolated(
    lib: httpx.AsyncClient, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    space = await new_space(lib, headers)
    asset = (await upload(lib, headers, space, png())).json()
    url = f"{ASSETS}/{asset['id']}"
    calls = [
        upload(lib, other_headers, space, png()),
        lib.get(f"{ASSETS}/campaign-spaces/{space}/assets", headers=other_headers),
        lib.get(url, headers=other_headers),
        lib.put(url, json={"title": "mine now"}, headers=other_headers),
        lib.delete(url, headers=other_headers),
        lib.delete(url, params={"hard": "true"}, headers=other_headers),
        lib.post(
            f"{url}/reuse", json={"reusedInType": "ad", "reusedInId": "1"}, headers=other_headers
        ),
        lib.get(f"{url}/reuses", headers=other_headers),
        lib.get(f"{url}/file", headers=other_headers),
        lib.get(f"{url}/thumbnail", headers=other_headers),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 404, response.text
    listed = (await lib.get(f"{ASSETS}/assets", headers=other_headers)).json()
    assert asset["id"] not in [item["id"] for item in listed["items"]]
    assert (await lib.get(url, headers=headers)).json()["title"] is None
    assert (await lib.get(f"{ASSETS}/{uuid.uuid4()}", headers=headers)).status_code == 404


async def test_concurrent_writes_keep_one_copy_and_true_counters(
    lib: httpx.AsyncClient, headers: dict[str, str], root: Path
) -> None:
    import asyncio

    space = await new_space(lib, headers)
    data = png(seed=123_456)
    answers = await asyncio.gather(*(upload(lib, headers, space, data) for _ in range(6)))
    created = [a for a in answers if a.status_code == 201]
    assert len(created) == 1 and all(a.status_code in (200, 201) for a in answers)
    assert {a.json()["id"] for a in answers} == {created[0].json()["id"]}
    assert await space_counts(lib, headers, space) == (1, len(data))

    asset = created[0].json()
    deletes = await asyncio.gather(
        *(lib.delete(f"{ASSETS}/{asset['id']}", headers=headers) for _ in range(5))
    )
    assert sorted(d.status_code for d in deletes) == [204, 404, 404, 404, 404]
    assert await space_counts(lib, headers, space) == (0, 0)

    shared = png(seed=654_321)
    twins = [
        (await upload(lib, headers, space, shared, skip_duplicate_check="true")).json()
        for _ in range(4)
    ]
    path = root / "store" / twins[0]["storagePath"]
    hard = {"hard": "true"}
    gone = await asyncio.gather(
        *(lib.delete(f"{ASSETS}/{t['id']}", params=hard, headers=headers) for t in twins)
    )
    assert [g.status_code for g in gone] == [204] * 4
    assert not path.exists()  # the last one out removed the bytes, exactly once
    assert await space_counts(lib, headers, space) == (0, 0)


async def test_out_of_range_numbers_are_4xx(
    lib: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    space = await new_space(lib, headers)
    asset = (await upload(lib, headers, space, png())).json()
    huge = await lib.put(f"{ASSETS}/{asset['id']}", json={"impressions": 2**70}, headers=headers)
    assert huge.status_code == 422 and fields(huge) == ["impressions"]
    wide = await lib.get(f"{ASSETS}/assets", params={"minWidth": 2**40}, headers=headers)
    assert wide.status_code == 422 and fields(wide) == ["minWidth"]
    perf = await lib.post(
        f"{SPACES}/{space}/update-performance", json={"totalClicks": 2**64}, headers=headers
    )
    assert perf.status_code == 422 and fields(perf) == ["totalClicks"]
