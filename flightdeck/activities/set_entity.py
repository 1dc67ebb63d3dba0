"""Reaching a set's entity workflow from a workflow (the retry sweep): signal-with-start needs
a client, so it is an activity. Idempotent in effect: a repeated request joins the one waiting
(`CampaignSetWorkflow.request`)."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client

from flightdeck.activities.names import REQUEST_SET_OPERATION
from flightdeck.set_entity_client import request_set_operation
from flightdeck.workflows.campaign_set_entity import SetEntityCall


class SetEntityActivities:
    def __init__(self, client: Client, task_queue: str) -> None:
        self._client = client
        self._task_queue = task_queue

    @activity.defn(name=REQUEST_SET_OPERATION)
    async def request_set_operation(self, call: SetEntityCall) -> str:
        return await request_set_operation(
            self._client, self._task_queue, call.entity, call.request
        )
