"""issues 0019: the `sentry:user.*` tag rows become identifier columns of the affected users (by
the hash of the best identifier; other identifiers by the one user with the same counts) and are
deleted; other tag rows stay. Runs in chunks of issues, here of 2."""

import hashlib
import importlib
from datetime import UTC, datetime, timedelta

from projects.models import Organization, Project
from tests.migration_steps import migrate

BEFORE = [("issues", "0018_issue_user_identifiers")]
AFTER = [("issues", "0019_user_identifiers_from_tags")]
T = datetime(2026, 11, 1, tzinfo=UTC)


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _seen(n: int, first: int, last: int) -> dict:
    return {"times_seen": n, "first_seen": T + timedelta(hours=first), "last_seen": T + timedelta(hours=last)}


def test_tag_rows_move_to_the_users_they_belong_to(latest_schema_afterwards, monkeypatch):
    monkeypatch.setattr(
        importlib.import_module("issues.migrations.0019_user_identifiers_from_tags"), "CHUNK", 2
    )
    org = Organization.objects.create(slug="acme", name="acme")
    project = Project.objects.create(organization=org, slug="web", name="web")
    old = migrate(BEFORE)
    Issue, IssueTag, IssueUser = (
        old.get_model("issues", name) for name in ("Issue", "IssueTag", "IssueUser")
    )

    def issue(short_id: int, users: list[str], tags: list[tuple[str, str, dict]]):
        made = Issue.objects.create(project_id=project.pk, short_id=short_id, first_seen=T, last_seen=T)
        IssueUser.objects.bulk_create(IssueUser(issue=made, user_key=_key(u)) for u in users)
        IssueTag.objects.bulk_create(IssueTag(issue=made, key=k, value=v, **seen) for k, v, seen in tags)
        return made.pk

    alone = issue(1, ["id:1"], [
        ("user", "id:1", _seen(3, 1, 3)), ("sentry:user.id", "1", _seen(3, 1, 3)),
        ("sentry:user.email", "old@x.com", _seen(1, 1, 1)), ("sentry:user.email", "a@x.com", _seen(2, 2, 3)),
        ("sentry:user.ip", "10.0.0.1", _seen(2, 2, 3)), ("browser", "Chrome", _seen(3, 1, 3)),
    ])  # fmt: skip
    two = issue(2, ["id:1", "email:b@x.com"], [
        ("user", "id:1", _seen(2, 1, 2)), ("user", "email:b@x.com", _seen(1, 3, 3)),
        ("sentry:user.id", "1", _seen(2, 1, 2)), ("sentry:user.email", "one@x.com", _seen(2, 1, 2)),
        ("sentry:user.email", "b@x.com", _seen(1, 3, 3)), ("sentry:user.ip", "10.9.9.9", _seen(1, 4, 4)),
    ])  # fmt: skip
    before_facts = issue(3, ["username:carol", "ip_address:10.0.0.3"], [
        ("user", "username:carol", _seen(5, 1, 9)), ("user", "ip:10.0.0.3", _seen(1, 2, 2)),
    ])  # fmt: skip
    twins = issue(4, ["id:8", "id:9"], [
        ("sentry:user.id", "8", _seen(1, 1, 1)), ("sentry:user.id", "9", _seen(1, 1, 1)),
        ("sentry:user.email", "whose@x.com", _seen(1, 1, 1)), ("user", "bob", _seen(1, 1, 1)),
    ])  # fmt: skip
    issue(5, [], [("browser", "Firefox", _seen(1, 1, 1))])

    new = migrate(AFTER)
    users = new.get_model("issues", "IssueUser").objects
    columns = ("ident", "email", "username", "ip_address")

    def of(issue_id: int, user: str):
        return users.values_list(*columns).get(issue_id=issue_id, user_key=_key(user))

    assert of(alone, "id:1") == ("1", "a@x.com", None, "10.0.0.1")  # the only user: everything, newest
    assert of(two, "id:1") == ("1", "one@x.com", None, None)  # same counts as its id
    assert of(two, "email:b@x.com") == (None, "b@x.com", None, None)  # 10.9.9.9 matched nobody
    assert of(before_facts, "username:carol") == (None, None, "carol", None)  # from the `user` tag
    assert of(before_facts, "ip_address:10.0.0.3") == (None, None, None, "10.0.0.3")
    assert of(twins, "id:8") == ("8", None, None, None) and of(twins, "id:9") == ("9", None, None, None)
    tags = new.get_model("issues", "IssueTag").objects
    assert not tags.filter(key__startswith="sentry:").exists()
    assert sorted(tags.values_list("key", "value")) == [
        ("browser", "Chrome"), ("browser", "Firefox"), ("user", "bob"), ("user", "email:b@x.com"),
        ("user", "id:1"), ("user", "id:1"), ("user", "ip:10.0.0.3"), ("user", "username:carol"),
    ]  # fmt: skip
