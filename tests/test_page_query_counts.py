"""The issue list page, the list APIs and the issue page cost the same number of SQL queries whatever
the page size, the number of issues on the page and an issue's events, tags and activity (issue #16:
"query counts are constant in the page size"). The times at 100,000 issues: bench/issue_scale.py."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiToken
from issues import comments, lifecycle
from issues.models import Issue, IssueBookmark
from issues.store import store_events
from tests.factories import prepared_event, rich_prepared_event, user_with_membership

pytestmark = pytest.mark.django_db

SEARCHES = [
    None,
    "",
    "is:unresolved level:error",
    "is:unresolved environment:production boom",
    "is:unresolved is:for_review",
]


def _issues(project, count: int, start: int = 0) -> list[Issue]:
    events = [
        prepared_event(hashes=[f"{n:032x}"], seconds=n, user=f"u{n}", tags=[("server_name", f"web-{n}")])
        for n in range(start, start + count)
    ]
    store_events(project.id, events)
    return list(Issue.objects.filter(project=project).order_by("pk"))


def _triaged(issues: list[Issue], user) -> None:
    """Everything an issue row shows per issue: assignee, bookmark, seen, comments, an ignore, the
    review inbox entry."""
    for issue in issues:
        lifecycle.assign([issue.pk], user, user)
        IssueBookmark.objects.get_or_create(issue=issue, user=user)
        comments.add_note(issue, user, f"looked at it ({len(issues)})")  # a repeat within an hour is refused
    lifecycle.ignore([issues[-1].pk], user, lifecycle.IgnoreCondition(count=100))
    lifecycle.unresolve([issues[-1].pk], user)
    lifecycle.add_to_inbox([issues[-1].pk], user)  # the ignore took it out of the review inbox


def _queries(client: Client, path: str, params: dict) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200, response.content[:300]
    return [q["sql"] for q in captured.captured_queries]


@pytest.fixture
def people(make_project, client):
    project, _ = make_project()
    jane = user_with_membership(project, "jane")
    client.force_login(jane)
    _, token = ApiToken.issue(jane)
    return project, jane, client, Client(HTTP_AUTHORIZATION=f"Bearer {token}")


# The sorts by counts in the range and environments (issues/stream_counts.py).
RANGE_SCOPES = [
    {"sort": "freq", "statsPeriod": "14d"},
    {"sort": "user", "statsPeriod": "24h", "environment": "production"},
    {"sort": "user", "statsPeriod": "30d"},
    {"sort": "trends", "statsPeriod": "7d", "environment": "production"},
]


@pytest.mark.parametrize("params", [{} if q is None else {"query": q} for q in SEARCHES] + RANGE_SCOPES)
def test_list_page_and_apis_take_the_same_queries_for_1_and_for_30_issues(people, params):
    project, jane, page, api = people
    paths = {
        page: "/organizations/acme/projects/web/",
        api: "/api/0/projects/acme/web/issues/",
    }
    org_api = "/api/0/organizations/acme/issues/"
    _triaged(_issues(project, 1), jane)
    api_params = {**params, "expand": "inbox"}  # with each issue's review inbox entry
    few = {path: _queries(client, path, params) for client, path in paths.items()}
    few[paths[api]] = _queries(api, paths[api], api_params)
    few[org_api] = _queries(api, org_api, api_params)
    _triaged(_issues(project, 29, start=1), jane)
    for client, path in [*paths.items(), (api, org_api)]:
        many = _queries(client, path, {**api_params, "limit": 30} if "/api/" in path else params)
        assert len(many) == len(few[path]), (path, many)


def test_issue_page_takes_the_same_queries_for_1_and_for_200_events(people):
    project, jane, page, api = people
    store_events(project.id, [rich_prepared_event(seconds=1)])
    issue = Issue.objects.get()
    path = f"/organizations/acme/projects/web/issues/{issue.pk}/"
    one = _queries(page, path, {})
    one_api = _queries(api, f"/api/0/issues/{issue.pk}/", {})
    more = [rich_prepared_event(seconds=n) for n in range(2, 201)]
    for n, event in enumerate(more):  # many users, tag values and releases on the one issue
        event.user_key, event.release = f"user-{n}", f"shop@{n % 20}"
        event.tags = [*event.tags, ("server_name", f"web-{n}"), ("customer_tier", f"tier-{n % 7}")]
    store_events(project.id, more)
    _triaged([issue], jane)
    for n in range(20):
        comments.add_note(issue, jane, f"note {n}")
    assert Issue.objects.get().times_seen == 200
    assert len(_queries(page, path, {})) == len(one)
    assert len(_queries(api, f"/api/0/issues/{issue.pk}/", {})) == len(one_api)
