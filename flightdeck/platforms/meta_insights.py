"""Reading Meta Insights (metrics-and-review.md §1): daily rows per campaign, synchronously for
small accounts and through async report runs for large ones, paced by the insights throttle.

- **Synchronous**: `GET /act_X/insights?level=campaign&time_increment=1&time_range=…`, paged by
  `after` while `paging.next` is there. Graph's "reduce the amount of data" (code 100, subcode
  1487534) raises `TooMuchData`: the caller switches to async runs.
- **Async**: one `POST /act_X/insights` per slice of the window (`{report_run_id}`), polled
  together in one batch request (`POST / batch=[{"method": "GET", "relative_url": id}]`) until
  each is "Job Completed" (results paged from `GET /{id}/insights`), "Job Failed" or "Job
  Skipped" (submitted again, the slice halved, up to `max_job_attempts`), or too slow.
- **Throttle**: every insights answer carries `x-fb-ads-insights-throttle` ({app_id_util_pct,
  acc_id_util_pct}); `InsightsPacer` waits before the next call once either passes
  `slow_at_percent` — longer the closer to 100 — so the account slows down *before* Meta
  refuses it, and after a throttling error (code 4 / 80000) waits the regain time.
- **Units**: `spend` and `action_values` are decimal strings in the account currency's major
  unit; conversions are the configured purchase `action_type` (default
  `offsite_conversion.fb_pixel_purchase`: Meta lists one purchase under several types, so
  exactly one is counted), summed over the requested attribution windows.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from flightdeck.domain.metrics import MetricRow, count, date_slices, from_decimal_string
from flightdeck.platforms.errors import NonRetryableError, RateLimitedError, RetryableError

THROTTLE_HEADER = "x-fb-ads-insights-throttle"
PLATFORM = "meta"
FIELDS = (
    "campaign_id",
    "campaign_name",
    "account_currency",
    "impressions",
    "clicks",
    "spend",
    "actions",
    "action_values",
)
DONE = "Job Completed"
FAILED = ("Job Failed", "Job Skipped")
TOO_MUCH_DATA_SUBCODE = 1487534
REGAIN_MARGIN_SECONDS = 1.0
Sleep = Callable[[float], Awaitable[None]]
Note = Callable[[str], None]


class TooMuchData(Exception):
    """Graph asked for less data per synchronous request: use async report runs."""


class ReportJobFailed(RetryableError):
    """An async report run kept failing (or never finished); the cycle tries again later."""


@dataclass
class InsightsPacer:
    """Per ad account: the last throttle percentages Meta reported, and how long to hold off.

    Below `slow_at_percent` nothing waits. Above it, a call waits `max_pause_seconds` times the
    square of how far into the last stretch the account is (75 % → 0, 87.5 % → ¼, 100 % → all
    of it). After a throttling error it waits what Meta said (the regain time)."""

    slow_at_percent: float = 75.0
    max_pause_seconds: float = 60.0
    sleep: Sleep = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    _percent: dict[str, float] = field(default_factory=dict)
    _blocked_until: dict[str, float] = field(default_factory=dict)

    def observe(self, account: str | None, headers: Mapping[str, str]) -> None:
        value = headers.get(THROTTLE_HEADER)
        if not account or not value:
            return
        try:
            parsed = json.loads(value)
            percent = max(
                float(parsed.get("acc_id_util_pct", 0)), float(parsed.get("app_id_util_pct", 0))
            )
        except (ValueError, TypeError, AttributeError):
            return
        if math.isfinite(percent):
            self._percent[account] = percent

    def throttled(self, account: str, retry_after: float | None) -> None:
        """Meta refused a call: hold the account off for the regain time it gave (and a
        second more, so the next call lands after the window turned, not on its edge)."""
        wait = retry_after or self.max_pause_seconds
        self._blocked_until[account] = self.clock() + wait + REGAIN_MARGIN_SECONDS
        self._percent[account] = 100.0

    def percent(self, account: str) -> float:
        return self._percent.get(account, 0.0)

    def wait_seconds(self, account: str) -> float:
        blocked = self._blocked_until.get(account, 0.0) - self.clock()
        if blocked > 0:
            return blocked
        percent = self._percent.get(account, 0.0)
        if percent < self.slow_at_percent:
            return 0.0
        share = min(1.0, (percent - self.slow_at_percent) / (100 - self.slow_at_percent))
        return self.max_pause_seconds * share * share

    async def pace(self, account: str) -> float:
        """Wait as long as the account needs; the seconds waited."""
        wait = self.wait_seconds(account)
        if wait > 0:
            await self.sleep(wait)
            # Waited out: the next answer brings fresh numbers.
            self._blocked_until.pop(account, None)
            self._percent[account] = min(self._percent.get(account, 0.0), self.slow_at_percent)
        return wait


class GraphLike(Protocol):
    """The part of `MetaGraphClient` the reader uses."""

    async def get(self, path: str, token: str, params: Mapping[str, Any] | None = None, *,
                  account: str | None = None) -> Any: ...  # fmt: skip

    async def post(self, path: str, token: str, params: Mapping[str, Any], *,
                   account: str | None = None) -> Any: ...  # fmt: skip


@dataclass
class InsightsStats:
    calls: int = 0
    jobs: int = 0
    failed_jobs: int = 0
    waited: float = 0.0


@dataclass(frozen=True)
class InsightsQuery:
    account: str  # act_…
    since: date
    until: date
    currency: str
    purchase_action_type: str = "offsite_conversion.fb_pixel_purchase"
    windows: tuple[str, ...] = ("7d_click", "1d_view")

    def params(self, since: date | None = None, until: date | None = None) -> dict[str, Any]:
        return {
            "level": "campaign",
            "time_increment": 1,
            "time_range": {
                "since": (since or self.since).isoformat(),
                "until": (until or self.until).isoformat(),
            },
            "fields": ",".join(FIELDS),
            "action_attribution_windows": list(self.windows),
        }


class InsightsReader:
    def __init__(
        self,
        graph: GraphLike,
        pacer: InsightsPacer,
        *,
        page_size: int = 500,
        poll_interval: float = 2.0,
        job_timeout: float = 3600.0,
        max_job_attempts: int = 3,
        slice_days: int = 7,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._graph = graph
        self._pacer = pacer
        self._page_size = page_size
        self._poll = poll_interval
        self._job_timeout = job_timeout
        self._attempts = max_job_attempts
        self._slice_days = slice_days
        self._sleep = sleep
        self._clock = clock

    # -- synchronous ---------------------------------------------------------------------------

    async def rows_now(
        self, token: str, query: InsightsQuery, stats: InsightsStats, note: Note
    ) -> AsyncIterator[list[MetricRow]]:
        params: dict[str, Any] = {**query.params(), "limit": self._page_size}
        path = f"{query.account}/insights"
        while True:
            try:
                page = await self._call("GET", path, token, params, query.account, stats)
            except NonRetryableError as exc:
                if exc.code == 100 and exc.subcode == TOO_MUCH_DATA_SUBCODE:
                    raise TooMuchData(str(exc)) from exc
                raise
            yield [parse_row(row, query) for row in _data(page)]
            after = _next_cursor(page)
            if after is None:
                return
            params["after"] = after
            note(f"insights page after {after}")

    # -- async report runs -----------------------------------------------------------------------

    async def rows_by_jobs(
        self, token: str, query: InsightsQuery, stats: InsightsStats, note: Note
    ) -> AsyncIterator[list[MetricRow]]:
        pending: dict[str, _Job] = {}
        for since, until in date_slices(query.since, query.until, self._slice_days):
            job = await self._submit(token, query, since, until, 1, stats)
            pending[job.run_id] = job
        while pending:
            await self._sleep(self._poll)
            statuses = await self._statuses(token, query, list(pending), stats)
            for run_id, status in statuses.items():
                job = pending[run_id]
                state = str(status.get("async_status", ""))
                percent = status.get("async_percent_completion")
                note(f"report run {run_id} {job.since}..{job.until}: {state} {percent}%")
                if state == DONE:
                    del pending[run_id]
                    async for rows in self._results(token, query, run_id, stats):
                        yield rows
                elif state in FAILED or self._clock() - job.submitted > self._job_timeout:
                    del pending[run_id]
                    stats.failed_jobs += 1
                    for retry in await self._retry(token, query, job, state, stats):
                        pending[retry.run_id] = retry

    async def _submit(
        self,
        token: str,
        query: InsightsQuery,
        since: date,
        until: date,
        attempt: int,
        stats: InsightsStats,
    ) -> _Job:
        path = f"{query.account}/insights"
        answer = await self._call(
            "POST", path, token, query.params(since, until), query.account, stats
        )
        run_id = (
            answer.get("report_run_id") or answer.get("id") if isinstance(answer, dict) else None
        )
        if not run_id:
            raise RetryableError(
                "insights POST answered without a report_run_id", platform=PLATFORM
            )
        stats.jobs += 1
        return _Job(str(run_id), since, until, attempt, self._clock())

    async def _retry(
        self, token: str, query: InsightsQuery, job: _Job, state: str, stats: InsightsStats
    ) -> list[_Job]:
        """A failed, skipped or stuck run again — its slice halved, as Airbyte does — up to
        `max_job_attempts` times; then the account's read fails (and is retried later)."""
        if job.attempt >= self._attempts:
            raise ReportJobFailed(
                f"Meta report run for {job.since}..{job.until} ended {state or 'unfinished'} "
                f"{job.attempt} times",
                platform=PLATFORM,
            )
        halves = [(job.since, job.until)]
        if job.until > job.since:
            middle = job.since + timedelta(days=(job.until - job.since).days // 2)
            halves = [(job.since, middle), (middle + timedelta(days=1), job.until)]
        return [
            await self._submit(token, query, since, until, job.attempt + 1, stats)
            for since, until in halves
        ]

    async def _statuses(
        self, token: str, query: InsightsQuery, run_ids: list[str], stats: InsightsStats
    ) -> dict[str, dict[str, Any]]:
        """Every pending run's AdReportRun, in batches of 50 (one request each)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(run_ids), 50):
            chunk = run_ids[start : start + 50]
            batch = [{"method": "GET", "relative_url": run_id} for run_id in chunk]
            answers = await self._call("POST", "", token, {"batch": batch}, query.account, stats)
            if not isinstance(answers, list) or len(answers) != len(chunk):
                raise RetryableError(
                    "the batch answer does not match the request", platform=PLATFORM
                )
            for run_id, answer in zip(chunk, answers, strict=True):
                body = _batch_body(answer)
                if answer.get("code") != 200 or not isinstance(body, dict):
                    raise RetryableError(
                        f"report run {run_id} could not be read: {answer.get('code')}",
                        platform=PLATFORM,
                    )
                found[run_id] = body
        return found

    async def _results(
        self, token: str, query: InsightsQuery, run_id: str, stats: InsightsStats
    ) -> AsyncIterator[list[MetricRow]]:
        params: dict[str, Any] = {"limit": self._page_size}
        while True:
            page = await self._call(
                "GET", f"{run_id}/insights", token, params, query.account, stats
            )
            yield [parse_row(row, query) for row in _data(page)]
            after = _next_cursor(page)
            if after is None:
                return
            params["after"] = after

    # -- every call ------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        token: str,
        params: Mapping[str, Any],
        account: str,
        stats: InsightsStats,
    ) -> Any:
        """One Graph call, paced by the throttle; a throttling error waits and tries again
        (the pacer knows how long), up to three times."""
        for attempt in range(4):
            stats.waited += await self._pacer.pace(account)
            stats.calls += 1
            try:
                if method == "GET":
                    return await self._graph.get(path, token, params, account=account)
                return await self._graph.post(path, token, params, account=account)
            except RateLimitedError as exc:
                self._pacer.throttled(account, exc.retry_after)
                if attempt == 3:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class _Job:
    run_id: str
    since: date
    until: date
    attempt: int
    submitted: float


def parse_row(row: Mapping[str, Any], query: InsightsQuery) -> MetricRow:
    """One `level=campaign, time_increment=1` row in our units."""
    day = date.fromisoformat(str(row["date_start"]))
    return MetricRow(
        platform_campaign_id=str(row["campaign_id"]),
        day=day,
        impressions=count(row.get("impressions"), "impressions"),
        clicks=count(row.get("clicks"), "clicks"),
        spend=from_decimal_string(row.get("spend"), "spend"),
        conversions=count(_action(row.get("actions"), query), "actions"),
        revenue=from_decimal_string(_action(row.get("action_values"), query), "action_values"),
        currency=str(row.get("account_currency") or query.currency),
        campaign_name=row.get("campaign_name"),
    )


def _action(entries: Any, query: InsightsQuery) -> str:
    """The purchase action's value: the requested windows summed when Meta split it by window,
    else its `value`."""
    if not isinstance(entries, list):
        return "0"
    for entry in entries:
        if isinstance(entry, dict) and entry.get("action_type") == query.purchase_action_type:
            windowed = [entry[w] for w in query.windows if w in entry]
            if windowed:
                return str(sum(from_decimal_string(v) for v in windowed))
            return str(entry.get("value") or "0")
    return "0"


def _data(page: Any) -> list[dict[str, Any]]:
    data = page.get("data") if isinstance(page, dict) else None
    if not isinstance(data, list):
        raise RetryableError("insights answered without data", platform=PLATFORM)
    return [row for row in data if isinstance(row, dict)]


def _next_cursor(page: Mapping[str, Any]) -> str | None:
    paging = page.get("paging") or {}
    if not paging.get("next"):
        return None
    after = (paging.get("cursors") or {}).get("after")
    return str(after) if after else None


def _batch_body(answer: Any) -> Any:
    if not isinstance(answer, dict):
        return None
    try:
        return json.loads(answer.get("body") or "null")
    except ValueError:
        return None
