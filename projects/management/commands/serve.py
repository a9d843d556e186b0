"""Run web (granian), worker (Celery) and scheduler (Celery beat) in the foreground until Ctrl-C.

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
    # granian (Rust HTTP/1.1 with keep-alive, WSGI): about 2.4x the ingest throughput of gunicorn's
    # gthread workers on this path, measured on 2 cores (README, Performance).
    web = [
        os.path.join(bin_dir, "granian"), "--interface", "wsgi", "config.wsgi:application",
        "--host", os.environ.get("HOST", "127.0.0.1"), "--port", str(settings.PORT),
        "--workers", os.environ.get("WEB_WORKERS", "1" if embedded else "2"),
        "--blocking-threads", os.environ.get("WEB_THREADS", "4"),
        "--no-ws", "--log-level", "warning", "--respawn-failed-workers",
    ]  # fmt: skip
    if os.environ.get("ACCESS_LOG"):
        web.append("--access-log")
    # SQLite has one writer at a time: a thread pool in one process is enough and saves memory.
    pool = (
        ["--pool", "threads", "--concurrency", "2"]
        if embedded
        else ["--concurrency", os.environ.get("WORKER_CONCURRENCY", "2")]
    )
    celery = os.path.join(bin_dir, "celery")
    worker = [
        celery,
        "-A",
        "config",
        "worker",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        *pool,
    ]
    beat = [
        celery,
        "-A",
        "config",
        "beat",
        "--loglevel",
        "WARNING",
        "--schedule",
        str(settings.DATA_DIR / "celerybeat-schedule"),
    ]
    if embedded:
        web = [shutil.which("env") or "/usr/bin/env", "LIGHTTRACE_WEB_WITHOUT_CELERY=1", *web]
        # One machine, small memory: beat runs as a thread of the worker (config/celery.py, ThreadedBeat).
        os.environ["LIGHTTRACE_EMBEDDED_BEAT"] = str(settings.DATA_DIR / "celerybeat-schedule")
        return {"web": web, "worker": worker}
    return {"web": web, "worker": worker, "scheduler": beat}


class Command(BaseCommand):
    help = "Serve web + worker + scheduler in the foreground until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            default="",
            help="comma-separated roles to run on this machine (web, worker, scheduler), for scale-out; "
            "default: all of them",
        )

    def handle(self, *args, **options):
        commands = _commands()
        if options["only"]:
            roles = [r.strip() for r in options["only"].split(",") if r.strip()]
            unknown = sorted(set(roles) - set(commands))
            if unknown:
                raise CommandError(f"unknown role(s) {', '.join(unknown)}; choose from {', '.join(commands)}")
            commands = {role: commands[role] for role in roles}
        # glibc gives each thread that allocates its own malloc arena; granian's blocking threads and
        # the threaded embedded worker would multiply resident memory (issue: <= 200 MB embedded).
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")
        # granian's Rust side allocates with its own jemalloc, which keeps freed pages until later
        # allocations purge them: an idle web process kept ~15 MB of a burst of large bodies.
        os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "projects.supervisor", json.dumps(commands)])
