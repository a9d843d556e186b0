"""The ingest buffer: where the endpoint puts accepted envelopes before it answers 200.

Celery carries only small "drain" tasks; the envelopes themselves (still compressed) wait here, so
enqueueing costs one Redis round trip and workers take them in batches. Two backends:

* Redis Streams with a consumer group (REDIS_URL set): a worker reads with XREADGROUP, acknowledges
  with XACK after its database transaction commits, and XAUTOCLAIM hands the unacknowledged entries
  of a dead worker to a live one. Redis's own delivery guarantees, no hand-rolled locking.
* A database table (embedded default): rows are claimed with an UPDATE ... RETURNING, deleted after
  the batch commits, and reclaimed when a claim grows stale.

Either way an entry answered with 200 stays until a batch containing it has been stored. A worker
takes back its own unacknowledged entries first (a batch that failed, e.g. while the database was
down, is retried as soon as the worker's backoff allows), and entries of a consumer that is provably
gone (same host, its process no longer exists: kill -9, OOM) at once; entries of other hosts' workers
only after INGEST_RECLAIM_IDLE_SECONDS.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings


class BufferUnavailable(Exception):
    """The buffer's store (Redis or the database) cannot take the envelope now: answer 503."""


class BacklogFull(Exception):
    """More envelopes wait than INGEST_MAX_QUEUE_DEPTH: shed with 429 rather than drop after a 200."""


_depth_seen = (0.0, 0)  # (monotonic time, depth): one count per second per process is enough


def check_backlog() -> None:
    """For paths that cannot check the bound atomically (the table buffer, re-serialized envelopes)."""
    global _depth_seen
    bound = settings.INGEST["MAX_QUEUE_DEPTH"]
    if not bound:
        return
    now = time.monotonic()
    if now - _depth_seen[0] > 1.0:
        _depth_seen = (now, get_buffer().depth())
    if _depth_seen[1] >= bound:
        raise BacklogFull()


@lru_cache(maxsize=1)
def this_host() -> str:
    """The host part of consumer names: the host name, and the PID namespace, since containers
    sharing a host name (host networking) each count pids on their own."""
    try:
        namespace = f"~{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        namespace = ""
    return socket.gethostname() + namespace


def consumer_name() -> str:
    return f"{this_host()}-{os.getpid()}-{threading.get_ident()}"


def consumer_is_gone(name: str, me: str) -> bool:
    """Whether a consumer's unacknowledged entries may be taken over without waiting: it is this
    process under another thread (one drain at a time per process, so none is in flight), or a
    process of this host (and PID namespace) that no longer exists. Names: consumer_name()."""
    if name == me:
        return False
    host, _, rest = name.rpartition("-")
    host, _, pid_text = host.rpartition("-")
    if host != this_host() or not pid_text.isdigit() or not rest.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, under another user
        return False
    return False


@dataclass(frozen=True)
class BufferEntry:
    id: str
    payload: bytes


class IngestBuffer(Protocol):
    def put(self, payload: bytes) -> None: ...
    def take(self, consumer: str, count: int) -> list[BufferEntry]: ...
    def ack(self, ids: list[str]) -> None: ...
    def depth(self) -> int: ...
    def oldest_age(self) -> float: ...


class RedisStreamBuffer:
    group = "workers"

    def __init__(self, url: str, reclaim_idle_seconds: int, prefix: str = "lighttrace") -> None:
        import redis

        self.stream = f"{prefix}:ingest"
        self.client = redis.Redis.from_url(url, socket_keepalive=True, health_check_interval=30)
        self.reclaim_idle_ms = reclaim_idle_seconds * 1000
        self._group_ready = False

    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        import redis

        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def put(self, payload: bytes) -> None:
        import redis

        check_backlog()
        try:
            self.client.xadd(self.stream, {b"d": payload})
        except redis.RedisError as exc:
            raise BufferUnavailable(str(exc)) from exc

    def take(self, consumer: str, count: int) -> list[BufferEntry]:
        import redis

        self._ensure_group()
        try:
            return self._take(consumer, count)
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream or its group vanished (Redis restarted without persistence, or flushed):
            # create them again instead of failing every drain from now on.
            self._group_ready = False
            self._ensure_group()
            return self._take(consumer, count)

    def _take(self, consumer: str, count: int) -> list[BufferEntry]:
        # Own pending entries first (id 0): a batch that failed is retried by the same worker.
        own: Any = self.client.xreadgroup(self.group, consumer, {self.stream: "0"}, count=count)
        entries = self._usable(own[0][1] if own else [])
        if not entries:
            entries = self._usable(self._claim_from_gone(consumer, count))
        if not entries:
            _, claimed, _ = self.client.xautoclaim(
                self.stream,
                self.group,
                consumer,
                min_idle_time=self.reclaim_idle_ms,
                start_id="0-0",
                count=count,
            )
            entries = self._usable(claimed)
        if not entries:
            response: Any = self.client.xreadgroup(self.group, consumer, {self.stream: ">"}, count=count)
            entries = self._usable(response[0][1] if response else [])
        return [BufferEntry(i.decode(), f[b"d"]) for i, f in entries]

    def _usable(self, entries: list) -> list:
        """Entries deleted from the stream while pending come back without fields: acknowledge them,
        or they would head the own-pending list forever."""
        gone = [i for i, f in entries if not f or b"d" not in f]
        if gone:
            self.client.xack(self.stream, self.group, *gone)
        return [(i, f) for i, f in entries if f and b"d" in f]

    _gone_checked = 0.0

    def _claim_from_gone(self, consumer: str, count: int) -> list:
        """Entries of consumers that provably died (consumer_is_gone), without the reclaim wait;
        looked for when a worker starts and then at most every 10 seconds."""
        now = time.monotonic()
        if now - self._gone_checked < 10.0:
            return []
        self._gone_checked = now
        for info in self.client.xinfo_consumers(self.stream, self.group):
            name = info["name"].decode() if isinstance(info["name"], bytes) else info["name"]
            if not consumer_is_gone(name, consumer):
                continue
            if not info["pending"]:
                # Every restart adds consumers named after new pids: forget the dead, empty ones.
                self.client.xgroup_delconsumer(self.stream, self.group, name)
                continue
            pending = self.client.xpending_range(self.stream, self.group, "-", "+", count, consumername=name)
            ids: list[Any] = [p["message_id"] for p in pending]
            # min_idle_time: of two workers of this host finding the same dead consumer, the second
            # does not take the entries back from the first (its claim reset their idle time).
            claimed = self.client.xclaim(self.stream, self.group, consumer, 1000, ids) if ids else []
            self._gone_checked = 0.0  # it may hold more than one batch: look again next time
            if claimed:
                return claimed
        return []

    def ack(self, ids: list[str]) -> None:
        if ids:
            pipe = self.client.pipeline(transaction=False)
            pipe.xack(self.stream, self.group, *ids)
            pipe.xdel(self.stream, *ids)
            pipe.execute()

    def depth(self) -> int:
        return int(self.client.xlen(self.stream))

    def oldest_age(self) -> float:
        first: Any = self.client.xrange(self.stream, count=1)
        if not first:
            return 0.0
        millis = int(first[0][0].split(b"-")[0])
        return max(0.0, time.time() - millis / 1000)


