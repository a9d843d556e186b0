"""A time budget for every database query a web request makes, so that no search, page or API call
can hold a web thread (and the database) for minutes. The worker processes never load middleware,
so their batch writes and retention passes are not bound by it.

* PostgreSQL: `statement_timeout` on each connection the web process opens; the server cancels the
  statement.
* SQLite: a progress handler that interrupts a statement once the request's deadline has passed.

Either way Django raises OperationalError, which this middleware answers with a 503 that says why.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import OperationalError
from django.db.backends.signals import connection_created
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)
_deadline = threading.local()
_SQLITE_CHECK_EVERY = 10_000  # SQLite VM instructions between two looks at the clock


def _seconds() -> float:
    return float(settings.WEB_STATEMENT_TIMEOUT_SECONDS)


def _past_deadline() -> int:
    deadline = getattr(_deadline, "at", None)
    return 1 if deadline is not None and time.monotonic() > deadline else 0


def bound_connection(sender, connection, **kwargs) -> None:
    """connection_created handler: every connection of a web process gets the budget."""
    if connection.vendor == "postgresql":
        with connection.connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(_seconds() * 1000)}")
    elif connection.vendor == "sqlite":
        connection.connection.set_progress_handler(_past_deadline, _SQLITE_CHECK_EVERY)


def _timed_out(exc: Exception) -> bool:
    text = str(exc).lower()
    return "statement timeout" in text or "interrupted" in text


class RequestBudgetMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        if _seconds() > 0:
            connection_created.connect(bound_connection, dispatch_uid="lighttrace-request-budget")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _deadline.at = time.monotonic() + _seconds() if _seconds() > 0 else None
        try:
            return self.get_response(request)
        finally:
            _deadline.at = None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError) or not _timed_out(exception):
            return None
        log.warning("request %s ran out of its %s s database budget", request.path, _seconds())
        detail = f"this request took longer than {_seconds():g} s in the database; narrow it and retry"
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail}, status=503, headers={"Retry-After": "5"})
        return HttpResponse(detail, status=503, content_type="text/plain", headers={"Retry-After": "5"})
