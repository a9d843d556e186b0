"""The log store on the engine of the run (PostgreSQL or SQLite): every search form, order, cursors."""

from datetime import timedelta

import pytest

from logs.query.parser import parse_query
from logs.services import build_query, facets, search_page

from .conftest import all_records
from .factories import NOW, log_record, store_logs

pytestmark = pytest.mark.django_db
TRACE_A = "a" * 32
TRACE_B = "b" * 32


@pytest.fixture
def project(make_project):
    return make_project()[0]


@pytest.fixture
def corpus(project):
    records = [
        log_record(project.id, "Order 42 placed by alice", trace_id=TRACE_A, span_id="c" * 16,
                   attributes={"order_id": 42, "user.id": "7", "user.email": "alice@example.com",
                               "sentry.release": "shop@1.0", "sentry.environment": "production",
                               "sentry.message.template": "Order {order_id} placed by {user}",
                               "sentry.message.parameter.order_id": 42, "sentry.message.parameter.user": "alice"}),
        log_record(project.id, "Payment declined", level="error", severity_number=17, trace_id=TRACE_A,
                   attributes={"amount": 9.99, "retry": 3, "final": False, "user.name": "alice"}),
        log_record(project.id, "Inventory low for A-1", level="warn", severity_number=13, trace_id=TRACE_B,
                   attributes={"sku": "A-1", "remaining": 3, "order_id": "42", "sentry.environment": "staging",
                               "user.id": 8}),
        log_record(project.id, "Cache warmed 100% in 3 ms", level="debug", severity_number=5,
                   attributes={"retry": 1, "final": True, "sentry.sdk.name": "sentry.python",
                               "sentry.sdk.integration_count": 4}),
    ]  # fmt: skip
    store_logs(records)
    return records


def _bodies(project, query: str) -> list[str]:
    page = search_page(build_query([project.id], query, {"statsPeriod": "1h"}, now=NOW), None, 100)
    return [r.body for r in page.records]


@pytest.mark.parametrize(
    "query, expected",
    [
        (f"trace:{TRACE_A}", ["Order 42 placed by alice", "Payment declined"]),
        (f"trace_id:{TRACE_B}", ["Inventory low for A-1"]),
        (f"trace.id:{TRACE_B.upper()}", ["Inventory low for A-1"]),
        ("level:error", ["Payment declined"]),
        ("severity:warn,debug", ["Inventory low for A-1", "Cache warmed 100% in 3 ms"]),
        ("!level:info", ["Payment declined", "Inventory low for A-1", "Cache warmed 100% in 3 ms"]),
        ("user.id:7", ["Order 42 placed by alice"]),
        ("user.id:7*", ["Order 42 placed by alice"]),  # a string user id: in its column only on PostgreSQL
        ("user.id:8", ["Inventory low for A-1"]),  # an integer one
        ("user.id:8*", []),  # wildcards match strings only
        ("user.id:>7", ["Inventory low for A-1"]),
        ("user.email:alice@example.com", ["Order 42 placed by alice"]),
        ("user.username:alice", ["Payment declined"]),
        ("release:shop@1.0", ["Order 42 placed by alice"]),
        ("environment:staging", ["Inventory low for A-1"]),
        # Keys every record of a process repeats (stored once per set on PostgreSQL), all forms:
        (
            "!environment:staging",
            ["Order 42 placed by alice", "Payment declined", "Cache warmed 100% in 3 ms"],
        ),
        ("sentry.message.template:Order*", ["Order 42 placed by alice"]),
        # Template parameters (a column apart on PostgreSQL):
        ("sentry.message.parameter.order_id:42", ["Order 42 placed by alice"]),
        ("sentry.message.parameter.order_id:>41", ["Order 42 placed by alice"]),
        ("sentry.message.parameter.user:ali*", ["Order 42 placed by alice"]),
        (
            "!sentry.message.parameter.user:alice",
            ["Payment declined", "Inventory low for A-1", "Cache warmed 100% in 3 ms"],
        ),
        ("sentry.sdk.integration_count:>3", ["Cache warmed 100% in 3 ms"]),
        ("sentry.sdk.integration_count:4 sentry.sdk.name:sentry.python", ["Cache warmed 100% in 3 ms"]),
        ('sentry.sdk.integration_count:"4"', []),  # typed: the integer is not the string
        ('order_id:"42"', ["Inventory low for A-1"]),  # quoted: the string only
        ("order_id:42", ["Order 42 placed by alice", "Inventory low for A-1"]),  # integer and string
        ("remaining:3", ["Inventory low for A-1"]),  # retry:3 has the value under another key only
        ("amount:9.99", ["Payment declined"]),
        ("final:false", ["Payment declined"]),
        ("!final:false", ["Order 42 placed by alice", "Inventory low for A-1", "Cache warmed 100% in 3 ms"]),
        ("retry:>1", ["Payment declined"]),
        ("retry:>=1", ["Payment declined", "Cache warmed 100% in 3 ms"]),
        ("amount:<10", ["Payment declined"]),
        ("sku:A-*", ["Inventory low for A-1"]),
        ('"placed by ALICE"', ["Order 42 placed by alice"]),
        ("declined", ["Payment declined"]),
        ("100%", ["Cache warmed 100% in 3 ms"]),  # LIKE's wildcards are text here
        ("!declined level:error", []),
        (f"trace:{TRACE_A} level:error declined", ["Payment declined"]),
        ("nothing_like_this", []),
    ],
)
def test_search_forms(corpus, project, query, expected):
    assert _bodies(project, query) == expected


