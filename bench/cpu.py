"""Where a benchmark's CPU goes: this process (API + workers), its child processes (the
simulators, the Temporal dev server) and the Postgres backends serving its database, read from
/proc (Linux). CPU seconds, unlike wall time, barely change when other work shares the machine,
so they say what each part costs even on a busy one."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone or unreadable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14 and 15)


def children(parent: int | None = None) -> dict[int, str]:
    """Direct children of `parent` (this process by default): pid -> command line."""
    parent = os.getpid() if parent is None else parent
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat[stat.rindex(")") + 2 :].split()[1]) != parent:
                continue
            found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
    return found


def child_pids(marker: str) -> Callable[[], list[int]]:
    """The pids of this process's children whose command line contains `marker`."""
    return lambda: [pid for pid, cmd in children().items() if marker in cmd]


@dataclass
class CpuMeter:
    """CPU seconds per named group of processes between `start()` and `stop()`. `self` is
    this process (`time.process_time`: every thread, the Temporal core's included)."""

    groups: dict[str, Callable[[], Iterable[int]]]
    _start: dict[str, dict[int, float]] = field(default_factory=dict)
    _own: float = 0.0
    _wall: float = 0.0

    def start(self, extra_pids: dict[str, Iterable[int]] | None = None) -> None:
        self._own, self._wall = time.process_time(), time.perf_counter()
        self._start = {name: self._sample(name, extra_pids) for name in self.groups}

    def stop(self, extra_pids: dict[str, Iterable[int]] | None = None) -> CpuUse:
        wall = time.perf_counter() - self._wall
        used = {"this process (API + workers)": time.process_time() - self._own}
        for name in self.groups:
            before, after = self._start[name], self._sample(name, extra_pids)
            # A process born during the window counts whole; one that ended is lost.
            used[name] = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
        return CpuUse(wall, used)

    def _sample(self, name: str, extra: dict[str, Iterable[int]] | None) -> dict[int, float]:
        pids = set(self.groups[name]()) | set((extra or {}).get(name, ()))
        return {pid: process_cpu(pid) for pid in pids}


@dataclass
class CpuUse:
    wall: float
    seconds: dict[str, float]

    def per_call(self, calls: int) -> str:
        """`name 1.2 ms, …` per remote call, and how many cores the whole took on average."""
        parts = [f"{name} {1000 * s / calls:.1f} ms" for name, s in self.seconds.items() if s]
        total = sum(self.seconds.values())
        return (
            f"{1000 * total / calls:.1f} ms CPU per remote call = " + ", ".join(parts)
            + f" ({total / self.wall:.2f} cores busy on average)"
        )  # fmt: skip
