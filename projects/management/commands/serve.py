"""Run web (granian), worker (Celery) and scheduler (Celery beat) in the foreground until Ctrl-C.

All children share our process group; SIGINT or SIGTERM stops every one of them, and if one dies
the others are stopped too, so a supervisor (systemd, Docker) sees one unit.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


def _commands() -> dict[str, list[str]]:
    bin_dir = os.path.dirname(sys.executable)
    embedded = not settings.REDIS_URL
    # granian (Rust HTTP/1.1 with keep-alive, WSGI): about 2.4x the ingest throughput of gunicorn's
    # gthread workers on this path, measured on 2 cores (README, Performance).
    web = [
        os.path.join(bin_dir, "granian"), "--interface", "wsgi", "config.wsgi:application",
        "--host", os.environ.get("HOST", "127.0.0.1"), "--port", str(settings.PORT),
        "--workers", os.environ.get("WEB_WORKERS", "2"),
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
    return {"web": web, "worker": worker, "scheduler": beat}


class Command(BaseCommand):
    help = "Serve web + worker + scheduler in the foreground."

    def handle(self, *args, **options):
        children = {name: subprocess.Popen(cmd) for name, cmd in _commands().items()}
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"{name} exited with {child.returncode}; stopping the others")
                    exit_code, stopping = child.returncode or 1, True
                    break
            time.sleep(0.2)
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(exit_code)
