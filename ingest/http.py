"""HTTP plumbing of the SDK endpoint: reading the body (sized or chunked) and CORS answers."""

from __future__ import annotations

import orjson
from django.http import HttpRequest, HttpResponse

from .protocol.errors import PayloadTooLarge

CORS_ALLOW_HEADERS = (
    "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, "
    "authentication, authorization, content-encoding, transfer-encoding, baggage, sentry-trace"
)
CORS_EXPOSE_HEADERS = "x-sentry-error, x-sentry-rate-limits, retry-after"
_READ_CHUNK = 64 * 1024


def read_body(request: HttpRequest, limit: int) -> bytes:
    """Read the raw (possibly compressed) body, refusing more than `limit` bytes.

    Node's SDK sends `Transfer-Encoding: chunked` without Content-Length; Django would read such a
    body as empty, so we read the WSGI stream ourselves (granian and gunicorn terminate it at the last chunk and set wsgi.input_terminated).
    """
    length_header = request.META.get("CONTENT_LENGTH") or ""
    stream = request.META.get("wsgi.input")
    if length_header.strip():
        try:
            length = int(length_header)
        except ValueError:
            length = -1
        if length > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        if length >= 0:
            return request.body if stream is None else _read_exact(stream, length)
    if stream is None or not request.META.get("wsgi.input_terminated"):
        return b""  # WSGI allows reading past a missing Content-Length only on a terminated stream
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


def json_response(data: dict, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def add_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    response["Access-Control-Allow-Origin"] = origin or "*"
    if origin:
        response["Vary"] = "Origin"
    response["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    return response


def preflight(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=200)
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
    response["Access-Control-Max-Age"] = "3600"
    return add_cors(request, response)


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None
