"""The platform registry and the sync's adapters (issue 9, "ready for the next platforms"):
adapters and pollers are made per call on one shared HTTP client per platform, each acting for
its own account; nothing per account is kept for the worker's life."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.accounts.reddit import RedditAccountService
from flightdeck.activities.adapters import PlatformAdapters
from flightdeck.platforms.reddit_adapter import RedditCampaignSetAdapter
from flightdeck.platforms.registry import UnknownPlatformError, platform, platforms
from flightdeck.settings import Settings
from tests.accounts.support import connect, new_tenant


def test_each_platform_is_registered_once_with_its_queues_and_limits() -> None:
    settings = Settings(environment="test")
    reddit = platform("reddit")
    assert [entry.name for entry in platforms()] == ["reddit", "google"]
    google = platform("google")
    assert google.task_queue(settings) == settings.google_task_queue == "google"
    assert google.read_task_queue(settings) == "google-read"
    assert google.rate_limit(settings) == settings.google_rate_limit
    assert reddit.task_queue(settings) == settings.reddit_task_queue
    assert reddit.creative_task_queue(settings) == f"{settings.reddit_task_queue}-creative"
    assert reddit.read_task_queue(settings) == f"{settings.reddit_task_queue}-read"
    assert reddit.rate_limit(settings) == settings.reddit_rate_limit
    with pytest.raises(UnknownPlatformError, match="google_ads"):
        platform("google_ads")


async def test_adapters_are_made_per_call_on_one_shared_client_per_platform(
    sessions: async_sessionmaker[AsyncSession],
    service: RedditAccountService,
    reddit_sim: httpx.AsyncClient,
) -> None:
    first_tenant, second_tenant = await new_tenant(sessions), await new_tenant(sessions)
    first = await connect(service, reddit_sim, first_tenant.id)
    second = await connect(service, reddit_sim, second_tenant.id)
    adapters = PlatformAdapters(sessions, {"reddit": service})

    one, one_context = await adapters(first_tenant.id, first.id)
    again, _ = await adapters(first_tenant.id, first.id)
    other, other_context = await adapters(second_tenant.id, second.id)
    assert isinstance(one, RedditCampaignSetAdapter) and isinstance(other, RedditCampaignSetAdapter)
    assert one is not again, "no adapter is cached per account"
    shared = one._client._http
    assert other._client._http is shared and again._client._http is shared
    assert one._client._tokens is not other._client._tokens  # each its own account's tokens
    assert one_context.account_id == first.platform_account_id
    assert other_context.account_id == second.platform_account_id

    # Closing one account's client leaves the platform's shared client serving the others.
    await one._client.aclose()
    assert not shared.is_closed
    poller, context = await adapters.poller(second_tenant.id, second.id)
    snapshot = await poller.fetch_all(context)
    assert snapshot.calls >= 1
    # The pixel lookup is cached per platform, not per adapter: a new adapter asks no more.
    await one._pixel(one_context)
    assert one_context.account_id in again._pixels
