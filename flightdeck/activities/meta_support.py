"""What the Meta activities share: loading a campaign's prepared payloads, turning classified
Graph errors into Temporal failures, pacing calls on the usage headers, and the tenant session."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from flightdeck.accounts import AccountNotFound
from flightdeck.accounts.meta import MetaConnectionService
from flightdeck.activities.errors import to_application_error
from flightdeck.db.models import MetaAd
from flightdeck.db.repositories.meta import CampaignStateRepository, MetaAdRepository
from flightdeck.db.tenancy import tenant_session
from flightdeck.domain.meta_io import MetaRef
from flightdeck.domain.meta_publish import our_fields
from flightdeck.failures import Failure, failure
from flightdeck.platforms.errors import PlatformError
from flightdeck.platforms.meta import MetaGraphClient
from flightdeck.platforms.meta_errors import MetaReauthRequired, MetaValidationError

# Waits this short are slept inside the activity; longer ones become a retry with that delay,
# so no worker slot is held while an ad account cools down.
MAX_INLINE_WAIT_SECONDS = 5.0


@dataclass
class PublishContext:
    """A campaign's prepared payloads and ads, read at the start of a step."""

    publish_data: dict[str, Any]
    ads: dict[int, MetaAd]  # by position

    @property
    def account(self) -> str:
        return str(self.publish_data["metadata"]["adAccountId"])


def meta_failure(exc: PlatformError, ad_index: int | None = None) -> ApplicationError:
    """A classified Graph error as the workflow sees it: a dead token is `reconnect` (never
    retried); a refused parameter names the wizard field to fix."""
    if isinstance(exc, MetaReauthRequired):
        return failure(
            Failure.REAUTH_REQUIRED,
            f"Meta refused the token: reconnect the Meta account ({exc.message})",
            {"platform": "meta", "code": exc.code, "subcode": exc.subcode},
        )
    if isinstance(exc, MetaValidationError):
        fields = our_fields(exc.blame_fields, ad_index)
        return failure(
            Failure.PLATFORM_REJECTED,
            f"{exc} [fields: {', '.join(fields) or 'unknown'}]",
            {"platform": "meta", "code": exc.code, "subcode": exc.subcode, "fields": fields},
        )
    return to_application_error(exc)


def not_ready(message: str) -> ApplicationError:
    return failure(Failure.INVALID_STATE, message)


class MetaActivityBase:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        graph: MetaGraphClient,
        connections: MetaConnectionService,
    ) -> None:
        self._sessions = sessions
        self._graph = graph
        self._connections = connections

    def session(self, ref: MetaRef) -> AsyncSession:
        return tenant_session(self._sessions, ref.tenant_id)

    async def token(self, ref: MetaRef, valid_for: timedelta = timedelta()) -> str:
        """The connection's token, checked for expiry before the step calls Meta."""
        try:
            return await self._connections.user_token(
                uuid.UUID(ref.tenant_id), uuid.UUID(ref.connection_id), valid_for=valid_for
            )
        except AccountNotFound:
            raise not_ready("the campaign's Meta connection no longer exists") from None
        except PlatformError as exc:
            raise meta_failure(exc) from exc

    async def context(self, ref: MetaRef) -> PublishContext:
        """The whole prepared document and every ad (for the steps that need them all)."""
        tenant, campaign = uuid.UUID(ref.tenant_id), uuid.UUID(ref.campaign_id)
        async with self.session(ref) as session:
            state = await CampaignStateRepository(session).get(tenant, campaign)
            ads = await MetaAdRepository(session).list_for_campaign(tenant, campaign)
        if state is None or not state.publish_data:
            raise not_ready("the campaign has no prepared publish_data: prepare it first")
        return PublishContext(state.publish_data, dict(enumerate(ads)))

    async def part(self, ref: MetaRef, *keys: str, index: int | None = None) -> PublishContext:
        """Just `metadata`, the given parts and the creative, ad payload and ad row at `index`
        (`ctx.publish_data["creatives"][index]`, `ctx.ads[index]`)."""
        tenant, campaign = uuid.UUID(ref.tenant_id), uuid.UUID(ref.campaign_id)
        async with self.session(ref) as session:
            parts = await CampaignStateRepository(session).publish_parts(
                tenant, campaign, keys, index
            )
            ad = (
                await MetaAdRepository(session).at_position(tenant, campaign, index)
                if index is not None
                else None
            )
        if parts is None or parts.get("metadata") is None:
            raise not_ready("the campaign has no prepared publish_data: prepare it first")
        data: dict[str, Any] = {k: parts[k] for k in ("metadata", *keys)}
        ads: dict[int, MetaAd] = {}
        if index is not None:
            if parts.get("creative") is None or ad is None:
                raise not_ready(f"the campaign has no ad {index}: prepare it again")
            data["creatives"] = {index: parts["creative"]}
            data["ads"] = {index: parts["ad"]}
            ads[index] = ad
        return PublishContext(data, ads)

    async def pace(self, account: str) -> None:
        """Hold off while the ad account's usage is high (UsageMonitor): a short wait here, a
        longer one as a retry after that delay."""
        wait = self._graph.usage.wait_seconds(account)
        if wait <= 0:
            return
        if wait > MAX_INLINE_WAIT_SECONDS:
            raise failure(
                Failure.RATE_LIMITED,
                f"ad account {account} is near its Graph limit; waiting {wait:.0f} s",
                next_retry_delay=timedelta(seconds=wait),
                benign=True,
            )
        activity.heartbeat(f"pacing {wait:.1f}s")
        await asyncio.sleep(wait)
