"""A circuit breaker per platform, shared by every API replica and worker through Postgres.

Inputs are the platform calls the sync activities make (`platform_calls`). A call counts as
failed when the platform itself misbehaved — 5xx, timeouts, connection errors — not when it
refused our input (4xx) or asked us to slow down (429: the rate limiter's business).

    closed     more than `failure_ratio` of at least `min_calls` calls in the last `window`
               failed → open
    open       new syncs are refused (503 + Retry-After) until `cooldown` has passed → half-open
    half-open  syncs may start; once `min(min_calls, 5)` calls have been made since it
               half-opened, it closes if their failure ratio is within bounds, else re-opens
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from flightdeck.db.models import PlatformCall
from flightdeck.db.repositories.push_writes import PushWrites
from flightdeck.db.repositories.set_sync import SetSyncRepository
from flightdeck.db.tenancy import system_session
from flightdeck.settings import Settings

PROBE_CALLS = 5


@dataclass(frozen=True)
class BreakerPolicy:
    window: timedelta = timedelta(minutes=5)
    failure_ratio: float = 0.5
    min_calls: int = 10
    cooldown: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    state: str
    retry_after_seconds: int = 0
    failure_ratio: float | None = None


class CircuitBreakerService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: BreakerPolicy) -> None:
        self._sessions = sessions
        self._policy = policy
        self._writes = PushWrites(sessions)

    @classmethod
    def from_settings(
        cls, sessions: async_sessionmaker[AsyncSession], settings: Settings
    ) -> CircuitBreakerService:
        return cls(
            sessions,
            BreakerPolicy(
                window=timedelta(seconds=settings.circuit_window_seconds),
                failure_ratio=settings.circuit_failure_ratio,
                min_calls=settings.circuit_min_calls,
                cooldown=timedelta(seconds=settings.circuit_cooldown_seconds),
            ),
        )

    async def record(
        self, platform: str, tenant_id: uuid.UUID | None, *, ok: bool, status_code: int | None
    ) -> None:
        if tenant_id is not None:  # one statement in the tenant's scope (every sync call)
            await self._writes.record_call(platform, tenant_id, ok, status_code)
            return
        async with system_session(self._sessions, "circuit_breaker") as session, session.begin():
            await SetSyncRepository(session).record_call(platform, tenant_id, ok, status_code)

    async def check(self, platform: str, now: datetime | None = None) -> Verdict:
        """May a new sync start? Moves the breaker between states as the calls dictate."""
        policy, now = self._policy, now or datetime.now(UTC)
        async with system_session(self._sessions, "circuit_breaker") as session, session.begin():
            repo = SetSyncRepository(session)
            row = await repo.breaker(platform, lock=True)
            state = row.state if row else "closed"
            if state == "open" and row is not None and row.opened_at is not None:
                waited = now - row.opened_at
                if waited < policy.cooldown:
                    left = math.ceil((policy.cooldown - waited).total_seconds())
                    ratio = float(row.failure_ratio) if row.failure_ratio is not None else None
                    return Verdict(False, "open", max(left, 1), ratio)
                await repo.save_breaker(platform, "half_open", now, None)
                return Verdict(True, "half_open")
            if state == "half_open" and row is not None and row.opened_at is not None:
                total, failed = await repo.call_counts(platform, now - row.opened_at)
                if total < min(policy.min_calls, PROBE_CALLS):
                    return Verdict(True, "half_open")
                ratio = failed / total
                if ratio > policy.failure_ratio:
                    await repo.save_breaker(platform, "open", now, ratio)
                    return Verdict(False, "open", math.ceil(policy.cooldown.total_seconds()), ratio)
                await repo.save_breaker(platform, "closed", None, ratio)
                return Verdict(True, "closed", failure_ratio=ratio)
            total, failed = await repo.call_counts(platform, policy.window)
            ratio = failed / total if total else 0.0
            if total >= policy.min_calls and ratio > policy.failure_ratio:
                await repo.save_breaker(platform, "open", now, ratio)
                return Verdict(False, "open", math.ceil(policy.cooldown.total_seconds()), ratio)
            await session.execute(
                delete(PlatformCall).where(
                    PlatformCall.platform == platform, PlatformCall.at < now - 2 * policy.window
                )
            )
            return Verdict(True, "closed", failure_ratio=ratio)
