"""Run web (granian), worker (Celery) and scheduler (Celery beat) in the foreground until Ctrl-C;
in the embedded default, web and the runner (config/runner.py: worker and scheduler in one process).

The commands depend on the settings (embedded default or PostgreSQL + Redis); the supervision itself
is projects/supervisor.py, which this command exec()s into.
"""

import json
import os
import shutil
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _commands() -> dict[str, list[str]]:
    bin_dir = os.path.dirname(sys.executable)
    embedded = not settings.REDIS_URL
    # granian (Rust HTTP/1.1 with keep-alive): about 2.4x the ingest throughput of gunicorn's gthread
    # workers on this path, measured on 2 cores (README, Performance). Its RSGI interface, so that
    # requests are received whole on the event loop before a thread runs them (config/front.py).
    front = settings.WEB_FRONT
    web = [
        os.path.join(bin_dir, "granian"), "--interface", "rsgi", "config.front:front",
        "--host", os.environ.get("HOST", "127.0.0.1"), "--port", str(settings.PORT),
        "--workers", os.environ.get("WEB_WORKERS", "1" if embedded else "2"),
        "--backpressure", str(front["MAX_CONNECTIONS"]),
        "--http", "1", "--http1-header-read-timeout", str(int(front["HEADER_SECONDS"] * 1000)),
        "--no-ws", "--log-level", "warning", "--respawn-failed-workers",
    ]  # fmt: skip
    if os.environ.get("ACCESS_LOG"):
        web.append("--access-log")
    if embedded:
        # No broker and no Celery process: one runner drains the ingest buffer and runs the beat
        # schedule (config/runner.py); neither process loads Celery's app (config/__init__.py).
        lean = [shutil.which("env") or "/usr/bin/env", "LIGHTTRACE_WITHOUT_CELERY_APP=1"]
        if web[web.index("--workers") + 1] == "1":
            web = _one_process_web(front)
        return {"web": [*lean, *web], "worker": [*lean, sys.executable, "-m", "config.runner"]}
    celery = [os.path.join(bin_dir, "celery"), "-A", "config", "--quiet"]  # --quiet: no banner
    worker = [
        *celery, "worker", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
        "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"), "--queues", "celery",
    ]  # fmt: skip
    # Alert tasks (queue "alerts", config/settings.py) get a worker of their own: under steady
    # traffic every ingest worker process is inside a drain of up to 10 s, and an alert waiting for
    # one would miss its seconds. Threads: delivery waits on SMTP and HTTP, not on the CPU.
    alerts = [
        *celery, "worker", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
        "--queues", "alerts", "--pool", "threads", "--concurrency", "4", "--hostname", "alerts@%h",
    ]  # fmt: skip
    beat = [
        *celery, "beat", "--loglevel", "WARNING", "--schedule", str(settings.DATA_DIR / "celerybeat-schedule"),
    ]  # fmt: skip
    return {"web": web, "worker": worker, "alerts": alerts, "scheduler": beat}


def _one_process_web(front: dict) -> list[str]:
    """One web worker: granian's server inside the web process itself (config/web.py), without the
    CLI's main process that only watches it (30 MB of the embedded default's 200 MB; the supervisor
    watches instead), with the options given to the CLI above."""
    web = [
        sys.executable, "-m", "config.web", "--host", os.environ.get("HOST", "127.0.0.1"),
        "--port", str(settings.PORT), "--backpressure", str(front["MAX_CONNECTIONS"]),
        "--header-timeout-ms", str(int(front["HEADER_SECONDS"] * 1000)),
    ]  # fmt: skip
    return [*web, "--access-log"] if os.environ.get("ACCESS_LOG") else web


class Command(BaseCommand):
    help = "Serve web + worker + scheduler in the foreground until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            default="",
            help="comma-separated roles to run on this machine (web, worker, scheduler; worker brings the "
            "alerts worker along), for scale-out; "
            "default: all of them",
        )

    def handle(self, *args, **options):
        commands = _commands()
        if options["only"]:
            roles = [r.strip() for r in options["only"].split(",") if r.strip()]
            unknown = sorted(set(roles) - set(commands))
            if unknown:
                raise CommandError(f"unknown role(s) {', '.join(unknown)}; choose from {', '.join(commands)}")
            if "worker" in roles and "alerts" in commands:
                roles.append("alerts")  # a machine that runs workers also runs the alert worker
            commands = {role: commands[role] for role in dict.fromkeys(roles)}
        if "LIGHTTRACE_URL" not in os.environ:  # the processes exec'd below read it back (settings.py)
            settings.SERVED_URL_FILE.write_text(f"http://127.0.0.1:{settings.PORT}\n")
        # glibc gives each thread that allocates its own malloc arena; granian's blocking threads and
        # the embedded runner's threads would multiply resident memory (issue: <= 200 MB embedded).
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")
        # granian's Rust side allocates with its own jemalloc, which keeps freed pages until later
        # allocations purge them: an idle web process kept ~15 MB of a burst of large bodies.
        os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "projects.supervisor", *_ready_args(commands)])


def _ready_args(commands: dict[str, list[str]]) -> list[str]:
    """The supervisor's arguments: the commands, and where to probe the web server for the ready line."""
    if "web" not in commands:
        return [json.dumps(commands)]
    host = os.environ.get("HOST", "127.0.0.1")
    host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, f"[{host}]" if ":" in host else host)
    health_url = f"http://{host}:{settings.PORT}/_health/"
    return [json.dumps(commands), "--ready-url", settings.LIGHTTRACE_URL, "--health-url", health_url]
