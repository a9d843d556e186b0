"""Live LightTrace stacks for the ingest benchmark: `manage.py serve` on a fresh PostgreSQL database and
a flushed Redis db, or on the embedded default (SQLite in a temporary DATA_DIR, no Redis).

Built on tests/e2e/stack.py (LiveStack, base_env, free_port, manage). The PostgreSQL server is found
like scripts/test.sh finds it (DATABASE_URL, else user postgres or root on 127.0.0.1:5432). One
database is migrated once per run as a template; each scenario gets its own fresh copy
(CREATE DATABASE ... TEMPLATE), dropped afterwards.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from procstats import ProcInfo, all_procs, cmdline, descendants

from tests.e2e.stack import LiveStack, base_env, free_port, manage

BENCH_REDIS_DB = 13
ORG, PROJECT, WARMUP = "bench", "ingest", "warmup"
LIGHTTRACE_TABLES = ("issues_", "ingest_")


def find_postgres() -> str:
    """Base URL (without database) of a reachable PostgreSQL server."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        return url.rsplit("/", 1)[0]
    for user in ("postgres", "root"):
        base = f"postgres://{user}@127.0.0.1:5432"
        try:
            with psycopg.connect(f"{base}/postgres", connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return base
        except psycopg.Error:
            continue
    raise RuntimeError("no PostgreSQL reachable on 127.0.0.1:5432 as postgres or root; set DATABASE_URL")


def redis_base() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]


class Postgres:
    def __init__(self) -> None:
        self.base = find_postgres()
        self.admin = f"{self.base}/postgres"
        self.template: str | None = None
        self.created: list[str] = []

    def execute(self, sql: str, db: str = "postgres"):
        with psycopg.connect(f"{self.base}/{db}", autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else None

    def create(self, template: str | None = None) -> str:
        name = f"lighttrace_bench_{uuid.uuid4().hex[:8]}"
        self.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(reversed(self.created)):
            try:
                self.drop(name)
            except psycopg.Error as exc:
                print(f"warning: could not drop database {name}: {exc}")

    def postmaster_pid(self) -> int | None:
        try:
            data_dir = self.execute("SHOW data_directory")[0][0]
            return int(Path(data_dir, "postmaster.pid").read_text().split()[0])
        except (psycopg.Error, OSError, ValueError, IndexError):
            pass
        procs = all_procs()  # fallback: a postgres process whose parent is not postgres
        for p in procs.values():
            if p.comm == "postgres" and procs.get(p.ppid, ProcInfo(0, 0, 0, 0, 0, "")).comm != "postgres":
                return p.pid
        return None

    def settings(self) -> dict:
        names = (
            "server_version",
            "shared_buffers",
            "synchronous_commit",
            "fsync",
            "wal_level",
            "max_connections",
        )
        rows = self.execute(
            "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(ARRAY[{}])".format(
                ",".join(f"'{n}'" for n in names)
            )
        )
        return {name: setting + (f" ({unit})" if unit else "") for name, setting, unit in rows}

    def table_sizes(self, db: str) -> dict[str, int]:
        rows = self.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace",
            db,
        )
        return {name: size for name, size in rows if name.startswith(LIGHTTRACE_TABLES)}


def postgres_selector(pg: Postgres, db_name: callable):
    """Postmaster, its auxiliary processes, and the backends connected to the scenario's database."""
    root = pg.postmaster_pid()
    aux = re.compile(r"\d+\.\d+\.\d+\.\d+\(\d+\)|\[local\]")

    def select(procs: dict[int, ProcInfo]) -> list[int]:
        if not root:
            return []
        db = db_name()
        out = []
        for pid in descendants(root, procs):
            line = cmdline(pid)
            if pid == root or not aux.search(line) or (db and f" {db} " in f" {line} "):
                out.append(pid)
        return out

    return select


