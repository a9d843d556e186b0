"""Run web (gunicorn), worker (Celery) and scheduler (Celery beat) in the foreground until Ctrl-C.

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
    web_workers = os.environ.get("WEB_WORKERS", "2")
    web = [
        os.path.join(bin_dir, "gunicorn"), "config.wsgi:application",
        "--bind", f"{os.environ.get('HOST', '127.0.0.1')}:{settings.PORT}",
        "--workers", web_workers, "--worker-class", "gthread", "--threads", os.environ.get("WEB_THREADS", "8"),
        "--keep-alive", "30", "--access-logfile", "-" if os.environ.get("ACCESS_LOG") else "/dev/null",
    ]  # fmt: skip
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
