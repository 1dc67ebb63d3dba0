"""Benchmark: the API's latency under load while publish runs are in flight (issue 10).

Everything runs as it does in production, each in its own process: Postgres, a Temporal dev
server, the platform simulators (50 ms per call), one `flightdeck worker` and `flightdeck api`
(`--api-workers` processes sharing the port). Everything shares this host, so the worker runs
as the README recommends for a host it shares with the API: `FLIGHTDECK_WORKER_NICENESS=10`
(`--worker-nice 0` measures it at the API's priority). This process only drives load:

- `--in-flight` (20) publish runs of a 5 × 4 plan kept running the whole time (a new one is
  posted as soon as one ends);
- an open-loop client sending `--rate` (50) requests/s for `--seconds` (30), at most
  `--max-concurrency` (200) at once: reads of a plan, its mapping, its job, the plan list and
  the set list, and posts of small plans (10 %). Latency counts from when a request was due,
  so a stalled API cannot hide behind a slow client (no coordinated omission).

Then the worker is stopped and job reads are measured again: status reads must not wait on a
worker. Prints p50/p95/p99 per kind and overall, errors (5xx, transport errors, unexpected
statuses) and the machine's load. Goal: p99 < 100 ms, 0 errors.
Prints, besides the client's view, each route's server-side latency (the API's own `/metrics`
histograms, diffed over the load), the CPU the API and the worker used per request, and how late
this client itself sent (on a starved machine that, not the API, can dominate the client's
figures); `--py-spy FILE` profiles the API process meanwhile (py-spy in the venv).
Usage: .venv/bin/python bench/api_load.py [--rate 50] [--seconds 30] [--api-workers 1]
       [--worker-nice 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import EXAMPLE_PLAN, wait_until_serving  # noqa: E402
from flightdeck.observability.metrics import HTTP_LATENCY_BUCKETS  # noqa: E402
from tests.e2e.conftest import big_plan, make_plan  # noqa: E402

LATENCY_MS = 50
OK = {200, 201, 202}
METRIC_LINE = re.compile(r"^flightdeck_http_request_duration_seconds(_bucket|_sum)\{(.*)\} (\S+)$")
PROFILE_FORMATS = {".json": "speedscope", ".svg": "flamegraph"}  # otherwise collapsed stacks
LABEL = re.compile(r'(\w+)="([^"]*)"')
BUCKETS = [*HTTP_LATENCY_BUCKETS, float("inf")]
BUCKET_INDEX = {("+Inf" if b == float("inf") else repr(float(b))): i for i, b in enumerate(BUCKETS)}


async def scrape(api: httpx.AsyncClient, samples: int) -> dict[tuple[str, str], list[float]]:
    """The API's request-latency histograms (`flightdeck_http_request_duration_seconds`) per
    (method, route): cumulative bucket counts in `BUCKET` order, then the sum. With several API
    processes each scrape reaches one of them (the kernel picks): `samples` scrapes, keeping the
    largest count seen per route, approximate one process's share."""
    found: dict[tuple[str, str], list[float]] = {}
    for _ in range(samples):
        text = (await api.get("/metrics")).text
        seen: dict[tuple[str, str], list[float]] = {}
        for line in text.splitlines():
            match = METRIC_LINE.match(line)
            if match is None:
                continue
            suffix, labels, value = match.groups()
            pairs = dict(LABEL.findall(labels))
            key = (pairs.get("method", ""), pairs.get("route", ""))
            row = seen.setdefault(key, [0.0] * (len(BUCKETS) + 1))
            if suffix == "_sum":
                row[-1] = float(value)
            elif pairs.get("le") in BUCKET_INDEX:
                row[BUCKET_INDEX[pairs["le"]]] = float(value)
        for key, row in seen.items():
            if key not in found or row[-2] > found[key][-2]:
                found[key] = row
    return found


