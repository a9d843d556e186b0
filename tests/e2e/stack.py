"""A real LightTrace for end-to-end tests: `manage.py serve` (granian, Celery worker, Celery beat)
in its own process group, on its own database, polled through its public API."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def migrate(env: dict) -> None:
    """`manage.py migrate` for the stack `env` describes. On the embedded default (no DATABASE_URL) the
    first call of a test run migrates a template DATA_DIR and every call copies its SQLite files (no
    secret key: each stack makes its own): the same schema and rows in a fraction of the time."""
    if env.get("DATABASE_URL"):
        manage(env, "migrate", "--noinput")
        return
    data_dir = Path(env["DATA_DIR"])
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for database in _embedded_template().glob("*.sqlite3*"):
        shutil.copy2(database, data_dir / database.name)


_template_dirs: list[Path] = []


def _embedded_template() -> Path:
    if not _template_dirs:
        template = Path(tempfile.mkdtemp(prefix="lighttrace-e2e-template-"))
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        env = {k: v for k, v in base_env(template, 0).items() if k not in ("DATABASE_URL", "REDIS_URL")}
        # Once per run, so a machine busy with other work may take its time (minutes were seen).
        manage(env, "migrate", "--noinput", timeout=600)
        _template_dirs.append(template)
    return _template_dirs[0]


@dataclass
class LiveStack:
    url: str
    env: dict
    token: str
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    projects: dict = field(default_factory=dict)

    def create_project(self, slug: str, platform: str = "python", org: str = "e2e") -> str:
        dsn = manage(self.env, "create_project", org, slug, "--platform", platform)
        self.projects[slug] = dsn
        return dsn

    def api(self, path: str):
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def issues(self, slug: str, query: str = "", org: str = "e2e") -> list[dict]:
        return self.api(f"/api/0/projects/{org}/{slug}/issues/?limit=100&query={query}")

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Reads or changes the stack's own database directly (for settings no command exposes yet):
        PostgreSQL, or the embedded default's SQLite file (params in each driver's own style)."""
        import psycopg

        if not self.env.get("DATABASE_URL"):
            import sqlite3

            with contextlib.closing(
                sqlite3.connect(Path(self.env["DATA_DIR"]) / "lighttrace.sqlite3", 10)
            ) as db:
                rows = db.execute(query, params).fetchall()
                db.commit()
                return rows
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}; last value {last!r}\n{self.tail_log()}")

    def wait_for_count(self, slug: str, total: int, timeout: float = 90.0) -> list[dict]:
        def counted():
            issues = self.issues(slug)
            return issues if sum(int(i["count"]) for i in issues) >= total else None

        return self.wait_for(counted, timeout, f"{total} events in project {slug}")

    def tail_log(self, lines: int = 40) -> str:
        if self.log_path and self.log_path.exists():
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def start(self) -> None:
        self.log_path = Path(self.env["DATA_DIR"]) / "serve.log"
        log = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "serve"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.wait_for(self._healthy, timeout=60, what="/_health/")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/_health/", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"serve exited early:\n{self.tail_log()}") from None
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def base_env(data_dir: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(
        DATA_DIR=str(data_dir),
        PORT=str(port),
        LIGHTTRACE_URL=f"http://127.0.0.1:{port}",
        INGEST_RECLAIM_IDLE_SECONDS="5",
    )
    return env