class DatabaseBuffer:
    """The table buffer. Embedded (SQLite), it lives in a file of its own (ingest/db_router.py), so an
    SDK request never waits for the worker's batch transaction on the main database."""

    def __init__(self, reclaim_idle_seconds: int) -> None:
        self.reclaim_idle = reclaim_idle_seconds
        self._deleted_since_truncate = False

    @property
    def database(self) -> str:
        from django.db import router

        from .models import BufferedEnvelope

        return router.db_for_write(BufferedEnvelope)

    def put(self, payload: bytes) -> None:
        from django.db import DatabaseError

        from .models import BufferedEnvelope

        check_backlog()
        try:
            BufferedEnvelope.objects.create(payload=payload)
        except DatabaseError as exc:
            raise BufferUnavailable(str(exc)) from exc

    def take(self, consumer: str, count: int) -> list[BufferEntry]:
        from django.db import connections, transaction

        now = time.time()
        connection = connections[self.database]
        skip_locked = (
            " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
        )
        with transaction.atomic(using=self.database), connection.cursor() as cursor:
            # Claims of this consumer (a batch that failed) and of gone ones are taken back at once.
            cursor.execute(
                "SELECT DISTINCT claimed_by FROM ingest_bufferedenvelope WHERE claimed_at IS NOT NULL"
            )
            mine = [consumer] + [n for (n,) in cursor.fetchall() if consumer_is_gone(n, consumer)]
            cursor.execute(
                "UPDATE ingest_bufferedenvelope SET claimed_at = %s, claimed_by = %s WHERE id IN ("
                "SELECT id FROM ingest_bufferedenvelope WHERE claimed_at IS NULL OR claimed_at < %s "
                f"OR claimed_by IN ({', '.join(['%s'] * len(mine))}) "
                f"ORDER BY id LIMIT %s{skip_locked}) RETURNING id, payload",
                [now, consumer, now - self.reclaim_idle, *mine, count],
            )
            rows = cursor.fetchall()
        if not rows:
            self._truncate_sqlite_wal()
        return [BufferEntry(str(row[0]), bytes(row[1])) for row in sorted(rows)]

    def ack(self, ids: list[str]) -> None:
        from .models import BufferedEnvelope

        if ids:
            BufferedEnvelope.objects.filter(id__in=[int(i) for i in ids]).delete()
            self._deleted_since_truncate = True

    def depth(self) -> int:
        from .models import BufferedEnvelope

        return BufferedEnvelope.objects.count()

    def oldest_age(self) -> float:
        from .models import BufferedEnvelope

        oldest = BufferedEnvelope.objects.filter(claimed_at__isnull=True).order_by("id").first()
        return 0.0 if oldest is None else max(0.0, time.time() - _received_of(oldest.payload))

    def _truncate_sqlite_wal(self) -> None:
        """Raw envelopes (not yet scrubbed) went through SQLite's WAL: secure_delete zeroes the deleted
        rows in the file, and truncating the WAL once the buffer is empty removes the frames that held
        them."""
        from django.db import OperationalError, connections

        connection = connections[self.database]
        if not self._deleted_since_truncate or connection.vendor != "sqlite" or connection.in_atomic_block:
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cursor.fetchone()[0]
        except OperationalError:
            busy = 1
        # Readers still busy: the next empty take tries again.
        self._deleted_since_truncate = bool(busy)


def _received_of(payload: bytes) -> float:
    from .record import decode_record

    try:
        return decode_record(payload)[0].received
    except ValueError:
        return time.time()


@lru_cache(maxsize=1)
def get_buffer() -> IngestBuffer:
    reclaim = settings.INGEST["RECLAIM_IDLE_SECONDS"]
    if settings.REDIS_URL:
        return RedisStreamBuffer(settings.REDIS_URL, reclaim, settings.REDIS_KEY_PREFIX)
    return DatabaseBuffer(reclaim)
