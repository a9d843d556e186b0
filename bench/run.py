"""Ingest benchmark: starts LightTrace itself, drives it with Python-SDK-shaped envelopes, prints figures.

    make bench                                   # = .venv/bin/python bench/run.py (about 15 minutes)
    .venv/bin/python bench/run.py --quick        # smoke version, about 2-3 minutes
    .venv/bin/python bench/run.py --only pg-paused,latency

Not a test: it prints a report (tables, each figure next to its target) and writes the same figures
as JSON to /tmp/lighttrace-bench-*/results.json (or --json PATH). Scenarios, each on a fresh stack
(`manage.py serve`: granian + Celery worker + Celery beat) and a fresh database:

  pg-running  PostgreSQL + Redis, workers running: N events at 32 connections; accepted/s, latency,
              processed/s (first send -> last event counted by the API), exact count check, disk/event
  pg-paused   PostgreSQL + Redis, Celery worker SIGSTOPped: 1, 8, 32 connections while a backlog builds,
              queue depth over time, then SIGCONT and the backlog's drain rate
  embedded    no DATABASE_URL/REDIS_URL (SQLite in a temp DATA_DIR): 1 and 32 connections, processed/s,
              RSS, disk/event
  latency     PostgreSQL + Redis, workers running: 1 and 8 connections, latency

Load comes from bench/loadgen.py in its own process (asyncio, keep-alive HTTP/1.1 on loopback); its
own CPU is measured and printed. CPU and RSS of web (granian main process + workers), worker (celery worker +
children), scheduler (beat), PostgreSQL (postmaster, auxiliary processes and this database's backends)
and Redis come from /proc (bench/procstats.py). Everything started is stopped on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
os.chdir(ROOT)

from payload import write_pool  # noqa: E402
from procstats import Sampler, tree  # noqa: E402
from stacks import (  # noqa: E402
    BENCH_REDIS_DB,
    Postgres,
    Stack,
    embedded_stack,
    git_describe,
    postgres_selector,
    postgres_stack,
    prepare_template,
    redis_base,
    redis_pid_and_info,
)

SCENARIOS = ("pg-running", "pg-paused", "embedded", "latency")
# Not in the default run: the embedded default with a 1-thread worker (see bench/serve_variant.py).
EXTRA_SCENARIOS = ("embedded-1thread",)
PLACEHOLDER_KEY = "0123456789abcdef0123456789abcdef"

# Events per phase. A phase with "seconds" stops at whichever comes first (events or seconds).
CONFIGS = {
    "full": {
        "pg-running": {"events": 20000, "concurrency": 32},
        "pg-paused": {"levels": [(1, 3000, 8.0), (8, 8000, 10.0), (32, 10000, 10.0)]},
        "embedded": {"levels": [(1, 500, None), (32, 10000, None)]},
        "latency": {"levels": [(1, 2000, None), (8, 4000, None)]},
    },
    "quick": {
        "pg-running": {"events": 2000, "concurrency": 32},
        "pg-paused": {"levels": [(1, 600, 2.0), (8, 1500, 3.0), (32, 2000, 3.0)]},
        "embedded": {"levels": [(1, 200, None), (32, 1500, None)]},
        "latency": {"levels": [(1, 300, None), (8, 600, None)]},
    },
}

TARGETS = {
    "processed_pg": (">=", 1000, "ev/s"),
    "processed_embedded": (">=", 400, "ev/s"),
    "accepted_32_paused": (">=", 2000, "ev/s"),
    "p99_32_paused": ("<=", 50, "ms"),
    "accepted_32_running": (">=", 1000, "ev/s"),
    "p50_1conn": ("<=", 2, "ms"),
    "cpu_web": ("<=", 0.5, "ms/ev"),
    "cpu_worker": ("<=", 1.0, "ms/ev"),
    "rss_embedded": ("<=", 200, "MB"),
    "disk": ("<=", 5, "KB/ev"),
}


def verdict(name: str, value: float | None) -> str:
    op, target, unit = TARGETS[name]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"target {op} {target:g} {unit}: n/a"
    ok = value >= target if op == ">=" else value <= target
    return f"target {op} {target:g} {unit}: {'PASS' if ok else 'MISS'}"


def mb(n: float) -> float:
    return n / 1e6


def table(headers: list[str], rows: list[list], indent: str = "  ") -> str:
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            indent
            + "  ".join(
                c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append(indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(c) -> str:
    if isinstance(c, float):
        if math.isnan(c):
            return "n/a"
        return f"{c:,.0f}" if abs(c) >= 1000 else f"{c:.3g}" if abs(c) < 10 else f"{c:.1f}"
    return str(c)


def _own_pid(procs) -> list[int]:
    return [os.getpid()]


def scan_log(text: str) -> dict[str, int]:
    """Counts of the problem lines of a serve log (warnings, errors, exceptions, exits)."""
    import re

    counts: dict[str, int] = {}
    noise = (
        "No hostname was supplied",
        "SecurityWarning",
        "superuser privileges",
        "_warn_or_raise_security_error",
    )
    lines = text.splitlines()
    for line in lines:
        if any(n in line for n in noise):
            continue
        hit = re.search(r"(WARNING|ERROR|CRITICAL)\s+(\S+)\s+(.*)", line)
        if hit:
            key = f"{hit.group(1)} {hit.group(2)} {hit.group(3)[:110]}"
        elif (
            re.match(r"^\w+(\.\w+)*(Error|Exception|Fault)\b", line)
            or "exited with" in line
            or "Segmentation" in line
        ):
            key = line.strip()[:140]
        else:
            continue
        key = re.sub(r"\d{4,}", "N", key)
        counts[key] = counts.get(key, 0) + 1
    return counts


class Monitor:
    """Every second: /_health/ (queue depth and lag), the API's event count, Redis memory."""

    def __init__(self, stack: Stack, t0: float, interval: float = 1.0):
        self.stack, self.t0, self.interval = stack, t0, interval
        self.rows: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor", daemon=True)
        self._redis = None
        if stack.kind == "postgres":
            import redis

            self._redis = redis.Redis.from_url(f"{redis_base()}/{BENCH_REDIS_DB}", socket_timeout=2)

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.time()
            row: dict = {"t": round(started - self.t0, 2)}
            try:
                health = self.stack.health()
                row.update(depth=health.get("queue_depth"), lag_s=health.get("queue_lag_seconds"))
                row["health_ms"] = round((time.time() - started) * 1000, 1)
            except Exception as exc:  # noqa: BLE001 - recorded in the series
                row["health_error"] = type(exc).__name__
            try:
                row["stored"] = self.stack.counted()
            except Exception as exc:  # noqa: BLE001
                row["api_error"] = type(exc).__name__
            if self._redis is not None:
                try:
                    row["redis_mb"] = round(self._redis.info("memory")["used_memory"] / 1e6, 1)
                except Exception:  # noqa: BLE001
                    pass
            self.rows.append(row)
            self._stop.wait(max(0.05, self.interval - (time.time() - started)))


