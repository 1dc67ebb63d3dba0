"""Imports into campaign spaces end to end (seed 003): the real workers on a Temporal dev
server, Postgres, the simulators over HTTP. A Reddit campaign's ads and posts (images from
Reddit's media host, headline, body, call to action), the relay's Facebook creatives, a CSV and
a zip — each idempotent on re-run; progress through the jobs endpoint and SSE; a killed worker
mid-import; and reuse recorded when a set sync puts a library image in a Reddit ad."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from flightdeck.activities.names import DISCOVER_ASSET_IMPORT
from flightdeck.api.app import create_app
from flightdeck.db.models import AssetBlob, CampaignAsset
from flightdeck.db.tenancy import system_session
from flightdeck.settings import Settings
from flightdeck.temporal import read_task_queue
from flightdeck.worker import running_workers
from tests.api.asset_support import png
from tests.e2e.conftest import System, make_plan
from tests.e2e.test_set_sync import campaign

SPACES = "/api/v1/campaign-spaces"
ASSETS = "/api/v1/campaign-assets"


@dataclass
class Importer:
    api: httpx.AsyncClient
    settings: Settings
    root: Path


@pytest.fixture(scope="module")
async def importer(
    system: System, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Importer]:
    """Workers and an API with the asset settings (storage in a temporary directory, the
    simulators' host allow-listed for downloads), on task queues of their own."""
    root = Path(tmp_path_factory.mktemp("imports"))
    settings = import_settings(system, root)
    app = create_app(settings, sessions=system.sessions, temporal=system.client)
    async with (
        running_workers(system.client, system.sessions, settings),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api", timeout=60
        ) as api,
    ):
        yield Importer(api, settings, root)


def import_settings(system: System, root: Path, suffix: str | None = None) -> Settings:
    suffix = suffix or uuid.uuid4().hex[:8]
    sim_host = str(system.sim.base_url.netloc.decode())
    # Every task queue of its own (a second set of workers on the rig's queues is refused).
    queues = {
        name: f"imports-{name}-{suffix}"
        for name in Settings.model_fields
        if name == "task_queue" or name.endswith("_task_queue")
    }
    return system.settings.model_copy(
        update={
            **queues,
            "storage_dir": root / "store",
            "data_dir": root / "data",
            "asset_download_allowed_hosts": [sim_host],
            "asset_import_batch_size": 3,
        }
    )


async def media(rig: System, data: bytes, mime: str = "image/png") -> str:
    response = await rig.sim.post(
        "/_sim/reddit/media", content=data, headers={"Content-Type": mime}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["url"])


async def reddit_campaign(rig: System, images: list[str]) -> tuple[str, str, dict[str, Any]]:
    """A Reddit campaign with one ad per image, made by Flightdeck's own set sync; returns
    (ad account id, platform campaign id, the set)."""
    account = await rig.connect_reddit()
    ads = [
        {
            "name": f"Ad {i}",
            "headline": f"Headline {i}",
            "description": f"Body copy {i}",
            "finalUrl": "https://shop.example.com/summer",
            "callToAction": "SHOP_NOW",
            "imageUrl": url,
        }
        for i, url in enumerate(images)
    ]
    created = await rig.create_set([campaign(0, group={"ads": ads})], account)
    job = await rig.sync(created["id"])
    assert job["status"] == "completed", job
    tree = (await rig.api.get(f"/api/v1/campaign-sets/{created['id']}", headers=rig.headers)).json()
    return account, tree["campaigns"][0]["platformCampaignId"], tree


