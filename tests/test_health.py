"""/_health/ answers 503 with the reason when the worker or the scheduler is silent or the queue lags,
with the Redis stream and with the embedded table buffer alike; 200 when all is fresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import Heartbeat


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "database"])
def mode(request, settings, clean_buffer):
    from ingest.buffer import get_buffer

    redis_url = settings.REDIS_URL
    if request.param == "database":
        settings.REDIS_URL = ""
    get_buffer.cache_clear()
    yield request.param
    settings.REDIS_URL = redis_url  # before clean_buffer's teardown looks the buffer up again
    get_buffer.cache_clear()


def heartbeat(role: str, seconds_ago: float, pid: int = 1) -> None:
    now = timezone.now()
    Heartbeat.objects.create(
        role=role, host="test-host", pid=pid, started_at=now - timedelta(hours=1),
        beat_at=now - timedelta(seconds=seconds_ago),
    )  # fmt: skip


def health(client) -> tuple[int, dict]:
    response = client.get("/_health/")
    return response.status_code, response.json()


def test_fresh_heartbeats_and_an_empty_queue_are_healthy(db, client, mode):
    heartbeat("worker", 2)
    heartbeat("scheduler", 4)
    status, body = health(client)
    assert status == 200, body
    assert body["status"] == "ok" and body["worker"] == "ok" and body["scheduler"] == "ok"
    assert body["heartbeat_age_seconds"]["worker"] == pytest.approx(2, abs=1)


def test_a_silent_worker_makes_health_503_with_the_reason(db, client, mode):
    heartbeat("worker", 42)
    heartbeat("scheduler", 1)
    status, body = health(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["worker"] == "silent for 42 s" and body["scheduler"] == "ok"


def test_one_live_worker_among_dead_ones_is_enough(db, client, mode):
    heartbeat("worker", 3600, pid=1)
    heartbeat("worker", 1, pid=2)
    heartbeat("scheduler", 1)
    assert health(client)[0] == 200


def test_a_scheduler_that_never_wrote_makes_health_503(db, client, mode):
    heartbeat("worker", 1)
    status, body = health(client)
    assert status == 503 and body["scheduler"] == "no heartbeat yet"


def test_queue_lag_over_the_bound_makes_health_503(db, client, mode, settings):
    from ingest.buffer import get_buffer

    heartbeat("worker", 1)
    heartbeat("scheduler", 1)
    buffer = get_buffer()
    old = b'{"p":1,"k":1,"r":%d}\nx' % (timezone.now().timestamp() - 400)
    if mode == "redis":  # the stream's entry id is its arrival time
        buffer.client.xadd(
            buffer.stream, {b"d": old}, id=f"{int((timezone.now().timestamp() - 400) * 1000)}-0"
        )
    else:
        buffer.put(old)
    status, body = health(client)
    assert status == 503 and body["queue"].startswith("lag 40") and body["queue"].endswith(" s over 300 s"), (
        body
    )
    settings.HEALTH = {**settings.HEALTH, "MAX_QUEUE_LAG_SECONDS": 600}
    assert health(client)[0] == 200


def test_heartbeat_upserts_one_row_per_process(db):
    from core.heartbeat import Pulse

    pulse = Pulse("worker", "scheduler")
    pulse(force=True)
    pulse(force=True)
    assert Heartbeat.objects.count() == 2


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_heartbeats_resume_after_the_database_dropped_the_connection():
    """Celery's main process and beat serve no requests, so no per-request check replaces a dead
    connection: the failed write's own transaction drops it, and the next one reconnects."""
    from django.db import connection

    from core.heartbeat import Pulse

    pulse = Pulse("scheduler")
    pulse(force=True)
    first = Heartbeat.objects.get().beat_at
    pid = connection.connection.info.backend_pid
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    pulse(force=True)  # finds the connection dead
    pulse(force=True)
    assert Heartbeat.objects.get().beat_at > first


def test_the_web_check_for_load_balancers_ignores_silent_workers(db, client, mode):
    heartbeat("worker", 600)
    assert health(client)[0] == 503
    response = client.get("/_health/web/")
    assert response.status_code == 200 and response.json()["database"] == "ok"
