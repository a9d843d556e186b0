"""GET /_health/: 200 when web, database and queue are usable, a worker and a scheduler have written a
heartbeat lately (core/heartbeat.py) and the queue lag is within bounds; 503 with the reason otherwise.
Queue depth and lag are there for operators either way."""

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def health(request):
    checks: dict = {"web": "ok"}
    problems = [_database(checks), _queue(checks), _heartbeats(checks)]
    _dead_letters(checks)
    status = 503 if any(problems) else 200
    checks["time"] = time.time()
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", **checks}, status=status)


def web_health(request):
    """GET /_health/web/: this web process and its database only, for a load balancer's check of web
    nodes. (/_health/ also fails when the workers are silent, which would take every web node out of
    the balancer and stop ingest altogether, although the buffer keeps accepting meanwhile.)"""
    checks: dict = {"web": "ok"}
    status = 503 if _database(checks) else 200
    return JsonResponse({"status": "ok" if status == 200 else "unavailable", **checks}, status=status)


def _database(checks: dict) -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        return False
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
        return True


def _queue(checks: dict) -> bool:
    from ingest.buffer import get_buffer

    try:
        buffer = get_buffer()
        depth, lag = buffer.depth(), buffer.oldest_age()
    except Exception as exc:
        checks["queue"] = f"error: {type(exc).__name__}"
        return True
    bound = settings.HEALTH["MAX_QUEUE_LAG_SECONDS"]
    checks["queue"] = "ok" if lag <= bound else f"lag {lag:.0f} s over {bound} s"
    checks["queue_depth"] = depth
    checks["queue_lag_seconds"] = round(lag, 3)
    return lag > bound


def _dead_letters(checks: dict) -> None:
    """Envelopes that could not be stored (ingest/dead_letters.py): for the operator to look at and
    requeue; they hold nothing back, so they do not make the check fail."""
    from ingest.dead_letters import count

    try:
        checks["dead_letters"] = count()
    except Exception as exc:
        checks["dead_letters"] = f"unknown: {type(exc).__name__}"


def _heartbeats(checks: dict) -> bool:
    from core.heartbeat import ROLES, newest_beats

    try:
        ages = newest_beats()
    except Exception as exc:
        for role in ROLES:
            checks[role] = f"unknown: {type(exc).__name__}"
        return True
    limit = settings.HEALTH["MAX_SILENCE_SECONDS"]
    checks["heartbeat_age_seconds"] = {role: round(age, 1) for role, age in ages.items()}
    failing = False
    for role in ROLES:
        age = ages.get(role)
        if age is None:
            checks[role] = "no heartbeat yet"
        elif age > limit:
            checks[role] = f"silent for {age:.0f} s"
        else:
            checks[role] = "ok"
            continue
        failing = True
    return failing