@dataclass
class Stack:
    """One `manage.py serve` (web, worker, scheduler) with its own data dir and database."""

    name: str
    kind: str  # "postgres" or "embedded"
    data_dir: Path
    env: dict
    port: int
    db_name: str | None = None
    live: LiveStack | None = None
    key: str = ""
    project_id: int = 0
    warm_key: str = ""
    warm_project_id: int = 0
    roots: dict[str, int] = field(default_factory=dict)
    paused: bool = False
    worker_concurrency: str | None = None
    polls: int = 0  # requests to /_health/ and the issues API made by the benchmark
    poll_cost_s: float = float(
        "nan"
    )  # web CPU seconds per such request, measured idle  # None: exactly `manage.py serve`; else bench/serve_variant.py

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        """Start serve; ready once one warm-up event (to the separate project `warmup`) went all
        the way through web, buffer, worker and database and is counted by the API."""
        if self.worker_concurrency:
            self._start_variant()
        else:
            self.live.start()
        deadline = time.monotonic() + timeout
        # The embedded default's runner is worker and scheduler: no scheduler process of its own.
        needed = 3 if self.live.env.get("REDIS_URL") else 2
        while len(self.roots) < needed and time.monotonic() < deadline:
            self.roots = find_roles(self.live.process.pid)
            time.sleep(0.2)
        if len(self.roots) < needed:
            raise RuntimeError(f"roles not found within {timeout}s: {self.roots}\n{self.live.tail_log()}")
        from payload import build_event, envelope_bytes, http_headers

        _, header, event = build_event(0, 0, self.warm_key, seed=999)
        body = gzip.compress(envelope_bytes(header, event)[0], 9)
        request = urllib.request.Request(
            f"{self.url}/api/{self.warm_project_id}/envelope/", data=body, headers=http_headers(self.warm_key)
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        path = f"/api/0/projects/{ORG}/{WARMUP}/issues/?limit=100"
        while time.monotonic() < deadline:
            if sum(int(i["count"]) for i in self.api(path)) >= 1:
                return
            if self.live.process.poll() is not None:
                raise RuntimeError(f"serve exited:\n{self.live.tail_log()}")
            time.sleep(0.2)
        raise RuntimeError(f"warm-up event not counted within {timeout}s:\n{self.live.tail_log()}")

    def _start_variant(self) -> None:
        """LiveStack.start, but through bench/serve_variant.py (same serve, other worker concurrency)."""
        live = self.live
        live.env["BENCH_WORKER_CONCURRENCY"] = self.worker_concurrency
        live.log_path = Path(live.env["DATA_DIR"]) / "serve.log"
        log = open(live.log_path, "wb")  # noqa: SIM115 - lives as long as the process
        live.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("serve_variant.py"))],
            cwd=Path(__file__).resolve().parent.parent,
            env=live.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        live.wait_for(live._healthy, timeout=60, what="/_health/")

    def role_pids(self, role: str) -> list[int]:
        root = self.roots.get(role)
        return descendants(root, all_procs()) if root else []

    def pause_worker(self) -> None:
        for pid in self.role_pids("worker"):
            os.kill(pid, signal.SIGSTOP)
        self.paused = True

    def resume_worker(self) -> None:
        for pid in self.role_pids("worker"):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.paused = False

    def stop(self) -> None:
        if self.paused:
            self.resume_worker()
        if self.live:
            self.live.stop()

    def api(self, path: str):
        return self.live.api(path)

    def issues(self) -> list[dict]:
        return self.api(f"/api/0/projects/{ORG}/{PROJECT}/issues/?limit=100")

    def counted(self) -> int:
        self.polls += 1
        return sum(int(i["count"]) for i in self.issues())

    def health(self) -> dict:
        self.polls += 1
        with urllib.request.urlopen(self.url + "/_health/", timeout=5) as response:
            return json.loads(response.read())


def find_roles(serve_pid: int) -> dict[str, int]:
    procs = all_procs()
    roles = {}
    for p in procs.values():
        if p.ppid != serve_pid:
            continue
        line = cmdline(p.pid)
        if "granian" in line or "gunicorn" in line or "config.web" in line:
            roles["web"] = p.pid
        elif "--queues alerts" in line:
            roles["alerts"] = p.pid  # the alert worker (serve's "alerts" role), not the ingest worker
        elif (" worker" in line and "celery" in line) or "config.runner" in line:
            roles["worker"] = p.pid
        elif " beat" in line and "celery" in line:
            roles["scheduler"] = p.pid
    return roles


