"""Issue search compiled to queries (issues/search.py) and the issue stream's scope and sorts
(issues/stream.py), on the database of the run (PostgreSQL or SQLite)."""

from datetime import timedelta

import pytest
from django.http import QueryDict
from django.utils import timezone

from issues import lifecycle, participation
from issues.models import Issue, IssueTag
from issues.search import SearchError, apply_query
from issues.store import store_events
from issues.stream import matching, page_rows, parse_scope, sparkline_svg
from issues.stream_counts import range_stats
from projects.models import Team
from releases.models import Release
from tests.factories import BASE_TIME, prepared_event, user_with_membership

pytestmark = pytest.mark.django_db


def _event(n: int, **kwargs):
    return prepared_event(hashes=[f"{n:032x}"], **kwargs)


@pytest.fixture
def world(make_project):
    """Four issues of acme/web: a (ValueError, gold, production, 1.0), b (KeyError, silver, staging,
    2.0, warning), c (TypeError, no custom tag, production, 2.0, fatal), d (resolved)."""
    project, _ = make_project()
    store_events(
        project.id,
        [
            _event(
                1,
                tags=[("customer_tier", "gold"), ("environment", "production"), ("release", "1.0")],
                release="1.0",
                sdk_user={"email": "ann@example.com", "ip_address": "10.0.0.1"},
            ),  # fmt: skip
            _event(
                2,
                tags=[("customer_tier", "silver"), ("environment", "staging"), ("release", "2.0")],
                release="2.0",
                level="warning",
                title="KeyError: 'cart'",
            ),  # fmt: skip
            _event(
                3,
                tags=[("environment", "production"), ("release", "2.0")],
                sdk_user={"id": 42, "username": "Zed"},
                release="2.0",
                level="fatal",
                title="TypeError: NoneType",
            ),  # fmt: skip
            _event(4, tags=[("environment", "production")], title="OSError: disk full"),
        ],
    )
    a, b, c, d = Issue.objects.order_by("pk")
    for minutes, issue in enumerate((a, b, c, d), start=1):
        Issue.objects.filter(pk=issue.pk).update(last_seen=BASE_TIME + timedelta(minutes=minutes))
    Issue.objects.filter(pk=b.pk).update(metadata={"type": "KeyError", "value": "'cart'"})
    Issue.objects.filter(pk=c.pk).update(metadata={"type": "TypeError", "value": "NoneType has no len"})
    jane = user_with_membership(project, "jane")
    lifecycle.set_status([d.pk], jane, "resolved")
    Release.objects.filter(organization=project.organization, version="2.0").update(
        date_added=timezone.now() + timedelta(minutes=1)
    )
    return project, jane, {i.title.split(":")[0]: i for i in Issue.objects.all()}


def found(project, query, user=None) -> set[str]:
    issues = apply_query(Issue.objects.filter(project=project), query, user)
    return {i.title.split(":")[0] for i in issues}


