"""CPU and memory of process trees, read from /proc (no psutil), for the ingest benchmark.

CPU: utime+stime of every process of a role's tree. A process that started after the sampler counts
from zero; one that was already running counts from its value at the sampler's start; one that ends
keeps its last sampled value (so at most one sampling interval of its CPU can be missed).
RSS: sum of VmRSS over the tree (shared pages counted once per process, as `ps` does) and PSS from
smaps_rollup (shared pages divided among the processes sharing them).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class ProcInfo:
    pid: int
    ppid: int
    ticks: int  # utime + stime
    start: int  # start time, ticks after boot
    rss: int  # bytes
    comm: str


def read_proc(pid: int) -> ProcInfo | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    lpar, rpar = raw.index(b"("), raw.rindex(b")")
    fields = raw[rpar + 2 :].split()
    # fields[0] is state (field 3 of stat); utime=14, stime=15, starttime=22, rss=24 (1-based)
    return ProcInfo(
        pid=pid,
        ppid=int(fields[1]),
        ticks=int(fields[11]) + int(fields[12]),
        start=int(fields[19]),
        rss=int(fields[21]) * PAGE,
        comm=raw[lpar + 1 : rpar].decode(errors="replace"),
    )


def all_procs() -> dict[int, ProcInfo]:
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = read_proc(int(name))
            if info:
                out[info.pid] = info
    return out


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(root: int, procs: dict[int, ProcInfo]) -> list[int]:
    children: dict[int, list[int]] = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in procs:
            out.append(pid)
            stack.extend(children.get(pid, []))
    return out


def machine_cpu() -> tuple[float, float]:
    """(busy seconds, total seconds) of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return (total - idle) / TICK, total / TICK


def boot_ticks_now() -> int:
    with open("/proc/uptime") as f:
        return int(float(f.read().split()[0]) * TICK)


# A role selector: given all processes, the pids that belong to the role now.
Selector = Callable[[dict[int, ProcInfo]], list[int]]


def tree(root_pid: Callable[[], int | None]) -> Selector:
    def select(procs: dict[int, ProcInfo]) -> list[int]:
        root = root_pid()
        return descendants(root, procs) if root else []

    return select


@dataclass
class Sample:
    t: float
    rss: dict[str, int]
    pss: dict[str, int]
    cpu: dict[str, float]
    machine_busy: float
    others: dict[tuple[int, int], int]  # (pid, start) -> ticks of every process in no role
    counter: int = 0  # value of Sampler.counter() at this sample (e.g. polls made by the benchmark)


@dataclass
class Sampler:
    roles: dict[str, Selector]
    interval: float = 0.5
    pss: bool = True
    counter: Callable[[], int] | None = None
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._born_after = boot_ticks_now()
        self._base: dict[tuple[str, int, int], int] = {}  # (role, pid, start) -> ticks at first sight
        self._last: dict[tuple[str, int, int], int] = {}
        self._thread: threading.Thread | None = None
        self.t0 = time.monotonic()

    def sample(self) -> Sample:
        procs = all_procs()
        rss: dict[str, int] = {}
        pss: dict[str, int] = {}
        mine: set[int] = set()
        with self._lock:
            for role, select in self.roles.items():
                pids = select(procs)
                mine.update(pids)
                rss[role] = sum(procs[p].rss for p in pids)
                pss[role] = sum(pss_bytes(p) for p in pids) if self.pss else 0
                for p in pids:
                    info = procs[p]
                    k = (role, p, info.start)
                    if k not in self._base:
                        self._base[k] = 0 if info.start >= self._born_after else info.ticks
                    self._last[k] = info.ticks
            cpu: dict[str, float] = {role: 0.0 for role in self.roles}
            for k, last in self._last.items():
                cpu[k[0]] += (last - self._base[k]) / TICK
            others = {(p.pid, p.start): p.ticks for p in procs.values() if p.pid not in mine}
            counter = self.counter() if self.counter else 0
            s = Sample(time.monotonic() - self.t0, rss, pss, cpu, machine_cpu()[0], others, counter)
            self.samples.append(s)
        return s

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except Exception:  # a process vanishing mid-read: skip this round
                pass

    def start(self) -> Sampler:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def window(self, start: Sample, end: Sample) -> dict:
        """CPU seconds per role between two samples, idle RSS/PSS at start, peak RSS/PSS between."""
        inside = [s for s in self.samples if start.t <= s.t <= end.t]
        return {
            "seconds": end.t - start.t,
            "cpu_s": {r: end.cpu.get(r, 0.0) - start.cpu.get(r, 0.0) for r in self.roles},
            "rss_start": dict(start.rss),
            "pss_start": dict(start.pss),
            "rss_peak": {r: max(s.rss.get(r, 0) for s in inside) for r in self.roles},
            "pss_peak": {r: max(s.pss.get(r, 0) for s in inside) for r in self.roles},
            "machine_busy_s": end.machine_busy - start.machine_busy,
            "other_processes": top_others(start, end),
            "counter": end.counter - start.counter,
        }


def top_others(start: Sample, end: Sample, n: int = 4) -> list[tuple[str, float]]:
    """The processes outside every role that used the most CPU between two samples."""
    used = []
    for key, ticks in end.others.items():
        delta = (ticks - start.others.get(key, 0)) / TICK  # a process started inside the window counts whole
        if delta >= 0.2:
            used.append((cmdline(key[0])[:90] or f"pid {key[0]}", delta))
    return sorted(used, key=lambda x: -x[1])[:n]
