"""Activities of `ImportCampaignSpaceWorkflow` (seed 003 imports).

- `prepare` marks the run running and says on which queue discovery runs (the importer's —
  Reddit's read queue, the relay's queue — or the main one for CSV and zip files);
- `discover` lists what there is to import into `asset_import_items` (idempotent: known keys
  are kept), heartbeating as it goes;
- `import_batch` processes the next pending items: downloads through the SSRF guard (or
  extracts from the zip), checks the bytes, stores them once per tenant, creates the asset —
  and marks the item, in the same transaction. An asset the space already has (same type and
  platform id, or same bytes) is `skipped`, so a retried batch or a re-run adds nothing twice;
- `finish` ends the run (status, counts, the space's `imported_at`) and drops the uploaded file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from flightdeck.accounts import AccountNotFound, ReauthRequired
from flightdeck.activities.errors import to_application_error
from flightdeck.activities.names import (
    DISCOVER_ASSET_IMPORT,
    FINISH_ASSET_IMPORT,
    IMPORT_ASSET_BATCH,
    PREPARE_ASSET_IMPORT,
)
from flightdeck.assets.csv_import import CsvRefused, csv_items
from flightdeck.assets.library import (
    AssetLibrary,
    WrongFileType,
    asset_type_for,
    check_type,
    file_values,
)
from flightdeck.db.models import AssetImportItem, AssetImportRun, CampaignSpace
from flightdeck.db.repositories.asset_imports import AssetImportRepository
from flightdeck.db.repositories.audit_log import AuditLogRepository
from flightdeck.db.repositories.campaign_assets import CampaignAssetRepository
from flightdeck.db.repositories.campaign_spaces import CampaignSpaceRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.asset_import import (
    DiscoveredAsset,
    DiscoverResult,
    FinishImportInput,
    ImportBatchInput,
    ImportBatchResult,
    ImportPlan,
    ImportRunRef,
    ImportTotals,
)
from flightdeck.failures import Failure, failure
from flightdeck.platforms.asset_importer import AssetImporters, ImportNotPossible, ImportSource
from flightdeck.platforms.errors import PlatformError
from flightdeck.platforms.safe_fetch import FetchFailed, FetchRefused, SafeFetcher
from flightdeck.storage.archives import (
    ArchiveEntry,
    ArchiveLimits,
    ArchiveRefused,
    extract_into,
    list_entries,
)
from flightdeck.storage.base import BlobNotFound
from flightdeck.storage.images import ImageRefused
from flightdeck.storage.intake import EmptyFile, StagedFile, TooLarge

logger = logging.getLogger(__name__)
ACTOR = "import"
DOWNLOAD_TRIES = 3
ITEM_CHUNK = 200
Archive = tuple[Path, dict[int, ArchiveEntry]]


@dataclass(frozen=True)
class ImportLimits:
    download_max_bytes: int
    csv_max_rows: int
    archive: ArchiveLimits


def _fail(message: str) -> ApplicationError:
    """The import cannot go on as things stand: retrying cannot help."""
    return failure(Failure.INVALID_STATE, message)


class AssetImportActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        library: AssetLibrary,
        importers: AssetImporters,
        fetcher: SafeFetcher,
        limits: ImportLimits,
        main_task_queue: str,
    ) -> None:
        self._sessions = sessions
        self._library = library
        self._importers = importers
        self._fetcher = fetcher
        self._limits = limits
        self._main_queue = main_task_queue

    # -- prepare -------------------------------------------------------------------------------

    @activity.defn(name=PREPARE_ASSET_IMPORT)
    async def prepare(self, inp: ImportRunRef) -> ImportPlan:
        tenant, run_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.run_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            run, space = await self._run_and_space(session, tenant, run_id)
            if run.status == "queued":
                await AssetImportRepository(session).set_status(tenant, run_id, "running")
        if run.source != "platform_api":
            return ImportPlan(source=run.source, discover_task_queue=self._main_queue)  # type: ignore[arg-type]
        try:
            importer = self._importers.for_source(_source(space))
        except ImportNotPossible as exc:
            raise _fail(str(exc)) from None
        return ImportPlan(source="platform_api", discover_task_queue=importer.task_queue)

    # -- discover ------------------------------------------------------------------------------

    @activity.defn(name=DISCOVER_ASSET_IMPORT)
    async def discover(self, inp: ImportRunRef) -> DiscoverResult:
        tenant, run_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.run_id)
        async with tenant_session(self._sessions, tenant) as session:
            run, space = await self._run_and_space(session, tenant, run_id)
        try:
            if run.source == "platform_api":
                importer = self._importers.for_source(_source(space))
                await self._store_items(tenant, run_id, importer.discover(_source(space)))
            elif run.source == "csv_import":
                async with self._upload(run) as path:
                    items = csv_items(path, max_rows=self._limits.csv_max_rows)
                    await self._store_items(tenant, run_id, _aiter(items))
            elif run.source == "bulk_import":
                async with self._upload(run) as path:
                    entries = await asyncio.to_thread(list_entries, path, self._limits.archive)
                    await self._store_items(tenant, run_id, _aiter(_entry_items(entries)))
            else:
                raise _fail(f"cannot import from {run.source}")
        except (ImportNotPossible, CsvRefused, ArchiveRefused, AccountNotFound) as exc:
            raise _fail(str(exc)) from None
        except ReauthRequired as exc:
            raise _fail(str(exc)) from None
        except PlatformError as exc:
            raise to_application_error(exc) from exc
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            repo = AssetImportRepository(session)
            totals, _ = await repo.totals(tenant, run_id)
            await repo.set_status(tenant, run_id, "running", total_items=totals.total)
        return DiscoverResult(total_items=totals.total)

    async def _store_items(
        self, tenant: uuid.UUID, run_id: uuid.UUID, items: AsyncIterator[DiscoveredAsset]
    ) -> None:
        chunk: list[tuple[str, dict[str, Any]]] = []
        seen: set[str] = set()
        async for item in items:
            activity.heartbeat(len(seen))
            if item.item_key in seen:
                continue
            seen.add(item.item_key)
            chunk.append((item.item_key, item.model_dump(mode="json")))
            if len(chunk) >= ITEM_CHUNK:
                await self._flush(tenant, run_id, chunk)
                chunk = []
        await self._flush(tenant, run_id, chunk)

    async def _flush(
        self, tenant: uuid.UUID, run_id: uuid.UUID, chunk: list[tuple[str, dict[str, Any]]]
    ) -> None:
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await AssetImportRepository(session).add_items(tenant, run_id, chunk)

    # -- import --------------------------------------------------------------------------------

    @activity.defn(name=IMPORT_ASSET_BATCH)
    async def import_batch(self, inp: ImportBatchInput) -> ImportBatchResult:
        tenant, run_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.run_id)
        async with tenant_session(self._sessions, tenant) as session:
            run, space = await self._run_and_space(session, tenant, run_id)
            items = await AssetImportRepository(session).pending_items(
                tenant, run_id, inp.batch_size
            )
        upload: contextlib.AbstractAsyncContextManager[Path | None] = (
            self._upload(run) if run.source == "bulk_import" and items else _nothing()
        )
        async with upload as zip_path:
            archive = None
            if zip_path is not None:
                entries = await asyncio.to_thread(list_entries, zip_path, self._limits.archive)
                archive = (zip_path, {entry.index: entry for entry in entries})
            for n, item in enumerate(items):
                activity.heartbeat(n)
                await self._import_item(tenant, run, space, item, archive)
        async with tenant_session(self._sessions, tenant) as session:
            totals, remaining = await AssetImportRepository(session).totals(tenant, run_id)
        return ImportBatchResult(totals=totals, remaining=remaining)

    async def _import_item(
        self,
        tenant: uuid.UUID,
        run: AssetImportRun,
        space: CampaignSpace,
        item: AssetImportItem,
        archive: Archive | None,
    ) -> None:
        found = DiscoveredAsset.model_validate(item.payload)
        if found.error:
            await self._finish_item(tenant, item, "failed", error=found.error)
            return
        if found.external_asset_id is not None and await self._known(tenant, space, found):
            return await self._finish_item(tenant, item, "skipped")
        staged: StagedFile | None = None
        try:
            if found.media_url or found.archive_entry is not None:
                staged = await self._receive(found, archive)
            await self._store(tenant, run, space, item, found, staged)
        except (
            FetchRefused,
            TooLarge,
            EmptyFile,
            ImageRefused,
            WrongFileType,
            ArchiveRefused,
        ) as exc:
            await self._finish_item(tenant, item, "failed", error=str(exc))
        except FetchFailed as exc:
            await self._finish_item(tenant, item, "failed", error=f"download failed: {exc}")
        finally:
            if staged is not None:
                staged.discard()

    async def _known(self, tenant: uuid.UUID, space: CampaignSpace, found: DiscoveredAsset) -> bool:
        """The space already has this platform object (a re-run): nothing to download."""
        assert found.external_asset_id is not None
        async with tenant_session(self._sessions, tenant) as session:
            existing = await CampaignAssetRepository(session).find_external(
                tenant, space.id, found.asset_type, found.external_asset_id
            )
        return existing is not None

    async def _receive(self, found: DiscoveredAsset, archive: Archive | None) -> StagedFile:
        if found.archive_entry is not None:
            entry = archive[1].get(found.archive_entry) if archive else None
            if archive is None or entry is None:
                raise FetchRefused("the entry is no longer in the archive")
            intake = self._library.intake()
            await asyncio.to_thread(extract_into, archive[0], entry, intake)
            return intake.finish()
        assert found.media_url is not None
        accept = (
            ("image/",)
            if found.asset_type == "image"
            else ("video/",)
            if (found.asset_type == "video")
            else ()
        )
        for attempt in range(1, DOWNLOAD_TRIES + 1):
            intake = self._library.intake(self._limits.download_max_bytes)
            try:
                return await self._fetcher.fetch_into(
                    found.media_url, intake, accept=accept, on_chunk=activity.heartbeat
                )
            except FetchFailed as exc:
                if not exc.retryable or attempt == DOWNLOAD_TRIES:
                    raise
                await asyncio.sleep(0.5 * attempt)
        raise AssertionError("unreachable")

    async def _store(
        self,
        tenant: uuid.UUID,
        run: AssetImportRun,
        space: CampaignSpace,
        item: AssetImportItem,
        found: DiscoveredAsset,
        staged: StagedFile | None,
    ) -> None:
        values = _values(found, run, space)
        facts = None
        if staged is not None:
            facts = await self._library.inspect(staged)
            if found.detect_type:
                values["asset_type"] = asset_type_for(facts.sniffed.family)
            check_type(values["asset_type"], facts)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            assets = CampaignAssetRepository(session)
            if staged is not None and facts is not None:
                blob, _ = await self._library.attach(session, tenant, staged, facts)
                existing = await assets.find_live_in_space(tenant, space.id, blob.sha256)
                if existing is not None and found.external_asset_id is None:
                    await _mark(session, tenant, item, "skipped", existing.id)
                    return
                asset_id = uuid.uuid4()
                values |= {"id": asset_id} | file_values(asset_id, blob)
            if found.external_asset_id is not None:
                row, created = await assets.create_imported(tenant, space.id, values)
            else:
                row, created = await assets.create(tenant, space.id, values), True
            await _mark(session, tenant, item, "imported" if created else "skipped", row.id)

    async def _finish_item(
        self, tenant: uuid.UUID, item: AssetImportItem, state: str, *, error: str | None = None
    ) -> None:
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            await AssetImportRepository(session).finish_item(tenant, item.id, state, error=error)

    # -- finish --------------------------------------------------------------------------------

    @activity.defn(name=FINISH_ASSET_IMPORT)
    async def finish(self, inp: FinishImportInput) -> ImportTotals:
        tenant, run_id = uuid.UUID(inp.tenant_id), uuid.UUID(inp.run_id)
        async with tenant_session(self._sessions, tenant) as session, session.begin():
            repo = AssetImportRepository(session)
            run = await repo.get(tenant, run_id)
            if run is None:
                raise _fail(f"import run {run_id} not found")
            totals, _ = await repo.totals(tenant, run_id)
            status = "failed" if inp.error else "completed"
            await repo.set_status(tenant, run_id, status, error=inp.error, total_items=totals.total)
            if not inp.error:
                await CampaignSpaceRepository(session).update(
                    tenant,
                    run.campaign_space_id,
                    {"imported_at": datetime.now(UTC), "import_source": run.source},
                )
            await AuditLogRepository(session).add(
                tenant_id=tenant,
                actor=ACTOR,
                user_id=run.user_id,
                action=f"asset_import.{status}",
                entity_type="campaign_space",
                entity_id=str(run.campaign_space_id),
                details={"run_id": str(run_id), "source": run.source, "error": inp.error}
                | totals.model_dump(),
            )
            upload = run.upload_key
        if upload:
            with contextlib.suppress(Exception):
                await self._library.store.delete(upload)
        return totals

    # -- helpers -------------------------------------------------------------------------------

    async def _run_and_space(
        self, session: AsyncSession, tenant: uuid.UUID, run_id: uuid.UUID
    ) -> tuple[AssetImportRun, CampaignSpace]:
        run = await AssetImportRepository(session).get(tenant, run_id)
        if run is None:
            raise _fail(f"import run {run_id} not found")
        space = await CampaignSpaceRepository(session).get(tenant, run.campaign_space_id)
        if space is None:
            raise _fail("the campaign space was deleted")
        return run, space

    @contextlib.asynccontextmanager
    async def _upload(self, run: AssetImportRun) -> AsyncIterator[Path]:
        """The run's uploaded file as a local file, removed afterwards."""
        if not run.upload_key:
            raise _fail("the import has no uploaded file")
        fd, name = tempfile.mkstemp(dir=self._library.store.staging_dir, suffix=".import")
        path = Path(name)
        try:
            with open(fd, "wb"):
                pass
            try:
                await self._library.store.fetch_to(run.upload_key, path)
            except BlobNotFound:
                raise _fail("the uploaded file is gone") from None
            yield path
        finally:
            path.unlink(missing_ok=True)


