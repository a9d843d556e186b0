"""The SDK endpoints: POST /api/<project_id>/envelope/ and the legacy /api/<project_id>/store/."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .accept import IngestRequest, RateLimited, accept_envelope, accept_store
from .buffer import BufferUnavailable
from .http import add_cors, client_ip, json_response, preflight, read_body
from .protocol.errors import ProtocolError
from .protocol.ratelimits import format_header, retry_after

log = logging.getLogger(__name__)


def _ingest(request: HttpRequest, project_id: int, accept) -> HttpResponse:
    if request.method == "OPTIONS":
        return preflight(request)
    if request.method != "POST":
        response = json_response({"detail": f"method {request.method} not allowed; use POST"}, status=405)
        response["Allow"] = "POST, OPTIONS"
        return add_cors(request, response)
    try:
        body = read_body(request, settings.INGEST["MAX_COMPRESSED_BYTES"])
        if not body:
            raise _empty()
        req = IngestRequest(
            project_id=project_id,
            headers=dict(request.headers),
            query=request.GET.dict(),
            body=body,
            content_encoding=request.headers.get("Content-Encoding"),
            client_ip=client_ip(request),
        )
        accepted = accept(req)
    except RateLimited as exc:
        headers = {
            "Retry-After": str(retry_after(exc.limits)),
            "X-Sentry-Rate-Limits": format_header(exc.limits),
        }
        return add_cors(request, json_response({"detail": exc.reason}, status=429, headers=headers))
    except ProtocolError as exc:
        return add_cors(request, json_response({"detail": exc.reason}, status=exc.status))
    except BufferUnavailable:
        response = json_response({"detail": "ingest is temporarily unavailable, retry later"}, status=503)
        response["Retry-After"] = "60"
        return add_cors(request, response)
    except (RecursionError, MemoryError, UnicodeError, ValueError, TypeError, KeyError) as exc:
        # Hostile input must never surface as a 500; the reason stays generic on purpose.
        log.info("rejected malformed request for project %s: %s", project_id, type(exc).__name__)
        return add_cors(request, json_response({"detail": f"malformed request ({type(exc).__name__})"}, 400))
    body_json = {"id": accepted.event_id} if accepted.event_id else {}
    # Limits hit by some items only: the rest was accepted, and SDKs back off for those categories.
    headers = {"X-Sentry-Rate-Limits": format_header(accepted.rate_limits)} if accepted.rate_limits else {}
    if accepted.problems:
        # Valid items beside the bad ones were kept and queued; the SDK learns what was dropped.
        detail = {"detail": "some items were invalid and dropped", "causes": accepted.problems, **body_json}
        return add_cors(request, json_response(detail, status=400, headers=headers))
    return add_cors(request, json_response(body_json, headers=headers))


def _empty() -> ProtocolError:
    from .protocol.errors import BadRequest

    return BadRequest("empty request body")


@csrf_exempt
def envelope_endpoint(request: HttpRequest, project_id: int) -> HttpResponse:
    return _ingest(request, int(project_id), accept_envelope)


@csrf_exempt
def store_endpoint(request: HttpRequest, project_id: int) -> HttpResponse:
    return _ingest(request, int(project_id), accept_store)
