"""Benchmark: the asset library (seed 003).

1. Uploads: 1,000 images through the API (multipart, streamed), a third of them duplicates of
   earlier ones, then 1,000 images ~40x larger: uploads/s, MB/s, and the peak memory
   the process allocated while uploading (tracemalloc) — it should not grow with file size.
2. Search: 100,000 assets of one tenant (seeded in bulk), ranked full-text search and a tag
   filter through the API (`GET /campaign-assets/assets`, 50 per page, with the total): p95
   of 20 runs each. Goal: under 50 ms.

No Temporal or simulators are involved: a fresh database and the API in-process.
Usage: .venv/bin/python bench/assets.py [--uploads 1000] [--large-uploads 1000] [--assets 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import io
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = [
    "summer", "winter", "spring", "autumn", "sale", "discount", "premium", "luxury", "budget",
    "family", "travel", "flight", "hotel", "beach", "mountain", "city", "escape", "weekend",
    "deal", "offer", "exclusive", "limited", "new", "classic", "modern", "bold", "fresh",
    "organic", "natural", "healthy", "fitness", "running", "shoes", "jacket", "dress", "watch",
    "phone", "laptop", "coffee", "tea", "pizza", "burger", "salad", "vegan", "pet", "dog", "cat",
    "garden", "kitchen", "sofa", "lamp", "bed", "pillow", "skin", "serum", "cream", "glow",
    "confidence", "restored", "provider", "booking", "appointment", "clinic", "insurance",
]  # fmt: skip
TAGS = [f"tag{i:02d}" for i in range(40)]
# Most words of real ad copy are rare; a few themes are common (~4% of assets each).
FILLERS = 4000


def image_bytes(seed: int, size: int) -> bytes:
    """A PNG of noise (incompressible, so `size` px squared is ~3*size^2 bytes)."""
    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


async def system(root: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Any, Any]]:
    import asyncpg

    from flightdeck.api.app import create_app
    from flightdeck.db.engine import create_engine, create_sessionmaker
    from flightdeck.db.migrate import upgrade_to_head
    from flightdeck.db.tenancy import system_session
    from flightdeck.db.tenants import create_tenant_with_key
    from flightdeck.settings import Settings
    from tests.db.support import admin_dsn, database_url

    db = f"flightdeck_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(await admin_dsn())
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    url = await database_url(db)
    engine = None
    try:
        await upgrade_to_head(url)
        settings = Settings(
            environment="test",
            database_url=url,
            data_dir=root / "data",
            storage_dir=root / "store",
        )
        engine = create_engine(url)
        sessions = create_sessionmaker(engine)
        async with system_session(sessions, "cli") as session:
            tenant, key = await create_tenant_with_key(session, f"bench-{uuid.uuid4().hex[:6]}")
        app = create_app(settings, sessions=sessions, temporal=None)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://api",
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        ) as api:
            yield api, sessions, tenant
    finally:
        if engine is not None:
            await engine.dispose()
        admin = await asyncpg.connect(await admin_dsn())
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


async def new_space(api: httpx.AsyncClient, name: str) -> str:
    body = {"campaignName": name, "platform": "reddit"}
    return str(
        (await api.post("/api/v1/campaign-spaces", json=body)).raise_for_status().json()["id"]
    )


async def uploads(api: httpx.AsyncClient, count: int, pixels: int, workdir: Path) -> dict[str, Any]:
    """`count` uploads, every third one a duplicate of an earlier image; files are written to
    disk first and streamed from there, so the measured memory is the server's."""
    space = await new_space(api, f"uploads {pixels}px")
    unique = count - count // 3
    files = []
    for i in range(unique):
        path = workdir / f"img-{pixels}-{i}.png"
        path.write_bytes(image_bytes(i, pixels))
        files.append(path)
    order, fresh = [], iter(files)
    for i in range(count):  # every third upload repeats one sent earlier
        order.append(order[(i * 7) % i] if i % 3 == 2 else next(fresh))
    total_bytes = sum(p.stat().st_size for p in order)
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    rss = RssSampler()
    sampler = asyncio.create_task(rss.run())
    started = time.perf_counter()
    statuses: dict[int, int] = {}
    for batch in range(0, count, 4):  # four uploads in flight, like a few busy users
        answers = await asyncio.gather(*(upload(api, space, p) for p in order[batch : batch + 4]))
        for status in answers:
            statuses[status] = statuses.get(status, 0) + 1
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    sampler.cancel()
    stats = (await api.get(f"/api/v1/campaign-spaces/{space}/stats")).raise_for_status().json()
    return {
        "uploads": count,
        "mean_file_kb": total_bytes / count / 1024,
        "seconds": elapsed,
        "per_second": count / elapsed,
        "mb_per_second": total_bytes / elapsed / 1e6,
        "peak_mib": peak / 2**20,
        "rss_growth_mib": (rss.peak - rss.start) / 2**20,
        "statuses": statuses,
        "assets": stats["assetCount"],
        "distinct_files": stats["distinctFiles"],
    }


class RssSampler:
    """Resident memory every 5 ms (Pillow's pixel buffers are not seen by tracemalloc)."""

    def __init__(self) -> None:
        self.start = self.peak = rss_bytes()

    async def run(self) -> None:
        while True:
            self.peak = max(self.peak, rss_bytes())
            await asyncio.sleep(0.005)


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def upload(api: httpx.AsyncClient, space: str, path: Path) -> int:
    with path.open("rb") as handle:
        response = await api.post(
            f"/api/v1/campaign-assets/campaign-spaces/{space}/assets",
            data={"asset_type": "image", "asset_name": path.stem},
            files={"file": (path.name, handle, "image/png")},
        )
    if response.status_code not in (200, 201):
        raise RuntimeError(response.text)
    return response.status_code


