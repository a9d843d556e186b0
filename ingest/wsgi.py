"""The SDK endpoints as a plain WSGI callable: production's hottest path, without Django's request
and response objects, URL resolver or middleware (config/wsgi.py routes /api/<id>/envelope|store/ here)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import connections

from core.memory import keep_large_buffers_out_of_the_heap, return_freed_memory

from .endpoint import handle
from .http import LARGE_BODY_BYTES, client_ip, read_body

INGEST_PATH = re.compile(r"^/api/(\d+)/(envelope|store)/?$")
_REASONS = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
# The web process serves request bodies of up to 20 MiB: those must not stay resident once answered.
keep_large_buffers_out_of_the_heap()


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers


def _tidy_connections() -> None:
    """What Django does around every request: drop database connections that broke or grew too old
    (never one inside a transaction, such as a test's). Only the opened ones are looked at:
    Django's close_old_connections() builds every alias's wrapper, a tenth of this path's CPU."""
    for alias in settings.DATABASES:
        wrapper = connections[alias]
        if wrapper.connection is not None and not wrapper.in_atomic_block:
            wrapper.close_if_unusable_or_obsolete()


def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    match = INGEST_PATH.match(environ.get("PATH_INFO", ""))
    if match is None:  # config/wsgi.py only sends matching paths; be safe anyway
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    _tidy_connections()
    body_size = 0

    def read(limit: int) -> bytes:
        nonlocal body_size
        body = read_body(environ, limit)
        body_size = len(body)
        return body

    try:
        answer = handle(
            environ.get("REQUEST_METHOD", "GET"),
            match.group(2),
            int(match.group(1)),
            _headers(environ),
            dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            read,
            client_ip(environ),
        )
    finally:
        _tidy_connections()
    if body_size >= LARGE_BODY_BYTES or answer.status == 413:
        # Rare (SDK envelopes are KBs): a big body, an inflated bomb or an oversized item was just
        # freed; trimming took ~0.1-0.2 ms here and keeps hostile traffic from growing the process.
        return_freed_memory()
    headers = [*answer.headers.items(), ("Content-Length", str(len(answer.body)))]
    start_response(_REASONS.get(answer.status, f"{answer.status} Unknown"), headers)
    return [answer.body]
