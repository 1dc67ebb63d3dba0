"""One metrics cycle (seed 004), run by the `metrics-sync` Schedule every 15 minutes (overlap
skip), or for one tenant by `POST /api/v1/metrics/sync`:

    prepare (partitions ahead, connected accounts of every registered platform)
    ─► per account, at most `account_concurrency` at once, on the platform's reporting queue:
       discover campaigns, read the lookback window, upsert the days
    ─► per tenant with fresh data: alerts and recommendations ─► webhooks for new or worse
       alerts ─► an `ApplyActionWorkflow` per autonomous action

One account's failure (a dead token, a platform outage that outlasts its retries) is recorded
on its run and does not stop the others; the cycle always finishes with its counts.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from flightdeck.activities.names import (
        ALERTS_NOTIFY,
        METRICS_ACCOUNT_FAILED,
        METRICS_ANALYZE,
        METRICS_PREPARE,
        METRICS_SYNC_ACCOUNT,
    )
    from flightdeck.domain.metrics_io import (
        AccountFailure,
        AccountSyncInput,
        AccountSyncResult,
        AnalyzeInput,
        AnalyzeResult,
        ApplyActionInput,
        MetricsAccount,
        MetricsPrepared,
        MetricsSyncInput,
        MetricsSyncResult,
        NotifyInput,
    )
    from flightdeck.failures import NON_RETRYABLE, failure_message
    from flightdeck.temporal import TENANT_ID, action_workflow_id
    from flightdeck.workflows.apply_action import ApplyActionWorkflow

BOOKKEEPING = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=20)
READ_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=5,
    non_retryable_error_types=NON_RETRYABLE,
)


@workflow.defn
class MetricsSyncWorkflow:
    @workflow.run
    async def run(self, inp: MetricsSyncInput) -> MetricsSyncResult:
        prepared = await workflow.execute_activity(
            METRICS_PREPARE,
            inp,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=BOOKKEEPING,
            result_type=MetricsPrepared,
            summary="list the accounts to read",
        )
        result = MetricsSyncResult(
            accounts=len(prepared.accounts), partitions_created=prepared.partitions_created
        )
        cycle_id = workflow.info().workflow_id
        slots = asyncio.Semaphore(max(1, inp.account_concurrency))
        synced: set[str] = set()

        async def read(account: MetricsAccount) -> None:
            async with slots:
                outcome = await self._sync(inp, cycle_id, account)
            if outcome is None:
                result.failed_accounts.append(f"{account.platform}:{account.account_id}")
                return
            synced.add(account.tenant_id)
            result.report_calls += outcome.report_calls
            result.rows_upserted += outcome.rows_upserted

        await asyncio.gather(*(read(account) for account in prepared.accounts))
        if inp.analyze:
            for tenant_id in sorted(synced):
                await self._analyze(inp, cycle_id, tenant_id, result)
        return result

    async def _sync(
        self, inp: MetricsSyncInput, cycle_id: str, account: MetricsAccount
    ) -> AccountSyncResult | None:
        try:
            return await workflow.execute_activity(
                METRICS_SYNC_ACCOUNT,
                AccountSyncInput(account=account, cycle_id=cycle_id, trigger=inp.trigger),
                task_queue=inp.queues(account.platform).report_queue,
                start_to_close_timeout=timedelta(hours=2),
                heartbeat_timeout=timedelta(minutes=5),
                retry_policy=READ_RETRY,
                result_type=AccountSyncResult,
                summary=f"read {account.platform} metrics of account {account.account_id}",
            )
        except ActivityError as err:
            await workflow.execute_activity(
                METRICS_ACCOUNT_FAILED,
                AccountFailure(
                    account=account,
                    cycle_id=cycle_id,
                    trigger=inp.trigger,
                    error=failure_message(err),
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=BOOKKEEPING,
                summary=f"record that {account.platform} account {account.account_id} failed",
            )
            return None

    async def _analyze(
        self, inp: MetricsSyncInput, cycle_id: str, tenant_id: str, result: MetricsSyncResult
    ) -> None:
        write_queues = {p.platform: p.write_queue for p in inp.platforms}
        try:
            analysis = await workflow.execute_activity(
                METRICS_ANALYZE,
                AnalyzeInput(
                    tenant_id=tenant_id,
                    cycle_id=cycle_id,
                    action_queue=workflow.info().task_queue,
                    write_queues=write_queues,
                ),
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RetryPolicy(maximum_attempts=3),
                result_type=AnalyzeResult,
                summary="run the alert rules and recommendations",
            )
        except ActivityError:
            workflow.logger.warning("analysis failed for tenant %s", tenant_id)
            return
        result.tenants_analyzed += 1
        result.alerts_opened += analysis.alerts_opened
        result.alerts_resolved += analysis.alerts_resolved
        result.recommendations_new += analysis.recommendations_new
        delivered = await asyncio.gather(
            *(self._notify(inp, tenant_id, alert_id) for alert_id in analysis.notify)
        )
        result.notifications_failed += delivered.count(False)
        for start in analysis.autonomous:
            try:
                await workflow.start_child_workflow(
                    ApplyActionWorkflow.run,
                    ApplyActionInput(
                        tenant_id=tenant_id,
                        action_id=start.action_id,
                        expires_at=start.expires_at,
                        autonomous=True,
                        write_queues=write_queues,
                    ),
                    id=action_workflow_id(tenant_id, start.action_id),
                    parent_close_policy=ParentClosePolicy.ABANDON,
                    static_summary=f"Autonomous action {start.action_id}",
                    search_attributes=TypedSearchAttributes(
                        [SearchAttributePair(TENANT_ID, tenant_id)]
                    ),
                )
                result.autonomous_started += 1
            except WorkflowAlreadyStartedError:
                pass  # a retried cycle: the action already runs

    async def _notify(self, inp: MetricsSyncInput, tenant_id: str, alert_id: str) -> bool:
        try:
            await workflow.execute_activity(
                ALERTS_NOTIFY,
                NotifyInput(tenant_id=tenant_id, alert_id=alert_id),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    maximum_interval=timedelta(minutes=1),
                    maximum_attempts=inp.webhook_max_attempts,
                    non_retryable_error_types=NON_RETRYABLE,
                ),
                result_type=bool,
                summary=f"send alert {alert_id} to the webhook",
            )
        except ActivityError:
            return False  # recorded on the alert (notification_error)
        return True
