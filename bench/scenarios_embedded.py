"""The embedded default (no DATABASE_URL / REDIS_URL: SQLite and the brokerless runner in a temporary
DATA_DIR): `embedded`, and `embedded-1thread` (a Celery worker with one thread, bench/serve_variant.py;
it no longer applies since the runner replaced the embedded Celery worker)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from monitor import Monitor
from procstats import all_procs, descendants
from report import cpu_rows, load_rows, mb, series, table, verdict
from stacks import Stack, embedded_stack


def process_rss(stack: Stack) -> dict[str, int]:
    """RSS in bytes of every process of the stack, named by role (web main/worker, worker, serve)."""
    procs = all_procs()
    out: dict[str, int] = {}
    serve = stack.live.process.pid
    for role, root in stack.roots.items():
        for pid in descendants(root, procs):
            name = role if pid == root else f"{role} child"
            if role == "web" and len(descendants(root, procs)) > 1:  # the granian CLI: main + workers
                name = "web (granian main)" if pid == root else "web (granian worker)"
            out[name] = out.get(name, 0) + procs[pid].rss
    if serve in procs:
        out["serve (supervisor)"] = procs[serve].rss
    return out


class EmbeddedScenarios:
    def scenario_embedded(self, name: str = "embedded", worker_concurrency: str | None = None) -> dict:
        cfg = self.config["embedded"]
        self.say(
            f"\n=== {name}: no DATABASE_URL / REDIS_URL (SQLite + the runner, no broker, in a temp DATA_DIR) ==="
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
            self.say(load_rows(phases))
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
            cpu_text, cpu = cpu_rows(
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
            self.say(f"  p99 at {main['concurrency']} conns while the worker runs: {main['latency']['p99_ms']:.1f} ms  "
                     f"{verdict('p99_32_embedded', main['latency']['p99_ms'])}")  # fmt: skip
            self.say("  queue (GET /_health/ every second) and events counted by the API:")
            self.say(series(monitor.rows))
            disk = self._sqlite_disk(stack, self._sqlite_count(stack))
            if not exact:
                self.say("  disk: not measured (not every accepted event was stored)")
                disk["bytes_per_event"] = float("nan")
            else:
                self._print_sqlite_disk(disk)
            hostile = (
                self.hostile_phase(stack)
                if stack.live.process.poll() is None
                else {"error": "serve had died"}
            )
            return {"phases": phases, "cpu": cpu, "rss_idle_mb": mb(rss_idle), "rss_peak_mb": mb(rss_peak),
                    "pss_peak_mb": mb(pss_peak), "exact": exact, "issues_event_rows": stored_rows,
                    "queue_series": monitor.rows, "disk": disk, "whole_window_s": whole["seconds"],
                    "hostile": hostile}  # fmt: skip
        finally:
            sampler.stop()
            self.finish_stack(stack)

    def hostile_phase(self, stack: Stack, count: int = 300, settle: float = 15.0) -> dict:
        """Malformed and oversized requests (bench/hostile.py); per-process RSS before, right after,
        and `settle` seconds later: what a flood of junk leaves resident."""
        self.say(
            f"  hostile traffic: {count} malformed and oversized requests at 8 connections (bench/hostile.py)"
        )
        before = process_rss(stack)
        cmd = [sys.executable, str(Path(__file__).with_name("hostile.py")), "--port", str(stack.port),
               "--project", str(stack.project_id), "--key", stack.key, "--count", str(count)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"hostile.py failed ({done.returncode}):\n{done.stderr[-3000:]}")
        sent = json.loads(done.stdout)
        after = process_rss(stack)
        time.sleep(settle)
        settled = process_rss(stack)
        rows = [[name, mb(before.get(name, 0)), mb(after.get(name, 0)), mb(settled.get(name, 0))]
                for name in sorted(set(before) | set(settled))]  # fmt: skip
        self.say(table(["process", "RSS before MB", "right after MB", f"{settle:.0f} s later MB"], rows))
        answers = {kind: statuses for kind, statuses in sent["statuses"].items() if statuses}
        self.say(
            f"  answers by kind: {answers}; connections the server closed mid-body: {sent['errors'] or '-'}"
        )
        lt = {name: rss for name, rss in settled.items() if not name.startswith("serve")}
        total = {"before": sum(v for k, v in before.items() if not k.startswith("serve")),
                 "after": sum(v for k, v in after.items() if not k.startswith("serve")), "settled": sum(lt.values())}  # fmt: skip
        self.say(f"  RSS web+worker+scheduler: {mb(total['before']):.0f} MB before, {mb(total['after']):.0f} MB right after, "
                 f"{mb(total['settled']):.0f} MB {settle:.0f} s later  {verdict('rss_embedded', mb(total['settled']))}")  # fmt: skip
        return {"sent": sent, "rss_mb": {k: mb(v) for k, v in settled.items()}, "rss_before_mb": mb(total["before"]),
                "rss_after_mb": mb(total["after"]), "rss_settled_mb": mb(total["settled"])}  # fmt: skip

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
