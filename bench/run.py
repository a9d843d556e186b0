"""Ingest benchmark: starts LightTrace itself, drives it with Python-SDK-shaped envelopes, prints figures.

    make bench                                   # = .venv/bin/python bench/run.py (about 20 minutes)
    .venv/bin/python bench/run.py --quick        # smoke version, about 3-4 minutes
    .venv/bin/python bench/run.py --only pg-paused,latency
    .venv/bin/python bench/run.py --only soak    # the 10-minute soak (not in the default set), or --soak
    .venv/bin/python bench/run.py --only issue-scale [--keep] [--explain]   # pages at 100,000 issues

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
  identical   PostgreSQL + Redis: 50,000 events of one error (distinct event_ids, users from a fixed set
              of 1,000): exactly one issue, times_seen == 200 answers, user_count == users sent
  scaleout    PostgreSQL + Redis: 20,000 events at 32 connections on 1 web + 1 worker process, then on
              2 web + 2 worker processes; processed/s ratio (target >= 1.6x), exact counts in both
  soak        (only with --only soak or --soak; over 10 minutes) 600 s paced at 80% of the measured
              capacity; accepted == processed exactly after the drain, RSS flat (growth < 10%)

Load comes from bench/loadgen.py in its own process (asyncio, keep-alive HTTP/1.1 on loopback); its
own CPU is measured and printed. CPU and RSS of web (granian main process + workers), worker (celery worker +
children), scheduler (beat), PostgreSQL (postmaster, auxiliary processes and this database's backends)
and Redis come from /proc (bench/procstats.py). Everything started is stopped on exit, also on Ctrl-C.

`issue-scale` (only alone, with `--only issue-scale`) is bench/issue_scale.py: the issue list and issue
page at 100,000 issues and 5 million events in PostgreSQL, timed at the server; other flags go to it.

Modules: bench/harness.py (setup, stacks, load generator, waiting, samplers), bench/scenarios_*.py
(the scenarios), bench/report.py (tables, targets), bench/summary.py (the closing summary),
bench/monitor.py (queue and count poller), bench/rekey.py (fresh event_ids for the soak's re-sends).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
os.chdir(ROOT)

from harness import Harness  # noqa: E402
from scenarios_embedded import EmbeddedScenarios  # noqa: E402
from scenarios_pg import PgScenarios  # noqa: E402
from scenarios_scale import ScaleScenarios  # noqa: E402
from scenarios_soak import SoakScenario  # noqa: E402
from summary import summary_text  # noqa: E402

SCENARIOS = ("pg-running", "pg-paused", "embedded", "latency", "identical", "scaleout")
# Not in the default run: the soak (over 10 minutes; --soak adds it) and the embedded default with a
# 1-thread worker (see bench/serve_variant.py). The soak runs after pg-running to reuse its capacity.
EXTRA_SCENARIOS = ("soak", "embedded-1thread")

# Events per phase. A phase with "seconds" stops at whichever comes first (events or seconds).
CONFIGS = {
    "full": {
        "pg-running": {"events": 20000, "concurrency": 32},
        "pg-paused": {"levels": [(1, 3000, 8.0), (8, 8000, 10.0), (32, 10000, 10.0)]},
        "embedded": {"levels": [(1, 500, None), (32, 10000, None)]},
        "latency": {"levels": [(1, 2000, None), (8, 4000, None)]},
        "identical": {"events": 50000, "concurrency": 32, "users": 1000},
        "scaleout": {"events": 20000, "concurrency": 32, "layouts": [(1, 1), (2, 2)]},
        # pool: envelopes re-sent with fresh event_ids; capacity_events: the brief capacity measurement
        "soak": {
            "seconds": 600.0,
            "share": 0.8,
            "concurrency": 32,
            "sample_every": 2.0,
            "capacity_events": 10000,
            "pool": 5000,
        },  # fmt: skip
    },
    "quick": {
        "pg-running": {"events": 2000, "concurrency": 32},
        "pg-paused": {"levels": [(1, 600, 2.0), (8, 1500, 3.0), (32, 2000, 3.0)]},
        "embedded": {"levels": [(1, 200, None), (32, 1500, None)]},
        "latency": {"levels": [(1, 300, None), (8, 600, None)]},
        "identical": {"events": 5000, "concurrency": 32, "users": 1000},
        "scaleout": {"events": 3000, "concurrency": 32, "layouts": [(1, 1), (2, 2)]},
        "soak": {
            "seconds": 60.0,
            "share": 0.8,
            "concurrency": 32,
            "sample_every": 2.0,
            "capacity_events": 2000,
            "pool": 2000,
        },  # fmt: skip
    },
}


class Bench(PgScenarios, EmbeddedScenarios, ScaleScenarios, SoakScenario, Harness):
    def __init__(self, args):
        only = args.only.split(",") if args.only else list(SCENARIOS)
        if args.soak and "soak" not in only:
            only.append("soak")
        unknown = set(only) - set(SCENARIOS) - set(EXTRA_SCENARIOS)
        if unknown:
            raise SystemExit(
                f"unknown scenario(s) {sorted(unknown)}; choose from {', '.join(SCENARIOS + EXTRA_SCENARIOS)}"
            )
        super().__init__(args, CONFIGS["quick" if args.quick else "full"], only)

    def run(self) -> int:
        t = time.monotonic()
        self.setup()
        self.results["scenarios"] = {}
        methods = {"pg-running": self.scenario_pg_running, "pg-paused": self.scenario_pg_paused,
                   "embedded": self.scenario_embedded, "latency": self.scenario_latency,
                   "identical": self.scenario_identical, "scaleout": self.scenario_scaleout,
                   "soak": self.scenario_soak,
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
        self.say(summary_text(self.results["scenarios"]))
        self.results["total_seconds"] = round(time.monotonic() - t, 1)
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        self.json_path.write_text(json.dumps(self.results, indent=1, default=str))
        self.say(
            f"\ntotal {self.results['total_seconds']:.0f}s; figures as JSON: {self.json_path}; serve logs in {self.work}"
        )
        return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description="LightTrace ingest benchmark (prints figures). Default set: "
        f"{', '.join(SCENARIOS)} (about 20 minutes); the soak (over 10 minutes more) only with "
        "--only soak or --soak."
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke version, about 3-4 minutes (the soak then lasts 60 s)"
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated scenarios of: {', '.join(SCENARIOS)}; also {', '.join(EXTRA_SCENARIOS)} (not run by default); "
        "or issue-scale alone (bench/issue_scale.py)",
    )
    parser.add_argument(
        "--soak",
        action="store_true",
        help="add the soak: 600 s paced at 80%% of the measured capacity (60 s with --quick); "
        "it reuses pg-running's capacity when both run",
    )
    parser.add_argument(
        "--json", default="", help="where to write the figures as JSON (default: the run's temp dir)"
    )
    args, rest = parser.parse_known_args()
    if args.only == "issue-scale":  # its own database and no stack to start: a program of its own
        return subprocess.call([sys.executable, str(ROOT / "bench" / "issue_scale.py"), *rest])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")

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