class Bench:
    def __init__(self, args):
        self.args = args
        self.config = CONFIGS["quick" if args.quick else "full"]
        self.only = args.only.split(",") if args.only else list(SCENARIOS)
        unknown = set(self.only) - set(SCENARIOS) - set(EXTRA_SCENARIOS)
        if unknown:
            raise SystemExit(
                f"unknown scenario(s) {sorted(unknown)}; choose from {', '.join(SCENARIOS + EXTRA_SCENARIOS)}"
            )
        self.work = Path(tempfile.mkdtemp(prefix="lighttrace-bench-"))
        self.json_path = Path(args.json) if args.json else self.work / "results.json"
        self.pool = self.work / "pool.bin"
        self.pg: Postgres | None = None
        self.template: tuple | None = None
        self.stacks: list[Stack] = []
        self.loadgens: list[subprocess.Popen] = []
        self.results: dict = {}
        self.out_lines: list[str] = []

    # -- output ---------------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        print(text, flush=True)

    # -- setup ----------------------------------------------------------------------------------------
    def pool_size(self) -> int:
        need = 0
        for name in self.only:
            cfg = self.config[name.removesuffix("-1thread")]
            need = max(need, cfg.get("events", 0), sum(level[1] for level in cfg.get("levels", [])))
        return need

    def setup(self) -> None:
        self.results["command"] = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
        self.results["started"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.results["git"] = git_describe(ROOT)
        self.results["machine"] = {
            "cpus": os.cpu_count(),
            "mem_gb": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
        }
        self.say(f"command: {self.results['command']}")
        self.say(f"started {self.results['started']}  git {self.results['git']}  {os.cpu_count()} CPUs  "
                 f"{self.results['machine']['mem_gb']} GiB  work dir {self.work}")  # fmt: skip
        self.preflight()
        key = PLACEHOLDER_KEY
        if any(not s.startswith("embedded") for s in self.only):
            self.pg = Postgres()
            t = time.monotonic()
            self.template = prepare_template(self.pg, self.work)
            key = self.template[1]["key"]
            pid, info = redis_pid_and_info()
            self.results["servers"] = {"postgres": self.pg.settings(), "redis": info}
            self.say(f"PostgreSQL {self.pg.base.split('@')[0]}@…: {self.results['servers']['postgres']}")
            self.say(f"Redis {redis_base()}/{BENCH_REDIS_DB}: {info}")
            self.say(f"template database {self.template[0]} migrated in {time.monotonic() - t:.1f}s")
        self.say("LightTrace settings: defaults of `manage.py serve` (WEB_WORKERS=2, WEB_THREADS=8, "
                 "WORKER_CONCURRENCY=2 prefork with Redis / 2 threads embedded, INGEST_BATCH_SIZE=100)")  # fmt: skip
        count = self.pool_size()
        t = time.monotonic()
        stats = write_pool(self.pool, count, key)
        self.results["load"] = stats | {"build_seconds": round(time.monotonic() - t, 1)}
        self.say(
            f"load: {count:,} unique envelopes built in {time.monotonic() - t:.1f}s; mean event JSON "
            f"{stats['mean_event_json_bytes'] / 1000:.1f} KB (target ~18.6 KB), envelope "
            f"{stats['mean_envelope_bytes'] / 1000:.1f} KB, gzip -9 {stats['mean_gzip_bytes'] / 1000:.2f} KB "
            f"(target ~3 KB); 15 frames x (5+1+5 context lines, vars), 20 breadcrumbs, 10 issues"
        )

    def preflight(self, seconds: float = 3.0) -> None:
        """How busy the machine is before we start: other load distorts every figure."""
        sampler = Sampler({"bench": _own_pid}, pss=False)
        s0 = sampler.sample()
        time.sleep(seconds)
        s1 = sampler.sample()
        window = sampler.window(s0, s1)
        busy = window["machine_busy_s"] / window["seconds"] * 100
        self.results["preflight"] = {
            "busy_percent_of_one_core": busy,
            "other_processes": window["other_processes"],
        }
        line = f"machine before start: {busy:.0f}% of one core busy over {seconds:.0f}s"
        if window["other_processes"]:
            line += " (" + "; ".join(f"{cpu:.1f}s {cmd}" for cmd, cpu in window["other_processes"]) + ")"
        self.say(line)
        if busy > 15:
            self.say(
                "WARNING: the machine is not idle; CPU-bound figures below are distorted by the other load"
            )

    # -- helpers --------------------------------------------------------------------------------------
    def sampler_for(self, stack: Stack, loadgen_holder: dict) -> Sampler:
        roles = {
            "web": tree(lambda: stack.roots.get("web")),
            "worker": tree(lambda: stack.roots.get("worker")),
            "scheduler": tree(lambda: stack.roots.get("scheduler")),
            "serve": lambda procs: [stack.live.process.pid] if stack.live.process.pid in procs else [],
            "loadgen": tree(lambda: loadgen_holder.get("pid")),
            "bench": _own_pid,
        }
        if stack.kind == "postgres":
            roles["postgres"] = postgres_selector(self.pg, lambda: stack.db_name)
            redis_pid = redis_pid_and_info()[0]
            roles["redis"] = lambda procs: [redis_pid] if redis_pid in procs else []
        return Sampler(roles, counter=lambda: stack.polls).start()

    def drive(
        self, stack: Stack, start: int, count: int, concurrency: int, seconds: float | None, holder: dict
    ) -> dict:
        cmd = [sys.executable, str(ROOT / "bench/loadgen.py"), "--port", str(stack.port),
               "--project", str(stack.project_id), "--key", stack.key, "--pool", str(self.pool),
               "--start", str(start), "--count", str(count), "--concurrency", str(concurrency)]  # fmt: skip
        if seconds:
            cmd += ["--duration", str(seconds)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.loadgens.append(proc)
        holder["pid"] = proc.pid
        limit = (seconds or 0) + 60 + count / 20  # generous, but bounded
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise RuntimeError(f"load generator did not finish within {limit:.0f}s") from None
        finally:
            self.loadgens.remove(proc)
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed ({proc.returncode}):\n{err[-3000:]}")
        return json.loads(out)

    def wait_counted(self, stack: Stack, target: int, stall: float = 45.0, cap: float = 900.0) -> dict:
        """Poll the API until the issues' counts add up to `target`; stops on a stall or the cap."""
        t_start = time.time()
        last, last_change, failures = -1, time.monotonic(), 0
        while True:
            try:
                counted = stack.counted()
            except Exception as exc:  # noqa: BLE001 - keep polling, bounded
                counted = max(last, 0)
                failures += 1
                if failures == 1:
                    self.say(f"  (API poll failed: {type(exc).__name__}: {exc}; retrying quietly)")
            now = time.time()
            if counted != last:
                last, last_change = counted, time.monotonic()
            if counted >= target:
                return {"counted": counted, "t_counted": now, "timed_out": False, "poll_failures": failures}
            if stack.live.process.poll() is not None:
                self.say(
                    f"  serve EXITED (code {stack.live.process.returncode}) while waiting for events to be counted"
                )
                return {
                    "counted": counted,
                    "t_counted": now,
                    "timed_out": True,
                    "poll_failures": failures,
                    "serve_exited": True,
                }
            if time.monotonic() - last_change > stall or now - t_start > cap:
                return {"counted": counted, "t_counted": now, "timed_out": True, "poll_failures": failures}
            time.sleep(0.25)

    def start_stack(self, stack: Stack) -> None:
        self.stacks.append(stack)
        t = time.monotonic()
        stack.start()
        self.say(
            f"  stack up in {time.monotonic() - t:.1f}s: {stack.url}, roles {stack.roots}, DATA_DIR {stack.data_dir}"
        )

    def finish_stack(self, stack: Stack) -> None:
        exited = stack.live.process.poll() if stack.live and stack.live.process else None
        log_path = stack.live.log_path if stack.live else None
        before_stop = log_path.stat().st_size if log_path and log_path.exists() else 0
        stack.stop()
        try:
            self._report_log(stack, exited, log_path, before_stop)
        except Exception as exc:  # noqa: BLE001 - a log problem must not keep the stack or database around
            self.say(f"  (could not scan the serve log: {type(exc).__name__}: {exc})")
        if stack.db_name and self.pg:
            self.pg.drop(stack.db_name)
        shutil.rmtree(stack.data_dir, ignore_errors=True)
        self.stacks.remove(stack)

    def _report_log(self, stack: Stack, exited, log_path: Path | None, before_stop: int) -> None:
        try:
            shutil.copy(log_path, self.work / f"{stack.name}-serve.log")
        except (OSError, TypeError):
            pass
        text = log_path.read_bytes().decode(errors="replace") if log_path and log_path.exists() else ""
        problems = scan_log(text[:before_stop])
        at_shutdown = scan_log(text[before_stop:])
        if exited is not None:
            problems[f"serve had exited by itself (code {exited}) before the benchmark stopped it"] = 1
        self.results.setdefault("log_problems", {})[stack.name] = {
            "running": problems,
            "shutdown": at_shutdown,
        }
        where = self.work / f"{stack.name}-serve.log"
        if problems:
            self.say(f"  LightTrace log of {stack.name} while it ran ({where}):")
            for line, n in sorted(problems.items(), key=lambda kv: -kv[1])[:12]:
                self.say(f"    {n:6d} x {line}")
        else:
            self.say(f"  LightTrace log of {stack.name} while it ran: no errors, warnings or tracebacks")
        if at_shutdown:
            self.say("  ... and at shutdown (SIGTERM to the whole process group, as tests/e2e/stack.py stops it): "
                     + "; ".join(f"{n} x {line[:100]}" for line, n in sorted(at_shutdown.items(), key=lambda kv: -kv[1])[:4]))  # fmt: skip

    def idle(self, sampler: Sampler, seconds: float = 3.0, stack: Stack | None = None):
        """Let the stack settle; with `stack`, also measure the web CPU that one of the benchmark's own
        polls (/_health/ or the issues API) costs, so the CPU tables can say how much of it is ours."""
        time.sleep(seconds)
        if stack is not None:
            s0 = sampler.sample()
            for _ in range(10):
                stack.health()
                stack.counted()
            s1 = sampler.sample()
            stack.poll_cost_s = sampler.window(s0, s1)["cpu_s"]["web"] / 20
            time.sleep(1.0)
        return sampler.sample()

    def load_rows(self, phases: list[dict]) -> str:
        rows = []
        for p in phases:
            other = {k: v for k, v in p["statuses"].items() if k != "200"}
            lat = p["latency"]
            rows.append([
                p["concurrency"], p["sent"], p["ok"], ", ".join(f"{k}: {v}" for k, v in other.items()) or "-",
                sum(p["errors"].values()) or "-", round(p["elapsed_s"], 1), p["accepted_per_s"],
                lat["p50_ms"], lat["p90_ms"], lat["p99_ms"], lat["max_ms"],
                f"{p['cpu_s']:.1f}s = {100 * p['cpu_share_of_one_core']:.0f}% core",
            ])  # fmt: skip
        text = table(["conns", "sent", "200", "other status", "errors", "secs", "accepted/s", "p50 ms",
                      "p90 ms", "p99 ms", "max ms", "load generator CPU"], rows)  # fmt: skip
        for p in phases:
            if p["errors"]:
                text += f"\n  errors at {p['concurrency']} conns: {p['errors']}"
        return text

    def cpu_rows(
        self, window: dict, events: int, roles: list[str], stack: Stack | None = None
    ) -> tuple[str, dict]:
        out = {}
        rows = []
        for role in roles:
            cpu = window["cpu_s"].get(role, 0.0)
            per = cpu * 1000 / events if events else float("nan")
            out[role] = {"cpu_s": cpu, "ms_per_event": per, "rss_idle_mb": mb(window["rss_start"].get(role, 0)),
                         "rss_peak_mb": mb(window["rss_peak"].get(role, 0)), "pss_idle_mb": mb(window["pss_start"].get(role, 0)),
                         "pss_peak_mb": mb(window["pss_peak"].get(role, 0))}  # fmt: skip
            target = (
                verdict("cpu_web", per)
                if role == "web"
                else verdict("cpu_worker", per)
                if role == "worker"
                else ""
            )
            rows.append([role, cpu, per, out[role]["rss_idle_mb"], out[role]["rss_peak_mb"],
                         out[role]["pss_idle_mb"], out[role]["pss_peak_mb"], target])  # fmt: skip
        attributed = sum(window["cpu_s"].values())
        out["machine"] = {
            "busy_cpu_s": window["machine_busy_s"],
            "unattributed_cpu_s": window["machine_busy_s"] - attributed,
        }
        text = table(
            ["process", "CPU s", "ms/event", "RSS idle MB", "RSS peak MB", "PSS idle MB", "PSS peak MB", ""],
            rows,
        )
        text += (f"\n  whole machine: {window['machine_busy_s']:.1f} CPU-s busy in {window['seconds']:.1f}s "
                 f"({window['machine_busy_s'] / window['seconds'] * 100 if window['seconds'] else 0:.0f}% of one core); "
                 f"not attributed to the processes above: {out['machine']['unattributed_cpu_s']:.1f} CPU-s")  # fmt: skip
        if stack is not None and window.get("counter"):
            ours = window["counter"] * stack.poll_cost_s
            out["web_cpu_for_bench_polls_s"] = ours
            text += (f"\n  web CPU above includes ~{ours:.2f}s for this benchmark's {window['counter']} polls of /_health/ and the "
                     f"issues API ({stack.poll_cost_s * 1000:.1f} ms each, measured idle) = {ours * 1000 / max(1, events):.3f} ms/event")  # fmt: skip
        others = window.get("other_processes") or []
        out["machine"]["other_processes"] = others
        if others:
            text += "\n  other processes busy meanwhile (not LightTrace, not this benchmark): " + "; ".join(
                f"{cpu:.1f}s {cmd}" for cmd, cpu in others
            )
        return text, out

    def series(self, rows: list[dict], max_points: int = 40) -> str:
        if not rows:
            return "  (no samples)"
        failed = [r for r in rows if "health_error" in r and "api_error" in r]
        shown = [r for r in rows if not ("health_error" in r and "api_error" in r)] or rows[:1]
        step = max(1, math.ceil(len(shown) / max_points))
        picked = shown[::step]
        if picked[-1] is not shown[-1]:
            picked.append(shown[-1])
        body = self._series_table(picked)
        errors = [r for r in rows if "health_error" in r or "api_error" in r]
        if errors:
            body += (f"\n  {len(errors)} of {len(rows)} samples had a failed /_health/ or API poll"
                     f" ({len(failed)} with both failing, not shown; first at t={errors[0]['t']}: {errors[0]})")  # fmt: skip
        return body

    def _series_table(self, picked: list[dict]) -> str:
        rows = picked
        if picked[-1] is not rows[-1]:
            picked.append(rows[-1])
        cols = ["t", "depth", "lag_s", "stored", "redis_mb", "health_ms"]
        present = [c for c in cols if any(c in r for r in picked)]
        body = table(
            present,
            [[r.get(c, "-") if not isinstance(r.get(c), float) else r[c] for c in present] for r in picked],
        )
        errors = [r for r in rows if "health_error" in r or "api_error" in r]
        if errors:
            body += f"\n  {len(errors)} of {len(rows)} samples had a failed /_health/ or API poll (e.g. t={errors[0]['t']}: {errors[0]})"
        return body

    # -- disk -----------------------------------------------------------------------------------------
    def pg_disk(self, stack: Stack, events: int) -> dict:
        self.pg.execute("VACUUM ANALYZE", stack.db_name)
        sizes = self.pg.table_sizes(stack.db_name)
        base = self.pg.table_sizes(self.template[0])
        total, baseline = sum(sizes.values()), sum(base.values())
        result = {"tables": sizes, "baseline_tables": base, "total_bytes": total, "baseline_bytes": baseline,
                  "events": events, "bytes_per_event": (total - baseline) / events if events else float("nan")}  # fmt: skip
        return result

    def print_pg_disk(self, disk: dict) -> None:
        rows = [[name, size / 1e6, (size - disk["baseline_tables"].get(name, 0)) / disk["events"]]
                for name, size in sorted(disk["tables"].items(), key=lambda kv: -kv[1]) if size > 16384]  # fmt: skip
        self.say(table(["table (incl. indexes, TOAST)", "MB", "bytes/event"], rows))
        kb = disk["bytes_per_event"] / 1000
        self.say(f"  disk: {(disk['total_bytes'] - disk['baseline_bytes']) / 1e6:.1f} MB for {disk['events']:,} events (incl. 1 warm-up) "
                 f"(after VACUUM ANALYZE, empty-database size subtracted) = {kb:.2f} KB/event  {verdict('disk', kb)}")  # fmt: skip

    # -- scenarios ------------------------------------------------------------------------------------
    def new_pg_stack(self, name: str) -> Stack:
        return postgres_stack(name, self.pg, self.template[0], self.template[1], self.work)

    def scenario_pg_running(self) -> dict:
        cfg = self.config["pg-running"]
        self.say(
            f"\n=== pg-running: PostgreSQL + Redis, workers running; {cfg['events']:,} events at {cfg['concurrency']} connections ==="
        )
        stack = self.new_pg_stack("pg-running")
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder)
        try:
            s0 = self.idle(sampler, stack=stack)
            t0 = time.time()
            monitor = Monitor(stack, t0).start()
            phase = self.drive(stack, 0, cfg["events"], cfg["concurrency"], None, holder)
            t_load_end = time.time()
            stored_at_load_end = stack.counted()
            done = self.wait_counted(stack, phase["ok"])
            s1 = sampler.sample()
            monitor.stop()
            window = sampler.window(s0, s1)
            events = done["counted"]
            span = done["t_counted"] - phase["first_send_unix"]
            processed = events / span if span > 0 and not done["timed_out"] else float("nan")
            drain_span = done["t_counted"] - t_load_end
            stored_rows = self.pg.execute(
                f"SELECT count(*) FROM issues_event WHERE project_id = {int(stack.project_id)}", stack.db_name
            )[0][0]
            try:
                issues = stack.issues()
            except Exception:  # noqa: BLE001 - the stack may have died; the check says so
                issues = []
            self.say(self.load_rows([phase]))
            self.say(
                f"  accepted at {cfg['concurrency']} conns: {phase['accepted_per_s']:,.0f} ev/s  {verdict('accepted_32_running', phase['accepted_per_s'])}"
            )
            self.say(f"  processed: {events:,} events counted {span:.1f}s after the first send = {processed:,.0f} ev/s  "
                     f"{verdict('processed_pg', processed)}")  # fmt: skip
            self.say(f"  at the last answer {stored_at_load_end:,} were counted; the remaining {events - stored_at_load_end:,} "
                     f"took {drain_span:.1f}s more")  # fmt: skip
            exact = events == phase["ok"] == stored_rows and not done["timed_out"]
            if not done["timed_out"] and not exact:
                self.say("  MISMATCH between answers, counts and rows (see the check below)")
            self.say(f"  check: 200 answers {phase['ok']:,}, sum of issue counts {events:,}, issues_event rows {stored_rows:,}, "
                     f"issues {len(issues)} -> {'EXACT' if exact else 'MISMATCH'}" + (" (timed out waiting)" if done["timed_out"] else ""))  # fmt: skip
            cpu_text, cpu = self.cpu_rows(
                window,
                events,
                ["web", "worker", "scheduler", "serve", "postgres", "redis", "loadgen", "bench"],
                stack,
            )
            self.say(
                f"  CPU over the {window['seconds']:.1f}s from the start of the load to the last event counted, per event stored:"
            )
            self.say(cpu_text)
            self.say("  queue (GET /_health/ every second) and events counted by the API:")
            self.say(self.series(monitor.rows))
            disk = self.pg_disk(
                stack, self.pg.execute("SELECT count(*) FROM issues_event", stack.db_name)[0][0]
            )
            self.print_pg_disk(disk)
            return {"phase": phase, "processed_per_s": processed, "events_counted": events, "issues_event_rows": stored_rows,
                    "issues": len(issues), "exact": exact, "timed_out": done["timed_out"], "drain_after_load_s": drain_span,
                    "counted_at_load_end": stored_at_load_end, "cpu": cpu, "window_s": window["seconds"],
                    "queue_series": monitor.rows, "disk": disk}  # fmt: skip
        finally:
            sampler.stop()
            self.finish_stack(stack)

    def scenario_pg_paused(self) -> dict:
        cfg = self.config["pg-paused"]
        self.say(
            "\n=== pg-paused: PostgreSQL + Redis, Celery worker paused (SIGSTOP) while a backlog builds, then resumed ==="
        )
        stack = self.new_pg_stack("pg-paused")
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder)
        try:
            s_idle = self.idle(sampler, stack=stack)
            stack.pause_worker()
            self.say(f"  worker paused: SIGSTOP to pids {stack.role_pids('worker')}")
            t0 = time.time()
            monitor = Monitor(stack, t0).start()
            phases, windows, offset = [], [], 0
            for concurrency, count, seconds in cfg["levels"]:
                s0 = sampler.sample()
                phase = self.drive(stack, offset, count, concurrency, seconds, holder)
                s1 = sampler.sample()
                offset += phase["sent"]
                phase["cpu_window"] = sampler.window(s0, s1)
                phases.append(phase)
                windows.append((s0, s1))
                time.sleep(1.0)
            total_ok = sum(p["ok"] for p in phases)
            time.sleep(1.0)
            backlog = monitor.rows[-1].get("depth") if monitor.rows else None
            s_resume = sampler.sample()
            t_resume = time.time()
            stack.resume_worker()
            done = self.wait_counted(stack, total_ok)
            s_end = sampler.sample()
            monitor.stop()
            drain_span = done["t_counted"] - t_resume
            drained = (
                done["counted"] / drain_span if drain_span > 0 and not done["timed_out"] else float("nan")
            )
            self.say(self.load_rows(phases))
            p32 = next((p for p in phases if p["concurrency"] == 32), None)
            if p32:
                self.say(f"  at 32 conns: accepted {p32['accepted_per_s']:,.0f} ev/s  {verdict('accepted_32_paused', p32['accepted_per_s'])}; "
                         f"p99 {p32['latency']['p99_ms']:.1f} ms  {verdict('p99_32_paused', p32['latency']['p99_ms'])}")  # fmt: skip
            load_window = sampler.window(windows[0][0], windows[-1][1])
            web_cpu = load_window["cpu_s"]["web"]
            self.say(f"  web CPU while only the web worked (all levels): {web_cpu:.1f}s for {total_ok:,} accepted = "
                     f"{web_cpu * 1000 / max(1, total_ok):.3f} ms/event  {verdict('cpu_web', web_cpu * 1000 / max(1, total_ok))}")  # fmt: skip
            for p in phases:
                w = p["cpu_window"]
                p["web_ms_per_event"] = w["cpu_s"]["web"] * 1000 / max(1, p["ok"])
                p["redis_ms_per_event"] = w["cpu_s"].get("redis", 0) * 1000 / max(1, p["ok"])
            self.say("  per level: web CPU ms/event " + ", ".join(f"{p['concurrency']} conns {p['web_ms_per_event']:.3f}" for p in phases)
                     + "; redis-server CPU ms/event " + ", ".join(f"{p['redis_ms_per_event']:.3f}" for p in phases))  # fmt: skip
            self.say(f"  backlog before resume: queue_depth {backlog} (200 answers {total_ok:,})")
            self.say(f"  resumed: {done['counted']:,} events counted {drain_span:.1f}s after SIGCONT = {drained:,.0f} ev/s drained  "
                     f"{verdict('processed_pg', drained)}" + (" (TIMED OUT)" if done["timed_out"] else ""))  # fmt: skip
            stored_rows = self.pg.execute(
                f"SELECT count(*) FROM issues_event WHERE project_id = {int(stack.project_id)}", stack.db_name
            )[0][0]
            exact = done["counted"] == total_ok == stored_rows and not done["timed_out"]
            self.say(f"  check: 200 answers {total_ok:,}, sum of issue counts {done['counted']:,}, issues_event rows "
                     f"{stored_rows:,} -> {'EXACT' if exact else 'MISMATCH'}")  # fmt: skip
            drain_window = sampler.window(s_resume, s_end)
            cpu_text, cpu = self.cpu_rows(
                drain_window,
                done["counted"],
                ["web", "worker", "scheduler", "postgres", "redis", "bench"],
                stack,
            )
            self.say("  CPU while draining the backlog (SIGCONT -> last event counted), per event drained:")
            self.say(cpu_text)
            load_text, load_cpu = self.cpu_rows(
                load_window,
                total_ok,
                ["web", "worker", "scheduler", "postgres", "redis", "loadgen", "bench"],
                stack,
            )
            self.say("  CPU while the backlog built (all three levels), per event accepted:")
            self.say(load_text)
            self.say("  queue (GET /_health/ every second; t from the first send; worker resumed at "
                     f"t={t_resume - t0:.1f}s):")  # fmt: skip
            self.say(self.series(monitor.rows))
            return {"phases": phases, "accepted_total": total_ok, "backlog_depth": backlog, "drain_s": drain_span,
                    "drained_per_s": drained, "counted": done["counted"], "timed_out": done["timed_out"], "exact": exact,
                    "cpu_drain": cpu, "cpu_load": load_cpu, "idle_rss": s_idle.rss, "resume_t": t_resume - t0,
                    "queue_series": monitor.rows}  # fmt: skip
        finally:
            sampler.stop()
            self.finish_stack(stack)

    def scenario_embedded(self, name: str = "embedded", worker_concurrency: str | None = None) -> dict:
        cfg = self.config["embedded"]
        self.say(
            f"\n=== {name}: no DATABASE_URL / REDIS_URL (SQLite + filesystem Celery transport in a temp DATA_DIR) ==="
        )
        if worker_concurrency:
            self.say(
                f"  NOT the default: worker with --pool threads --concurrency {worker_concurrency} (bench/serve_variant.py)"
            )
        t = time.monotonic()
        stack = embedded_stack(name, self.work)
        stack.worker_concurrency = worker_concurrency
        self.say(f"  migrated in {time.monotonic() - t:.1f}s")
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder)
        try:
            s_idle = self.idle(sampler, stack=stack)
            t0 = time.time()
            monitor = Monitor(stack, t0).start()
            phases, offset, results = [], 0, []
            for concurrency, count, seconds in cfg["levels"]:
                s0 = sampler.sample()
                before = self._sqlite_count(stack, stack.project_id)
                phase = self.drive(stack, offset, count, concurrency, seconds, holder)
                offset += phase["sent"]
                done = self.wait_counted(stack, before + phase["ok"])
                s1 = sampler.sample()
                span = done["t_counted"] - phase["first_send_unix"]
                phase["counted"] = self._sqlite_count(stack, stack.project_id) - before
                phase["processed_per_s"] = (
                    phase["counted"] / span if span > 0 and not done["timed_out"] else float("nan")
                )
                phase["timed_out"] = done["timed_out"]
                phases.append(phase)
                results.append((phase, sampler.window(s0, s1)))
                self.say(f"  {concurrency} conns: {phase['counted']:,} of {phase['ok']:,} accepted events stored"
                         + (" (waiting stopped: no progress, or serve died)" if done["timed_out"] else ""))  # fmt: skip
                if done.get("serve_exited"):
                    break
            monitor.stop()
            s_end = sampler.sample()
            self.say(self.load_rows(phases))
            main, window = results[-1]
            events = main["counted"]
            if main["timed_out"]:
                self.say(f"  processed at {main['concurrency']} conns: NOT MEASURED: only {events:,} of {main['ok']:,} accepted events "
                         f"were stored when waiting stopped  {verdict('processed_embedded', None)}")  # fmt: skip
            else:
                self.say(f"  processed at {main['concurrency']} conns: {events:,} events counted {events / main['processed_per_s']:.1f}s "
                         f"after the first send = {main['processed_per_s']:,.0f} ev/s  {verdict('processed_embedded', main['processed_per_s'])}")  # fmt: skip
            total_ok = sum(p["ok"] for p in phases)
            try:
                total_counted = stack.counted()
            except Exception as exc:  # noqa: BLE001 - the stack may have died; the figures say so
                total_counted = None
                self.say(f"  (API not answering: {type(exc).__name__})")
            stored_rows = self._sqlite_count(stack, stack.project_id)
            exact = total_counted == total_ok == stored_rows
            self.say(f"  check: 200 answers {total_ok:,}, sum of issue counts {total_counted if total_counted is None else format(total_counted, ',')}, "
                     f"issues_event rows {stored_rows:,} -> {'EXACT' if exact else 'MISMATCH: ' + format(total_ok - stored_rows, ',') + ' answered 200 but not stored'}")  # fmt: skip
            cpu_text, cpu = self.cpu_rows(
                window, events, ["web", "worker", "scheduler", "serve", "loadgen", "bench"], stack
            )
            self.say(
                f"  CPU and memory of the {main['concurrency']}-connection phase (first send -> last event counted), per event:"
            )
            self.say(cpu_text)
            whole = sampler.window(s_idle, s_end)
            lt_roles = ("web", "worker", "scheduler")
            rss_idle = sum(s_idle.rss.get(r, 0) for r in lt_roles)
            rss_peak = max(
                sum(s.rss.get(r, 0) for r in lt_roles) for s in sampler.samples if s_idle.t <= s.t <= s_end.t
            )
            pss_peak = max(
                sum(s.pss.get(r, 0) for r in lt_roles) for s in sampler.samples if s_idle.t <= s.t <= s_end.t
            )
            self.say(f"  RSS web+worker+scheduler: idle {mb(rss_idle):.0f} MB, peak {mb(rss_peak):.0f} MB (sum of per-process RSS; "
                     f"PSS peak {mb(pss_peak):.0f} MB)  {verdict('rss_embedded', mb(rss_peak))}"
                     + (" (serve had died: a lower bound)" if stack.live.process.poll() is not None else ""))  # fmt: skip
            self.say("  queue (GET /_health/ every second) and events counted by the API:")
            self.say(self.series(monitor.rows))
            disk = self._sqlite_disk(stack, self._sqlite_count(stack))
            if not exact:
                self.say("  disk: not measured (not every accepted event was stored)")
                disk["bytes_per_event"] = float("nan")
            else:
                self._print_sqlite_disk(disk)
            return {"phases": phases, "cpu": cpu, "rss_idle_mb": mb(rss_idle), "rss_peak_mb": mb(rss_peak),
                    "pss_peak_mb": mb(pss_peak), "exact": exact, "issues_event_rows": stored_rows,
                    "queue_series": monitor.rows, "disk": disk, "whole_window_s": whole["seconds"]}  # fmt: skip
        finally:
            sampler.stop()
            self.finish_stack(stack)

    def _print_sqlite_disk(self, disk: dict) -> None:
        rows = [
            [n, b / 1e6, b / max(1, disk["events"])]
            for n, b in sorted(disk["tables"].items(), key=lambda kv: -kv[1])
            if b > 16384
        ]
        self.say(table(["table (dbstat, incl. indexes)", "MB", "bytes/event"], rows))
        kb = disk["bytes_per_event"] / 1000
        self.say(f"  disk: lighttrace.sqlite3 {disk['db_bytes'] / 1e6:.1f} MB + WAL {disk['wal_bytes'] / 1e6:.1f} MB "
                 f"(free pages {disk['free_bytes'] / 1e6:.1f} MB) for {disk['events']:,} events (incl. 1 warm-up) = {kb:.2f} KB/event "
                 f"(file + WAL) {verdict('disk', kb)}; LightTrace tables alone {disk['tables_bytes_per_event'] / 1000:.2f} KB/event")  # fmt: skip

    def _sqlite_path(self, stack: Stack) -> Path:
        return stack.data_dir / "lighttrace.sqlite3"

    def _sqlite_count(self, stack: Stack, project_id: int | None = None) -> int:
        where = f" WHERE project_id = {int(project_id)}" if project_id else ""
        with sqlite3.connect(f"file:{self._sqlite_path(stack)}?mode=ro", uri=True, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM issues_event" + where).fetchone()[0]

    def _sqlite_disk(self, stack: Stack, events: int) -> dict:
        path = self._sqlite_path(stack)
        wal = path.with_name(path.name + "-wal")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
            page = conn.execute("PRAGMA page_size").fetchone()[0]
            free = conn.execute("PRAGMA freelist_count").fetchone()[0] * page
            try:
                rows = conn.execute(
                    "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                    "LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1"
                ).fetchall()
            except sqlite3.Error:
                rows = []
        tables = {name: size for name, size in rows if name.startswith(("issues_", "ingest_"))}
        db_bytes = path.stat().st_size
        wal_bytes = wal.stat().st_size if wal.exists() else 0
        return {"db_bytes": db_bytes, "wal_bytes": wal_bytes, "free_bytes": free, "tables": tables, "events": events,
                "bytes_per_event": (db_bytes + wal_bytes) / events if events else float("nan"),
                "tables_bytes_per_event": sum(tables.values()) / events if events else float("nan")}  # fmt: skip

    def scenario_latency(self) -> dict:
        cfg = self.config["latency"]
        self.say("\n=== latency: PostgreSQL + Redis, workers running, 1 and 8 connections ===")
        stack = self.new_pg_stack("latency")
        self.start_stack(stack)
        holder: dict = {}
        sampler = self.sampler_for(stack, holder)
        try:
            self.idle(sampler, stack=stack)
            phases, offset = [], 0
            for concurrency, count, seconds in cfg["levels"]:
                phase = self.drive(stack, offset, count, concurrency, seconds, holder)
                offset += phase["sent"]
                phases.append(phase)
                self.wait_counted(stack, sum(p["ok"] for p in phases))
            self.say(self.load_rows(phases))
            p1 = phases[0]
            self.say(f"  p50 at 1 connection: {p1['latency']['p50_ms']:.2f} ms  {verdict('p50_1conn', p1['latency']['p50_ms'])} "
                     f"(client-side: from writing the request to reading the whole answer, loopback)")  # fmt: skip
            return {"phases": phases}
        finally:
            sampler.stop()
            self.finish_stack(stack)

    # -- summary --------------------------------------------------------------------------------------
    def summary(self) -> None:
        r = self.results.get("scenarios", {})
        rows = []

        def add(label, name, value, unit, where):
            rows.append(
                [
                    label,
                    "n/a"
                    if value is None or (isinstance(value, float) and math.isnan(value))
                    else f"{value:,.3g}"
                    if value < 10
                    else f"{value:,.0f}",
                    unit,
                    verdict(name, value),
                    where,
                ]
            )

        if "pg-running" in r and "error" not in r["pg-running"]:
            x = r["pg-running"]
            add("processed, PG+Redis", "processed_pg", x["processed_per_s"], "ev/s", "pg-running")
            add(
                "accepted at 32 conns, workers running",
                "accepted_32_running",
                x["phase"]["accepted_per_s"],
                "ev/s",
                "pg-running",
            )
            add("CPU web", "cpu_web", x["cpu"]["web"]["ms_per_event"], "ms/ev", "pg-running")
            add("CPU worker", "cpu_worker", x["cpu"]["worker"]["ms_per_event"], "ms/ev", "pg-running")
            add("disk (PostgreSQL)", "disk", x["disk"]["bytes_per_event"] / 1000, "KB/ev", "pg-running")
        if "pg-paused" in r and "error" not in r["pg-paused"]:
            x = r["pg-paused"]
            p32 = next((p for p in x["phases"] if p["concurrency"] == 32), None)
            if p32:
                add(
                    "accepted at 32 conns, workers paused",
                    "accepted_32_paused",
                    p32["accepted_per_s"],
                    "ev/s",
                    "pg-paused",
                )
                add(
                    "p99 at 32 conns, workers paused",
                    "p99_32_paused",
                    p32["latency"]["p99_ms"],
                    "ms",
                    "pg-paused",
                )
            add("backlog drain, PG+Redis", "processed_pg", x["drained_per_s"], "ev/s", "pg-paused")
            add(
                "CPU worker (draining)",
                "cpu_worker",
                x["cpu_drain"]["worker"]["ms_per_event"],
                "ms/ev",
                "pg-paused",
            )
            add(
                "CPU web (accepting only)",
                "cpu_web",
                x["cpu_load"]["web"]["ms_per_event"],
                "ms/ev",
                "pg-paused",
            )
        if "embedded" in r and "error" not in r["embedded"]:
            x = r["embedded"]
            if not x["exact"]:
                nan = float("nan")
                x = {**x, "cpu": {"web": {"ms_per_event": nan}, "worker": {"ms_per_event": nan}}}
            add(
                "processed, embedded",
                "processed_embedded",
                x["phases"][-1]["processed_per_s"],
                "ev/s",
                "embedded",
            )
            add("RSS web+worker+scheduler peak", "rss_embedded", x["rss_peak_mb"], "MB", "embedded")
            add("CPU web (embedded)", "cpu_web", x["cpu"]["web"]["ms_per_event"], "ms/ev", "embedded")
            add(
                "CPU worker (embedded)", "cpu_worker", x["cpu"]["worker"]["ms_per_event"], "ms/ev", "embedded"
            )
            add("disk (SQLite file + WAL)", "disk", x["disk"]["bytes_per_event"] / 1000, "KB/ev", "embedded")
        if "embedded-1thread" in r and "error" not in r["embedded-1thread"]:
            x = r["embedded-1thread"]
            if not x["exact"]:
                nan = float("nan")
                x = {**x, "cpu": {"web": {"ms_per_event": nan}, "worker": {"ms_per_event": nan}}}
            add(
                "processed, embedded, 1-thread worker",
                "processed_embedded",
                x["phases"][-1]["processed_per_s"],
                "ev/s",
                "embedded-1thread",
            )
            add("RSS web+worker+scheduler peak", "rss_embedded", x["rss_peak_mb"], "MB", "embedded-1thread")
            add("CPU web (embedded)", "cpu_web", x["cpu"]["web"]["ms_per_event"], "ms/ev", "embedded-1thread")
            add(
                "CPU worker (embedded)",
                "cpu_worker",
                x["cpu"]["worker"]["ms_per_event"],
                "ms/ev",
                "embedded-1thread",
            )
            add(
                "disk (SQLite file + WAL)",
                "disk",
                x["disk"]["bytes_per_event"] / 1000,
                "KB/ev",
                "embedded-1thread",
            )
        if "latency" in r and "error" not in r["latency"]:
            add(
                "p50 at 1 connection",
                "p50_1conn",
                r["latency"]["phases"][0]["latency"]["p50_ms"],
                "ms",
                "latency",
            )
        self.say("\n=== summary ===")
        self.say(table(["figure", "value", "unit", "target", "scenario"], rows))
        for name, x in r.items():
            if "error" in x:
                self.say(f"  {name}: FAILED: {x['error']}")
            elif x.get("exact") is False:
                self.say(
                    f"  {name}: NOT every event answered 200 was stored (see the scenario's check and log lines)"
                )

    def run(self) -> int:
        t = time.monotonic()
        self.setup()
        self.results["scenarios"] = {}
        methods = {"pg-running": self.scenario_pg_running, "pg-paused": self.scenario_pg_paused,
                   "embedded": self.scenario_embedded, "latency": self.scenario_latency,
                   "embedded-1thread": lambda: self.scenario_embedded("embedded-1thread", "1")}  # fmt: skip
        failed = 0
        for name in SCENARIOS + EXTRA_SCENARIOS:
            if name not in self.only:
                continue
            started = time.monotonic()
            try:
                self.results["scenarios"][name] = methods[name]()
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one broken scenario must not hide the others' figures
                failed += 1
                traceback.print_exc()
                self.results["scenarios"][name] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            self.results["scenarios"][name]["scenario_seconds"] = round(time.monotonic() - started, 1)
            self.say(f"  ({name} took {time.monotonic() - started:.0f}s)")
        self.summary()
        self.results["total_seconds"] = round(time.monotonic() - t, 1)
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        self.json_path.write_text(json.dumps(self.results, indent=1, default=str))
        self.say(
            f"\ntotal {self.results['total_seconds']:.0f}s; figures as JSON: {self.json_path}; serve logs in {self.work}"
        )
        return 1 if failed else 0

    def cleanup(self) -> None:
        for proc in list(self.loadgens):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for stack in list(self.stacks):
            try:
                self.finish_stack(stack)
            except Exception as exc:  # noqa: BLE001 - keep cleaning
                print(f"warning: stopping {stack.name}: {exc}")
        if self.pg:
            self.pg.drop_all()
        try:
            self.pool.unlink()
        except OSError:
            pass
        shutil.rmtree(self.work / "template-data", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="LightTrace ingest benchmark (prints figures).")
    parser.add_argument("--quick", action="store_true", help="smoke version, about 2-3 minutes")
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated scenarios of: {', '.join(SCENARIOS)}; also {', '.join(EXTRA_SCENARIOS)} (not run by default)",
    )
    parser.add_argument(
        "--json", default="", help="where to write the figures as JSON (default: the run's temp dir)"
    )
    args = parser.parse_args()

    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    bench = Bench(args)
    try:
        return bench.run()
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything started", flush=True)
        return 130
    finally:
        bench.cleanup()


if __name__ == "__main__":
    sys.exit(main())
