"""GET /_health/: 200 once web, database and queue are usable; queue depth and lag for operators."""

import time

from django.db import connection
from django.http import JsonResponse


def health(request):
    from ingest.buffer import get_buffer

    checks: dict = {"web": "ok"}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
        status = 503
    try:
        buffer = get_buffer()
        checks["queue"] = "ok"
        checks["queue_depth"] = buffer.depth()
        checks["queue_lag_seconds"] = round(buffer.oldest_age(), 3)
    except Exception as exc:
        checks["queue"] = f"error: {type(exc).__name__}"
        status = 503
    checks["time"] = time.time()
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", **checks}, status=status)
