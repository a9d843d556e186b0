"""The SDK endpoints through Django (the test client's path; production uses ingest/wsgi.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .endpoint import handle
from .http import client_ip, read_body


def _serve(request: HttpRequest, kind: str, project_id: str) -> HttpResponse:
    answer = handle(
        request.method or "GET",
        kind,
        int(project_id),
        request.headers,
        request.GET.dict(),
        lambda limit: read_body(request.META, limit),
        client_ip(request.META),
    )
    response = HttpResponse(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


@csrf_exempt
def envelope_endpoint(request: HttpRequest, project_id: str) -> HttpResponse:
    return _serve(request, "envelope", project_id)


@csrf_exempt
def store_endpoint(request: HttpRequest, project_id: str) -> HttpResponse:
    return _serve(request, "store", project_id)


@csrf_exempt
def otlp_logs_endpoint(request: HttpRequest, project_id: str) -> HttpResponse:
    return _serve(request, "integration/otlp/v1/logs", project_id)
