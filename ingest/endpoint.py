"""The SDK endpoints, independent of any web framework: one function from a request to an answer.

Two thin adapters call it: ingest/wsgi.py serves production traffic as a plain WSGI callable (no
Django request/response objects, URL resolver or middleware on the hottest path), and
ingest/views.py serves the same through Django, which is what the test client exercises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import orjson
from django.conf import settings
from django.db import DatabaseError

from .accept import IngestRequest, RateLimited, accept_envelope, accept_store, authenticate
from .backoff import FailureLog
from .buffer import BacklogFull, BufferUnavailable
from .keys import KeyInfo, KeysUnavailable, lookup_key
from .otlp import accept_otlp_logs, otlp_answer_body
from .protocol.auth import extract_auth
from .protocol.errors import AuthError, BadRequest, ProtocolError
from .protocol.ratelimits import format_header, retry_after

log = logging.getLogger(__name__)
# An outage fails every request: one line per kind of failure and minute, not one per request.
_unavailable = FailureLog(log, "accepting envelopes (answered 503)")

CORS_ALLOW_HEADERS = (
    "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, "
    "authentication, authorization, content-encoding, transfer-encoding, baggage, sentry-trace"
)
CORS_EXPOSE_HEADERS = "x-sentry-error, x-sentry-rate-limits, retry-after"
OTLP_KINDS = {"integration/otlp/v1/logs"}
ACCEPTORS = {"envelope": accept_envelope, "store": accept_store, "integration/otlp/v1/logs": accept_otlp_logs}


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, data: dict, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, orjson.dumps(data), {"Content-Type": "application/json", **(headers or {})})


def handle(
    method: str,
    kind: str,
    project_id: int,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    read_body: Callable[[int], bytes],
    client_ip: str | None,
) -> Answer:
    answer = answer_before_body(method, kind, project_id, headers, query)
    if answer is not None:
        return answer
    return with_cors(_accept(kind, project_id, headers, query, read_body, client_ip), headers)


def with_cors(answer: Answer, headers: Mapping[str, str]) -> Answer:
    origin = headers.get("Origin") or headers.get("origin")
    answer.headers["Access-Control-Allow-Origin"] = origin or "*"
    answer.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    if origin:
        answer.headers["Vary"] = "Origin"
    return answer


def answer_before_body(
    method: str,
    kind: str,
    project_id: int,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    lookup: Callable[[str], KeyInfo | None] = lookup_key,
) -> Answer | None:
    """The answer that needs no body: a preflight, a wrong method, or a key from the headers or query
    that is missing (store/), unknown (401), disabled or another project's (403). None: read the body
    (a key that may pass, or an envelope whose header line may carry the DSN). The web front calls
    it with ingest.keys.cached_key on its event loop, so a refused sender never gets a thread."""
    if method == "OPTIONS":
        allow = {
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
        }
        return with_cors(Answer(200, b"", {**allow, "Access-Control-Max-Age": "3600"}), headers)
    if method != "POST":
        answer = _json(405, {"detail": f"method {method} not allowed; use POST"}, {"Allow": "POST, OPTIONS"})
        return with_cors(answer, headers)
    try:
        auth = extract_auth(headers, query)
        if auth is None and kind == "store":
            raise AuthError("missing authentication: send X-Sentry-Auth, Authorization or sentry_key")
        if auth is not None:
            authenticate(auth, project_id, lookup)
    except ProtocolError as exc:
        return with_cors(_json(exc.status, {"detail": exc.reason}), headers)
    except (KeysUnavailable, DatabaseError) as exc:
        return with_cors(_unavailable_answer(exc), headers)
    return None


def _unavailable_answer(exc: Exception) -> Answer:
    # The database or Redis is down: SDKs keep the event and send it again after Retry-After.
    _unavailable.failed(exc)
    return _json(503, {"detail": "ingest is temporarily unavailable, retry later"}, {"Retry-After": "60"})


def _accept(kind, project_id, headers, query, read_body, client_ip) -> Answer:
    try:
        body = read_body(settings.INGEST["MAX_COMPRESSED_BYTES"])
        if not body:
            raise BadRequest("empty request body")
        encoding = headers.get("Content-Encoding") or headers.get("content-encoding")
        request = IngestRequest(project_id, dict(headers), dict(query), body, encoding, client_ip)
        accepted = ACCEPTORS[kind](request)
    except RateLimited as exc:
        limits = {
            "Retry-After": str(retry_after(exc.limits)),
            "X-Sentry-Rate-Limits": format_header(exc.limits),
        }
        return _json(429, {"detail": exc.reason}, limits)
    except ProtocolError as exc:
        return _json(exc.status, {"detail": exc.reason})
    except BacklogFull:
        limits = {"Retry-After": "30", "X-Sentry-Rate-Limits": "30::key:backlog"}
        return _json(429, {"detail": "too many events waiting to be processed; retry later"}, limits)
    except (BufferUnavailable, KeysUnavailable, DatabaseError) as exc:
        return _unavailable_answer(exc)
    except (RecursionError, MemoryError, UnicodeError, ValueError, TypeError, KeyError) as exc:
        # Hostile input must never surface as a 500; the reason stays generic on purpose.
        log.info("rejected malformed request for project %s: %s", project_id, type(exc).__name__)
        return _json(400, {"detail": f"malformed request ({type(exc).__name__})"})
    # Limits hit by some items only: the rest was accepted, and SDKs back off for those categories.
    extra = {"X-Sentry-Rate-Limits": format_header(accepted.rate_limits)} if accepted.rate_limits else {}
    if kind in OTLP_KINDS:
        # OTLP answers 200 with the records it did not store named in `partialSuccess`.
        body, content_type = otlp_answer_body(
            accepted, headers.get("Content-Type") or headers.get("content-type") or ""
        )
        return Answer(200, body, {"Content-Type": content_type, **extra})
    body_json = {"id": accepted.event_id} if accepted.event_id else {}
    if accepted.problems:
        # Valid items beside the bad ones were kept and queued; the SDK learns what was dropped.
        detail = {"detail": "some items were invalid and dropped", "causes": accepted.problems, **body_json}
        return _json(400, detail, extra)
    return _json(200, body_json, extra)