@pytest.mark.parametrize(
    "query,expected",
    [
        (None, {"ValueError", "KeyError", "TypeError"}),
        ("", {"ValueError", "KeyError", "TypeError", "OSError"}),
        ("is:resolved", {"OSError"}),
        ("!is:unresolved", {"OSError"}),
        ("is:unresolved is:new", {"ValueError", "KeyError", "TypeError"}),
        ("is:[resolved,ignored]", {"OSError"}),
        ("is:ongoing", set()),
        ("level:fatal", {"TypeError"}),
        ("level:[warning,fatal]", {"KeyError", "TypeError"}),
        ("!level:error", {"KeyError", "TypeError"}),
        ("environment:staging", {"KeyError"}),
        ("!environment:staging is:unresolved", {"ValueError", "TypeError"}),
        ("release:2.0", {"KeyError", "TypeError"}),
        ("release:latest", {"KeyError", "TypeError"}),
        ("release:[1.0,latest]", {"ValueError", "KeyError", "TypeError"}),
        ("firstRelease:1.0 is:unresolved", {"ValueError"}),
        ("firstRelease:latest", {"KeyError", "TypeError"}),
        ("customer_tier:gold", {"ValueError"}),
        ("tags[customer_tier]:silver", {"KeyError"}),
        ("customer_tier:bronze", set()),
        ("!customer_tier:gold is:unresolved", {"KeyError", "TypeError"}),
        ("has:customer_tier", {"ValueError", "KeyError"}),
        ("!has:customer_tier", {"TypeError", "OSError"}),
        ("error.type:KeyError", {"KeyError"}),
        ("error.type:[KeyError,TypeError]", {"KeyError", "TypeError"}),
        ('error.value:"has no"', {"TypeError"}),
        ("message:cart", {"KeyError"}),
        ("user.email:ann@example.com", {"ValueError"}),
        ("user.id:42", {"TypeError"}),
        ("user.id:43", set()),
        ("user.ip:10.0.0.1", {"ValueError"}),
        ("user.username:Zed", {"TypeError"}),
        ("user.username:zed", set()),  # exact, as Sentry's
        ("!user.email:ann@example.com is:unresolved", {"KeyError", "TypeError"}),
        ("user.email:[ann@example.com,nobody@example.com] user.ip:10.0.0.1", {"ValueError"}),
        ("NoneType", {"TypeError"}),
        ('"disk full"', {"OSError"}),
        ("handler", {"ValueError", "KeyError", "TypeError", "OSError"}),  # the culprit
        ("timesSeen:>0 is:unresolved", {"ValueError", "KeyError", "TypeError"}),
        ("timesSeen:>1", set()),
        ("users:>=1", {"ValueError", "TypeError"}),
        ("age:-24h", set()),  # the factory's events are from 2026-11-24
        ("age:+1d is:resolved", {"OSError"}),
        ("firstSeen:>2026-11-24 is:resolved", {"OSError"}),
        ("firstSeen:<2026-11-24", set()),
        ("lastSeen:<=2026-11-24T12:03:00 is:unresolved", {"ValueError", "KeyError", "TypeError"}),
        ("lastSeen:>2026-11-24T12:03:00", {"OSError"}),
        ("WEB-1", {"ValueError"}),
        ("issue:web-2", {"KeyError"}),
        ("OTHER-1", set()),
        ("is:assigned", set()),
        ("is:unassigned is:resolved", {"OSError"}),
    ],
)
def test_each_key(world, query, expected):
    project, jane, _ = world
    assert found(project, query, jane) == expected


def test_assignment_bookmarks_and_seen(world):
    project, jane, issues = world
    bob = user_with_membership(project, "bob")
    team = Team.objects.create(organization=project.organization, slug="backend")
    team.members.add(bob)
    lifecycle.assign([issues["ValueError"].pk], jane, jane)
    lifecycle.assign([issues["KeyError"].pk], jane, team)
    participation.set_bookmarked([issues["TypeError"].pk], bob, True)
    participation.set_seen([issues["TypeError"].pk], jane, True)
    assert found(project, "assigned:me", jane) == {"ValueError"}
    assert found(project, "assigned:jane", bob) == {"ValueError"}
    assert found(project, "assigned:#backend", bob) == {"KeyError"}
    assert found(project, "assigned:my_teams", bob) == {"KeyError"}
    assert found(project, "assigned:[me,#backend]", jane) == {"ValueError", "KeyError"}
    assert found(project, "is:assigned", jane) == {"ValueError", "KeyError"}
    assert found(project, "assigned:none is:unresolved", jane) == {"TypeError"}
    assert found(project, "!assigned:me is:unresolved", jane) == {"KeyError", "TypeError"}
    assert found(project, "bookmarks:me", bob) == {"TypeError"}
    assert found(project, "is:bookmarked", jane) == set()
    assert found(project, "bookmarks:bob", jane) == {"TypeError"}
    assert found(project, "is:read", jane) == {"TypeError"}
    assert found(project, "is:unread is:unresolved", jane) == {"ValueError", "KeyError"}
    assert found(project, "assigned:nobody-by-that-name", jane) == set()


