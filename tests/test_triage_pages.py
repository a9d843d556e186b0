"""The issue page's triage actions: status with ignore conditions, assignment, bookmark, subscription,
delete, comments (Markdown, sanitized); CSRF on every form; activity shown; isolation."""

import re

import pytest
from django.test import Client

from issues.models import Activity, Issue, IssueBookmark, IssueSubscription
from issues.store import store_events
from tests.factories import rich_prepared_event, user_with_membership

pytestmark = pytest.mark.django_db
BASE = "/organizations/acme/projects/web/issues"


@pytest.fixture
def page(make_project, client):
    project, _ = make_project()
    store_events(project.id, [rich_prepared_event()])
    jane = user_with_membership(project, "jane")
    client.force_login(jane)
    return client, Issue.objects.get(), jane


def _html(client, issue) -> str:
    response = client.get(f"{BASE}/{issue.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_resolve_ignore_with_a_condition_and_unignore_from_the_page(page):
    client, issue, _ = page
    html = _html(client, issue)
    assert "Resolve" in html and "Ignore…" in html and "Unresolved · New" in html
    assert (
        client.post(f"{BASE}/{issue.pk}/status/", {"status": "ignored", "ignore_count": "50"}).status_code
        == 302
    )
    issue.refresh_from_db()
    assert (issue.status, issue.substatus, issue.snooze.count) == (
        "ignored",
        "archived_until_condition_met",
        50,
    )
    html = _html(client, issue)
    assert (
        "Un-ignore" in html and "until 50 more events" in html and "jane</strong> ignored the issue" in html
    )
    assert _refused(client, f"{BASE}/{issue.pk}/status/", {"status": "ignored", "ignore_count": "-3"})
    client.post(f"{BASE}/{issue.pk}/status/", {"status": "unresolved"})
    issue.refresh_from_db()
    assert (issue.status, issue.substatus) == ("unresolved", "ongoing")
    client.post(f"{BASE}/{issue.pk}/status/", {"status": "ignored", "ignore_minutes": "120"})
    issue.refresh_from_db()
    assert issue.status == "ignored" and issue.snooze.until is not None
    assert "Ignored until a condition is met" in _html(client, issue)


def _refused(client, url: str, data: dict) -> str:
    """A form post that must be refused: back to the page it came from, the reason shown as an error."""
    response = client.post(url, data, follow=True)
    assert response.status_code == 200 and response.redirect_chain[0][1] == 302
    found = re.search(r'<p class="message error" role="alert">([^<]+)</p>', response.content.decode())
    assert found, response.content.decode()[-2000:]
    return found.group(1)


def test_assign_bookmark_subscribe_and_delete(page, make_project):
    client, issue, jane = page
    assert f'value="user:{jane.pk}"' in _html(client, issue)
    client.post(f"{BASE}/{issue.pk}/assign/", {"assignee": f"user:{jane.pk}"})
    issue.refresh_from_db()
    assert issue.assignee_user == jane
    assert "assigned to <strong>jane</strong>" in _html(client, issue)
    assert "to jane" in _html(client, issue) and "to user" not in _html(client, issue)  # the activity row
    assert "jane" in client.get("/organizations/acme/projects/web/").content.decode()
    assert _refused(client, f"{BASE}/{issue.pk}/assign/", {"assignee": "user:424242"})
    client.post(f"{BASE}/{issue.pk}/bookmark/toggle/", {"on": "1"})
    assert IssueBookmark.objects.filter(issue=issue, user=jane).exists()
    assert "Remove bookmark" in _html(client, issue)
    client.post(f"{BASE}/{issue.pk}/subscribe/toggle/", {"on": "0"})
    assert not IssueSubscription.objects.get(issue=issue, user=jane).is_active
    assert client.post(f"{BASE}/{issue.pk}/nonsense/toggle/", {"on": "1"}).status_code == 404
    assert _refused(client, f"{BASE}/{issue.pk}/delete/", {})  # not confirmed
    response = client.post(f"{BASE}/{issue.pk}/delete/", {"confirm": "yes"}, follow=True)
    assert response.status_code == 200 and "Deleted WEB-1" in response.content.decode()
    assert not Issue.objects.exists()


def test_comments_render_markdown_safely_and_only_their_author_changes_them(page, make_project):
    client, issue, jane = page
    text = "**bold** <script>alert('c')</script> [x](javascript:alert(1)) <img src=x onerror=alert(2)>"
    client.post(f"{BASE}/{issue.pk}/comments/", {"text": text})
    html = _html(client, issue)
    assert "<strong>bold</strong>" in html
    assert "<script>alert('c')" not in html and 'href="javascript' not in html and "<img src=x" not in html
    note = Activity.objects.get(type="note")
    bob = Client()
    bob.force_login(user_with_membership(issue.project, "bob"))
    bob.post(f"{BASE}/{issue.pk}/comments/", {"note": note.pk, "text": "hijacked"})
    bob.post(f"{BASE}/{issue.pk}/comments/", {"note": note.pk, "delete": "1"})
    note.refresh_from_db()
    assert note.data["text"] == text
    client.post(f"{BASE}/{issue.pk}/comments/", {"note": note.pk, "text": "_edited_"})
    assert "<em>edited</em>" in _html(client, issue)
    client.post(f"{BASE}/{issue.pk}/comments/", {"note": note.pk, "delete": "1"})
    assert not Activity.objects.filter(type="note").exists()


def test_every_triage_form_needs_csrf(page):
    _, issue, jane = page
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(jane)
    for action, data in [
        ("status", {"status": "resolved"}),
        ("assign", {"assignee": f"user:{jane.pk}"}),
        ("bookmark/toggle", {"on": "1"}),
        ("subscribe/toggle", {"on": "1"}),
        ("delete", {"confirm": "yes"}),
        ("comments", {"text": "hi"}),
    ]:
        assert strict.post(f"{BASE}/{issue.pk}/{action}/", data).status_code == 403, action
    html = strict.get(f"{BASE}/{issue.pk}/").content.decode()
    assert html.count("<form") == html.count("csrfmiddlewaretoken")
    assert Issue.objects.get().status == "unresolved" and not Activity.objects.exists()


def test_another_organization_gets_404_on_every_triage_form(page, make_project):
    _, issue, _ = page
    other, _ = make_project(org="other", slug="app")
    stranger = Client()
    stranger.force_login(user_with_membership(other, "mallory"))
    for action in ("status", "assign", "bookmark/toggle", "delete", "comments"):
        response = stranger.post(
            f"{BASE}/{issue.pk}/{action}/", {"status": "resolved", "confirm": "yes", "text": "x"}
        )
        assert response.status_code == 404, action
    assert Issue.objects.get().status == "unresolved" and not Activity.objects.exists()


def test_bulk_actions_on_the_issue_list(page, make_project):
    client, first, jane = page
    store_events(first.project_id, [rich_prepared_event(hashes=["b" * 32])])
    second = Issue.objects.exclude(pk=first.pk).get()
    url = "/organizations/acme/projects/web/bulk/"
    html = client.get("/organizations/acme/projects/web/").content.decode()
    assert 'action="/organizations/acme/projects/web/bulk/"' in html
    both = {"issue": [first.pk, second.pk], "query": "is:unresolved"}
    response = client.post(url, {**both, "action": "resolved"})
    assert response.status_code == 302 and response["Location"].endswith("?query=is%3Aunresolved")
    assert set(Issue.objects.values_list("status", flat=True)) == {"resolved"}
    client.post(url, {**both, "action": "ignored"})
    assert set(Issue.objects.values_list("status", flat=True)) == {"ignored"}
    assert "Ignored 2 issues." in client.get(response["Location"]).content.decode()
    assert client.post(url, {**both, "action": "resolvedInNextRelease"}).status_code == 302
    assert set(Issue.objects.values_list("status", flat=True)) == {"resolved"}
    assert Activity.objects.filter(type="set_resolved_in_release").count() == 2
    assert _refused(client, url, {**both, "action": "resolvedInRelease"})
    client.post(url, {**both, "action": "ignored"})
    assert _refused(client, url, {"issue": ["x"], "action": "resolved"})
    assert _refused(client, url, {**both, "action": "delete"})  # not confirmed
    assert client.post(url, {"issue": [second.pk], "action": "delete", "confirm": "yes"}).status_code == 302
    assert list(Issue.objects.values_list("pk", flat=True)) == [first.pk]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(jane)
    assert strict.post(url, {"issue": [first.pk], "action": "unresolved"}).status_code == 403
    other, _ = make_project(org="other", slug="app")
    stranger = Client()
    stranger.force_login(user_with_membership(other, "mallory"))
    assert stranger.post(url, {"issue": [first.pk], "action": "unresolved"}).status_code == 404
    assert "Select at least one issue" in _refused(
        stranger, "/organizations/other/projects/app/bulk/", {"issue": [first.pk], "action": "unresolved"}
    )  # an issue of another project is not among theirs
    assert Issue.objects.get().status == "ignored"


def test_resolve_menu_in_a_release_and_archive_until_escalating_from_the_page(page):
    client, issue, _ = page
    version = issue.last_release
    html = _html(client, issue)
    assert "In the next release" in html and f'<option value="{version}">' in html
    assert "Until it escalates" in html and 'name="ignore_window"' in html
    status = f"{BASE}/{issue.pk}/status/"
    assert client.post(status, {"status": "resolvedInNextRelease"}).status_code == 302
    html = _html(client, issue)
    assert "Resolved in the next release" in html and "(in the next release)" in html
    client.post(status, {"status": "resolved", "in_release": version})
    assert f"Resolved in {version}" in _html(client, issue)
    assert _refused(client, status, {"status": "resolved", "in_release": "no-such"})
    client.post(status, {"status": "ignored", "substatus": "archived_until_escalating"})
    issue.refresh_from_db()
    assert (issue.status, issue.substatus) == ("ignored", "archived_until_escalating")
    assert "Ignored until it escalates" in _html(client, issue)
    client.post(status, {"status": "ignored", "ignore_count": "5", "ignore_window": "60"})
    issue.refresh_from_db()
    assert (issue.snooze.count, issue.snooze.window) == (5, 60)
    html = _html(client, issue)  # the header's condition and the activity row say it alike
    assert html.count("until 5 more events within 1 hour") == 2 and "events, within" not in html


@pytest.mark.parametrize(
    "minutes, words",
    [
        (1, "1 minute"),
        (90, "90 minutes"),
        (120, "2 hours"),
        (1440, "1 day"),
        (20160, "2 weeks"),
        ("x", "x minutes"),
    ],
)
def test_ignore_durations_are_said_in_the_largest_whole_unit(minutes, words):
    from issues.views_triage import minutes_words

    assert minutes_words(minutes) == words


def test_ignore_until_more_users_within_a_window_and_assign_a_team_from_the_page(page):
    client, issue, _ = page
    team = issue.project.teams.get()
    html = _html(client, issue)
    assert (
        'name="ignore_user_window"' in html
        and f'<option value="team:{team.pk}">#{team.slug}</option>' in html
    )
    status = f"{BASE}/{issue.pk}/status/"
    client.post(status, {"status": "ignored", "ignore_user_count": "3", "ignore_user_window": "60"})
    issue.refresh_from_db()
    assert (issue.status, issue.substatus) == ("ignored", "archived_until_condition_met")
    assert (issue.snooze.user_count, issue.snooze.user_window) == (3, 60)
    assert "until 3 more users within 1 hour" in _html(client, issue)
    assert _refused(client, status, {"status": "ignored", "ignore_user_window": "60"})
    assert client.post(f"{BASE}/{issue.pk}/assign/", {"assignee": f"team:{team.pk}"}).status_code == 302
    issue.refresh_from_db()
    assert issue.assignee_team == team and issue.assignee_user is None
    assert f"assigned to <strong>#{team.slug}</strong>" in _html(client, issue)
    client.post(status, {"status": "unresolved"})
    issue.refresh_from_db()
    assert (issue.status, issue.substatus) == ("unresolved", "ongoing")