async def seed_assets(sessions: Any, tenant_id: uuid.UUID, count: int) -> None:
    """`count` assets over 20 spaces, names and copy drawn from WORDS, 1-3 tags each."""
    from sqlalchemy import text

    from flightdeck.db.tenancy import tenant_session

    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    tags = "ARRAY[" + ",".join(f"'{t}'" for t in TAGS) + "]::varchar[]"
    theme = f"w[1 + floor(random() * {len(WORDS)})::int]"
    rare = f"'x' || to_hex(floor(random() * {FILLERS})::int + 4096)"
    tag = f"t[1 + floor(random() * {len(TAGS)})::int]"

    def phrase(themes: int, fillers: int) -> str:
        return " || ' ' || ".join([theme] * themes + [rare] * fillers)

    async with tenant_session(sessions, tenant_id) as session, session.begin():
        spaces = []
        for n in range(20):
            space_id = uuid.uuid4()
            spaces.append(space_id)
            await session.execute(
                text(
                    "INSERT INTO campaign_spaces (id, tenant_id, campaign_name, platform) "
                    "VALUES (:id, :t, :name, 'reddit')"
                ),
                {"id": space_id, "t": tenant_id, "name": f"bench space {n}"},
            )
        chunk = 20_000
        for start in range(0, count, chunk):
            await session.execute(
                text(
                    f"""
                    INSERT INTO campaign_assets (id, tenant_id, campaign_space_id, asset_name,
                        asset_type, title, headline_text, ad_copy_text, tags, width, height,
                        file_size, created_at, updated_at)
                    SELECT gen_random_uuid(), :t, (CAST(:spaces AS uuid[]))[1 + (g % 20)],
                        {phrase(1, 2)},
                        (ARRAY['image','headline','ad_copy']::campaignassettype[])[1 + g % 3],
                        {phrase(0, 2)},
                        {phrase(1, 3)},
                        {phrase(1, 8)},
                        ARRAY(SELECT DISTINCT {tag} FROM generate_series(1, 1 + g % 3)),
                        300 + (g % 5) * 300, 250 + (g % 4) * 200, 1000 + g,
                        now() - (g || ' seconds')::interval, now()
                    FROM generate_series(CAST(:a AS int), CAST(:b AS int)) AS g,
                        (SELECT {words} AS w, {tags} AS t) v
                    """
                ),
                {"t": tenant_id, "spaces": spaces, "a": start, "b": min(start + chunk, count) - 1},
            )
    # Fresh statistics, as autovacuum keeps them (ANALYZE needs the tables' owner, not the
    # application role).
    async with sessions.kw["bind"].connect() as connection:
        await connection.execute(text("SET ROLE NONE"))  # the login user, who owns them
        await connection.execute(text("ANALYZE campaign_spaces"))
        await connection.execute(text("ANALYZE campaign_assets"))
        await connection.execute(text("RESET ROLE"))
        await connection.commit()


async def timed(api: httpx.AsyncClient, params: dict[str, Any], runs: int = 20) -> dict[str, Any]:
    await api.get("/api/v1/campaign-assets/assets", params=params)  # warm
    times, total = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = await api.get("/api/v1/campaign-assets/assets", params=params)
        times.append((time.perf_counter() - started) * 1000)
        total = response.raise_for_status().json()["total"]
    times.sort()
    return {
        "params": params,
        "matches": total,
        "p50_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * len(times)) - 1] if len(times) >= 20 else max(times),
        "max_ms": times[-1],
    }


async def main(count: int, large: int, assets: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fd-bench-assets-") as tmp:
        root = Path(tmp)
        async for api, sessions, tenant in system(root):
            print("== uploads (through the API, streamed; a third duplicates) ==")
            for n, pixels in ((count, 96), (large, 600)):
                if n:
                    result = await uploads(api, n, pixels, root)
                    print(
                        f"{result['uploads']} x {result['mean_file_kb']:.0f} KB: "
                        f"{result['per_second']:.1f} uploads/s, "
                        f"{result['mb_per_second']:.1f} MB/s, "
                        f"peak allocated {result['peak_mib']:.1f} MiB (Python), RSS +"
                        f"{result['rss_growth_mib']:.1f} MiB, answers {result['statuses']}, "
                        f"{result['assets']} assets -> {result['distinct_files']} stored files"
                    )
            print(f"== search over {assets:,} assets (API, 50 per page + total, 20 runs) ==")
            started = time.perf_counter()
            await seed_assets(sessions, tenant.id, assets)
            print(f"seeded in {time.perf_counter() - started:.1f} s")
            for params in (
                {"search": "x1a2b"},  # a rare word (~0.4% of assets)
                {"search": "confidence"},  # a common theme word (~4.5%)
                {"search": "summer beach"},
                {"search": '"running shoes"'},
                {"tags": "tag07"},
                {"tags": "tag07,tag21"},
                {"search": "coffee", "tags": "tag03"},
                {"assetType": "image", "minWidth": 900},
            ):
                result = await timed(api, params | {"limit": 50})
                print(
                    f"{str(result['params']):55s} matches {result['matches']:6d}  "
                    f"p50 {result['p50_ms']:6.1f} ms  p95 {result['p95_ms']:6.1f} ms  "
                    f"max {result['max_ms']:6.1f} ms"
                )


if __name__ == "__main__":
    from flightdeck import event_loop

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--large-uploads", type=int, default=1000)
    parser.add_argument("--assets", type=int, default=100_000)
    args = parser.parse_args()
    event_loop.run(main(args.uploads, args.large_uploads, args.assets))
