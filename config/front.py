"""The web process's entry point: `granian --interface rsgi config.front:front` (`manage.py serve` and
the Docker image start it so; config/wsgi.py stays the WSGI application it runs).

Under granian's WSGI interface a request gets one of a few threads as soon as its headers are in,
and the thread then waits for the body: four clients announcing a large body and trickling a byte a
second held all four threads and froze every page, /_health/ and ingest (issue 14). Here a request
is received whole on the event loop first (core/request_body.py: a deadline that grows with the
bytes received, a size cap, a memory budget for the bodies held at once), and only then handed to a
thread that runs the WSGI application. SDK requests and pages have threads of their own, so a flood
of SDK requests never queues a page and the other way round. An SDK request whose key (headers or
query string) is missing, unknown, disabled or another project's is answered before its body is
read, from the key cache, without a thread; the headers themselves must arrive within
WEB_HEADER_TIMEOUT_SECONDS (granian closes the connection otherwise; `serve` passes the option).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl

import orjson
from django.conf import settings

from config.wsgi import application as wsgi_application  # first: sets Django up
from core.memory import return_freed_memory
from core.request_body import BodyPolicy, BodyRefused, ByteBudget, Reservation, receive_body
from ingest.endpoint import Answer, answer_before_body, with_cors
from ingest.http import LARGE_BODY_BYTES
from ingest.keys import KeyNotCached, cached_key
from ingest.wsgi import INGEST_PATH, serve_request

log = logging.getLogger(__name__)
Headers = list[tuple[str, str]]
_BASE_ENVIRON = {
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": "granian",
    "wsgi.version": (1, 0),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": True,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,
}


class Refusals:
    """One log line a minute about refused bodies (a slow client is not an error of ours)."""

    def __init__(self, interval: float = 60.0) -> None:
        self.counts: Counter[int] = Counter()
        self.interval, self.next_line = interval, 0.0

    def add(self, status: int, reason: str) -> None:
        self.counts[status] += 1
        now = time.monotonic()
        if now >= self.next_line:
            summary = ", ".join(f"{count} x {code}" for code, count in sorted(self.counts.items()))
            log.warning("refused request bodies (%s in the last minute); latest: %s", summary, reason)
            self.counts.clear()
            self.next_line = now + self.interval


class Front:
    """The RSGI application: receive the request, then run the WSGI application in a thread."""

    def __init__(self) -> None:
        web = settings.WEB_FRONT
        self.policy = BodyPolicy(web["BODY_START_SECONDS"], web["BODY_MIN_RATE"], web["BODY_MAX_SECONDS"])
        self.budget = ByteBudget(web["MAX_BUFFERED_BYTES"])
        self.max_page_body = web["MAX_BODY_BYTES"]
        self.ingest_threads = ThreadPoolExecutor(web["INGEST_THREADS"], thread_name_prefix="ingest")
        self.page_threads = ThreadPoolExecutor(web["PAGE_THREADS"], thread_name_prefix="pages")
        self.refusals = Refusals()

    def __rsgi_del__(self, loop) -> None:
        for pool in (self.ingest_threads, self.page_threads):
            pool.shutdown(wait=False, cancel_futures=True)

    async def __rsgi__(self, scope, proto) -> None:
        if scope.proto != "http":
            return  # websockets are switched off (--no-ws)
        reservation = Reservation(self.budget)
        try:
            match = INGEST_PATH.match(scope.path)
            if match:
                await self._ingest(scope, proto, reservation, match.group(2), int(match.group(1)))
            else:
                await self._page(scope, proto, reservation)
        except Exception:
            log.exception("unhandled error answering %s %s", scope.method, scope.path)
            proto.response_bytes(
                500, [("content-type", "text/plain"), ("connection", "close")], b"server error"
            )
        finally:
            received = reservation.size
            reservation.release()
            if received >= LARGE_BODY_BYTES:
                # A large body (often one refused half-way) was just freed: its chunks stay in the
                # heap unless trimmed (web RSS grew 86 -> 120 MB after hostile traffic); rare, ~0.2 ms.
                return_freed_memory()

    async def _ingest(self, scope, proto, reservation: Reservation, kind: str, project_id: int) -> None:
        headers = dict(scope.headers.items())
        query = dict(parse_qsl(scope.query_string, keep_blank_values=True))
        request = (scope.method, kind, project_id, headers, query)
        try:
            early = answer_before_body(*request, lookup=cached_key)
        except KeyNotCached:  # asking the database is a thread's job, never the event loop's
            early = await self._in(self.ingest_threads, answer_before_body, *request)
        if early is not None:
            closing = [("connection", "close")] if _has_body(scope, headers) else []
            proto.response_bytes(early.status, [*early.headers.items(), *closing], early.body)
            return
        limit = settings.INGEST["MAX_COMPRESSED_BYTES"]
        body = await self._receive(scope, proto, headers, limit, reservation, sdk=True)
        if body is not None:
            # No WSGI environ on this path: ingest takes the headers and the body as they are.
            client = scope.client.rpartition(":")[0].strip("[]") or None
            answer = await self._in(self.ingest_threads, serve_request, *request, lambda limit: body, client)
            proto.response_bytes(*answer)

    async def _page(self, scope, proto, reservation: Reservation) -> None:
        headers = dict(scope.headers.items())
        body = await self._receive(scope, proto, headers, self.max_page_body, reservation)
        if body is not None:
            await self._respond(proto, self.page_threads, _environ(scope, body))

    async def _receive(
        self, scope, proto, headers, limit: int, reservation: Reservation, sdk: bool = False
    ) -> bytes | None:
        """The whole body, or None after answering why it was refused (then the connection closes);
        to an SDK (maybe a browser's, from another origin) with the CORS headers it can read."""
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers and scope.http_version.startswith("1"):
            return b""  # HTTP/1 has a body only with one of the two headers
        try:
            length = int(declared) if declared is not None else None
            return await receive_body(proto, length, limit, self.policy, reservation)
        except BodyRefused as exc:
            self.refusals.add(exc.status, exc.reason)
            answer = Answer(
                exc.status, orjson.dumps({"detail": exc.reason}), {"Content-Type": "application/json"}
            )
            if exc.status == 503:
                answer.headers["Retry-After"] = "5"
            if sdk:
                answer = with_cors(answer, headers)
            proto.response_bytes(
                answer.status, [*answer.headers.items(), ("connection", "close")], answer.body
            )
            return None

    async def _respond(self, proto, pool: ThreadPoolExecutor, environ: dict[str, Any]) -> None:
        status, headers, body = await self._in(pool, _call_wsgi, environ)
        proto.response_bytes(status, headers, body)

    @staticmethod
    async def _in(pool: ThreadPoolExecutor, function: Callable, *args):
        return await asyncio.get_running_loop().run_in_executor(pool, function, *args)


def _has_body(scope, headers: dict[str, str]) -> bool:
    length = headers.get("content-length")
    return (
        "transfer-encoding" in headers
        or (length not in (None, "0"))
        or not scope.http_version.startswith("1")
    )


def _environ(scope, body: bytes) -> dict[str, Any]:
    """A WSGI environ as granian's WSGI interface builds it (PEP 3333 strings: latin-1 code points)."""
    server_host, _, server_port = scope.server.rpartition(":")
    environ = {
        **_BASE_ENVIRON,
        "REQUEST_METHOD": scope.method,
        "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server_host.strip("[]"),
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": scope.client.rpartition(":")[0].strip("[]"),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in scope.headers.items():
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name in ("content-length", "transfer-encoding") or "_" in name:
            # The body is whole now; and `X_Forwarded_Proto` must not pass for `X-Forwarded-Proto`.
            continue
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            previous = environ.get(key)
            environ[key] = (
                value if previous is None else f"{previous}{'; ' if name == 'cookie' else ','}{value}"
            )
    if "HTTP_HOST" not in environ and scope.authority:
        environ["HTTP_HOST"] = scope.authority
    return environ


def _call_wsgi(environ: dict[str, Any]) -> tuple[int, Headers, bytes]:
    """Runs in a pool thread: the WSGI application, its whole answer collected."""
    started: list = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: Headers, exc_info=None):
        started[:] = [status, headers]
        return chunks.append

    result = wsgi_application(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started
    return int(status.split(" ", 1)[0]), headers, b"".join(chunks)


front = Front()
