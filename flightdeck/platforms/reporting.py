"""What a platform contributes to seed 004 (metrics and actions), behind one small interface,
with its own registration (ARCHITECTURE.md decision 15):

    PlatformReporter   lists the tenant's connected accounts, discovers every campaign on an
                       account, and reads daily rows over a window, converted to major units
    CampaignOperator   reads a campaign's state (status, budget) and changes it — what an
                       approved action executes, through the platform's own client

A platform is one module defining `REGISTRATION` (a `PerformanceRegistration`: its reporting
and write task queues, its reporting rate limit, and how to open its runtime) plus one line in
`INSTALLED`. The metrics and action workflows never name a platform; activities look them up
here. (Google Ads joined with `google_performance.py` and one line.)
"""

from __future__ import annotations

import contextlib
import importlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from flightdeck.domain.metrics import MetricRow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from flightdeck.db.models import PlatformCampaign
    from flightdeck.settings import Settings

INSTALLED: tuple[str, ...] = (
    "flightdeck.platforms.meta_performance",
    "flightdeck.platforms.reddit_performance",
    "flightdeck.platforms.google_performance",
)


@dataclass(frozen=True)
class ReportingAccount:
    """A connected ad account to read: the platform's id and the Flightdeck connection holding
    its credentials (a Meta connection, a connected Reddit account). No secrets."""

    tenant_id: uuid.UUID
    platform: str
    connection_id: uuid.UUID
    account_id: str
    currency: str | None = None
    timezone: str | None = None
    last_metrics_at: datetime | None = None


@dataclass(frozen=True)
class DiscoveredCampaign:
    """One campaign as the platform lists it, in our words (status active/paused/archived/
    deleted; budget in major units, daily or lifetime, on the campaign or its ad sets)."""

    platform_campaign_id: str
    name: str | None
    status: str
    platform_status: str | None
    objective: str | None
    budget_amount: Decimal | None
    budget_type: str | None
    budget_owner: str | None
    currency: str | None
    start_date: datetime | None = None
    end_date: datetime | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportStats:
    """What reading one account cost: report calls, async jobs, waits for the throttle."""

    calls: int = 0
    jobs: int = 0
    failed_jobs: int = 0
    throttle_wait_seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


# Called with a progress note while a report is being read (activities heartbeat with it).
Progress = Callable[[str], None]


class PlatformReporter(Protocol):
    platform: str

    async def accounts(
        self, session: AsyncSession, tenant_id: uuid.UUID | None
    ) -> list[ReportingAccount]:
        """The connected accounts to read (every tenant's when `tenant_id` is None)."""
        ...

    async def discover(
        self, account: ReportingAccount, stats: ReportStats
    ) -> list[DiscoveredCampaign]: ...

    def report(
        self,
        account: ReportingAccount,
        since: date,
        until: date,
        stats: ReportStats,
        progress: Progress,
        *,
        campaigns: int = 0,
    ) -> AsyncIterator[list[MetricRow]]:
        """Daily rows per campaign for [since, until] (the account's calendar), in batches.
        `campaigns` (how many the account has) lets a reporter pick its strategy."""
        ...


@dataclass(frozen=True)
class CampaignState:
    """What an action assumes and changes: status (active/paused) and budget (major units)."""

    status: str
    budget_amount: Decimal | None
    budget_type: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "budgetAmount": None if self.budget_amount is None else str(self.budget_amount),
            "budgetType": self.budget_type,
        }


class CampaignOperator(Protocol):
    platform: str

    async def read(self, campaign: PlatformCampaign) -> CampaignState: ...

    async def set_status(self, campaign: PlatformCampaign, status: str) -> None:
        """`active` or `paused`."""
        ...

    async def set_budget(self, campaign: PlatformCampaign, amount: Decimal) -> None:
        """The campaign's daily (or lifetime) budget, in major units."""
        ...


class PerformanceRuntime(Protocol):
    @property
    def reporter(self) -> PlatformReporter: ...

    @property
    def operator(self) -> CampaignOperator: ...


@dataclass(frozen=True)
class PerformanceDeps:
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    transports: dict[str, httpx.AsyncBaseTransport | None] = field(default_factory=dict)


@dataclass(frozen=True)
class PerformanceRegistration:
    name: str
    # Reporting reads run on their own queue, rate limited for every worker together; approved
    # actions' writes on a queue of their own (few, never queued behind a sync).
    report_queue: Callable[[Settings], str]
    report_rate_limit: Callable[[Settings], float]
    write_queue: Callable[[Settings], str]
    lookback_days: Callable[[Settings], int]
    open_runtime: Callable[[PerformanceDeps], AbstractAsyncContextManager[PerformanceRuntime]]


class UnknownPlatform(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no platform {name!r} reports metrics; known: {', '.join(names())}")


_registered: dict[str, PerformanceRegistration] = {}


def registered() -> Sequence[PerformanceRegistration]:
    if not _registered:
        for module in INSTALLED:
            registration: PerformanceRegistration = importlib.import_module(module).REGISTRATION
            _registered[registration.name] = registration
    return list(_registered.values())


def registration(name: str) -> PerformanceRegistration:
    registered()
    try:
        return _registered[name]
    except KeyError:
        raise UnknownPlatform(name) from None


def names() -> list[str]:
    return [r.name for r in registered()]


class PerformanceRuntimes:
    """Every registered platform's open runtime, by name (built once per worker or request)."""

    def __init__(self, runtimes: dict[str, PerformanceRuntime]) -> None:
        self._runtimes = runtimes

    def __iter__(self) -> Any:
        return iter(self._runtimes)

    def reporter(self, name: str) -> PlatformReporter:
        return self._runtime(name).reporter

    def operator(self, name: str) -> CampaignOperator:
        return self._runtime(name).operator

    def _runtime(self, name: str) -> PerformanceRuntime:
        try:
            return self._runtimes[name]
        except KeyError:
            raise UnknownPlatform(name) from None


@contextlib.asynccontextmanager
async def open_runtimes(deps: PerformanceDeps) -> AsyncIterator[PerformanceRuntimes]:
    """Open every registered platform's runtime; close them all on exit."""
    async with contextlib.AsyncExitStack() as stack:
        runtimes = {
            reg.name: await stack.enter_async_context(reg.open_runtime(deps))
            for reg in registered()
        }
        yield PerformanceRuntimes(runtimes)
