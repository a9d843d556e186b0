"""The issue page: counts in the chosen range and in total, the SVG chart from the buckets, the tag
sidebar (top values by count, shares, search links), release links, event navigation, the events
and users tabs, chained exceptions and contexts; event content escaped; 404 across organizations;
queries that do not grow with the number of events."""

import re
import uuid
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues.models import Issue
from issues.payload import encode_event_data
from issues.store import store_events
from tests.factories import RICH_EVENT, as_user, organization_with_roles, prepared_event

pytestmark = pytest.mark.django_db
BASE = "/organizations/acme/projects/web/issues"
XSS = "<script>alert(1)</script>"


def _event(minutes_ago: int, browser: str = "Chrome", user: str = "id:1", **kwargs):
    event = prepared_event(
        tags=[("browser", browser), ("environment", "production"), ("user", user)], release="2.0", **kwargs
    )
    event.timestamp = event.received = timezone.now() - timedelta(minutes=minutes_ago)
    return event


@pytest.fixture
def setup(make_project):
    project, _, users = organization_with_roles(make_project)
    return project, as_user(users["mia"]), users


def _html(client, path: str, **params) -> str:
    response = client.get(path, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_counts_in_range_and_total_with_a_chart_of_the_range(setup):
    project, client, _ = setup
    store_events(project.id, [_event(10), _event(20, user="id:2"), _event(60 * 24 * 3, user="id:3")])
    issue = Issue.objects.get()
    html = _html(client, f"{BASE}/{issue.pk}/", period="24h")
    assert re.search(r'class="events-in-range"><strong>2<', html)
    assert re.search(r'class="events-total"><strong>3<', html)
    assert re.search(r'class="users-in-range"><strong>2<', html)
    bars = re.findall(r"<rect [^>]*><title>([^<]*)</title>", html)
    assert len(bars) == 24 and sum(int(b.split(": ")[1].split()[0]) for b in bars) == 2
    assert 'role="img" aria-labelledby="chart-title"' in html
    assert "Events per hour over the last 24 hours: 2 in total" in html
    week = _html(client, f"{BASE}/{issue.pk}/", period="7d")
    assert re.search(r'class="events-in-range"><strong>3<', week)
    assert len(re.findall(r"<rect ", week)) == 7 and "Events per day over the last 7 days" in week
    assert len(re.findall(r"<rect ", _html(client, f"{BASE}/{issue.pk}/", period="30d"))) == 30
    assert '<strong aria-current="true">14d</strong>' in _html(client, f"{BASE}/{issue.pk}/", period="x")


def test_counts_chart_and_navigation_of_one_environment(setup):
    """?environment= scopes the range's events, users and chart; the total stays the issue's.
    Users over more than the day of hour-user rows are an upper bound, marked so."""
    import dataclasses

    project, client, _ = setup
    staging = [
        dataclasses.replace(
            e, environment="staging", user_key=user, tags=[("environment", "staging"), ("user", user)]
        )
        for e, user in ((_event(30), "id:7"), (_event(60 * 24 * 2), "id:8"))
    ]
    store_events(project.id, [_event(10), _event(20, user="id:2"), *staging])
    issue = Issue.objects.get()
    day = _html(client, f"{BASE}/{issue.pk}/", period="24h", environment="staging")
    assert re.search(r'class="events-in-range"><strong>1<', day)
    assert re.search(r'class="users-in-range"><strong>1<', day)
    assert re.search(r'class="events-total"><strong>4<', day)
    assert "Events per hour over the last 24 hours: 1 in total" in day
    assert '<strong class="badge" aria-current="true">staging</strong>' in day
    assert "?period=7d&amp;environment=staging" in day  # the range picker keeps the environment
    week = _html(client, f"{BASE}/{issue.pk}/", period="7d", environment="staging")
    assert re.search(r'class="events-in-range"><strong>2<', week)
    assert re.search(r'class="users-in-range"><strong title="At most[^"]*">≤ 2<', week)
    everywhere = _html(client, f"{BASE}/{issue.pk}/", period="7d")
    assert re.search(r'class="events-in-range"><strong>4<', everywhere)
    assert re.search(r'class="users-in-range"><strong>4<', everywhere)


def test_sidebar_top_values_by_count_with_shares_and_search_links(setup):
    project, client, _ = setup
    browsers = ["aaa"] + ["Chrome"] * 6 + ["Firefox"] * 3 + [f'say "{XSS}"']
    store_events(project.id, [_event(n, browser=b) for n, b in enumerate(browsers)])
    issue = Issue.objects.get()
    html = _html(client, f"{BASE}/{issue.pk}/")
    sidebar = html.split('<aside class="tag-sidebar"')[1]
    shown = re.findall(
        r'<li class="tag-value">\s*<a href="([^"]*)"[^>]*><span class="mono">([^<]*)<', sidebar
    )
    browser_values = [unescape(v) for _, v in shown[:4]]
    assert browser_values == ["Chrome", "Firefox", "aaa", f'say "{XSS}"']
    assert "55%" in sidebar and "27%" in sidebar and "9%" in sidebar  # 6, 3 and 1 of 11
    query = parse_qs(urlparse(unescape(shown[0][0])).query)["query"]
    assert urlparse(unescape(shown[0][0])).path == "/organizations/acme/projects/web/"
    assert query == ['browser:"Chrome"']
    assert parse_qs(urlparse(unescape(shown[3][0])).query)["query"] == [f'browser:"say \\"{XSS}\\""']
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'class="environments"><a class="badge" href="?period=14d&amp;environment=production"' in html


def test_release_links_copy_link_and_status_in_words(setup):
    project, client, _ = setup
    store_events(project.id, [_event(5)])
    issue = Issue.objects.get()
    html = _html(client, f"{BASE}/{issue.pk}/")
    assert html.count('href="/organizations/acme/projects/web/releases/2.0/">2.0</a>') == 2
    assert 'data-copy="issue-permalink"' in html and f"/issues/{issue.pk}/" in html
    assert "lighttrace/issue.js" in html and "Unresolved · New" in html and "WEB-1" in html


def test_older_newer_oldest_latest_navigation(setup):
    project, client, _ = setup
    ids = [uuid.uuid4().hex for _ in range(3)]
    store_events(project.id, [_event(30 - n, event_id=i) for n, i in enumerate(ids)])
    issue = Issue.objects.get()
    middle = _html(client, f"{BASE}/{issue.pk}/events/{ids[1]}/")
    nav = middle.split('class="event-nav"')[1].split("</nav>")[0]
    assert f"/events/{ids[0]}/" in nav and f"/events/{ids[2]}/" in nav
    assert "/events/oldest/" in nav and "/events/latest/" in nav
    assert f'href="/api/0/projects/acme/web/events/{ids[1]}/"' in nav
    latest_page = _html(client, f"{BASE}/{issue.pk}/events/latest/")
    assert f'event-heading">Event <span class="mono">{ids[2]}</span>' in latest_page
    latest = latest_page.split('class="event-nav"')[1]
    assert f"/events/{ids[1]}/" in latest and '<span class="muted">Newer event &rarr;</span>' in latest
    oldest = _html(client, f"{BASE}/{issue.pk}/events/oldest/").split('class="event-nav"')[1]
    assert '<span class="muted">&larr; Older event</span>' in oldest and f"/events/{ids[1]}/" in oldest


def test_page_queries_do_not_grow_with_events_or_tag_values(setup):
    project, client, _ = setup
    store_events(project.id, [_event(5)])
    issue = Issue.objects.get()
    with CaptureQueriesContext(connection) as few:
        _html(client, f"{BASE}/{issue.pk}/")
    store_events(project.id, [_event(n, browser=f"b{n}", user=f"id:{n}") for n in range(60)])
    with CaptureQueriesContext(connection) as many:
        _html(client, f"{BASE}/{issue.pk}/")
    assert len(few) == len(many)
    assert not [q for q in many if "COUNT(" in q["sql"].upper() and "issues_event" in q["sql"]]


def test_events_tab_pages_newest_first(setup):
    project, client, _ = setup
    store_events(project.id, [_event(n, title=f"{XSS} {n}") for n in range(55)])
    issue = Issue.objects.get()
    first = _html(client, f"{BASE}/{issue.pk}/events/")
    assert first.count("<tr>") == 51 and 'rel="next"' in first and XSS not in first
    second = _html(client, f"{BASE}/{issue.pk}/events/", page="2")
    assert second.count("<tr>") == 6 and 'rel="next"' not in second and 'rel="prev"' in second
    with CaptureQueriesContext(connection) as one:
        _html(client, f"{BASE}/{issue.pk}/events/", page="2")
    with CaptureQueriesContext(connection) as fifty:
        _html(client, f"{BASE}/{issue.pk}/events/")
    assert len(one) == len(fifty)


def test_users_tab_searches_ids_emails_usernames_and_ips(setup):
    project, client, _ = setup
    users = ["id:42", "email:jane@example.com", "username:bob", "ip:10.0.0.7", f"email:{XSS}@x"]
    store_events(project.id, [_event(n, user=u) for n, u in enumerate(users)])
    issue = Issue.objects.get()
    html = _html(client, f"{BASE}/{issue.pk}/users/")
    assert "Affected users" in html and "5 distinct values" in html and XSS not in html
    assert all(u.replace("<", "&lt;").replace(">", "&gt;") in html for u in users)
    found = _html(client, f"{BASE}/{issue.pk}/users/", query="jane@")
    assert "email:jane@example.com" in found and "username:bob" not in found
    assert "ip:10.0.0.7" in _html(client, f"{BASE}/{issue.pk}/users/", query="10.0.0")
    tag = _html(client, f"{BASE}/{issue.pk}/tags/browser/")
    assert "Chrome" in tag and "100%" in tag


def test_users_tab_lists_each_users_identifiers_and_finds_any_of_them(setup):
    project, client, _ = setup
    people = [
        {"id": "42", "email": "Jane@Example.com", "username": "jane", "ip_address": "10.0.0.7"},
        {"email": "bob@example.com", "username": "Bobby"},
        {"ip_address": "10.0.9.9"},
        {"id": XSS, "email": f"{XSS}@x"},
    ]
    store_events(project.id, [prepared_event(tags=[("browser", "Chrome")], sdk_user=p) for p in people])
    issue = Issue.objects.get()
    html = _html(client, f"{BASE}/{issue.pk}/users/")
    assert "Jane@Example.com" in html and "Bobby" in html and "10.0.0.7" in html and XSS not in html
    row = re.search(r"<td class=\"mono\">id:42</td>(.*?)</tr>", html, re.S).group(1)
    assert ">42<" in row and "Jane@Example.com" in row and ">jane<" in row and "10.0.0.7" in row

    def rows(query: str) -> list[str]:
        found = _html(client, f"{BASE}/{issue.pk}/users/", query=query)
        return re.findall(r'<tr>\s*<td class="mono">([^<]*)</td>', found)

    assert rows("jane@ex") == ["id:42"]  # a secondary identifier, its start, any case
    assert rows("BOB") == ["email:bob@example.com"]
    assert sorted(rows("10.0.")) == ["id:42", "ip:10.0.9.9"]
    assert rows("example.com") == ["email:bob@example.com"]  # the tag value still contains it
    assert rows("nobody") == []
    with CaptureQueriesContext(connection) as one:
        _html(client, f"{BASE}/{issue.pk}/users/", query="bob")
    store_events(project.id, [prepared_event(sdk_user={"email": f"bob{n}@example.com"}) for n in range(60)])
    with CaptureQueriesContext(connection) as many:
        assert len(rows("bob")) == 50
    assert len(one) == len(many)


def test_caused_by_contexts_grouping_collapsed(setup):
    project, client, _ = setup
    event = _event(1)
    cause = {"type": "KeyError", "value": "'sku'", "stacktrace": {"frames": [{"function": "lookup"}]}}
    data = {**RICH_EVENT, "event_id": event.event_id}
    data["exception"] = {"values": [cause, *RICH_EVENT["exception"]["values"]]}  # type: ignore[index]
    data["contexts"] = {"os": {"type": "os", "name": "Linux", "version": XSS}}
    event.data = encode_event_data(data)
    store_events(project.id, [event])
    html = _html(client, f"{BASE}/{Issue.objects.get().pk}/")
    final, caused = html.index("<h2>ZeroDivisionError"), html.index(">Caused by</p>")
    assert final < caused < html.index("<h2>KeyError") and html.count(">Caused by</p>") == 1
    assert "<h3" in html and "Operating System</h3>" in html and XSS not in html
    assert '<details class="grouping-tree">' in html and '<details class="grouping-tree" open' not in html


def test_other_organizations_get_404_on_every_piece(setup):
    project, _, users = setup
    store_events(project.id, [_event(1)])
    issue = Issue.objects.get()
    outsider = as_user(users["otto"])
    for path in ("", "events/", "users/", "tags/browser/", "events/latest/"):
        assert outsider.get(f"{BASE}/{issue.pk}/{path}").status_code == 404, path
    assert (
        as_user(users["mia"]).get(f"/organizations/theirs/projects/secret/issues/{issue.pk}/").status_code
        == 404
    )


def test_tag_keys_no_url_can_carry_still_show(setup):
    project, client, _ = setup
    event = _event(1)
    event.tags = [*event.tags, ("a/b", "x"), ("", "empty key")]
    store_events(project.id, [event])
    html = _html(client, f"{BASE}/{Issue.objects.get().pk}/")
    assert "a/b" in html and "empty key" in html
