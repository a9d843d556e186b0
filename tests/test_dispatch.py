"""Asking for a task through Celery: at most one message of a task waits in the broker."""

import pytest
from celery.signals import task_prerun

pytestmark = pytest.mark.redis

DRAIN = "ingest.tasks.drain_ingest_buffer"


def test_a_task_asked_for_while_its_message_waits_is_not_queued_again(settings):
    from config.celery import CeleryDispatch
    from core.redis_client import get_redis
    from ingest.tasks import drain_ingest_buffer

    redis = get_redis()
    queue = f"{settings.REDIS_KEY_PREFIX}:celery:celery"  # kombu's list: global_keyprefix + queue name
    redis.delete(queue, f"{settings.REDIS_KEY_PREFIX}:task-pending:{DRAIN}")
    try:
        for _ in range(50):  # 50 buffered envelopes while the workers are busy
            CeleryDispatch().send(DRAIN)
        assert redis.llen(queue) == 1
        task_prerun.send(
            sender=drain_ingest_buffer, task_id="t1", task=drain_ingest_buffer
        )  # a worker takes it
        CeleryDispatch().send(DRAIN)  # buffered during that run: the next run is asked for
        CeleryDispatch().send(DRAIN)
        assert redis.llen(queue) == 2
    finally:
        redis.delete(queue, f"{settings.REDIS_KEY_PREFIX}:task-pending:{DRAIN}")