def _bench_env(data_dir: Path, port: int) -> dict:
    env = base_env(data_dir, port)
    # base_env is made for the e2e tests; the benchmark runs LightTrace's own defaults otherwise.
    for name in ("INGEST_RECLAIM_IDLE_SECONDS", "DATABASE_URL", "REDIS_URL", "ACCESS_LOG"):
        env.pop(name, None)
    env["PYTHONFAULTHANDLER"] = "1"  # a crash in a C extension leaves the Python stacks in serve.log
    return env


def _key_and_project(dsn: str) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(dsn)
    return parsed.username or "", int(parsed.path.strip("/").split("/")[-1])


def _provision(env: dict) -> dict:
    key, project_id = _key_and_project(manage(env, "create_project", ORG, PROJECT, "--platform", "python"))
    warm_key, warm_id = _key_and_project(manage(env, "create_project", ORG, WARMUP, "--platform", "python"))
    token = manage(env, "create_api_token", "bench-bot")
    return {
        "token": token,
        "key": key,
        "project_id": project_id,
        "warm_key": warm_key,
        "warm_project_id": warm_id,
    }


def prepare_template(pg: Postgres, work: Path) -> tuple[str, dict]:
    """Migrated database with the bench projects and an API token: (name, provisioning facts)."""
    name = pg.create()
    env = _bench_env(work / "template-data", free_port())
    (work / "template-data").mkdir(parents=True, exist_ok=True)
    env.update(DATABASE_URL=f"{pg.base}/{name}", REDIS_URL=f"{redis_base()}/{BENCH_REDIS_DB}")
    manage(env, "migrate", "--noinput")
    return name, _provision(env)


def postgres_stack(
    name: str, pg: Postgres, template: str, facts: dict, work: Path, overrides: dict | None = None
) -> Stack:
    """A stack on a fresh copy of the template database; `overrides`: environment for serve on top of
    the defaults (e.g. WEB_WORKERS, WORKER_CONCURRENCY for the scale-out scenario)."""
    import redis

    db = pg.create(template)
    data_dir = work / f"{name}-data"
    data_dir.mkdir(parents=True)
    port = free_port()
    env = _bench_env(data_dir, port)
    redis_url = f"{redis_base()}/{BENCH_REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    env.update(DATABASE_URL=f"{pg.base}/{db}", REDIS_URL=redis_url)
    env.update(overrides or {})
    stack = Stack(name=name, kind="postgres", data_dir=data_dir, env=env, port=port, db_name=db)
    return _attach(stack, facts)


def _attach(stack: Stack, facts: dict) -> Stack:
    stack.live = LiveStack(url=stack.url, env=stack.env, token=facts["token"])
    stack.key, stack.project_id = facts["key"], facts["project_id"]
    stack.warm_key, stack.warm_project_id = facts["warm_key"], facts["warm_project_id"]
    return stack


def embedded_stack(name: str, work: Path) -> Stack:
    data_dir = work / f"{name}-data"
    data_dir.mkdir(parents=True)
    port = free_port()
    env = _bench_env(data_dir, port)
    manage(env, "migrate", "--noinput")
    facts = _provision(env)
    stack = Stack(name=name, kind="embedded", data_dir=data_dir, env=env, port=port)
    return _attach(stack, facts)


def redis_pid_and_info() -> tuple[int | None, dict]:
    import redis

    try:
        client = redis.Redis.from_url(f"{redis_base()}/{BENCH_REDIS_DB}")
        info = client.info()
        appendonly = client.config_get("appendonly").get("appendonly")
        save = client.config_get("save").get("save")
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        return None, {"error": str(exc)}
    return int(info["process_id"]), {
        "redis_version": info.get("redis_version"),
        "appendonly": appendonly,
        "save": save,
    }


def git_describe(root: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True
        ).stdout
        return head.strip() + (" (work tree has uncommitted changes)" if dirty.strip() else "")
    except OSError:
        return "unknown"
