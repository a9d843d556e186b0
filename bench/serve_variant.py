"""`manage.py serve` with a different Celery worker concurrency (BENCH_WORKER_CONCURRENCY), for the
benchmark's `embedded-1thread` scenario only. LightTrace's own code is used unchanged: this wraps the
serve command and edits only the worker's `--concurrency` argument before the children start."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from projects.management.commands import serve  # noqa: E402

_original = serve._commands


def _commands() -> dict[str, list[str]]:
    commands = _original()
    worker = commands["worker"]
    if "--concurrency" not in worker:
        raise SystemExit("this worker has no --concurrency (the embedded runner drains in one thread)")
    worker[worker.index("--concurrency") + 1] = os.environ["BENCH_WORKER_CONCURRENCY"]
    return commands


serve._commands = _commands
call_command("serve")
