"""Reading SDK request bodies from a WSGI environ: sized, or chunked without a Content-Length."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .protocol.errors import PayloadTooLarge

_READ_CHUNK = 64 * 1024
# Bodies from this size on are rare for SDKs (attachments, or hostile traffic): the WSGI adapter hands
# the freed memory back to the kernel after answering them (core/memory.py).
LARGE_BODY_BYTES = 1024 * 1024


def read_body(environ: Mapping[str, Any], limit: int) -> bytes:
    """Read the raw (possibly compressed) body, refusing more than `limit` bytes.

    Node's SDK sends `Transfer-Encoding: chunked` without Content-Length. WSGI allows reading such a
    body to its end only when the server says the stream is terminated (granian and gunicorn do).
    """
    length_header = environ.get("CONTENT_LENGTH") or ""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if length_header.strip():
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        if length >= 0:
            return _read_exact(stream, length)
    if not environ.get("wsgi.input_terminated"):
        return b""
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(_READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _read_exact(stream, length: int) -> bytes:
    parts: list[bytes] = []
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(remaining, _READ_CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def client_ip(environ: Mapping[str, Any]) -> str | None:
    return environ.get("REMOTE_ADDR") or None
