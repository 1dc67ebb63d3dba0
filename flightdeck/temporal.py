"""Temporal client wiring shared by the API, the worker and the CLI."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from flightdeck.settings import Settings

TENANT_ID = SearchAttributeKey.for_keyword("TenantId")
CAMPAIGN_PLAN_ID = SearchAttributeKey.for_keyword("CampaignPlanId")
HOOK_SET_ID = SearchAttributeKey.for_keyword("HookSetId")
CAMPAIGN_SET_ID = SearchAttributeKey.for_keyword("CampaignSetId")
PLATFORM = SearchAttributeKey.for_keyword("Platform")
META_CAMPAIGN_ID = SearchAttributeKey.for_keyword("MetaCampaignId")

SEARCH_ATTRIBUTES = (
    TENANT_ID,
    CAMPAIGN_PLAN_ID,
    HOOK_SET_ID,
    CAMPAIGN_SET_ID,
    PLATFORM,
    META_CAMPAIGN_ID,
)


async def connect(
    settings: Settings, *, lazy: bool = False, runtime: Runtime | None = None
) -> Client:
    """The client every process uses: TLS / mTLS / API key as configured, the payload codec
    when a payload key is set, and the log-context and (when on) tracing interceptors.
    `lazy`: connect on first use (the API starts, and answers 503 for what needs Temporal,
    while Temporal is down; it recovers by itself when Temporal comes back)."""
    from flightdeck.observability.interceptors import LogContextInterceptor
    from flightdeck.observability.tracing import temporal_interceptors

    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls_config(settings),
        api_key=settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None,
        interceptors=[LogContextInterceptor(), *temporal_interceptors()],
        runtime=runtime,
        lazy=lazy,
    )


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, AES-GCM-encrypted when `temporal_payload_key` is set."""
    from flightdeck.payload_codec import EncryptionCodec, with_codec

    key = settings.temporal_payload_key
    codec = EncryptionCodec.from_base64(key.get_secret_value()) if key else None
    return with_codec(pydantic_data_converter, codec)


def tls_config(settings: Settings) -> TLSConfig | bool:
    """False (plain gRPC, the dev server), True (TLS with the system's CAs: Temporal Cloud with
    an API key) or a TLSConfig pinning a CA and/or presenting a client certificate (mTLS)."""
    files = (
        settings.temporal_tls_server_ca_cert_file,
        settings.temporal_tls_client_cert_file,
        settings.temporal_tls_client_key_file,
    )
    if (files[1] is None) != (files[2] is None):
        raise ValueError(
            "FLIGHTDECK_TEMPORAL_TLS_CLIENT_CERT_FILE and _CLIENT_KEY_FILE go together (mTLS)"
        )
    if not any(files) and not settings.temporal_tls_server_name:
        return bool(settings.temporal_tls or settings.temporal_api_key)
    ca, cert, key = (path.read_bytes() if path else None for path in files)
    return TLSConfig(
        server_root_ca_cert=ca,
        client_cert=cert,
        client_private_key=key,
        domain=settings.temporal_tls_server_name,
    )


def temporal_unreachable(exc: BaseException) -> bool:
    """Temporal did not take the call (server down, connection refused, deadline exceeded),
    as opposed to refusing it (e.g. a workflow id already in use)."""
    if isinstance(exc, RPCError):
        return exc.status in (
            RPCStatusCode.UNAVAILABLE,
            RPCStatusCode.DEADLINE_EXCEEDED,
            RPCStatusCode.CANCELLED,
            RPCStatusCode.UNKNOWN,
        )
    # A client that connects lazily reports a refused connection this way.
    return isinstance(exc, RuntimeError) and "client connect" in str(exc)


def publish_workflow_id(tenant_id: str, request_id: str) -> str:
    """Business key of a publish run: one run per tenant and requestId, ever."""
    return f"publish-{tenant_id}-{request_id}"


def sync_workflow_id(set_id: object) -> str:
    """A set's push to its platform: one at a time per set; a second request joins it."""
    return f"sync-set-{set_id}"


def status_workflow_id(set_id: object) -> str:
    """A set's pause or resume on its platform (the latest request wins)."""
    return f"status-set-{set_id}"


def conflict_workflow_id(entity_type: str, entity_id: object) -> str:
    """The workflow holding one entity's open sync-back conflict."""
    return f"conflict-{entity_type}-{entity_id}"


def meta_publish_workflow_id(tenant_id: object, campaign_id: object) -> str:
    """A Meta campaign's publish: one run at a time; publishing again after an error starts a
    new run under the same id, which continues where the last one stopped."""
    return f"meta-publish-{tenant_id}-{campaign_id}"


def meta_review_workflow_id(tenant_id: object, campaign_id: object, generation: int) -> str:
    """Following the ad review of one publication of a campaign."""
    return f"meta-review-{tenant_id}-{campaign_id}-g{generation}"


def meta_operation_workflow_id(tenant_id: object, campaign_id: object, operation_id: str) -> str:
    """One pause, resume, delete or edit of a published Meta campaign."""
    return f"meta-op-{tenant_id}-{campaign_id}-{operation_id}"


def creative_task_queue(platform_queue: str) -> str:
    """Ad creatives (Reddit posts): the platform's creative rate-limit policy."""
    return f"{platform_queue}-creative"


def read_task_queue(platform_queue: str) -> str:
    """Sync-back reads: the platform's read policy."""
    return f"{platform_queue}-read"


def reports_task_queue(platform_queue: str) -> str:
    """Metrics reads (Insights, reports): the platform's reporting budget."""
    return f"{platform_queue}-reports"


def actions_task_queue(platform_queue: str) -> str:
    """Approved actions' platform writes (few: a queue of their own, never behind a sync)."""
    return f"{platform_queue}-actions"


def action_workflow_id(tenant_id: object, action_id: object) -> str:
    """One proposed action, from approval (or expiry) to its outcome."""
    return f"action-{tenant_id}-{action_id}"


async def ensure_search_attributes(client: Client, namespace: str) -> None:
    """Register Flightdeck's custom search attributes if the server lacks them (idempotent)."""
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )

    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in SEARCH_ATTRIBUTES
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


# Temporal splits a task queue's rate limit (`max_task_queue_activities_per_second`) evenly over
# the queue's partitions (4 by default): a partition whose backlog runs dry leaves its share
# unused, so a set-sync queue running at its limit dispatched 0.87-0.93 of its budget
# (`bench/sync_set.py`, Google alone); with one partition, 1.00. A deployment gives the queues
# that run at their limit for long (`flightdeck.worker.rate_limited_queues`) one partition in
# its dynamic config (`deploy/temporal/dynamicconfig.yaml`). The dev server takes dynamic
# config only as flags, which cannot name a queue: `partition_flags` sets every queue, so only
# `bench/sync_set.py` uses it — with every queue at one partition the publish path was slower
# (`bench/publish.py`, 20 plans: 144-163 remote calls/s against 157-187 with four).
SINGLE_PARTITION = ("matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions")


def partition_flags(partitions: int = 1) -> list[str]:
    """`temporal server start-dev` flags giving every task queue `partitions` partitions."""
    flags: list[str] = []
    for key in SINGLE_PARTITION:
        flags += ["--dynamic-config-value", f"{key}={partitions}"]
    return flags


def search_attribute_flags() -> list[str]:
    """`temporal server start-dev` flags declaring our search attributes up front."""
    flags: list[str] = []
    for key in SEARCH_ATTRIBUTES:
        flags += ["--search-attribute", f"{key.name}=Keyword"]
    return flags