async def new_space(imp: Importer, rig: System, **body: Any) -> str:
    payload = {"campaignName": f"import-{uuid.uuid4().hex[:6]}", "platform": "reddit"} | body
    response = await imp.api.post(SPACES, json=payload, headers=rig.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def run_import(
    imp: Importer, rig: System, space: str, *, files: Any = None, data: Any = None
) -> dict[str, Any]:
    url = f"{ASSETS}/campaign-spaces/{space}/assets/import"
    if files is None:
        response = await imp.api.post(url, json={"source": "platform_api"}, headers=rig.headers)
    else:
        response = await imp.api.post(url, files=files, data=data, headers=rig.headers)
    assert response.status_code == 202, response.text
    job = await rig.wait_job(response.json()["jobId"], timeout=120)
    return job | {"runId": response.json()["runId"]}


async def assets_of(imp: Importer, rig: System, space: str) -> list[dict[str, Any]]:
    url = f"{ASSETS}/campaign-spaces/{space}/assets"
    body = (await imp.api.get(url, params={"limit": 200}, headers=rig.headers)).json()
    items: list[dict[str, Any]] = body["items"]
    return items


async def test_reddit_import_end_to_end_and_idempotent(importer: Importer, rig: System) -> None:
    images = [png(320, 240, seed=11), png(640, 360, seed=12)]
    urls = [await media(rig, data) for data in images]
    account, campaign_id, _ = await reddit_campaign(rig, urls)
    space = await new_space(importer, rig, externalCampaignId=campaign_id, adAccountId=account)

    job = await run_import(importer, rig, space)
    assert job["status"] == "completed", job
    await rig.record_history(job["workflowId"], "import_space_completed")
    assert job["progress"]["done"] == job["progress"]["total"] == 8
    assert job["result"]["imported"] == 8 and job["result"]["failed"] == 0

    assets = await assets_of(importer, rig, space)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for asset in assets:
        by_type.setdefault(asset["assetType"], []).append(asset)
    assert {k: len(v) for k, v in by_type.items()} == {
        "image": 2, "headline": 2, "ad_copy": 2, "call_to_action": 2
    }  # fmt: skip
    shas = {a["fileHash"] for a in by_type["image"]}
    assert shas == {hashlib.sha256(d).hexdigest() for d in images}
    sizes = {(a["width"], a["height"]) for a in by_type["image"]}
    assert sizes == {(320, 240), (640, 360)}
    assert {a["headlineText"] for a in by_type["headline"]} == {"Headline 0", "Headline 1"}
    assert {a["adCopyText"] for a in by_type["ad_copy"]} == {"Body copy 0", "Body copy 1"}
    assert {a["ctaText"] for a in by_type["call_to_action"]} == {"Shop Now"}
    image = by_type["image"][0]
    assert image["importSource"] == "platform_api" and image["externalAssetId"].startswith("t3_")
    assert image["publicUrl"] in urls
    meta = image["platformMetadata"]
    assert meta["platform"] == "reddit" and meta["campaign_id"] == campaign_id
    assert meta["ads"][0]["ad_id"] and meta["post_id"] == image["externalAssetId"].split(":")[0]
    downloaded = await importer.api.get(image["fileUrl"], headers=rig.headers)
    assert hashlib.sha256(downloaded.content).hexdigest() == image["fileHash"]
    space_row = (await importer.api.get(f"{SPACES}/{space}", headers=rig.headers)).json()
    assert space_row["assetCount"] == 8 and space_row["importedAt"] is not None
    assert space_row["totalAssetSizeBytes"] == sum(len(d) for d in images)

    # The listing ran on Reddit's read queue, where its rate limit applies.
    history = await rig.client.get_workflow_handle(job["workflowId"]).fetch_history()
    queues = {
        event.activity_task_scheduled_event_attributes.task_queue.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name
        == DISCOVER_ASSET_IMPORT
    }
    assert queues == {read_task_queue(importer.settings.reddit_task_queue)}

    again = await run_import(importer, rig, space)
    assert again["status"] == "completed"
    assert again["result"]["imported"] == 0 and again["result"]["skipped"] == 8
    assert len(await assets_of(importer, rig, space)) == 8
    run = (await importer.api.get(f"{ASSETS}/imports/{again['runId']}", headers=rig.headers)).json()
    assert run["status"] == "completed" and run["progress"]["skipped"] == 8
    async with system_session(rig.sessions, "cli") as session:
        blobs = await session.scalar(
            select(func.count()).select_from(AssetBlob).where(AssetBlob.sha256.in_(shas))
        )
    assert blobs == 2  # stored once each


async def test_import_progress_streams_and_other_tenants_see_nothing(
    importer: Importer, rig: System
) -> None:
    urls = [await media(rig, png(64, 64, seed=s)) for s in (21, 22, 23)]
    account, campaign_id, _ = await reddit_campaign(rig, urls)
    space = await new_space(importer, rig, externalCampaignId=campaign_id, adAccountId=account)
    await rig.faults({"platform": "reddit", "path": "^/media/", "latencyMs": 400})
    url = f"{ASSETS}/campaign-spaces/{space}/assets/import"
    accepted = (await importer.api.post(url, headers=rig.headers)).json()
    joined = (await importer.api.post(url, headers=rig.headers)).json()
    assert joined["jobId"] == accepted["jobId"] and joined["status"] == "running"
    events: list[tuple[str, dict[str, Any]]] = []
    stream_url = f"{ASSETS}/imports/{accepted['runId']}/events"
    async with asyncio.timeout(60):
        async with importer.api.stream("GET", stream_url, headers=rig.headers) as stream:
            name = None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name:
                    events.append((name, json.loads(line.removeprefix("data: "))))
    assert events[-1][0] == "import-complete"
    assert events[-1][1]["status"] == "completed" and events[-1][1]["imported"] == 12
    done = [e[1]["imported"] + e[1]["skipped"] for e in events if e[0] == "import-progress"]
    assert done == sorted(done) and len(events) >= 2
    other = await rig.new_tenant_headers()
    for path in (f"{ASSETS}/imports/{accepted['runId']}", stream_url):
        assert (await importer.api.get(path, headers=other)).status_code == 404
    assert (
        await importer.api.get(f"/api/v1/jobs/{accepted['jobId']}", headers=other)
    ).status_code == 404
    assert (await importer.api.post(url, headers=other)).status_code == 404


async def test_import_needs_a_campaign_and_an_account(importer: Importer, rig: System) -> None:
    url = f"{ASSETS}/campaign-spaces/{{}}/assets/import"
    bare = await new_space(importer, rig)
    response = await importer.api.post(url.format(bare), headers=rig.headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "externalCampaignId"
    no_account = await new_space(importer, rig, externalCampaignId="123")
    response = await importer.api.post(url.format(no_account), headers=rig.headers)
    assert response.json()["detail"][0]["field"] == "adAccountId"
    google = await new_space(importer, rig, platform="google_ads", externalCampaignId="1")
    response = await importer.api.post(url.format(google), headers=rig.headers)
    assert response.json()["detail"][0]["field"] == "platform"
    wrong = await importer.api.post(
        url.format(bare), json={"source": "carrier_pigeon"}, headers=rig.headers
    )
    assert wrong.status_code == 422 and wrong.json()["detail"][0]["field"] == "source"
    account = await rig.connect_reddit()
    mismatch = await importer.api.post(
        SPACES,
        json={"campaignName": "m", "platform": "meta", "adAccountId": account},
        headers=rig.headers,
    )
    assert mismatch.status_code == 422 and mismatch.json()["detail"][0]["field"] == "adAccountId"
    moved = await importer.api.put(
        f"{SPACES}/{no_account}", json={"platform": "meta"}, headers=rig.headers
    )
    assert moved.status_code == 200  # no account: any platform
    linked = await importer.api.put(
        f"{SPACES}/{no_account}", json={"adAccountId": account}, headers=rig.headers
    )
    assert linked.status_code == 422  # a Reddit account on what is now a meta space


async def test_relay_facebook_import(importer: Importer, rig: System) -> None:
    picture = png(400, 300, seed=31)
    url = await media(rig, picture)
    plan = make_plan()
    for ad_set in plan["adSets"]:
        for ad in ad_set["ads"]:
            ad.pop("imageHash", None)
            ad["imageUrl"] = url
    accepted = await rig.publish(plan)
    job = await rig.wait_job(accepted["workflowId"], timeout=120)
    assert job["status"] == "completed", job
    mapping = (
        await rig.api.get(f"/api/v1/campaign-plans/{accepted['id']}/mapping", headers=rig.headers)
    ).json()
    facebook_campaign = mapping["facebookCampaignId"]
    creatives = len(await facebook_objects(rig, "adcreatives"))
    space = await new_space(importer, rig, platform="meta", externalCampaignId=facebook_campaign)
    done = await run_import(importer, rig, space)
    assert done["status"] == "completed", done
    assets = await assets_of(importer, rig, space)
    kinds = sorted({a["assetType"] for a in assets})
    assert "image" in kinds and "headline" in kinds and "ad_copy" in kinds
    images = [a for a in assets if a["assetType"] == "image"]
    assert len(images) == creatives  # one image asset per creative, one stored file
    assert {a["fileHash"] for a in images} == {hashlib.sha256(picture).hexdigest()}
    assert images[0]["platformMetadata"]["via"] == "strategis_relay"
    assert images[0]["platformMetadata"]["ads"]  # the ads that use the creative
    again = await run_import(importer, rig, space)
    assert again["result"]["imported"] == 0
    assert len(await assets_of(importer, rig, space)) == len(assets)
    unknown = await new_space(importer, rig, platform="meta", externalCampaignId="999")
    failed = await run_import(importer, rig, unknown)
    assert failed["status"] == "failed" and "not published" in failed["error"]
    await rig.record_history(failed["workflowId"], "import_space_failed")


async def facebook_objects(rig: System, kind: str) -> list[dict[str, Any]]:
    state = (await rig.sim.get("/_sim/state")).json()["platforms"]["facebook"]
    items: list[dict[str, Any]] = state.get(kind, {}).get("items", [])
    return items


async def test_csv_import(importer: Importer, rig: System) -> None:
    url = await media(rig, png(50, 50, seed=41))
    space = await new_space(importer, rig)
    rows = [
        "asset_name,asset_type,headline_text,ad_copy_text,cta_text,tags,media_url",
        'Hook A,headline,Fly for less,,,"hero,air",',
        "Body A,ad_copy,,Book a summer escape today,,,",
        "CTA,call_to_action,,,Book Now,,",
        f"Banner,image,,,,,{url}",
        "Broken,hologram,,,,,",
        "Metadata,image,,,,,http://169.254.169.254/latest/meta-data/iam",
    ]
    csv = ("\n".join(rows) + "\n").encode()
    files = {"file": ("assets.csv", csv, "text/csv")}
    job = await run_import(importer, rig, space, files=files, data={"source": "csv_import"})
    assert job["status"] == "completed", job
    assert job["result"]["imported"] == 4 and job["result"]["failed"] == 2
    run = (await importer.api.get(f"{ASSETS}/imports/{job['runId']}", headers=rig.headers)).json()
    errors = " ".join(item["error"] for item in run["failedItems"])
    assert "hologram" in errors and "non-public" in errors
    assets = await assets_of(importer, rig, space)
    assert {a["assetName"] for a in assets} == {"Hook A", "Body A", "CTA", "Banner"}
    assert next(a for a in assets if a["assetName"] == "Hook A")["tags"] == ["hero", "air"]
    assert all(a["importSource"] == "csv_import" for a in assets)
    again = await run_import(importer, rig, space, files=files, data={"source": "csv_import"})
    assert again["result"]["imported"] == 0 and len(await assets_of(importer, rig, space)) == 4
    not_csv = await importer.api.post(
        f"{ASSETS}/campaign-spaces/{space}/assets/import",
        files={"file": ("x.csv", png(), "text/csv")},
        data={"source": "csv_import"},
        headers=rig.headers,
    )
    assert not_csv.status_code == 422 and not_csv.json()["detail"][0]["field"] == "file"


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


async def test_bulk_zip_import_and_a_zip_bomb(importer: Importer, rig: System) -> None:
    space = await new_space(importer, rig)
    first, second = png(100, 80, seed=51), png(120, 90, seed=52)
    archive = zip_of(
        {
            "banners/first.png": first,
            "../../second.png": second,
            "copy/first-again.png": first,  # the same bytes: one asset
            "brief.pdf": b"%PDF-1.4\n fake brief",
            "notes.txt": b"plain text notes",
        }
    )
    files = {"file": ("bundle.zip", archive, "application/zip")}
    job = await run_import(importer, rig, space, files=files, data={"source": "bulk_import"})
    assert job["status"] == "completed", job
    assets = await assets_of(importer, rig, space)
    assert sorted(a["assetType"] for a in assets) == ["document", "document", "image", "image"]
    images = {a["assetName"]: a for a in assets if a["assetType"] == "image"}
    assert set(images) == {"first.png", "second.png"}
    assert (images["second.png"]["width"], images["second.png"]["height"]) == (120, 90)
    assert job["result"]["skipped"] == 1
    again = await run_import(importer, rig, space, files=files, data={"source": "bulk_import"})
    assert again["result"]["imported"] == 0 and len(await assets_of(importer, rig, space)) == 4

    bomb = zip_of({"zeros.png": bytes(50 * 1024 * 1024)})
    assert len(bomb) < 100_000
    bombed = await run_import(
        importer, rig, space, files={"file": ("b.zip", bomb, "application/zip")},
        data={"source": "bulk_import"},
    )  # fmt: skip
    assert bombed["status"] == "failed" and "zip bomb" in bombed["error"]
    assert len(await assets_of(importer, rig, space)) == 4
    not_zip = await importer.api.post(
        f"{ASSETS}/campaign-spaces/{space}/assets/import",
        files={"file": ("x.zip", b"just text", "application/zip")},
        data={"source": "bulk_import"},
        headers=rig.headers,
    )
    assert not_zip.status_code == 422 and not_zip.json()["detail"][0]["field"] == "file"


async def test_a_set_sync_records_reuse_of_a_library_image(importer: Importer, rig: System) -> None:
    """An imported image reused in another Reddit ad (by its URL) is recorded by the sync."""
    url = await media(rig, png(200, 100, seed=61))
    account, campaign_id, _ = await reddit_campaign(rig, [url])
    space = await new_space(importer, rig, externalCampaignId=campaign_id, adAccountId=account)
    await run_import(importer, rig, space)
    image = next(a for a in await assets_of(importer, rig, space) if a["assetType"] == "image")
    reuse = [
        campaign(
            1,
            group={
                "ads": [
                    {
                        "name": "Reuse ad",
                        "headline": "Again",
                        "finalUrl": "https://shop.example.com/fall",
                        "callToAction": "SHOP_NOW",
                        "imageUrl": image["publicUrl"],
                    }
                ]
            },
        )
    ]
    created = await rig.create_set(reuse, account)
    assert (await rig.sync(created["id"]))["status"] == "completed"
    history = (
        await importer.api.get(f"{ASSETS}/{image['id']}/reuses", headers=rig.headers)
    ).json()["items"]
    ad_id = created["campaigns"][0]["adGroups"][0]["ads"][0]["id"]
    assert [(h["reusedInType"], h["reusedInId"]) for h in history] == [("ad", ad_id)]
    assert history[0]["platform"] == "reddit" and history[0]["actor"] == "worker"
    assert history[0]["context"]["campaign_set_id"] == created["id"]
    again = await rig.sync(created["id"])  # nothing changed: no second record
    assert again["status"] == "completed"
    refreshed = (await importer.api.get(f"{ASSETS}/{image['id']}", headers=rig.headers)).json()
    assert refreshed["reusedCount"] == 1


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flightdeck.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def worker_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, list):
            value = json.dumps(value)
        env[f"FLIGHTDECK_{name.upper()}"] = str(value)
    return env


async def test_killed_worker_mid_import_resumes_without_duplicates(
    importer: Importer, rig: System
) -> None:
    images = [png(90, 60, seed=70 + i) for i in range(6)]
    urls = [await media(rig, data) for data in images]
    account, campaign_id, _ = await reddit_campaign(rig, urls)
    space = await new_space(importer, rig, externalCampaignId=campaign_id, adAccountId=account)
    settings = import_settings(rig, importer.root, suffix=f"crash-{uuid.uuid4().hex[:6]}")
    # A batch the kill interrupted is retried once its heartbeat times out (5 s, not 30), and
    # the killed worker's cached run moves to the new worker after 2 s (not 10).
    settings = settings.model_copy(
        update={
            "asset_import_batch_size": 1,
            "asset_import_heartbeat_seconds": 5.0,
            "worker_sticky_timeout_seconds": 2.0,
        }
    )
    env = worker_env(settings)
    app = create_app(settings, sessions=rig.sessions, temporal=rig.client)
    await rig.faults({"platform": "reddit", "path": "^/media/", "latencyMs": 300})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as api:
        accepted = await api.post(
            f"{ASSETS}/campaign-spaces/{space}/assets/import", headers=rig.headers
        )
        assert accepted.status_code == 202, accepted.text
        worker = start_worker(env)
        try:
            async with asyncio.timeout(90):
                while await count_assets(rig, space) < 3:
                    assert worker.poll() is None, worker.stderr.read().decode()  # type: ignore[union-attr]
                    await asyncio.sleep(0.05)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            assert await count_assets(rig, space) < 24, "the kill must happen mid-import"
            worker = start_worker(env)
            job = await rig.wait_job(accepted.json()["jobId"], timeout=180)
        finally:
            worker.kill()
            worker.wait()
    assert job["status"] == "completed", job
    assert await count_assets(rig, space) == 24  # 6 posts x (image, headline, body, cta)
    assets = await assets_of(importer, rig, space)
    keys = [(a["assetType"], a["externalAssetId"]) for a in assets]
    assert len(keys) == len(set(keys)) == 24
    assert {a["fileHash"] for a in assets if a["fileHash"]} == {
        hashlib.sha256(d).hexdigest() for d in images
    }
    space_row = (await importer.api.get(f"{SPACES}/{space}", headers=rig.headers)).json()
    assert space_row["assetCount"] == 24  # the counters agree with the rows


async def count_assets(rig: System, space: str) -> int:
    async with system_session(rig.sessions, "cli") as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(CampaignAsset)
                .where(CampaignAsset.campaign_space_id == uuid.UUID(space))
            )
            or 0
        )
