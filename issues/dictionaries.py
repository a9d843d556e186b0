"""Per-project zstd dictionaries for stored payloads: lookup caches and training.

Training needs stored events to learn from, so a project starts without a dictionary; a worker
trains one once its process has stored PAYLOAD_DICTIONARY["MIN_EVENTS"] events of the project, and
the scheduler retrains weekly so the dictionary follows the project's code. Old dictionaries stay
(events reference them through their frame header) until retention has removed those events.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import zstandard
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError
from django.utils import timezone

from .models import Event, PayloadDictionary
from .payload import LEVEL, decompress_event_data

log = logging.getLogger(__name__)
CURRENT_TTL_SECONDS = 60.0
# While a project has none, look again sooner: the first one is trained a few seconds after it is asked for.
ABSENT_TTL_SECONDS = 5.0
MAX_LOADED = 64
# A dictionary is kept only when it makes held-out payloads at least 10% smaller than plain zstd.
MIN_SAVING = 0.9
# f: log2 of zstd's frequency table. Its default (20) held 12 MB for the length of a training, in a
# process that idles at 65 MB (issue 13: the embedded tree's 200 MB); 16 holds under 1 MB and gave the
# same ratio on the benchmark's events (6.8x vs 6.9x with zstd's search, 6.3x vs 6.3x with k/d fixed).
CANDIDATE_PARAMS: tuple[dict[str, int], ...] = ({"f": 16}, {"k": 1024, "d": 8, "f": 16})

_lock = threading.Lock()
_by_id: dict[int, zstandard.ZstdCompressionDict] = {}
_current: dict[int, tuple[float, zstandard.ZstdCompressionDict | None]] = {}
_stored_since_check: dict[int, int] = {}
_last_request: dict[int, float] = {}


def _load(data: bytes) -> zstandard.ZstdCompressionDict:
    dictionary = zstandard.ZstdCompressionDict(bytes(data))
    # Precomputed once here, before other threads see it: compressors then share it read-only.
    dictionary.precompute_compress(level=LEVEL)
    return dictionary


def dictionary_by_id(dict_id: int) -> zstandard.ZstdCompressionDict:
    dictionary = _by_id.get(dict_id)
    if dictionary is None:
        row = PayloadDictionary.objects.only("data").get(dict_id=dict_id)
        with _lock:
            if len(_by_id) >= MAX_LOADED:  # old events of many projects must not pile them all up
                _by_id.clear()
            dictionary = _by_id.setdefault(dict_id, _load(row.data))
    return dictionary


def current_dictionary(project_id: int) -> zstandard.ZstdCompressionDict | None:
    """The project's newest dictionary, rechecked every minute (every 5 s while there is none)."""
    cached = _current.get(project_id)
    if cached is not None:
        ttl = CURRENT_TTL_SECONDS if cached[1] is not None else ABSENT_TTL_SECONDS
        if time.monotonic() - cached[0] < ttl:
            return cached[1]
    dict_id = (
        PayloadDictionary.objects.filter(project_id=project_id)
        .order_by("-created")
        .values_list("dict_id", flat=True)
        .first()
    )
    dictionary = dictionary_by_id(dict_id) if dict_id is not None else None
    _current[project_id] = (time.monotonic(), dictionary)
    return dictionary


def forget_current(project_id: int) -> None:
    _current.pop(project_id, None)


def wants_training(project_id: int, stored: int) -> bool:
    """True (at most every 10 minutes per process) once a project without a dictionary has had
    enough events stored by this process; the task itself re-checks against the database."""
    if not stored or current_dictionary(project_id) is not None:
        return False
    count = _stored_since_check[project_id] = _stored_since_check.get(project_id, 0) + stored
    if count < settings.PAYLOAD_DICTIONARY["MIN_EVENTS"]:
        return False
    now = time.monotonic()
    if now - _last_request.get(project_id, -1e9) < 600:
        return False
    _last_request[project_id] = now
    _stored_since_check[project_id] = 0
    return True


def train_project_dictionary(
    project_id: int, *, min_age: timedelta | None = None
) -> PayloadDictionary | None:
    """Train on the project's newest payloads; None when there are too few or a recent one exists."""
    # Several worker processes reach the threshold together; one trains, the others go on storing.
    lock = f"payload-dictionary-training-{project_id}"
    if not cache.add(lock, 1, timeout=300):
        return None
    try:
        return _train(project_id, min_age)
    finally:
        cache.delete(lock)


