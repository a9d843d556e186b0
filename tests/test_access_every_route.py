"""Access on every route, found by walking the URL configuration (a new route is covered without
being listed here): someone outside an organization gets 404 for every method on every page and
API path of it, and changes nothing; every form a page renders carries its CSRF token, no page view
is exempt from the check, and the API refuses a session's write without the token."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ApiToken
from alerts.models import AlertRule
from core.redis_client import get_redis
from issues import comments
from issues.models import Issue
from issues.store import store_events
from projects.members import invite
from projects.models import OrganizationMember, ProjectKey
from tests.factories import RICH_EVENT, as_user, organization_with_roles, rich_prepared_event
from usage.services import _pending_key

pytestmark = pytest.mark.django_db
SCOPED = ("org_slug", "project_slug", "issue_id")
METHODS = ("get", "post", "put", "delete")


def _routes(patterns=None, prefix: str = ""):
    """(route text, parameter names, view) of every URL pattern, regular-expression ones included."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern).lstrip("^").rstrip("$")
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, text)
        elif isinstance(pattern, URLPattern):
            names = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", text)
            yield text, [a or b for a, b in names], pattern.callback


def _fill(route: str, values: dict[str, object]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        assert name in values, f"give tests/test_access_every_route.py a value for <{name}> ({route})"
        return str(values[name])

    path = re.sub(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", value, route)
    return "/" + re.sub(r"\(\?:(\w+)\|[^)]*\)", r"\1", path)  # an alternative: its first name


@pytest.fixture
def orgs(make_project):
    """acme (mia a member, olivia an owner) and theirs/secret (otto), with one of everything."""
    if settings.REDIS_URL:  # the usage page flushes pending counts: other tests' (as test_faults.py)
        get_redis().delete(_pending_key(), f"{_pending_key()}:flushing")
    project, key, users = organization_with_roles(make_project)
    theirs = users["otto"].memberships.get().organization.projects.get()
    store_events(theirs.id, [rich_prepared_event(hashes=["e" * 32])])
    store_events(project.id, [rich_prepared_event(hashes=["f" * 32])])
    issues = {i.project_id: i for i in Issue.objects.all()}
    notes = {p.pk: comments.add_note(issues[p.pk], u, "a note") for p, u in ((theirs, users["otto"]),)}
    rules = {p.pk: AlertRule.objects.create(project=p, name="r") for p in (project, theirs)}
    invites = {
        p.pk: invite(p.organization, "owner", u, f"new-{p.pk}@example.com", "member").invite.pk
        for p, u in ((project, users["olivia"]), (theirs, users["otto"]))
    }

    def values(p, user) -> dict[str, object]:
        return {
            "org_slug": p.organization.slug,
            "project_slug": p.slug,
            "issue_id": issues[p.pk].pk,
            "key_id": p.keys.get().pk,
            "team_slug": p.slug,
            "member_id": OrganizationMember.objects.get(organization=p.organization, user=user).pk,
            "version": RICH_EVENT["release"],
            "event_id": RICH_EVENT["event_id"],
            "key": "browser",
            "flag": "bookmark",
            "rule_id": rules[p.pk].pk,
            "index": 0,
            "action": "delete",
            "file_id": 1,
            "note_id": notes[theirs.pk].pk,
            "invite_id": invites[p.pk],
        }

    return values(theirs, users["otto"]), values(project, users["olivia"]), users


def _token_client(user) -> Client:
    _, token = ApiToken.issue(user)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _answer(client: Client, method: str, path: str) -> int:
    return getattr(client, method)(
        path, {} if method == "get" else "{}", content_type="application/json"
    ).status_code


def test_outsiders_get_404_for_every_method_on_every_route_of_another_organization(orgs):
    theirs, _, users = orgs
    outsider = {"page": as_user(users["mia"]), "api": _token_client(users["mia"])}
    insider = {"page": as_user(users["otto"]), "api": _token_client(users["otto"])}
    before = (
        list(Issue.objects.values_list("pk", "status")),
        ProjectKey.objects.filter(is_active=True).count(),
        AlertRule.objects.count(),
        OrganizationMember.objects.count(),
    )
    checked = 0
    for route, names, _ in _routes():
        if not set(SCOPED) & set(names):
            continue
        path = _fill(route, theirs)
        kind = "api" if path.startswith("/api/") else "page"
        for method in METHODS:
            status = _answer(outsider[kind], method, path)
            # 405 names the method, the same for any organization: nothing leaks.
            assert status == 404 or (status == 405 and _answer(insider[kind], method, path) == 405), (
                method,
                path,
                status,
            )
            checked += 1
    assert checked > 300  # the walk found the routes
    after = (
        list(Issue.objects.values_list("pk", "status")),
        ProjectKey.objects.filter(is_active=True).count(),
        AlertRule.objects.count(),
        OrganizationMember.objects.count(),
    )
    assert after == before


def test_every_form_of_every_page_carries_its_csrf_token(orgs):
    _, mine, users = orgs
    token, _ = ApiToken.issue(users["olivia"])  # so that the token list shows its revoke form
    owner = as_user(users["olivia"])
    pages = 0
    for route, names, _ in _routes():
        if route.startswith(("api/", "admin/", "_health", "static")) or "token" in names:
            continue
        response = owner.get(_fill(route, {**mine, "token_id": token.pk}))
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        pages += 1
        html = response.content.decode()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
            if re.search(r"method=[\"']?post", form, flags=re.I):
                assert 'name="csrfmiddlewaretoken"' in form, (route, form[:200])
    assert pages > 25


def test_no_page_view_is_exempt_from_csrf_and_the_api_wants_it_from_sessions(orgs):
    _, mine, users = orgs
    # SDK ingest (key-authenticated), the API (DRF checks sessions itself, below) and the one-click
    # unsubscribe of alert mails (RFC 8058: the signed token in the link is the proof).
    allowed = ("alerts/unsubscribe/<str:token>/",)
    for route, _, view in _routes():
        if getattr(view, "csrf_exempt", False):
            assert view.__module__.startswith("ingest") or route.startswith("api/0/") or route in allowed, (
                route
            )
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["olivia"])
    issue = f"/api/0/issues/{mine['issue_id']}/"
    assert strict.put(issue, {"status": "resolved"}, content_type="application/json").status_code == 403
    assert strict.delete(issue).status_code == 403
    assert Issue.objects.get(pk=mine["issue_id"]).status == "unresolved"


# What a CI token (`project:releases`, sentry-cli's releases and source maps) may read: discovery,
# releases and uploads, and the project's own settings (PROJECT_READ includes project:releases).
CI_READABLE = re.compile(
    r"^api/0/(|projects/|organizations/<slug:org_slug>/(projects|environments)/|"
    r".*(releases|chunk-upload|artifactbundle).*|"
    r"projects/<slug:org_slug>/<slug:project_slug>/(|environments/|keys/|keys/<str:key_id>/|stats/))$"
)


def test_a_ci_token_reads_nothing_of_issues_events_logs_or_alert_rules(orgs):
    _, mine, users = orgs
    _, token = ApiToken.issue(users["olivia"], scopes=["project:releases"])
    ci = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    refused = 0
    for route, _, _ in _routes():
        if not route.startswith("api/0/") or route == "api/0/.*" or CI_READABLE.match(route):
            continue
        assert ci.get(_fill(route, mine)).status_code in (403, 405), route
        refused += 1
    assert refused > 30
