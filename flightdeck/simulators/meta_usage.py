"""Graph's rate limiting as the simulator applies it (meta-marketing-api.md §4): every call on an
ad account's objects counts against that account's ads_management quota in a sliding window;
every answer carries `X-App-Usage`, `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage`; past
the quota a call is refused with HTTP 400, code 80004 (not 429: Graph throttles with 400) and
not counted.

`estimated_time_to_regain_access` is in whole minutes, as Meta sends it (rounded up), and
`reset_time_duration` in seconds. The simulator reports as `reset_time_duration` the seconds
until the oldest counted call leaves the window, the earliest moment usage drops; whether Meta
means that or the time until usage is back to 0 is UNCONFIRMED.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from flightdeck.simulators.graph_errors import graph_error, render_graph_fault
from flightdeck.simulators.meta_state import MetaRuntime
from flightdeck.simulators.routing import SimulatorError

THROTTLE_SUBCODE = 2446079  # "too many calls to this ad account" (meta-marketing-api.md §4)


class AccountUsage:
    """One ad account's window: counts a call or refuses it, and renders the usage headers."""

    def __init__(self, runtime: MetaRuntime, account_id: str, business_id: str | None) -> None:
        self._runtime = runtime
        self._account = account_id
        self._business = business_id or account_id
        self._calls = runtime.calls.setdefault(account_id, [])

    def admit(self, cost: int = 1) -> dict[str, str]:
        """Count this request as `cost` calls (a `?ids=` read counts each id: UNCONFIRMED for
        the ads_management quota, the safe reading) and return the headers; else raise Graph's
        throttling error, counting nothing."""
        now = time.monotonic()
        quota = self._runtime.quota
        cutoff = now - quota.window_seconds
        while self._calls and self._calls[0] <= cutoff:
            self._calls.pop(0)
        if len(self._calls) + cost > quota.calls_per_window:
            headers = self.headers(now, refused=True)
            raise graph_error(
                400,
                "User request limit reached",
                code=80004,
                subcode=THROTTLE_SUBCODE,
                is_transient=True,
                user_title="Ad Account Has Too Many API Calls",
                user_msg="There have been too many calls to this ad-account. Wait a bit and try "
                "again. For more info, please refer to "
                "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
                headers=headers,
            )
        self._calls.extend([now] * cost)
        return self.headers(now)

    def headers(self, now: float | None = None, *, refused: bool = False) -> dict[str, str]:
        """The usage headers; `estimated_time_to_regain_access` is non-zero only on the answer
        that refuses a call (what it means on an admitted call at 100 % is UNCONFIRMED)."""
        now = time.monotonic() if now is None else now
        quota = self._runtime.quota
        used = len(self._calls)
        percent = min(100, math.ceil(100 * used / max(quota.calls_per_window, 1)))
        reset = max(0, math.ceil(self._calls[0] + quota.window_seconds - now)) if self._calls else 0
        regain_minutes = math.ceil(reset / 60) if refused else 0
        buc: dict[str, Any] = {
            "type": "ads_management",
            "call_count": percent,
            "total_cputime": max(1, percent // 4) if used else 0,
            "total_time": max(1, percent // 4) if used else 0,
            "estimated_time_to_regain_access": regain_minutes,
            "ads_api_access_tier": quota.tier,
        }
        account = {
            "acc_id_util_pct": float(percent),
            "reset_time_duration": reset,
            "ads_api_access_tier": quota.tier,
        }
        app = {"call_count": min(100, percent // 2), "total_cputime": 1, "total_time": 1}
        return {
            "X-Business-Use-Case-Usage": json.dumps({self._business: [buc]}),
            "X-Ad-Account-Usage": json.dumps(account),
            "X-App-Usage": json.dumps(app),
        }


def with_headers(error: SimulatorError, headers: dict[str, str]) -> SimulatorError:
    """An error response that still carries the usage headers of the call it answers."""
    error.headers = {**headers, **error.headers}
    return error


def render_meta_fault(
    status: int, retry_after: float | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """An injected failure as Graph sends it. A "429" rule is Graph's throttling, which comes as
    HTTP 400 with code 80004 and the usage headers saying when to come back."""
    if status != 429:
        return render_graph_fault(status, retry_after)
    seconds = math.ceil(retry_after or 60)
    headers = {
        "X-Business-Use-Case-Usage": json.dumps(
            {"sim": [{"type": "ads_management", "call_count": 100, "total_cputime": 100,
                      "total_time": 100, "estimated_time_to_regain_access": math.ceil(seconds / 60),
                      "ads_api_access_tier": "standard_access"}]}
        ),
        "X-Ad-Account-Usage": json.dumps(
            {"acc_id_util_pct": 100.0, "reset_time_duration": seconds,
             "ads_api_access_tier": "standard_access"}
        ),
    }  # fmt: skip
    error = graph_error(
        400,
        "User request limit reached",
        code=80004,
        subcode=THROTTLE_SUBCODE,
        is_transient=True,
        headers=headers,
    )
    return error.body, error.headers
