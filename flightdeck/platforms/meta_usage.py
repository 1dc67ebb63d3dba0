"""Graph's usage headers (meta-marketing-api.md §4), read on every answer so the `meta` task
queue slows down *before* Meta throttles:

    X-Ad-Account-Usage         {"acc_id_util_pct": 9.67, "reset_time_duration": 100, …}  seconds
    X-Business-Use-Case-Usage  {"<biz>": [{"type", "call_count", "total_cputime",
                                 "total_time", "estimated_time_to_regain_access"}]}      minutes
    X-App-Usage                {"call_count", "total_cputime", "total_time"}              percent

Pacing has two layers. The Temporal server rate-limits the `meta` task queue for every worker
process together (`meta_rate_limit`, set to the ad account tier's budget). On top, each worker
remembers the last usage each ad account reported (`UsageMonitor`): past `slow_at_percent` a
call waits in proportion to how close the account is to its limit, and at 100 % until the
window frees; activities turn a long wait into a retry with that delay, so no slot is held.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_THROTTLE_WAIT = 60.0  # no usable header: Meta's shortest regain time, one minute


@dataclass(frozen=True)
class GraphUsage:
    """What one answer said about the caller's budget."""

    percent: float  # the highest of the reported utilisation percentages
    reset_seconds: float  # when the ad account's usage drops (X-Ad-Account-Usage)
    regain_seconds: float  # throttled: when access returns (BUC estimate, whole minutes)
    observed_at: float  # time.monotonic()


def parse_usage(headers: Mapping[str, str]) -> GraphUsage | None:
    account = _json_header(headers, "X-Ad-Account-Usage")
    buc = _json_header(headers, "X-Business-Use-Case-Usage")
    app = _json_header(headers, "X-App-Usage")
    if account is None and buc is None and app is None:
        return None
    percents: list[float] = []
    reset = 0.0
    if isinstance(account, dict):
        percents.append(_number(account.get("acc_id_util_pct")))
        reset = _number(account.get("reset_time_duration"))
    regain = 0.0
    for entry in _buc_entries(buc):
        percents += [_number(entry.get(k)) for k in ("call_count", "total_cputime", "total_time")]
        regain = max(regain, 60 * _number(entry.get("estimated_time_to_regain_access")))
    if isinstance(app, dict):
        percents += [_number(app.get(k)) for k in ("call_count", "total_cputime", "total_time")]
    return GraphUsage(max(percents, default=0.0), reset, regain, time.monotonic())


def usage_retry_after(headers: Mapping[str, str]) -> float:
    """How long to wait after a throttling error. Graph gives the BUC regain time in whole
    minutes and the ad account's reset in seconds; the sooner positive one is taken (the next
    answer, throttled or not, brings fresh numbers), else one minute."""
    usage = parse_usage(headers)
    hints = [h for h in (usage.reset_seconds, usage.regain_seconds) if h > 0] if usage else []
    return min(hints) if hints else DEFAULT_THROTTLE_WAIT


class UsageMonitor:
    """The last usage each ad account reported to this process, and how long to hold off."""

    def __init__(self, slow_at_percent: float = 75.0) -> None:
        self._slow_at = slow_at_percent
        self._by_account: dict[str, GraphUsage] = {}

    def observe(self, account_id: str | None, headers: Mapping[str, str]) -> None:
        usage = parse_usage(headers)
        if account_id and usage is not None:
            self._by_account[account_id] = usage

    def throttled(self, account_id: str, headers: Mapping[str, str]) -> None:
        """A throttling error: hold the account off until the headers say it is back."""
        wait = usage_retry_after(headers)
        self._by_account[account_id] = GraphUsage(100.0, wait, wait, time.monotonic())

    def wait_seconds(self, account_id: str | None) -> float:
        """How long a new call on the account should wait (0 when below `slow_at_percent`)."""
        usage = self._by_account.get(account_id or "")
        if usage is None or usage.percent < self._slow_at:
            return 0.0
        elapsed = time.monotonic() - usage.observed_at
        # The ad account's reset (seconds) is the precise hint; the BUC regain time comes in
        # whole minutes and only stands in when the account header says nothing.
        until = usage.reset_seconds if usage.reset_seconds > 0 else usage.regain_seconds
        remaining = until - elapsed
        if remaining <= 0:
            return 0.0
        if usage.percent >= 100:
            return remaining
        share = (usage.percent - self._slow_at) / (100 - self._slow_at)
        return remaining * share


def _buc_entries(buc: Any) -> list[dict[str, Any]]:
    if not isinstance(buc, dict):
        return []
    return [
        entry
        for entries in buc.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    value = (
        headers.get(name)
        if isinstance(headers, httpx.Headers)
        else next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    )
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) else 0.0
