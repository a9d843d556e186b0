"""The embedded default's web process: granian's server and the web front in ONE process
(`python -m config.web`, started by `manage.py serve` when there is one web worker).

`granian --workers 1` is two processes: a main process that only watches its worker (30 MB resident
with Python, click and granian's Rust library) and the worker that serves. The supervisor
(projects/supervisor.py) already watches, restarts and stops its children, so the embedded default
runs granian's embedded server instead: the same Rust HTTP/1.1 server and RSGI interface
(config/front.py) on this process's asyncio loop, with the options `serve` gives the CLI. The tree's
resident memory is the budget that matters there (issue 13: 200 MB); PostgreSQL + Redis keep the
CLI with several workers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m config.web")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backpressure", type=int, required=True, help="connections served at once")
    parser.add_argument("--header-timeout-ms", type=int, required=True)
    parser.add_argument("--access-log", action="store_true")
    return parser.parse_args(argv)


# Imported by DRF (rest_framework/compat.py) only when installed, for serializer fields of PostgreSQL
# types and for a test client: neither serves a request here, yet the first API request loaded psycopg
# and urllib3 with them, 16 MB of the web process (63 -> 79 MB). Marked absent, DRF does without.
UNUSED_HERE = ("django.contrib.postgres.fields", "requests")


def hide_unused_modules() -> None:
    for name in UNUSED_HERE:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]  # import now raises ImportError


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    hide_unused_modules()
    # granian configures its own loggers when the server is made: before Django's, which stay as set.
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server.embed import Server

    server = Server(
        target=None,
        address=args.host,
        port=args.port,
        interface=Interfaces.RSGI,
        http=HTTPModes.http1,
        websockets=False,
        backlog=1024,  # the CLI's default (the embedded server's is 128)
        backpressure=args.backpressure,
        http1_settings=HTTP1Settings(header_read_timeout=args.header_timeout_ms),
        log_level=LogLevels.warning,
        log_access=args.access_log,
    )
    logging.getLogger("_granian").addFilter(_WithoutExperimentalNotice())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from config.front import front  # sets Django up

    server.target = front  # type: ignore[assignment]  # the embedded server takes the object itself
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stopped = asyncio.Event()

    def stop() -> None:
        stopped.set()
        server.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    loop.run_until_complete(server.serve())
    # Without a signal, the server stopped because serving failed (e.g. the port is taken): the
    # supervisor restarts this process with backoff.
    return 0 if stopped.is_set() else 1


class _WithoutExperimentalNotice(logging.Filter):
    """granian warns at every start that its embedded server is experimental; the rest of its
    warnings pass as under the CLI's `--log-level warning`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "experimental" not in record.getMessage()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