def _source(space: CampaignSpace) -> ImportSource:
    if not space.external_campaign_id:
        raise ImportNotPossible("the space names no platform campaign (externalCampaignId)")
    return ImportSource(
        tenant_id=space.tenant_id,
        space_id=space.id,
        platform=space.platform,
        external_campaign_id=space.external_campaign_id,
        ad_account_id=space.ad_account_id,
        import_metadata=dict(space.import_metadata or {}),
    )


def _values(found: DiscoveredAsset, run: AssetImportRun, space: CampaignSpace) -> dict[str, Any]:
    values: dict[str, Any] = {
        "asset_name": found.asset_name[:255],
        "asset_type": found.asset_type,
        "import_source": run.source,
        "import_run_id": run.id,
        "external_asset_id": found.external_asset_id,
        "public_url": found.public_url,
        "platform_metadata": found.platform_metadata,
        "tags": found.tags,
        "brand_id": space.brand_id,
        "user_id": run.user_id,
    }
    for name in ("title", "description", "headline_text", "ad_copy_text", "cta_text"):
        value = getattr(found, name)
        if value is not None:
            values[name] = (
                value[:500] if name == "title" else value[:100] if name == "cta_text" else value
            )
    return values


async def _mark(
    session: AsyncSession,
    tenant: uuid.UUID,
    item: AssetImportItem,
    state: str,
    asset_id: uuid.UUID,
) -> None:
    await AssetImportRepository(session).finish_item(tenant, item.id, state, asset_id=asset_id)


def _entry_items(entries: Iterable[Any]) -> Iterable[DiscoveredAsset]:
    for entry in entries:
        yield DiscoveredAsset(
            item_key=f"entry:{entry.index}",
            asset_type="other",
            asset_name=entry.display_name,
            archive_entry=entry.index,
            detect_type=True,
            platform_metadata={"source": "bulk_import", "entry": entry.display_name},
        )


async def _aiter(items: Iterable[DiscoveredAsset]) -> AsyncIterator[DiscoveredAsset]:
    for item in items:
        yield item


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield None
