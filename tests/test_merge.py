"""Merging issues, unmerging hashes, and the grouping settings that feed the worker."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from ingest.project_config import clear_project_config_cache
from issues.merge import merge_issues, unmerge_hashes
from issues.models import Event, GroupHash, Issue, IssueTag
from issues.store import store_events
from projects.models import OrganizationMember
from tests.conftest import make_event_envelope, post_envelope
from tests.factories import prepared_event, rich_prepared_event, user_with_membership

pytestmark = pytest.mark.django_db
A, B, C = "a" * 32, "b" * 32, "c" * 32


def _two_issues(project):
    store_events(project.id, [prepared_event(hashes=[A], user="u1", tags=[("t", "x")]) for _ in range(3)])
    store_events(project.id, [prepared_event(hashes=[B], user="u2", tags=[("t", "x")]) for _ in range(2)])
    return Issue.objects.get(hashes__hash=A), Issue.objects.get(hashes__hash=B)


def test_merge_moves_everything_and_future_events_follow(make_project):
    project, _ = make_project()
    first, second = _two_issues(project)
    merged = merge_issues(first, [second])
    assert (merged.times_seen, merged.user_count, Issue.objects.count()) == (5, 2, 1)
    assert Event.objects.filter(issue=merged).count() == 5
    assert IssueTag.objects.get(issue=merged, key="t").times_seen == 5
    store_events(project.id, [prepared_event(hashes=[B])])
    merged.refresh_from_db()
    assert merged.times_seen == 6 and Issue.objects.count() == 1


def test_unmerge_splits_hash_and_its_events_out(make_project):
    project, _ = make_project()
    first, second = _two_issues(project)
    merged = merge_issues(first, [second])
    new_issue = unmerge_hashes(merged, [B])
    merged.refresh_from_db()
    assert (merged.times_seen, merged.user_count) == (3, 1)
    assert (new_issue.times_seen, new_issue.user_count) == (2, 1)
    assert GroupHash.objects.get(hash=B).issue_id == new_issue.id
    assert new_issue.short_id == 3
    assert unmerge_hashes(merged, [A]) is None  # an issue keeps at least one hash


@pytest.fixture
def api_client(make_project, client):
    project, _ = make_project()
    user = user_with_membership(project)
    _, token = ApiToken.issue(user)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return project, client


def test_merge_and_unmerge_through_sentry_api(api_client):
    project, client = api_client
    first, second = _two_issues(project)
    response = client.put(
        f"/api/0/projects/acme/web/issues/?id={first.id}&id={second.id}",
        {"merge": 1},
        content_type="application/json",
    )
    assert response.json() == {"merge": {"parent": str(first.id), "children": [str(second.id)]}}
    hashes = client.get(f"/api/0/issues/{first.id}/hashes/").json()
    assert sorted(h["id"] for h in hashes) == [A, B]
    response = client.delete(f"/api/0/issues/{first.id}/hashes/?id={B}")
    assert response.status_code == 202
    assert client.get(f"/api/0/issues/{response.json()['id']}/").json()["count"] == "2"


def test_bulk_status_and_bad_bodies(api_client):
    project, client = api_client
    first, second = _two_issues(project)
    url = f"/api/0/projects/acme/web/issues/?id={first.id}"
    assert client.put(url, {"status": "resolved"}, content_type="application/json").json() == {
        "status": "resolved",
        "statusDetails": {},
        "inbox": None,  # a resolve takes issues out of the review inbox, and Sentry's answer says so
    }
    assert client.put(url, [1, 2], content_type="application/json").status_code == 400
    assert client.put(url, {"merge": 1}, content_type="application/json").status_code == 400


def test_merge_and_unmerge_from_the_pages(make_project, client):
    project, _ = make_project()
    client.force_login(user_with_membership(project))
    first, second = _two_issues(project)
    response = client.post("/organizations/acme/projects/web/merge/", {"issue": [first.id, second.id]})
    assert response.status_code == 302 and Issue.objects.count() == 1
    page = client.get(f"/organizations/acme/projects/web/issues/{first.id}/").content.decode()
    assert "Unmerge" in page and B in page
    client.post(f"/organizations/acme/projects/web/issues/{first.id}/unmerge/", {"hash": B})
    assert Issue.objects.count() == 2


def _settings_post(client, **fields):
    data = {"grouping_config": "newstyle:2023-01-11", "fingerprint_rules": "", "stacktrace_rules": ""}
    data.update(scrub_extra_fields="", scrub_safe_fields="", retention_days=90, max_events_per_issue=10000)
    data.update(fields)
    return client.post("/organizations/acme/projects/web/settings/", data)


def test_settings_page_validates_rules_and_members_cannot_edit(make_project, client):
    project, _ = make_project()
    member = user_with_membership(project)
    client.force_login(member)
    assert client.get("/organizations/acme/projects/web/settings/").status_code == 200
    assert _settings_post(client, fingerprint_rules="x -> y").status_code == 403
    OrganizationMember.objects.filter(user=member).update(role="owner")
    bad = _settings_post(client, fingerprint_rules="error.type:Foo -> \nthis is not a rule")
    assert bad.status_code == 200 and "rule-error" in bad.content.decode()
    good = _settings_post(client, fingerprint_rules="error.type:DatabaseUnavailable -> system-down")
    assert good.status_code == 302
    project.refresh_from_db()
    assert project.fingerprint_rules.startswith("error.type:DatabaseUnavailable")


def test_server_fingerprint_rule_applies_at_processing_time(fixture_project, client, drain):
    project, _ = fixture_project
    project.fingerprint_rules = "error.type:DatabaseUnavailable -> system-down"
    project.save()
    clear_project_config_cache()
    for function in ("connect", "query"):
        event = {
            "platform": "python",
            "exception": {"values": [{"type": "DatabaseUnavailable", "value": "db down", "stacktrace": {
                "frames": [{"function": function, "module": "app.db", "in_app": True, "context_line": function}]
            }}]},
        }  # fmt: skip
        post_envelope(client, project.id, make_event_envelope(event, uuid.uuid4().hex))
    drain()
    assert Issue.objects.get().times_seen == 2


def _register_test_config() -> str:
    """A second config that ignores source lines, so the same event hashes differently under it."""
    from dataclasses import replace

    from issues.grouping import config as grouping_config

    config_id = "test:no-context-lines"
    if config_id not in grouping_config.get_config_ids():
        base = grouping_config.get_config(grouping_config.DEFAULT_CONFIG_ID)
        grouping_config.register(replace(base, id=config_id, contextline_platforms=frozenset()))
    return config_id


def test_config_upgrade_keeps_old_issues_attached(fixture_project, client, drain):
    project, _ = fixture_project
    project.grouping_config = _register_test_config()
    project.save()
    frame = {"function": "pay", "module": "shop.pay", "in_app": True, "context_line": "raise Declined()"}
    event = {
        "platform": "python",
        "exception": {"values": [{"type": "Declined", "stacktrace": {"frames": [frame]}}]},
    }
    post_envelope(client, project.id, make_event_envelope(event, uuid.uuid4().hex))
    drain()
    issue = Issue.objects.get()
    old_hashes = set(GroupHash.objects.filter(issue=issue).values_list("hash", flat=True))
    owner = user_with_membership(project, "olivia")
    OrganizationMember.objects.filter(user=owner).update(role="owner")
    client.force_login(owner)
    assert _settings_post(client, grouping_config="newstyle:2023-01-11").status_code == 302
    project.refresh_from_db()
    assert project.secondary_grouping_config == "test:no-context-lines"
    clear_project_config_cache()
    post_envelope(client, project.id, make_event_envelope(event, uuid.uuid4().hex))
    drain()
    issue.refresh_from_db()
    assert Issue.objects.count() == 1 and issue.times_seen == 2
    new_hashes = set(GroupHash.objects.filter(issue=issue).values_list("hash", flat=True)) - old_hashes
    assert new_hashes, "the new config's hash is attached to the old issue"
    # After the window the new hash alone keeps finding the issue.
    project.secondary_grouping_expiry = timezone.now() - timedelta(seconds=1)
    project.save()
    clear_project_config_cache()
    post_envelope(client, project.id, make_event_envelope(event, uuid.uuid4().hex))
    drain()
    assert Issue.objects.get().times_seen == 3


def test_rich_event_page_shows_grouping_explanation(make_project, client):
    project, _ = make_project()
    client.force_login(user_with_membership(project))
    store_events(project.id, [rich_prepared_event()])
    issue = Issue.objects.get()
    assert (
        "Why these events are grouped"
        in client.get(f"/organizations/acme/projects/web/issues/{issue.id}/").content.decode()
    )


def test_merge_and_unmerge_keep_the_users_identifiers(make_project):
    from issues.search import apply_query

    project, _ = make_project()
    ann, bob = {"id": "1", "email": "ann@example.com"}, {"id": "2", "username": "bob"}
    store_events(
        project.id,
        [prepared_event(hashes=[A], sdk_user={"id": "1"}), prepared_event(hashes=[A], sdk_user=bob)],
    )
    store_events(
        project.id, [prepared_event(hashes=[B], sdk_user=ann), prepared_event(hashes=[C], sdk_user=ann)]
    )
    first, second, third = (Issue.objects.get(hashes__hash=h) for h in (A, B, C))
    merged = merge_issues(first, [second, third])  # ann is in all three: one user, who gains her email
    assert merged.user_count == 2
    assert list(apply_query(Issue.objects.all(), "user.email:ann@example.com")) == [merged]
    assert list(apply_query(Issue.objects.all(), "user.username:bob")) == [merged]
    split = unmerge_hashes(merged, [B])  # recounted from the stored events' users
    merged.refresh_from_db()
    assert split.user_count == 1 and merged.user_count == 2
    assert set(apply_query(Issue.objects.all(), "user.email:ann@example.com")) == {merged, split}
    assert list(apply_query(Issue.objects.all(), "user.username:bob")) == [merged]
