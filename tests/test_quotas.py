"""Quotas and rate limits: 429s that name category and scope, atomic counters, outcomes."""

import json
import threading
import time
import uuid
from collections import Counter

import pytest

from ingest.keys import clear_key_cache, lookup_key
from ingest.quota_counters import DatabaseCounters, RedisCounters, get_counters
from ingest.quotas import consume
from ingest.spikes import clear_spike_cache
from tests.conftest import FIXTURE_KEY, make_event_envelope, post_envelope
from usage.models import Outcome
from usage.services import flush_pending

pytestmark = pytest.mark.django_db
LOG_ITEM = b'{"type":"log","item_count":2}\n{"items":[{"body":"a"},{"body":"b"}]}\n'


@pytest.fixture(autouse=True)
def _fresh_counters(settings):
    settings.REDIS_KEY_PREFIX = f"{settings.REDIS_KEY_PREFIX}-{uuid.uuid4().hex[:8]}"
    get_counters.cache_clear()
    clear_spike_cache()
    yield
    get_counters.cache_clear()
    clear_spike_cache()


def _event(client, project):
    return post_envelope(client, project.id, make_event_envelope({"message": "m"}, uuid.uuid4().hex))


def test_organization_quota_gives_429_naming_category_and_scope(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    project.organization.monthly_event_quota = 3
    project.organization.save()
    assert [_event(client, project).status_code for _ in range(3)] == [200, 200, 200]
    response = _event(client, project)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    retry, categories, scope, reason = response["X-Sentry-Rate-Limits"].split(":")
    assert (categories, scope, reason) == ("error;default", "organization", "usage_exceeded")
    assert "rate limited" in response.json()["detail"]
    assert clean_buffer.depth() == 3


def test_default_quota_comes_from_settings(client, fixture_project, clean_buffer, settings):
    project, _ = fixture_project
    settings.QUOTAS = {**settings.QUOTAS, "DEFAULT_MONTHLY_EVENTS": 2}
    assert [_event(client, project).status_code for _ in range(3)] == [200, 200, 429]


def test_project_share_of_the_quota(client, fixture_project, make_project, clean_buffer):
    project, _ = fixture_project
    project.monthly_event_quota = 1
    project.save()
    assert [_event(client, project).status_code for _ in range(2)] == [200, 429]
    assert "project" in _event(client, project)["X-Sentry-Rate-Limits"]


def test_key_limit_counts_categories_apart(client, fixture_project, clean_buffer):
    project, key = fixture_project
    key.rate_limit_per_minute = 4
    key.save()
    logs = b"{}\n" + LOG_ITEM
    assert [post_envelope(client, project.id, logs).status_code for _ in range(3)] == [200, 200, 429]
    # A flood of logs does not block errors.
    assert _event(client, project).status_code == 200
    mixed = make_event_envelope({"message": "m"}, uuid.uuid4().hex) + LOG_ITEM
    response = post_envelope(client, project.id, mixed)
    assert response.status_code == 200 and response.json()["id"]
    assert response["X-Sentry-Rate-Limits"].split(":")[1:3] == ["log_item", "key"]


def test_client_reports_are_never_limited(client, fixture_project, clean_buffer):
    project, _ = fixture_project
    project.organization.monthly_event_quota = 1
    project.organization.save()
    _event(client, project)
    report = {
        "timestamp": time.time(),
        "discarded_events": [{"reason": "ratelimit_backoff", "category": "error", "quantity": 2}],
    }
    body = b'{}\n{"type":"client_report"}\n' + json.dumps(report).encode()
    assert post_envelope(client, project.id, body).status_code == 200


@pytest.mark.redis  # the baseline is seeded as a Redis counter
def test_brand_new_project_takes_a_burst_and_spikes_are_capped_once_there_is_a_baseline(
    client, fixture_project, clean_buffer, settings
):
    project, _ = fixture_project
    key = lookup_key(FIXTURE_KEY)
    # Explicit times, mid-hour and a day and more apart, so no clock edge can mix the two phases.
    first_hour = int(time.time() // 3600) + 2
    burst = [consume(key, Counter({"error": 1}), now=first_hour * 3600 + 1800) for _ in range(3000)]
    assert not any(burst)  # no history, no baseline, no cap
    # Later: 60 errors in one past hour = 1 a minute; cap = max(minimum, 10 x baseline).
    settings.QUOTAS = {**settings.QUOTAS, "SPIKE_MIN_PER_MINUTE": 20}
    later_hour = first_hour + 30
    get_counters().client.set(f"{settings.REDIS_KEY_PREFIX}:q:hist:{project.id}:{later_hour - 3}", 60)
    clear_spike_cache()
    results = [consume(key, Counter({"error": 1}), now=later_hour * 3600 + 300) for _ in range(25)]
    assert sum(1 for r in results if not r) == 20
    assert results[-1][0].reason == "spike_protection" and results[-1][0].scope == "project"


@pytest.mark.parametrize("backend", [pytest.param("redis", marks=pytest.mark.redis), "database"])
def test_counters_are_exact_under_concurrency(backend, transactional_db, settings):
    counters = RedisCounters() if backend == "redis" else DatabaseCounters()
    name = f"{settings.REDIS_KEY_PREFIX}:test:{uuid.uuid4().hex}"
    accepted = []

    def hammer():
        for _ in range(40):
            if not counters.check_and_add([("error", name, 100, 60, 1)]):
                accepted.append(1)
        from django.db import connection

        connection.close()

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(accepted) == 100
    assert counters.get_many([name]) == [100]


@pytest.mark.parametrize("backend", [pytest.param("redis", marks=pytest.mark.redis), "database"])
def test_a_counter_shared_by_two_categories_is_checked_alike_by_both_backends(backend, settings):
    # An envelope with an error and an attachment counts both against the project's per-minute
    # counter: each category is checked against the value before the request plus its own amount,
    # and a category over its limit adds nothing (all-or-nothing per category).
    counters = RedisCounters() if backend == "redis" else DatabaseCounters()
    shared = f"{settings.REDIS_KEY_PREFIX}:test:{uuid.uuid4().hex}"
    own = f"{settings.REDIS_KEY_PREFIX}:test:{uuid.uuid4().hex}"
    assert counters.check_and_add([("attachment", shared, 3, 60, 2), ("error", shared, 3, 60, 2)]) == set()
    assert counters.get_many([shared]) == [4]
    failed = counters.check_and_add(
        [("attachment", own, -1, 60, 5), ("attachment", shared, 8, 60, 5), ("error", shared, 8, 60, 1)]
    )
    assert failed == {1}
    assert counters.get_many([shared, own]) == [5, 0]


def test_outcomes_record_accepted_rate_limited_and_client_discards(client, fixture_project, drain):
    project, _ = fixture_project
    project.organization.monthly_event_quota = 2
    project.organization.save()
    for _ in range(3):
        _event(client, project)
    report = {"discarded_events": [{"reason": "ratelimit_backoff", "category": "error", "quantity": 4}]}
    post_envelope(client, project.id, b'{}\n{"type":"client_report"}\n' + json.dumps(report).encode())
    drain()
    flush_pending()
    got = {(o.category, o.outcome, o.reason): o.quantity for o in Outcome.objects.filter(project=project)}
    assert got[("error", "accepted", "")] == 2
    assert got[("error", "rate_limited", "usage_exceeded")] == 1
    assert got[("error", "client_discard", "ratelimit_backoff")] == 4


def test_key_cache_carries_quota_settings(fixture_project):
    project, key = fixture_project
    project.organization.monthly_event_quota = 7
    project.organization.save()
    clear_key_cache()
    info = lookup_key(FIXTURE_KEY)
    assert (info.organization_id, info.org_monthly_quota) == (project.organization_id, 7)


def test_usage_page_shows_usage_against_quota(client, fixture_project, drain):
    from tests.factories import user_with_membership

    project, _ = fixture_project
    project.organization.monthly_event_quota = 2
    project.organization.save()
    for _ in range(3):
        _event(client, project)
    drain()
    client.force_login(user_with_membership(project))
    html = client.get(f"/organizations/{project.organization.slug}/usage/").content.decode()
    assert "<strong>2</strong> events accepted of a quota of <strong>2</strong>" in html
    assert "rate_limited (usage_exceeded)" in html


def test_usage_page_is_404_for_outsiders(client, fixture_project, make_project):
    from tests.factories import user_with_membership

    other, _ = make_project(org="other", slug="x")
    client.force_login(user_with_membership(other, "stranger"))
    assert client.get("/organizations/acme/usage/").status_code == 404


def test_ingest_sheds_with_429_before_the_backlog_passes_its_bound(client, fixture_project, drain, settings):
    import ingest.buffer

    project, _ = fixture_project
    settings.INGEST = {**settings.INGEST, "MAX_QUEUE_DEPTH": 3}
    ingest.buffer._depth_seen = (0.0, 0)
    assert [_event(client, project).status_code for _ in range(3)] == [200, 200, 200]
    # Exact in Redis (inside the Lua call); the table buffer counts at most once a second per process.
    ingest.buffer._depth_seen = (0.0, 0)
    shed = _event(client, project)
    assert shed.status_code == 429 and shed["Retry-After"] == "30"
    assert "backlog" in shed["X-Sentry-Rate-Limits"] and "retry later" in shed.json()["detail"]
    assert get_buffer_depth() == 3  # nothing of the shed envelope was buffered
    drain()
    ingest.buffer._depth_seen = (0.0, 0)
    assert _event(client, project).status_code == 200


def get_buffer_depth() -> int:
    from ingest.buffer import get_buffer

    return get_buffer().depth()