def server_report(
    before: dict[tuple[str, str], list[float]], after: dict[tuple[str, str], list[float]]
) -> None:
    """Per route: requests the API served during the load and their server-side latency (from
    the middleware's start to the response's end; queueing before the app sees the request is
    not in it — compare with the client's figures). Percentiles interpolate within buckets."""
    print("\n  server-side, per route (the API's own histograms, during the load):")
    print(f"  {'route':<44} {'n':>6} {'mean ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for key in sorted(after):
        old = before.get(key, [0.0] * (len(BUCKETS) + 1))
        row = [a - b for a, b in zip(after[key], old, strict=True)]
        count = row[-2]
        if count <= 0 or key[1] == "/metrics":
            continue
        qs = [_bucket_quantile(row[:-1], q) * 1000 for q in (0.5, 0.95, 0.99)]
        name = f"{key[0]} {key[1]}"[:44]
        print(
            f"  {name:<44} {int(count):>6} {row[-1] / count * 1000:>8.1f} "
            + " ".join(f"{q:>8.1f}" for q in qs)
        )


def _bucket_quantile(cumulative: list[float], q: float) -> float:
    total = cumulative[-1]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in zip(BUCKETS, cumulative, strict=True):
        if count >= rank:
            if bound == float("inf"):
                return lower_bound
            share = (rank - lower_count) / (count - lower_count) if count > lower_count else 1.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound


def niceness(pid: int) -> int:
    """The niceness a process runs at (/proc/PID/stat field 19), as the kernel sees it."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[16])


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by process `root` and its children (the extra API
    processes), from /proc: a figure that other load on the machine does not inflate."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    family = {root}
    for pid, parent in sorted(parents.items()):
        if parent in family:
            family.add(pid)
    return sum(times.get(pid, 0.0) for pid in family)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Load:
    """An open-loop request generator and its record."""

    def __init__(self, api: httpx.AsyncClient, max_concurrency: int) -> None:
        self.api = api
        self.slots = asyncio.Semaphore(max_concurrency)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.lag: list[float] = []  # how late this process sent each request: its own stalls

    async def one(self, kind: str, due: float, method: str, url: str, body: object) -> None:
        async with self.slots:
            self.lag.append(time.monotonic() - due)
            try:
                response = await self.api.request(method, url, json=body)
                if response.status_code not in OK:
                    self.errors[kind].append(f"{response.status_code} {response.text[:120]}")
            except httpx.HTTPError as exc:
                self.errors[kind].append(f"{type(exc).__name__}: {exc}")
            self.latency[kind].append(time.monotonic() - due)

    async def run(self, rate: float, seconds: float, pick: object) -> None:
        tasks = []
        start = time.monotonic()
        for i in range(int(rate * seconds)):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            kind, method, url, body = pick()  # type: ignore[operator]
            tasks.append(asyncio.create_task(self.one(kind, due, method, url, body)))
        await asyncio.gather(*tasks)

    def report(self, title: str) -> dict[str, float]:
        print(f"\n{title}")
        print(f"  {'kind':<10} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
        everything: list[float] = []
        for kind in sorted(self.latency):
            xs = self.latency[kind]
            everything += xs
            print(
                f"  {kind:<10} {len(xs):>6} {percentile(xs, 0.5) * 1000:>8.1f} "
                f"{percentile(xs, 0.95) * 1000:>8.1f} {percentile(xs, 0.99) * 1000:>8.1f} "
                f"{len(self.errors[kind]):>7}"
            )
        errors = sum(len(e) for e in self.errors.values())
        summary = {
            "p50": percentile(everything, 0.5) * 1000,
            "p95": percentile(everything, 0.95) * 1000,
            "p99": percentile(everything, 0.99) * 1000,
            "errors": errors,
        }
        print(
            f"  {'all':<10} {len(everything):>6} {summary['p50']:>8.1f} {summary['p95']:>8.1f} "
            f"{summary['p99']:>8.1f} {errors:>7}"
        )
        print(
            f"  (this client sent late by p50 {percentile(self.lag, 0.5) * 1000:.1f} ms, p99 "
            f"{percentile(self.lag, 0.99) * 1000:.1f} ms: counted above, and not the API's doing)"
        )
        for kind, messages in self.errors.items():
            for message in messages[:3]:
                print(f"    {kind}: {message}")
        return summary


async def main(args: argparse.Namespace) -> None:
    import asyncpg
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment

    from flightdeck.db.engine import create_engine, create_sessionmaker
    from flightdeck.db.migrate import upgrade_to_head
    from flightdeck.db.tenancy import system_session
    from flightdeck.db.tenants import create_tenant_with_key, register_publish_targets
    from flightdeck.dev import temporal_binary
    from flightdeck.temporal import SEARCH_ATTRIBUTES
    from tests.conftest import free_port
    from tests.db.support import admin_dsn, database_url

    db = f"flightdeck_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(await admin_dsn())
    await admin.execute(f'CREATE DATABASE "{db}"')
    await admin.close()
    url = await database_url(db)
    await upgrade_to_head(url)
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=temporal_binary(),
        search_attributes=list(SEARCH_ATTRIBUTES),
    )
    sim_port, api_port = free_port(), free_port()
    sim_url, api_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{api_port}"
    data_dir = tempfile.mkdtemp(prefix="flightdeck-bench-")
    common = {
        **os.environ,
        "FLIGHTDECK_ENVIRONMENT": "test",
        "FLIGHTDECK_DATA_DIR": data_dir,
        "FLIGHTDECK_DATABASE_URL": url,
        "FLIGHTDECK_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "FLIGHTDECK_STRATEGIS_BASE_URL": f"{sim_url}/strategis",
        "FLIGHTDECK_STRATEGIS_RELAY_BASE_URL": f"{sim_url}/relay",
        "FLIGHTDECK_STRATEGIS_RATE_LIMIT": "10000",
        "FLIGHTDECK_SIMULATORS_KEEP_STATE": "false",
        "FLIGHTDECK_API_WORKERS": str(args.api_workers),
    }
    cli = [sys.executable, "-m", "flightdeck.cli"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    engine = create_engine(url)
    try:
        procs["simulators"] = subprocess.Popen(
            [*cli, "simulators", "--port", str(sim_port)], env=common, **quiet
        )
        await wait_until_serving(f"{sim_url}/_sim/state")
        worker_log = open(os.path.join(data_dir, "worker.log"), "wb")  # noqa: SIM115
        # `--worker-nice N`: the worker at a lower CPU priority, as on a host it shares with
        # the API (FLIGHTDECK_WORKER_NICENESS, README "Production topology").
        procs["worker"] = subprocess.Popen(
            [*cli, "worker"],
            env={**common, "FLIGHTDECK_WORKER_NICENESS": str(args.worker_nice)},
            stdout=worker_log,
            stderr=worker_log,
        )
        print(f"worker log: {worker_log.name}")
        api_log = open(os.path.join(data_dir, "api.log"), "wb")  # noqa: SIM115
        # The API holds a connection only for its queries: a small pool per process, so that
        # the API processes and the worker (30 + 20) fit Postgres's 100 connections (README
        # "Configuration"); at the defaults they did not, and requests failed with 53300.
        api_env = {
            **common,
            "FLIGHTDECK_DB_POOL_SIZE": str(args.api_pool_size),
            "FLIGHTDECK_DB_MAX_OVERFLOW": str(args.api_pool_size),
        }
        procs["api"] = subprocess.Popen(
            [*cli, "api", "--port", str(api_port)], env=api_env, stdout=api_log, stderr=api_log
        )
        print(f"API log: {api_log.name}")
        await wait_until_serving(f"{api_url}/healthz", timeout=60)

        sessions = create_sessionmaker(engine)
        name = f"load-{uuid.uuid4().hex[:6]}"
        example = json.loads(EXAMPLE_PLAN.read_text())
        async with system_session(sessions, "cli") as session:
            _, key = await create_tenant_with_key(session, name)
        async with system_session(sessions, "cli") as session:
            await register_publish_targets(
                session,
                name,
                organizations=[example["organization"]],
                ad_accounts=[example["adAccountId"]],
            )
        headers = {"Authorization": f"Bearer {key}"}
        limits = httpx.Limits(max_connections=args.max_concurrency + 50)
        async with (
            httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60, limits=limits) as api,
            httpx.AsyncClient(base_url=sim_url) as sim,
        ):
            (
                await sim.post("/_sim/faults", json={"rules": [{"latencyMs": LATENCY_MS}]})
            ).raise_for_status()
            plans: list[str] = []
            jobs: list[str] = []
            stop = asyncio.Event()
            finished = 0

            async def keep_one_in_flight() -> None:
                nonlocal finished
                while not stop.is_set():
                    accepted = await api.post("/api/v1/campaign-plans", json=big_plan(5, 4))
                    accepted.raise_for_status()
                    plans.append(accepted.json()["id"])
                    jobs.append(accepted.json()["workflowId"])
                    await env.client.get_workflow_handle(accepted.json()["workflowId"]).result()
                    finished += 1

            keepers = [asyncio.create_task(keep_one_in_flight()) for _ in range(args.in_flight)]
            while len(plans) < args.in_flight:
                await asyncio.sleep(0.1)

            def pick() -> tuple[str, str, str, object]:
                roll = random.random()
                plan = random.choice(plans)
                if roll < 0.25:
                    return "plan", "GET", f"/api/v1/campaign-plans/{plan}", None
                if roll < 0.45:
                    return "mapping", "GET", f"/api/v1/campaign-plans/{plan}/mapping", None
                if roll < 0.65:
                    return "job", "GET", f"/api/v1/jobs/{random.choice(jobs)}", None
                if roll < 0.80:
                    return "plans", "GET", "/api/v1/campaign-plans?limit=20", None
                if roll < 0.90:
                    return "sets", "GET", "/api/v1/campaign-sets?limit=20", None
                return "post", "POST", "/api/v1/campaign-plans", make_plan()

            if args.py_spy:
                profile = os.path.abspath(args.py_spy)
                procs["py-spy"] = subprocess.Popen(
                    [shutil.which("py-spy", path=os.path.dirname(sys.executable)) or "py-spy",
                     "record", "--pid", str(procs["api"].pid), "--subprocesses",
                     "--rate", "200", "--duration", str(int(args.seconds)), "--format",
                     PROFILE_FORMATS.get(os.path.splitext(profile)[1], "raw"),
                     "--output", profile, "--nonblocking"],
                    **quiet,
                )  # fmt: skip
                print(f"py-spy profile of the API: {profile}")
            samples = 4 * args.api_workers
            server_before = await scrape(api, samples)
            cpu_before = {name: cpu_seconds(procs[name].pid) for name in ("api", "worker")}
            load = Load(api, args.max_concurrency)
            began = time.monotonic()
            await load.run(args.rate, args.seconds, pick)
            elapsed = time.monotonic() - began
            stop.set()
            server_after = await scrape(api, samples)
            cpu = {name: cpu_seconds(procs[name].pid) - cpu_before[name] for name in cpu_before}
            busy = load.report(
                f"{args.rate:g} req/s for {args.seconds:g} s with {args.in_flight} publish runs "
                f"in flight; API processes: {args.api_workers}; worker niceness "
                f"{niceness(procs['worker'].pid)}; load average "
                f"{os.getloadavg()[0]:.2f} ({os.cpu_count()} cores); {elapsed:.1f} s to send"
            )
            print(f"  publish runs finished meanwhile: {finished}")
            sent = sum(len(xs) for xs in load.latency.values())
            print(
                f"  CPU during the load: API {cpu['api']:.1f} s = "
                f"{cpu['api'] / max(1, sent) * 1000:.1f} ms per request ({sent} requests; "
                f"the keepers' POSTs and scrapes included); worker {cpu['worker']:.1f} s; "
                f"{elapsed:.1f} s elapsed"
            )
            if args.api_workers > 1:
                print("  (several API processes: the server-side figures are one process's)")
            server_report(server_before, server_after)
            for keeper in keepers:
                keeper.cancel()
            await asyncio.gather(*keepers, return_exceptions=True)

            # Status reads with no worker at all: answered from Postgres / a describe.
            procs["worker"].send_signal(signal.SIGKILL)
            procs["worker"].wait()
            for _ in range(5):  # runs still "running" in Temporal with nobody to answer
                accepted = await api.post("/api/v1/campaign-plans", json=big_plan(5, 4))
                jobs.append(accepted.json()["workflowId"])
            stalled = Load(api, args.max_concurrency)
            await stalled.run(
                10,
                10,
                lambda: ("job", "GET", f"/api/v1/jobs/{random.choice(jobs[-5:])}", None),
            )
            stalled.report("job reads at 10 req/s for 10 s with the worker stopped")
            verdict = "met" if busy["p99"] < 100 and busy["errors"] == 0 else "MISSED"
            print(f"\ngoal p99 < 100 ms and 0 errors under load: {verdict}")
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        await engine.dispose()
        await env.shutdown()
        admin = await asyncpg.connect(await admin_dsn())
        await admin.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    from flightdeck import event_loop

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--api-workers", type=int, default=1)
    parser.add_argument("--max-concurrency", type=int, default=200)
    parser.add_argument(
        "--api-pool-size",
        type=int,
        default=10,
        help="each API process's FLIGHTDECK_DB_POOL_SIZE (and as many overflow connections)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="the worker's FLIGHTDECK_WORKER_NICENESS (the API keeps the default priority)",
    )
    parser.add_argument(
        "--py-spy", metavar="FILE", help="profile the API process(es) with py-spy during the load"
    )
    event_loop.run(main(parser.parse_args()))
