"""The asset API on the S3-compatible backend (an S3 emulator started by the test): uploads
land in the bucket once per content, download back, and leave with their last user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import boto3
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.storage import create_blob_store
from flightdeck.storage.s3 import S3BlobStore
from tests.api.asset_support import ASSETS, library_client, library_settings, new_space, png, upload
from tests.storage.conftest import ACCESS_KEY, SECRET_KEY, s3_endpoint  # noqa: F401

BUCKET = "flightdeck-api-test"


@pytest.fixture(scope="module")
async def s3_api(
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    s3_endpoint: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[httpx.AsyncClient]:
    settings = library_settings(
        database_url,
        Path(tmp_path_factory.mktemp("s3lib")),
        storage_backend="s3",
        s3_bucket=BUCKET,
        s3_prefix="assets",
        s3_endpoint_url=s3_endpoint,
        s3_region="us-east-1",
        s3_access_key_id=ACCESS_KEY,
        s3_secret_access_key=SECRET_KEY,
    )
    store = create_blob_store(settings)
    assert isinstance(store, S3BlobStore)
    await store.ensure_bucket()
    async for client in library_client(settings, sessions):
        yield client


def bucket_keys(endpoint: str) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    listed = client.list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in listed.get("Contents", []))


async def test_uploads_dedup_and_delete_on_s3(
    s3_api: httpx.AsyncClient,
    headers: dict[str, str],
    s3_endpoint: str,  # noqa: F811
) -> None:
    space = await new_space(s3_api, headers)
    data = png(300, 200, seed=55)
    first = (await upload(s3_api, headers, space, data)).json()
    second = await upload(s3_api, headers, space, data, skip_duplicate_check="true")
    assert second.status_code == 201
    keys = bucket_keys(s3_endpoint)
    assert keys == sorted(
        [
            f"assets/{first['storagePath']}",
            f"assets/{first['storagePath'].replace('blobs/', 'thumbs/')}.jpg",
        ]
    )
    download = await s3_api.get(first["fileUrl"], headers=headers)
    assert download.status_code == 200 and download.content == data
    thumb = await s3_api.get(first["thumbnailUrl"], headers=headers)
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    hard = {"hard": "true"}
    await s3_api.delete(f"{ASSETS}/{first['id']}", params=hard, headers=headers)
    assert len(bucket_keys(s3_endpoint)) == 2  # the second asset still uses the bytes
    await s3_api.delete(f"{ASSETS}/{second.json()['id']}", params=hard, headers=headers)
    assert bucket_keys(s3_endpoint) == []
