"""Import a campaign space's assets from its platform, a CSV or a zip (seed 003), durably.

    ImportCampaignSpaceWorkflow  (id `import-{runId}`, one run per import job)
      prepare ─► discover (on the importer's queue: Reddit's read queue, the relay's queue;
      the main one for files) ─► import_batch … until nothing is pending (continue-as-new
      every `MAX_BATCHES_PER_RUN`) ─► finish (status, counts, imported_at)

Everything the run found and did is in Postgres (`asset_import_items`), so a killed worker,
a retried activity or a re-run repeats nothing: items are keyed, assets are unique per space,
type and platform id, and bytes are stored once per tenant. The `progress` query serves the
jobs endpoint while the run is live.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        DISCOVER_ASSET_IMPORT,
        FINISH_ASSET_IMPORT,
        IMPORT_ASSET_BATCH,
        PREPARE_ASSET_IMPORT,
    )
    from flightdeck.domain.asset_import import (
        DiscoverResult,
        FinishImportInput,
        ImportBatchInput,
        ImportBatchResult,
        ImportPlan,
        ImportProgress,
        ImportRunRef,
        ImportSpaceInput,
        ImportTotals,
    )
    from flightdeck.failures import NON_RETRYABLE, Failure, failure

MAX_BATCHES_PER_RUN = 100
# Listing a large account under its read rate limit can take a while; heartbeats (every item)
# notice a dead worker within the input's heartbeat_seconds (30 s) whatever this says.
DISCOVER_TIMEOUT = timedelta(minutes=30)
BOOKKEEPING_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_attempts=20,
    non_retryable_error_types=NON_RETRYABLE,
)
# Platform reads and downloads: transient trouble (5xx, 429 after the server's delay) is
# retried; what is refused for good (bad account, refused archive) fails the run at once.
WORK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=10,
    non_retryable_error_types=NON_RETRYABLE,
)


@workflow.defn
class ImportCampaignSpaceWorkflow:
    def __init__(self) -> None:
        self._progress = ImportProgress()

    @workflow.query
    def progress(self) -> ImportProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: ImportSpaceInput) -> ImportTotals:
        ref = ImportRunRef(tenant_id=inp.tenant_id, run_id=inp.run_id)
        timeout = timedelta(seconds=inp.activity_timeout_seconds)
        heartbeat = timedelta(seconds=inp.heartbeat_seconds)
        self._progress = ImportProgress(status="running", step="prepare")
        error: str | None = None
        totals = inp.totals or ImportTotals()
        try:
            if not inp.discovered:
                plan = await workflow.execute_activity(
                    PREPARE_ASSET_IMPORT,
                    ref,
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=BOOKKEEPING_RETRY,
                    result_type=ImportPlan,
                    summary="prepare the import",
                )
                self._progress.step = "discover"
                found = await workflow.execute_activity(
                    DISCOVER_ASSET_IMPORT,
                    ref,
                    task_queue=plan.discover_task_queue,
                    start_to_close_timeout=max(timeout, DISCOVER_TIMEOUT),
                    heartbeat_timeout=heartbeat,
                    retry_policy=WORK_RETRY,
                    result_type=DiscoverResult,
                    summary="find the assets to import",
                )
                totals = ImportTotals(total=found.total_items)
            self._show(totals, "import")
            for _ in range(MAX_BATCHES_PER_RUN):
                batch = await workflow.execute_activity(
                    IMPORT_ASSET_BATCH,
                    ImportBatchInput(
                        tenant_id=inp.tenant_id, run_id=inp.run_id, batch_size=inp.batch_size
                    ),
                    start_to_close_timeout=timeout,
                    heartbeat_timeout=heartbeat,
                    retry_policy=WORK_RETRY,
                    result_type=ImportBatchResult,
                    summary=f"import up to {inp.batch_size} assets",
                )
                totals = batch.totals
                self._show(totals, "import")
                if batch.remaining == 0:
                    break
            else:
                workflow.continue_as_new(
                    inp.model_copy(update={"discovered": True, "totals": totals})
                )
        except ActivityError as err:
            error = _message(err)
        self._progress.step = "finish"
        totals = await workflow.execute_activity(
            FINISH_ASSET_IMPORT,
            FinishImportInput(tenant_id=inp.tenant_id, run_id=inp.run_id, error=error),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=BOOKKEEPING_RETRY,
            result_type=ImportTotals,
            summary="finish the import" if error is None else "record the import's failure",
        )
        self._show(totals, "done")
        self._progress.status = "failed" if error else "completed"
        if error:
            raise failure(Failure.INVALID_STATE, error)
        return totals

    def _show(self, totals: ImportTotals, step: str) -> None:
        self._progress.step = step
        self._progress.total = totals.total
        self._progress.imported = totals.imported
        self._progress.skipped = totals.skipped
        self._progress.failed = totals.failed


def _message(err: ActivityError) -> str:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return cause.message
    return str(cause or err)
