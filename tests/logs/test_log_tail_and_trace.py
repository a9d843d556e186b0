"""The live tail's API (`?after=`), a record's links to its trace's issues (`trace:` in the issue
search, on an indexed column), and the event page's one timeline of breadcrumbs and log records."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from accounts.models import ApiToken
from issues.models import Issue
from issues.payload import encode_event_data
from issues.store import store_events
from issues.timeline import merged_timeline
from logs.query.timerange import encode_cursor
from tests.factories import prepared_event, user_with_membership

from .factories import NOW, log_record, store_logs

pytestmark = pytest.mark.django_db
TRACE = "7e8ccfe1ff7f4ca6857d5820b8fa5645"
OTHER = "d" * 32


@pytest.fixture
def setup(make_project):
    project, _ = make_project()
    user = user_with_membership(project)
    _, token = ApiToken.issue(user)
    return project, user, Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _tail(api, after: str, per_page: int = 100, query: str = ""):
    return api.get(
        "/api/0/projects/acme/web/logs/",
        {"statsPeriod": "1h", "after": after, "per_page": per_page, "query": query},
    )


def test_tail_answers_records_newer_than_its_cursor_oldest_first_in_line(setup):
    project, _, api = setup
    old = log_record(project.id, "shown already", seconds_ago=60)
    store_logs([old])
    start = encode_cursor(old.timestamp, old.id)
    assert _tail(api, start).json() == [] and _tail(api, start)["X-Tail-Cursor"] == start
    store_logs([log_record(project.id, f"new {n}", seconds_ago=50 - n) for n in range(5)])
    store_logs([log_record(project.id, "an error", seconds_ago=40, level="error", severity_number=17)])
    first = _tail(api, start, per_page=2)
    # The two oldest after the cursor (a poll never skips one), answered newest first.
    assert [r["body"] for r in first.json()] == ["new 1", "new 0"]
    second = _tail(api, first["X-Tail-Cursor"], per_page=100)
    assert [r["body"] for r in second.json()] == ["an error", "new 4", "new 3", "new 2"]
    assert _tail(api, second["X-Tail-Cursor"]).json() == []
    assert [r["body"] for r in _tail(api, start, query="level:error").json()] == ["an error"]
    assert _tail(api, "made-up").status_code == 400


def test_logs_page_carries_the_tail_and_links_to_the_traces_issues(setup):
    project, user, _ = setup
    store_logs([log_record(project.id, "with a trace", trace_id=TRACE)])
    client = Client()
    client.force_login(user)
    page = client.get("/organizations/acme/projects/web/logs/?statsPeriod=1h").content.decode()
    assert 'class="log-tail"' in page and 'data-api="/api/0/projects/acme/web/logs/"' in page
    assert 'src="/static/lighttrace/logs-tail.js"' in page and "<script>" not in page  # no inline script
    assert f"/organizations/acme/projects/web/?query=trace%3A{TRACE}" in page
    assert f"/organizations/acme/projects/web/logs/?query=trace%3A{TRACE}" in page
    older = client.get(
        "/organizations/acme/projects/web/logs/?statsPeriod=1h&cursor=" + "1-" + "0" * 32 + ":0:0"
    )
    assert 'class="log-tail"' not in older.content.decode()  # follows from the first page only
    static = client.get("/static/lighttrace/logs-tail.js")
    assert static.status_code == 200 and b"textContent" in b"".join(static.streaming_content)


def _issue_with_event(project, trace_id: str, title: str, breadcrumbs=()):
    event = prepared_event(hashes=[title.encode().hex()[:32].ljust(32, "0")], title=title)
    event.trace_id, event.timestamp = trace_id, NOW
    event.data = encode_event_data(
        {"event_id": event.event_id, "contexts": {"trace": {"trace_id": trace_id}},
         "breadcrumbs": {"values": list(breadcrumbs)}}
    )  # fmt: skip
    store_events(project.id, [event])
    return Issue.objects.get(project=project, title=title)


def test_issue_search_finds_the_issues_of_a_trace_by_an_index(setup, django_assert_max_num_queries):
    project, user, api = setup
    mine = _issue_with_event(project, TRACE, "KeyError: cart")
    _issue_with_event(project, OTHER, "ValueError: other request")
    _issue_with_event(project, "", "TypeError: no trace")
    # the list API: 13 (tests/test_api.py), plus 1 for userReportCount and 2 for the counts in the
    # range (events, users)
    with django_assert_max_num_queries(16):
        found = api.get("/api/0/projects/acme/web/issues/", {"query": f"trace:{TRACE}"}).json()
    assert [i["id"] for i in found] == [str(mine.id)]
    organization = api.get("/api/0/organizations/acme/issues/", {"query": f"trace.id:{TRACE.upper()}"}).json()
    assert [i["id"] for i in organization] == [str(mine.id)]
    assert api.get("/api/0/projects/acme/web/issues/", {"query": "trace:nope"}).status_code == 400
    client = Client()
    client.force_login(user)
    page = client.get("/organizations/acme/projects/web/", {"query": f"trace:{TRACE}"}).content.decode()
    assert "KeyError: cart" in page and "other request" not in page
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("EXPLAIN SELECT issue_id FROM issues_event WHERE trace_id = %s", [TRACE])
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET enable_seqscan = on")
        assert "event_trace_idx" in plan


def test_event_page_merges_breadcrumbs_and_its_traces_records_by_time(setup):
    project, user, _ = setup
    at = NOW.timestamp()
    crumbs = [
        {"timestamp": at - 30, "category": "http", "message": "GET /cart <b>crumb</b>", "level": "info"},
        {"timestamp": at - 10, "category": "query", "message": "SELECT stock", "level": "info"},
    ]
    issue = _issue_with_event(project, TRACE, "KeyError: cart", crumbs)
    store_logs([
        log_record(project.id, "<script>log one</script>", trace_id=TRACE, seconds_ago=20),
        log_record(project.id, "log two", trace_id=TRACE, seconds_ago=5, level="warn", severity_number=13),
        log_record(project.id, "another request", trace_id=OTHER, seconds_ago=15),
    ])  # fmt: skip
    client = Client()
    client.force_login(user)
    page = client.get(f"/organizations/acme/projects/web/issues/{issue.id}/").content.decode()
    timeline = page[page.index('class="event-timeline"') :]
    timeline = timeline[: timeline.index("</section>")]
    order = ["GET /cart", "&lt;script&gt;log one", "SELECT stock", "log two"]
    assert [timeline.index(text) for text in order] == sorted(timeline.index(text) for text in order)
    assert "another request" not in timeline and "<script>log one" not in timeline
    assert "&lt;b&gt;crumb&lt;/b&gt;" in timeline
    assert timeline.count('class="timeline-breadcrumb"') == 2 and timeline.count('class="timeline-log"') == 2


def test_merged_timeline_orders_by_time_and_keeps_untimed_crumbs_first():
    records = [log_record(1, "log", seconds_ago=20)]
    crumbs = [
        {"timestamp": (NOW - timedelta(seconds=10)).isoformat(), "message": "iso text"},
        {"timestamp": "not a time", "message": "untimed"},
        {"timestamp": NOW.timestamp() - 30, "message": "epoch"},
        "not a crumb",
    ]
    rows = merged_timeline(crumbs, records)
    assert [(r["kind"], r["message"]) for r in rows] == [
        ("breadcrumb", "untimed"), ("breadcrumb", "epoch"), ("log", "log"), ("breadcrumb", "iso text"),
    ]  # fmt: skip