def test_records_come_back_with_their_types(corpus, project):
    (record,) = search_page(
        build_query([project.id], "declined", {"statsPeriod": "1h"}, now=NOW), None, 10
    ).records
    assert record.attributes == {"amount": 9.99, "retry": 3, "final": False, "user.name": "alice"}
    assert type(record.attributes["retry"]) is int and record.severity_number == 17


def test_user_ids_come_back_with_their_types(corpus, project):
    users = {r.body: r.attributes.get("user.id") for r in search_page(
        build_query([project.id], "", {"statsPeriod": "1h"}, now=NOW), None, 10
    ).records}  # fmt: skip
    assert users == {
        "Order 42 placed by alice": "7", "Payment declined": None, "Inventory low for A-1": 8,
        "Cache warmed 100% in 3 ms": None,
    }  # fmt: skip
    assert type(users["Inventory low for A-1"]) is int


def test_shared_and_own_attributes_come_back_together_with_their_types(corpus, project):
    (record,) = search_page(
        build_query([project.id], "warmed", {"statsPeriod": "1h"}, now=NOW), None, 10
    ).records
    assert record.attributes == {
        "retry": 1, "final": True, "sentry.sdk.name": "sentry.python", "sentry.sdk.integration_count": 4
    }  # fmt: skip
    assert type(record.attributes["sentry.sdk.integration_count"]) is int


def test_other_projects_and_times_are_not_searched(corpus, project, make_project):
    other = make_project(org="other", slug="other")[0]
    store_logs([log_record(other.id, "Payment declined elsewhere")])
    store_logs([log_record(project.id, "Payment declined long ago", seconds_ago=7200)])
    assert _bodies(project, "declined") == ["Payment declined"]


def test_cursor_pages_give_each_record_once_in_time_order(project):
    # 25 records, some sharing one timestamp: the id breaks ties, so no record is skipped or repeated.
    records = [log_record(project.id, f"r{i}", seconds_ago=i // 3) for i in range(25)]
    store_logs(records)
    query = build_query([project.id], "", {"statsPeriod": "1h"}, now=NOW)
    seen, cursor = [], None
    while True:
        page = search_page(query, cursor, 4)
        seen += page.records
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(r.id for r in seen) == sorted(r.id for r in records)
    keys = [(r.timestamp, r.id) for r in seen]
    assert keys == sorted(keys, reverse=True)
    store_logs(records[:5])  # stored again (a redelivery): still once each
    assert len(search_page(query, None, 100).records) == 25


def test_facets_count_levels_and_bucket_time(corpus, project):
    side = facets(build_query([project.id], "", {"statsPeriod": "1h"}, now=NOW))
    assert side["levels"] == {"info": 1, "error": 1, "warn": 1, "debug": 1}
    assert sum(count for _, count in side["histogram"]) == 4 and side["bucket_seconds"] == 60


def test_terms_are_checked_before_the_database(project):
    with pytest.raises(ValueError):
        build_query([project.id], "level:loud", {})
    assert parse_query("a b") and build_query(
        [project.id], "", {"statsPeriod": "90d"}, now=NOW
    ).start == NOW - timedelta(days=90)


def test_a_batch_partly_stored_before_stores_and_reports_only_its_new_records(project):
    stored = [log_record(project.id, f"first delivery {n}") for n in range(3)]
    assert store_logs(stored) == {r.id for r in stored}
    fresh = [log_record(project.id, "only in the second delivery")]
    # The primary key refuses the straight COPY; the rows go again through ON CONFLICT DO NOTHING.
    assert store_logs([*stored, *fresh]) == {fresh[0].id}
    assert sorted(r.body for r in all_records([project.id])) == [
        "first delivery 0", "first delivery 1", "first delivery 2", "only in the second delivery"
    ]  # fmt: skip
