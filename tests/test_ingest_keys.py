"""Keys from the headers or query decide before the body is read; made-up keys cost no query."""

from __future__ import annotations

import math
import time
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ingest import keys
from ingest.endpoint import answer_before_body, handle
from ingest.keys import KeyNotCached, cached_key, lookup_key
from tests.conftest import FIXTURE_KEY, make_event_envelope, post_envelope

pytestmark = pytest.mark.django_db


def auth(key: str) -> dict[str, str]:
    return {"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"}


def never_read(limit: int) -> bytes:
    raise AssertionError("the body was read")


def made_up_key() -> str:
    return uuid.uuid4().hex


def key_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "projectkey" in q["sql"].lower()]


@pytest.mark.parametrize(
    ("kind", "headers", "query", "status"),
    [
        ("envelope", auth("f" * 32), {}, 401),
        ("envelope", {}, {"sentry_key": "e" * 32}, 401),
        ("store", {}, {}, 401),  # store/ has no envelope header to carry a DSN
        ("envelope", auth("not-hex"), {}, 400),
    ],
)
def test_refused_keys_are_answered_without_reading_the_body(fixture_project, kind, headers, query, status):
    project, _ = fixture_project
    answer = handle("POST", kind, project.id, headers, query, never_read, None)
    assert answer.status == status and b"detail" in answer.body
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_disabled_and_foreign_keys_are_403_without_reading_the_body(fixture_project, make_project):
    project, key = fixture_project
    other, _ = make_project(slug="other")
    assert handle("POST", "envelope", other.id, auth(FIXTURE_KEY), {}, never_read, None).status == 403
    key.is_active = False
    key.save()
    answer = handle("POST", "envelope", project.id, auth(FIXTURE_KEY), {}, never_read, None)
    assert answer.status == 403 and b"disabled" in answer.body


def test_a_good_key_or_none_in_the_headers_goes_on_to_the_body(fixture_project):
    project, _ = fixture_project
    assert answer_before_body("POST", "envelope", project.id, auth(FIXTURE_KEY), {}) is None
    assert answer_before_body("POST", "envelope", project.id, {}, {}) is None  # the DSN may be in the body
    assert answer_before_body("OPTIONS", "envelope", project.id, {}, {}).status == 200
    assert answer_before_body("GET", "store", project.id, {}, {}).status == 405


def test_a_flood_of_made_up_keys_costs_a_bounded_number_of_queries(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    assert post_envelope(client, project.id, make_event_envelope({"message": "warm"})).status_code == 200
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        statuses = {
            post_envelope(
                client, project.id, make_event_envelope({"message": "x"}), key=made_up_key()
            ).status_code
            for _ in range(100)
        }
    seconds = math.ceil(time.monotonic() - started) + 1
    assert statuses == {401}
    # Per second: 10 keys asked about one by one, and one refresh of the set of existing keys.
    assert len(key_queries(queries)) <= seconds * (keys.UNKNOWN_KEY_QUERIES_PER_SECOND + 1), key_queries(
        queries
    )
    assert clean_buffer.depth() == 1


def test_a_key_just_created_by_another_process_works_at_once_outside_a_flood(fixture_project):
    from projects.models import ProjectKey

    project, _ = fixture_project
    assert lookup_key(made_up_key()) is None
    fresh = made_up_key()
    ProjectKey.objects.bulk_create([ProjectKey(project=project, public_key=fresh)])  # no post_save signal
    info = lookup_key(fresh)
    assert info is not None and info.project_id == project.id


def test_the_web_front_learns_from_the_cache_only(fixture_project, monkeypatch):
    monkeypatch.setattr(keys, "UNKNOWN_KEY_QUERIES_PER_SECOND", 0)  # as in a flood
    with pytest.raises(KeyNotCached):
        cached_key(FIXTURE_KEY)  # exists, never looked up: a thread must ask the database
    info = lookup_key(FIXTURE_KEY)
    assert info is not None and cached_key(FIXTURE_KEY) == info
    with pytest.raises(KeyNotCached):
        cached_key(made_up_key())  # the set of existing keys was never loaded
    assert lookup_key(made_up_key()) is None  # loads it
    with CaptureQueriesContext(connection) as queries:
        assert cached_key(made_up_key()) is None  # the set of keys is fresh: unknown without asking
    assert not queries


def test_a_key_saved_in_this_process_works_at_once(client, fixture_project, make_project, clean_buffer):
    project, _ = fixture_project
    assert post_envelope(client, project.id, make_event_envelope({"message": "a"})).status_code == 200
    other, other_key = make_project(slug="new")
    response = post_envelope(
        client, other.id, make_event_envelope({"message": "b"}), key=other_key.public_key
    )
    assert response.status_code == 200


def test_in_a_flood_a_key_created_by_another_process_works_after_the_refresh_period(
    fixture_project, monkeypatch
):
    from projects.models import ProjectKey

    monkeypatch.setattr(keys, "UNKNOWN_KEY_QUERIES_PER_SECOND", 0)  # a flood has used the second up
    project, _ = fixture_project
    assert lookup_key(FIXTURE_KEY) is not None
    assert lookup_key(made_up_key()) is None  # loads the set of existing keys
    fresh = made_up_key()
    ProjectKey.objects.bulk_create([ProjectKey(project=project, public_key=fresh)])  # no post_save signal
    assert lookup_key(fresh) is None  # the set was refreshed less than a second ago
    monkeypatch.setattr(keys, "KNOWN_KEYS_REFRESH_SECONDS", 0.0)
    info = lookup_key(fresh)
    assert info is not None and info.project_id == project.id


def test_a_lookup_during_a_refresh_waits_for_its_result(monkeypatch):
    """Two requests of one new key at once (an SDK's event and its session): the second must not answer
    "unknown" from the set as it was before the first one's refresh came back."""
    import threading
    import time

    from django.utils import timezone

    new = made_up_key()

    def slow_query(self, whole):
        time.sleep(0.3)
        return {new}

    monkeypatch.setattr(keys.KnownKeys, "_query", slow_query)
    known = keys.KnownKeys()
    known.loaded_at, known.refreshed_at = time.monotonic(), time.monotonic() - 5  # loaded, now due
    known.since = timezone.now()
    answers: list[bool] = []
    threads = [
        threading.Thread(target=lambda: answers.append(known.contains(new, time.monotonic())))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert answers == [True, True]
    monkeypatch.setattr(keys, "_known", keys.KnownKeys())
    with pytest.raises(KeyNotCached):
        cached_key(new)  # a set never refreshed (or being refreshed) never answers "unknown"
