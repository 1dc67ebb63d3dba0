"""A Temporal interceptor that puts the activity's workflow id, run id and tenant into the
logging context (`logs.py`), so every line an activity's code logs — through any logger —
says which run and tenant it belongs to. Given to the client, so every worker uses it."""

from __future__ import annotations

from typing import Any

from temporalio import activity, client, worker

from flightdeck.observability.logs import run_id_var, tenant_id_var, workflow_id_var


def _tenant_of(args: Any) -> str | None:
    """Activity inputs name their tenant as `tenant_id`, or on a `ref`."""
    for arg in args:
        for holder in (arg, getattr(arg, "ref", None)):
            tenant = getattr(holder, "tenant_id", None)
            if tenant:
                return str(tenant)
    return None


class _ActivityContext(worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: worker.ExecuteActivityInput) -> Any:
        info = activity.info()
        tokens = (
            workflow_id_var.set(info.workflow_id),
            run_id_var.set(info.workflow_run_id),
            tenant_id_var.set(_tenant_of(input.args)),
        )
        try:
            return await super().execute_activity(input)
        finally:
            run_id_var.reset(tokens[1])
            workflow_id_var.reset(tokens[0])
            tenant_id_var.reset(tokens[2])


class LogContextInterceptor(client.Interceptor, worker.Interceptor):
    def intercept_activity(
        self, next: worker.ActivityInboundInterceptor
    ) -> worker.ActivityInboundInterceptor:
        return _ActivityContext(next)