def _train(project_id: int, min_age: timedelta | None) -> PayloadDictionary | None:
    config = settings.PAYLOAD_DICTIONARY
    latest = PayloadDictionary.objects.filter(project_id=project_id).order_by("-created").first()
    min_age = min_age if min_age is not None else timedelta(hours=1)
    if latest is not None and latest.created > timezone.now() - min_age:
        return None  # several workers may ask at once; one dictionary is enough
    newest = Event.objects.filter(project_id=project_id).order_by("-id")
    if latest is not None:
        newest = newest.filter(received__gt=latest.created)
    samples: list[bytes | bytearray | memoryview] = [
        decompress_event_data(d) for d in newest.values_list("data", flat=True)[: config["SAMPLES"]]
    ]
    if len(samples) < min(config["MIN_EVENTS"], config["SAMPLES"]):
        return None
    trained = best_dictionary(samples, config["SIZE"])
    if trained is None:  # payloads stay plain zstd; the weekly schedule tries again
        log.info("no payload dictionary for project %s: none saved space on its events", project_id)
        return None
    try:
        row = PayloadDictionary.objects.create(
            project_id=project_id,
            dict_id=trained.dict_id(),
            data=trained.as_bytes(),
            samples=len(samples),
            created=timezone.now(),
        )
    except IntegrityError:  # a random 32-bit id already taken: the next run trains again
        log.info("payload dictionary id collision for project %s", project_id)
        return None
    forget_current(project_id)
    return row


def best_dictionary(
    samples: list[bytes | bytearray | memoryview], size: int
) -> zstandard.ZstdCompressionDict | None:
    """The candidate that compresses held-out samples best, if it saves at least MIN_SAVING.

    zstd's own parameter search sometimes returns a dictionary that makes payloads larger (on a few
    dozen near-identical events it did 39 times out of 40); fixed COVER parameters did not once.
    So both are trained, and each is judged on samples it was not trained on."""
    held_out, training = samples[::4], [s for i, s in enumerate(samples) if i % 4]
    plain = zstandard.ZstdCompressor(level=LEVEL)
    baseline = sum(len(plain.compress(s)) for s in held_out)
    best, best_size = None, baseline * MIN_SAVING
    for params in CANDIDATE_PARAMS:
        try:
            candidate = zstandard.train_dictionary(size, training, level=LEVEL, **params)
        except zstandard.ZstdError:  # e.g. too little distinct content
            continue
        compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=candidate)
        compressed = sum(len(compressor.compress(s)) for s in held_out)
        if compressed < best_size:
            best, best_size = candidate, compressed
    return best


def projects_due_for_training() -> list[int]:
    """Projects without a dictionary, or whose newest is older than MAX_AGE_DAYS, with new events."""
    config = settings.PAYLOAD_DICTIONARY
    cutoff = timezone.now() - timedelta(days=config["MAX_AGE_DAYS"])
    latest: dict[int, object] = {}
    for project_id, created in PayloadDictionary.objects.order_by("project_id", "created").values_list(
        "project_id", "created"
    ):
        latest[project_id] = created
    from projects.models import Project

    due = []
    for project_id in Project.objects.values_list("id", flat=True):
        created = latest.get(project_id)
        if created is not None and created > cutoff:
            continue
        events = Event.objects.filter(project_id=project_id)
        if created is not None:
            events = events.filter(received__gt=created)
        if events[: config["MIN_EVENTS"]].count() >= config["MIN_EVENTS"]:
            due.append(project_id)
    return due


def prune_superseded(project_id: int, cutoff) -> int:
    """Delete dictionaries whose successor was created over an hour before `cutoff`: every event
    compressed with them (workers switch within CURRENT_TTL_SECONDS) was received before the cutoff,
    so retention has already deleted it."""
    rows = list(
        PayloadDictionary.objects.filter(project_id=project_id)
        .order_by("created")
        .values_list("id", "created")
    )
    doomed = [
        row_id
        for (row_id, _), (_, successor_created) in zip(rows, rows[1:], strict=False)
        if successor_created < cutoff - timedelta(hours=1)
    ]
    if doomed:
        PayloadDictionary.objects.filter(id__in=doomed).delete()
        with _lock:
            _by_id.clear()
    return len(doomed)