def test_for_review_is_the_review_inbox(world):
    """The inbox's rules are tests/test_inbox.py's; here the search reads it, whatever the events' age."""
    project, jane, issues = world
    assert found(project, "is:for_review", jane) == {"ValueError", "KeyError", "TypeError"}  # d resolved
    lifecycle.mark_reviewed([issues["KeyError"].pk], jane)
    assert found(project, "is:for_review", jane) == {"ValueError", "TypeError"}
    assert found(project, "is:unresolved !is:for_review", jane) == {"KeyError"}
    assert found(project, "is:for_review level:fatal", jane) == {"TypeError"}


@pytest.mark.parametrize("query", ["is:bogus", "timesSeen:lots", "age:soon", "level:", "is:linked"])
def test_bad_queries_raise(world, query):
    project, jane, _ = world
    with pytest.raises(SearchError):
        apply_query(Issue.objects.filter(project=project), query, jane)


def test_a_tag_search_reads_tag_rows_only_of_that_key(world):
    project, jane, _ = world
    # A value of another key never matches: `gold` is customer_tier's.
    IssueTag.objects.filter(value="gold").update(key="plan")
    assert found(project, "customer_tier:gold", jane) == set()
    assert found(project, "plan:gold", jane) == {"ValueError"}


# --- Scope and sorts ----------------------------------------------------------------------------


def scope(**params):
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query.setlist(key, value if isinstance(value, list) else [value])
    return parse_scope(query)


@pytest.fixture
def recent(make_project):
    """Three issues with events now: hot (5 in the last hour), warm (2 now, 6 a day and a half ago),
    cold (1 now, first seen 20 days ago, with two users)."""
    project, _ = make_project()
    now = timezone.now()
    events = []
    for _ in range(5):
        events.append(_event(1, title="Hot", seconds=0))
    for _ in range(2):
        events.append(_event(2, title="Warm", seconds=0))
    events.append(_event(3, title="Cold", seconds=0, user="u1"))
    events.append(_event(3, title="Cold", seconds=0, user="u2"))
    for event in events:
        event.received = event.timestamp = now - timedelta(minutes=5)
    older = [_event(2, title="Warm") for _ in range(6)]
    for event in older:
        event.received = event.timestamp = now - timedelta(hours=36)
    store_events(project.id, events + older)
    Issue.objects.filter(title="Cold").update(first_seen=now - timedelta(days=20), times_seen=100)
    return project, {i.title: i for i in Issue.objects.all()}


def titles(project, query, the_scope, user=None) -> list[str]:
    issues = matching(Issue.objects.filter(project=project), query, the_scope, user)
    return [i.title for i in page_rows(issues, the_scope, [project.pk], 0, 100)]


def test_sorts(recent):
    project, _ = recent
    # Events in the range (14 days), not the lifetime count (Cold's 100).
    assert titles(project, "", scope(sort="freq")) == ["Warm", "Hot", "Cold"]
    assert titles(project, "", scope(sort="new")) == ["Hot", "Warm", "Cold"]
    assert titles(project, "", scope(sort="user"))[0] == "Cold"
    assert titles(project, "", scope())[0] in ("Hot", "Warm", "Cold")
    # Trend over 24 h: hot 5 - 0, cold 2 - 0, warm 2 against 6 in the 24 h before: -4.
    assert titles(project, "", scope(sort="trends", statsPeriod="24h")) == ["Hot", "Cold", "Warm"]


