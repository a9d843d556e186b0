"""Both ingest buffer backends keep an entry until it is acknowledged, and hand back a dead worker's."""

import pytest
from django.test import override_settings

from ingest.buffer import DatabaseBuffer, RedisStreamBuffer


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "database"])
def buffer(request, db, settings):
    if request.param == "redis":
        buf = RedisStreamBuffer(settings.REDIS_URL, 0, prefix=f"{settings.REDIS_KEY_PREFIX}-buffer-test")
        buf.client.delete(buf.stream)
        yield buf
        buf.client.delete(buf.stream)
    else:
        yield DatabaseBuffer(reclaim_idle_seconds=3600)


def test_put_take_ack(buffer):
    for n in range(5):
        buffer.put(b'{"p":1,"k":1,"r":1.0}\n' + str(n).encode())
    taken = buffer.take("worker-a", 3)
    assert [e.payload[-1:] for e in taken] == [b"0", b"1", b"2"]
    buffer.ack([e.id for e in taken])
    rest = buffer.take("worker-a", 10)
    assert [e.payload[-1:] for e in rest] == [b"3", b"4"]
    buffer.ack([e.id for e in rest])
    assert buffer.depth() == 0


def test_unacknowledged_entries_go_to_another_worker(buffer):
    buffer.put(b'{"p":1,"k":1,"r":1.0}\nx')
    first = buffer.take("dies", 10)
    assert len(first) == 1
    if isinstance(buffer, DatabaseBuffer):
        assert buffer.take("other", 10) == []  # claimed and not yet stale
        buffer.reclaim_idle = 0
    again = buffer.take("other", 10)
    assert [e.payload for e in again] == [first[0].payload]
    buffer.ack([e.id for e in again])
    assert buffer.depth() == 0


@override_settings(REDIS_URL="")
def test_without_redis_the_database_buffer_is_used():
    from ingest.buffer import get_buffer

    get_buffer.cache_clear()
    try:
        assert isinstance(get_buffer(), DatabaseBuffer)
    finally:
        get_buffer.cache_clear()


@pytest.mark.redis
def test_redis_buffer_recovers_when_its_stream_and_group_vanish(settings):
    buf = RedisStreamBuffer(settings.REDIS_URL, 0, prefix=f"{settings.REDIS_KEY_PREFIX}-vanish-test")
    buf.put(b'{"p":1,"k":1,"r":1.0}\\nfirst')
    assert len(buf.take("w", 10)) == 1
    buf.client.delete(buf.stream)  # as after a Redis restart without persistence
    buf.put(b'{"p":1,"k":1,"r":1.0}\\nsecond')
    assert [e.payload[-6:] for e in buf.take("w", 10)] == [b"second"]
    buf.client.delete(buf.stream)
