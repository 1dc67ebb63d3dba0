"""Ad accounts and OAuth states: tokens stored as given (ciphertext), one connection per platform
account and tenant, states redeemable once and only before they expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from flightdeck.db.models import Tenant
from flightdeck.db.repositories.ad_accounts import AdAccountRepository, OAuthStateRepository

LATER = datetime.now(UTC) + timedelta(hours=1)


async def test_create_get_and_list_accounts(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    accounts = AdAccountRepository(session)
    account = await accounts.create(
        tenant.id,
        name="Brand",
        platform_account_id="a2_fd0001",
        username="brand_ads",
        access_token_encrypted=b"\x01cipher",
        refresh_token_encrypted=b"\x02cipher",
        token_expires_at=LATER,
        scopes="adsread adsedit",
    )
    await accounts.create(other_tenant.id, platform_account_id="a2_fd0001")

    assert (account.status, account.platform) == ("active", "reddit")
    fetched = await accounts.get(tenant.id, account.id)
    assert fetched is not None and fetched.access_token_encrypted == b"\x01cipher"
    found = await accounts.get_by_platform_account(tenant.id, "reddit", "a2_fd0001")
    assert found is not None and found.id == account.id
    assert [a.id for a in await accounts.list(tenant.id)] == [account.id]
    assert await accounts.list(tenant.id, status="disconnected") == []


async def test_one_connection_per_platform_account_and_tenant(
    session: AsyncSession, tenant: Tenant
) -> None:
    accounts = AdAccountRepository(session)
    await accounts.create(tenant.id, platform_account_id="a2_dup")

    with pytest.raises(IntegrityError):
        await accounts.create(tenant.id, platform_account_id="a2_dup")


async def test_another_tenants_account_is_invisible_and_unchanged(
    session: AsyncSession, tenant: Tenant, other_tenant: Tenant
) -> None:
    accounts = AdAccountRepository(session)
    theirs = await accounts.create(
        other_tenant.id, platform_account_id="a2_theirs", access_token_encrypted=b"t"
    )

    assert await accounts.get(tenant.id, theirs.id) is None
    assert await accounts.get_by_platform_account(tenant.id, "reddit", "a2_theirs") is None
    assert (
        await accounts.update_tokens(
            tenant.id, theirs.id, access_token_encrypted=b"mine", token_expires_at=None
        )
        is None
    )
    assert await accounts.disconnect(tenant.id, theirs.id) is None
    assert await accounts.set_status(tenant.id, theirs.id, "reauth_required") is None
    unchanged = await accounts.get(other_tenant.id, theirs.id)
    assert unchanged is not None
    assert (unchanged.status, unchanged.access_token_encrypted) == ("active", b"t")


async def test_token_refresh_keeps_an_unrotated_refresh_token_and_reactivates(
    session: AsyncSession, tenant: Tenant
) -> None:
    accounts = AdAccountRepository(session)
    account = await accounts.create(
        tenant.id, access_token_encrypted=b"old", refresh_token_encrypted=b"refresh"
    )
    await accounts.set_status(tenant.id, account.id, "reauth_required")

    refreshed = await accounts.update_tokens(
        tenant.id, account.id, access_token_encrypted=b"new", token_expires_at=LATER
    )

    assert refreshed is not None
    assert (refreshed.access_token_encrypted, refreshed.refresh_token_encrypted) == (
        b"new",
        b"refresh",
    )
    assert (refreshed.status, refreshed.token_expires_at) == ("active", LATER)
    with pytest.raises(ValueError, match="status"):
        await accounts.set_status(tenant.id, account.id, "broken")


async def test_details_fill_in_and_disconnect_forgets_tokens(
    session: AsyncSession, tenant: Tenant
) -> None:
    accounts = AdAccountRepository(session)
    account = await accounts.create(tenant.id, access_token_encrypted=b"a")

    detailed = await accounts.update_details(
        tenant.id, account.id, platform_account_id="a2_x", funding_instrument_id="fi_1", name=None
    )
    assert detailed is not None
    assert (detailed.platform_account_id, detailed.funding_instrument_id) == ("a2_x", "fi_1")
    connected = await accounts.mark_connected(tenant.id, account.id)
    assert connected is not None and connected.connected_at is not None
    with pytest.raises(ValueError):
        await accounts.update_details(tenant.id, account.id, status="active")

    gone = await accounts.disconnect(tenant.id, account.id)
    assert gone is not None and gone.status == "disconnected"
    assert (gone.access_token_encrypted, gone.refresh_token_encrypted) == (None, None)
    assert gone.platform_account_id == "a2_x"


async def test_an_oauth_state_is_consumed_once_and_only_before_it_expires(
    session: AsyncSession, tenant: Tenant
) -> None:
    states = OAuthStateRepository(session)
    await states.create(
        tenant.id,
        platform="reddit",
        state="s-valid",
        code_verifier_encrypted=b"verifier",
        redirect_uri="https://app.example/callback",
        expires_at=LATER,
    )
    await states.create(
        tenant.id,
        platform="reddit",
        state="s-expired",
        code_verifier_encrypted=b"verifier",
        redirect_uri="https://app.example/callback",
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )

    consumed = await states.consume("s-valid")
    assert consumed is not None
    assert (consumed.tenant_id, consumed.code_verifier_encrypted) == (tenant.id, b"verifier")
    assert consumed.used_at is not None
    assert await states.consume("s-valid") is None
    assert await states.consume("s-expired") is None
    assert await states.consume("s-unknown") is None
