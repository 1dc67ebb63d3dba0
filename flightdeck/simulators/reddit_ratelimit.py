"""Reddit's per-policy rate limits (reddit-ads-api.md §4): each operation names one or more
policies (`ads-campaign-management-read`: 400 per 60 s, `…-write`: 200 per 60 s, …); every
caller gets a fixed window per policy, and a request that would exceed any of its policies is
refused with 429 without consuming the others.

Windows are counted per app (OAuth client id): the contract leaves app/user/account
UNCONFIRMED, and per app is the strictest reading for Flightdeck, whose workers share one app.

Every answer reports the state in the IETF draft headers the spec documents:

    RateLimit-Policy: "ads-campaign-management-write";q=200;w=60
    RateLimit: "ads-campaign-management-write";r=199;t=60
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from flightdeck.simulators.reddit_spec import RateLimitPolicy


@dataclass
class _Window:
    started: float
    used: int = 0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """Fixed windows by (caller, policy); quotas default to the spec's and can be overridden."""

    def __init__(
        self,
        defaults: Mapping[str, RateLimitPolicy],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.defaults = dict(defaults)
        self.limits = dict(defaults)
        self._clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}

    def configure(self, overrides: Mapping[str, RateLimitPolicy]) -> None:
        """Replace the overrides (an empty mapping restores the spec's limits); windows restart."""
        self.limits = {**self.defaults, **overrides}
        self._windows.clear()

    def reset(self) -> None:
        self.configure({})

    def take(self, caller: str, policies: Sequence[RateLimitPolicy]) -> Verdict:
        """Count one request against every policy, unless one of them is exhausted."""
        now = self._clock()
        current = [self.limits.get(p.name, p) for p in policies]
        windows = [self._window(caller, policy, now) for policy in current]
        allowed = all(w.used < p.quota for w, p in zip(windows, current, strict=True))
        if allowed:
            for window in windows:
                window.used += 1
        return Verdict(allowed, self._headers(current, windows, now))

    def usage(self) -> list[dict[str, object]]:
        """Open windows, for the admin surface."""
        now = self._clock()
        return [
            {
                "caller": caller,
                "policy": name,
                "used": window.used,
                "quota": self.limits[name].quota,
                "resetsIn": round(max(0.0, self._ends(name, window) - now), 3),
            }
            for (caller, name), window in self._windows.items()
            if name in self.limits and self._ends(name, window) > now
        ]

    def _window(self, caller: str, policy: RateLimitPolicy, now: float) -> _Window:
        window = self._windows.get((caller, policy.name))
        if window is None or now >= window.started + policy.window:
            window = self._windows[(caller, policy.name)] = _Window(started=now)
        return window

    def _ends(self, name: str, window: _Window) -> float:
        return window.started + self.limits[name].window

    @staticmethod
    def _headers(
        policies: Sequence[RateLimitPolicy], windows: Sequence[_Window], now: float
    ) -> dict[str, str]:
        described, states = [], []
        for policy, window in zip(policies, windows, strict=True):
            remaining = max(0, policy.quota - window.used)
            # Rounded to the microsecond first: `started + window - now` in floats can be a hair
            # over the window (60.0000000001 for a window opened by this very request), and the
            # header then said t=61.
            reset = math.ceil(round(max(0.0, window.started + policy.window - now), 6))
            described.append(f'"{policy.name}";q={policy.quota};w={math.ceil(policy.window)}')
            states.append(f'"{policy.name}";r={remaining};t={reset}')
        return {"RateLimit-Policy": ", ".join(described), "RateLimit": ", ".join(states)}
