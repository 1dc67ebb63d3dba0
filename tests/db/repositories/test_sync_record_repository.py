"""Sync records: one per entity and platform, kept across attempts, counted for progress, and
swept for retries across tenants."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Tenant
from flightdeck.db.repositories.campaign_sets import CampaignSetRepository
from flightdeck.db.repositories.sync_records import SyncRecordRepository
from tests.db.repositories.test_campaign_set_repository import make_set

SNAPSHOT = {"name": "Summer Sale", "objective": "traffic"}


async def test_begin_creates_a_requested_record_then_keeps_what_it_learnt(
    session: AsyncSession, tenant: Tenant
) -> None:
    records = SyncRecordRepository(session)
    entity_id = uuid.uuid4()

    first = await records.begin(tenant.id, "campaign", entity_id, "reddit")
    assert (first.state, first.sync_status, first.attempts, first.platform_id) == (
        "requested",
        "syncing",
        0,
        None,
    )
    assert first.requested_at is not None and first.error_log == []

    await records.mark_created(tenant.id, "campaign", entity_id, "reddit", platform_id="t2_c")
    await records.mark_synced(
        tenant.id, "campaign", entity_id, "reddit", platform_id="t2_c", snapshot=SNAPSHOT
    )
    again = await records.begin(tenant.id, "campaign", entity_id, "reddit")

    assert again.id == first.id
    assert (again.state, again.sync_status) == ("requested", "syncing")
    assert (again.platform_id, again.synced_snapshot) == ("t2_c", SNAPSHOT)
    assert again.last_synced_at is not None


async def test_mark_created_stores_the_platform_id_at_once(
    session: AsyncSession, tenant: Tenant
) -> None:
    records = SyncRecordRepository(session)
    entity_id = uuid.uuid4()
    await records.begin(tenant.id, "ad", entity_id, "reddit")

    created = await records.mark_created(tenant.id, "ad", entity_id, "reddit", platform_id="t6_a")

    assert created is not None and (created.state, created.platform_id) == ("created", "t6_a")
    assert created.sync_status == "syncing"


async def test_failures_are_counted_and_logged_until_they_succeed(
    session: AsyncSession, tenant: Tenant
) -> None:
    records = SyncRecordRepository(session)
    entity_id = uuid.uuid4()
    await records.begin(tenant.id, "ad_group", entity_id, "reddit")

    await records.mark_not_applied(tenant.id, "ad_group", entity_id, "reddit")  # a 429
    await records.mark_failed(
        tenant.id, "ad_group", entity_id, "reddit", message="rate limited", code="429"
    )
    record = await records.get(tenant.id, "ad_group", entity_id, "reddit")
    assert record is not None and record.state == "failed"  # nothing was made
    await records.begin(tenant.id, "ad_group", entity_id, "reddit")
    failed = await records.mark_failed(tenant.id, "ad_group", entity_id, "reddit", message="5xx")

    assert failed is not None
    # A 5xx says nothing about the create: it stays `requested`, so the next attempt looks
    # for the object (by its marker) before creating it again.
    assert (failed.state, failed.sync_status, failed.attempts) == ("requested", "failed", 2)
    assert [entry["message"] for entry in failed.error_log] == ["rate limited", "5xx"]
    assert failed.error_log[0]["code"] == "429" and "code" not in failed.error_log[1]
    assert all("at" in entry for entry in failed.error_log)
    assert failed.permanently_failed is False

    synced = await records.mark_synced(
        tenant.id, "ad_group", entity_id, "reddit", platform_id="t2_g", snapshot={}
    )
    assert synced is not None and (synced.attempts, synced.sync_status) == (0, "synced")
    assert len(synced.error_log) == 2  # the history stays


async def test_retry_sweep_skips_permanent_and_exhausted_failures_in_any_tenant(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    records = SyncRecordRepository(session)
    retryable, theirs, permanent, exhausted, fine = (uuid.uuid4() for _ in range(5))
    for owner, entity_id in [
        (tenant, retryable),
        (other_tenant, theirs),
        (tenant, permanent),
        (tenant, exhausted),
        (tenant, fine),
    ]:
        await records.begin(owner.id, "campaign", entity_id, "reddit")
    await records.mark_failed(tenant.id, "campaign", retryable, "reddit", message="timeout")
    await records.mark_failed(other_tenant.id, "campaign", theirs, "reddit", message="502")
    await records.mark_failed(
        tenant.id, "campaign", permanent, "reddit", message="invalid", permanent=True
    )
    for _ in range(3):
        await records.mark_failed(tenant.id, "campaign", exhausted, "reddit", message="502")

    due = await records.list_retryable("reddit", max_attempts=3)
    assert {row.entity_id for row in due} >= {retryable, theirs}
    assert not {row.entity_id for row in due} & {permanent, exhausted, fine}

    # A user-initiated sync gives a permanently failed entity a fresh start.
    reset = await records.begin(tenant.id, "campaign", permanent, "reddit", reset_failures=True)
    assert (reset.attempts, reset.permanently_failed) == (0, False)


async def test_another_tenants_record_is_out_of_reach(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    records = SyncRecordRepository(session)
    entity_id = uuid.uuid4()
    await records.begin(other_tenant.id, "campaign", entity_id, "reddit")

    assert await records.get(tenant.id, "campaign", entity_id, "reddit") is None
    assert (
        await records.mark_synced(
            tenant.id, "campaign", entity_id, "reddit", platform_id="x", snapshot={}
        )
        is None
    )
    assert (
        await records.mark_failed(tenant.id, "campaign", entity_id, "reddit", message="x") is None
    )
    with pytest.raises(LookupError):
        await records.begin(tenant.id, "campaign", entity_id, "reddit")
    theirs = await records.get(other_tenant.id, "campaign", entity_id, "reddit")
    assert theirs is not None and (theirs.state, theirs.attempts) == ("requested", 0)


async def test_counts_for_set_cover_its_live_campaigns(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    made = await make_set(session, tenant.id, campaigns=4)
    synced, failed, deleted, _ = (c.id for c in made.campaigns)
    records = SyncRecordRepository(session)
    for campaign_id in (synced, failed, deleted):
        await records.begin(tenant.id, "campaign", campaign_id, "reddit")
    await records.mark_synced(
        tenant.id, "campaign", synced, "reddit", platform_id="t2_1", snapshot={}
    )
    await records.mark_failed(tenant.id, "campaign", failed, "reddit", message="x")
    await CampaignSetRepository(session).delete_campaign(tenant.id, deleted)  # in flight: soft

    assert await records.counts_for_set(tenant.id, made.id) == {
        "synced": 1,
        "failed": 1,
        "total": 3,
    }
    assert await records.counts_for_set(other_tenant.id, made.id) == {
        "synced": 0,
        "failed": 0,
        "total": 0,
    }