def test_time_range_keeps_issues_seen_within_it(recent):
    project, issues = recent
    Issue.objects.filter(title="Hot").update(last_seen=timezone.now() - timedelta(days=3))
    assert set(titles(project, "", scope(statsPeriod="24h"))) == {"Warm", "Cold"}
    assert set(titles(project, "", scope(statsPeriod="7d"))) == {"Hot", "Warm", "Cold"}
    start = (timezone.now() - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    end = (timezone.now() - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S")
    # Cold was seen before and after the range, so maybe within it; the others first after it.
    assert titles(project, "", scope(start=start, end=end)) == ["Cold"]


def test_environment_scope_filters(world):
    project, jane, _ = world
    query = QueryDict(mutable=True)
    query.setlist("environment", ["staging"])
    the_scope = parse_scope(query, bounded_by_default=False)
    assert titles(project, "", the_scope, jane) == ["KeyError: 'cart'"]


@pytest.mark.parametrize(
    "params,message",
    [
        ({"sort": "random"}, "sort must be"),
        ({"statsPeriod": "3y"}, "statsPeriod must be"),
        ({"start": "2026-01-01"}, "go together"),
        ({"start": "2026-01-02", "end": "2026-01-01"}, "after start"),
        ({"start": "2026-01-01", "end": "2026-06-01"}, "at most 90 days"),
        ({"start": "yesterday", "end": "2026-06-01"}, "not a time"),
        ({"start": "-24h", "end": "2026-06-01"}, "must be a date"),
    ],
)
def test_bad_scopes(params, message):
    with pytest.raises(SearchError, match=message):
        scope(**params)


def test_range_stats_counts_and_sparkline(recent):
    project, issues = recent
    day = scope(statsPeriod="24h")
    stats = range_stats(list(issues.values()), day)
    assert {t: stats[i.pk].events for t, i in issues.items()} == {"Hot": 5, "Warm": 2, "Cold": 2}
    assert stats[issues["Cold"].pk].users == 2 and stats[issues["Hot"].pk].users == 0
    assert sum(stats[issues["Hot"].pk].series) == 5 and len(stats[issues["Hot"].pk].series) <= 30
    week = range_stats([issues["Warm"]], scope(statsPeriod="7d"))[issues["Warm"].pk]
    assert week.events == 8 and week.users == 0 and not week.users_exact
    svg = sparkline_svg(week.series)
    assert svg.startswith("<svg") and svg.count("<rect") == len(week.series)


def test_every_user_identifier_is_searchable_not_only_the_best_one(make_project):
    from issues.tag_summary import tag_keys

    project, _ = make_project()
    zed = {"id": 7, "email": "zed@example.com", "username": "zed", "ip_address": "10.1.2.3"}
    long_email = "a" * 80 + "@example.com"  # cut to the column's 75 characters, and still found
    store_events(
        project.id,
        [
            _event(7, sdk_user=zed),
            _event(8, sdk_user={"email": "amy@example.com"}),
            _event(9, sdk_user={"email": long_email}),
        ],
    )
    issue = Issue.objects.get(tags__value="id:7")
    for query in ("user.id:7", "user.email:zed@example.com", "user.username:zed", "user.ip:10.1.2.3"):
        assert list(apply_query(Issue.objects.all(), query)) == [issue], query
    amy = apply_query(Issue.objects.all(), "user.email:amy@example.com")
    assert amy.count() == 1 and amy.get() != issue
    assert apply_query(Issue.objects.all(), f"user.email:{long_email}").get().tags.filter(key="user").exists()
    assert found(project, "user.email:nobody@example.com") == set()
    # Identifiers are columns of the affected users, not tag rows: only the `user` tag is a tag.
    assert [key.key for key in tag_keys(issue.pk)] == ["environment", "level", "user"]
    assert not IssueTag.objects.filter(key__startswith="sentry:").exists()


def test_a_user_seen_again_gains_the_identifiers_its_first_event_lacked(make_project):
    project, _ = make_project()
    store_events(project.id, [_event(5, sdk_user={"id": "u-5"})])
    assert found(project, "user.email:five@example.com") == set()
    store_events(project.id, [_event(5, sdk_user={"id": "u-5", "email": "five@example.com"})])
    store_events(project.id, [_event(5, sdk_user={"id": "u-5", "email": "later@example.com"})])
    assert found(project, "user.email:five@example.com") == {"ValueError"}  # the first one sent stays
    assert found(project, "user.email:later@example.com") == set()
    assert Issue.objects.get().user_count == 1
