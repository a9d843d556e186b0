"""The ingest benchmark's machinery shared by every scenario: the run's setup (servers, template
database, envelope pool), stacks started and stopped with their logs scanned, the load generator run
as its own process, waiting for events to be counted, CPU/RSS samplers, PostgreSQL disk use, cleanup.
The scenarios are mixins on top of this class (bench/scenarios_*.py); bench/run.py puts them together."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from payload import write_pool
from procstats import Sampler, tree
from report import scan_log, table, verdict
from stacks import (
    BENCH_REDIS_DB,
    Postgres,
    Stack,
    git_describe,
    postgres_selector,
    postgres_stack,
    prepare_template,
    redis_base,
    redis_pid_and_info,
)

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_KEY = "0123456789abcdef0123456789abcdef"
# issues/tasks.py logs each retention pass that deleted something; beat runs one 600 s after it starts
RETENTION_LINE = re.compile(r"retention deleted (\d+) expired and (\d+) surplus events")
RETENTION_FIRST_PASS_S = 600.0


def _own_pid(procs) -> list[int]:
    return [os.getpid()]


class Harness:
    def __init__(self, args, config: dict, only: list[str]):
        self.args = args
        self.config = config
        self.only = only
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
        """Envelopes of the shared pool (bench/payload.py); `identical` builds a pool of its own."""
        need = 0
        for name in self.only:
            if name == "identical":
                continue
            cfg = self.config[name.removesuffix("-1thread")]
            need = max(need, cfg.get("events", 0), sum(level[1] for level in cfg.get("levels", [])),
                       cfg.get("pool", 0), cfg.get("capacity_events", 0))  # fmt: skip
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
        self.say("LightTrace settings: defaults of `manage.py serve` (WEB_WORKERS=2 with Redis / 1 embedded, "
                 "WEB_THREADS=4, WORKER_CONCURRENCY=2 prefork with Redis / 2 threads embedded, "
                 "INGEST_BATCH_SIZE=200 with Redis / 50 embedded)")  # fmt: skip
        self.key = key
        count = self.pool_size()
        if count:
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
    def sampler_for(self, stack: Stack, loadgen_holder: dict, interval: float = 0.5) -> Sampler:
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
        return Sampler(roles, interval=interval, counter=lambda: stack.polls).start()

    def drive(
        self,
        stack: Stack,
        start: int,
        count: int,
        concurrency: int,
        seconds: float | None,
        holder: dict,
        pool: Path | None = None,
        extra: list[str] | None = None,
    ) -> dict:
        """Run bench/loadgen.py against the stack and return its figures. `extra`: more loadgen options
        (--rate, --templates); `pool`: another pool file than the shared one."""
        cmd = [sys.executable, str(ROOT / "bench/loadgen.py"), "--port", str(stack.port),
               "--project", str(stack.project_id), "--key", stack.key, "--pool", str(pool or self.pool),
               "--start", str(start), "--count", str(count), "--concurrency", str(concurrency)]  # fmt: skip
        if seconds:
            cmd += ["--duration", str(seconds)]
        cmd += extra or []
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

    def measure_processed(
        self, stack, holder: dict, start: int, count: int, concurrency: int, pool=None
    ) -> dict:
        """Closed-loop load of `count` events; processed/s = events counted by the API / (first send ->
        last event counted); events already counted before are not included."""
        base = stack.counted()
        phase = self.drive(stack, start, count, concurrency, None, holder, pool=pool)
        t_load_end = time.time()
        counted_at_load_end = stack.counted() - base
        done = self.wait_counted(stack, base + phase["ok"])
        counted = done["counted"] - base
        span = done["t_counted"] - phase["first_send_unix"]
        processed = counted / span if span > 0 and not done["timed_out"] else float("nan")
        return {"phase": phase, "counted": counted, "span_s": span, "processed_per_s": processed,
                "timed_out": done["timed_out"], "t_load_end": t_load_end, "t_counted": done["t_counted"],
                "counted_at_load_end": counted_at_load_end}  # fmt: skip

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
        stack.started_at = time.monotonic()
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

    # -- PostgreSQL -----------------------------------------------------------------------------------
    def new_pg_stack(self, name: str, env: dict | None = None) -> Stack:
        return postgres_stack(name, self.pg, self.template[0], self.template[1], self.work, env)

    def pg_rows(self, stack: Stack, table_name: str = "issues_event") -> int:
        """Rows of a LightTrace table that belong to the bench project (not the warm-up project)."""
        return self.pg.execute(
            f"SELECT count(*) FROM {table_name} WHERE project_id = {int(stack.project_id)}", stack.db_name
        )[0][0]

    def rows_after_retention(self, stack: Stack, accepted: int, wait: float = 90.0) -> tuple[int, int]:
        """(issues_event rows of the bench project, events LightTrace's retention pass deleted per the serve
        log). A stack older than the pass's schedule may have trimmed issues above max_events_per_issue
        (counters stay): then rows + deleted must equal `accepted`; a pass still running logs its line
        when done (budget 60 s), so this waits up to `wait` seconds for the two to agree."""
        deadline = time.monotonic() + wait
        while True:
            rows = self.pg_rows(stack)
            text = stack.live.log_path.read_text(errors="replace") if stack.live.log_path else ""
            deleted = sum(int(a) + int(b) for a, b in RETENTION_LINE.findall(text))
            old = (
                time.monotonic() - getattr(stack, "started_at", time.monotonic())
                > RETENTION_FIRST_PASS_S - 10
            )
            if rows + deleted == accepted or not old or time.monotonic() > deadline:
                return rows, deleted
            time.sleep(2.0)

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

    # -- end ------------------------------------------------------------------------------------------
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
        for pool in (self.pool, self.work / "identical-pool.bin"):
            try:
                pool.unlink()
            except OSError:
                pass
        shutil.rmtree(self.work / "template-data", ignore_errors=True)
