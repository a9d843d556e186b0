"""A project's rules that use up an event's CPU budget on the worker: the event is stored, grouped
without them; the rules are suspended and the settings page says on which event and when; another
organization's events, in the same batch, are grouped with their own rules; saving the rules again
switches them back on."""

from __future__ import annotations

import random
import signal
import uuid
from collections.abc import Iterator

import pytest
from django.utils import timezone

from ingest.project_config import clear_project_config_cache
from issues.grouping.component import hash_values
from issues.models import Event, Issue
from projects.models import OrganizationMember, Project
from tests.conftest import make_event_envelope, post_envelope
from tests.factories import user_with_membership
from tests.grouping.test_rule_budget import slow_rules

pytestmark = pytest.mark.django_db
# Allowed (under 1,000 characters a rule, 64 KiB in all), and about 0.6 s per rule on the event below.
SLOW_RULES = slow_rules('message:"{glob}" -> hang{n}')
OTHER_RULES = "error.type:DatabaseUnavailable -> system-down"


@pytest.fixture
def alarm() -> Iterator[None]:
    """Turns a hung worker (about 40 s of CPU for the slow event without a budget) into a failure."""

    def hang(signum, frame):
        raise TimeoutError("the worker is still grouping")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _slow_event() -> dict:
    rng = random.Random(14)
    return {"platform": "python", "message": "".join(rng.choice("ab") for _ in range(8192))}


def _db_down(function: str) -> dict:
    frame = {"function": function, "module": "app.db", "in_app": True, "context_line": function}
    exception = {"type": "DatabaseUnavailable", "value": "db down", "stacktrace": {"frames": [frame]}}
    return {"platform": "python", "exception": {"values": [exception]}}


def _send(client, project, key, event: dict) -> str:
    event_id = uuid.uuid4().hex
    response = post_envelope(client, project.id, make_event_envelope(event, event_id), key=key.public_key)
    assert response.status_code == 200
    return event_id


@pytest.fixture
def two_tenants(make_project):
    slow, slow_key = make_project("acme", "web")
    other, other_key = make_project("globex", "shop")
    Project.objects.filter(id=slow.id).update(fingerprint_rules=SLOW_RULES)
    Project.objects.filter(id=other.id).update(fingerprint_rules=OTHER_RULES)
    return (slow, slow_key), (other, other_key)


def test_slow_rules_are_suspended_and_other_tenants_keep_theirs(client, two_tenants, drain, alarm):
    (slow, slow_key), (other, other_key) = two_tenants
    poisoned = _send(client, slow, slow_key, _slow_event())
    later = _send(client, slow, slow_key, {"platform": "python", "message": "a b"})
    other_ids = [_send(client, other, other_key, _db_down(f)) for f in ("connect", "query")]
    drain()

    slow.refresh_from_db()
    assert slow.rules_suspended_event_id == poisoned and slow.rules_suspended_at is not None
    assert set(Event.objects.filter(project=slow).values_list("event_id", flat=True)) == {poisoned, later}
    assert not Issue.objects.filter(project=slow, title__contains="hang").exists()
    # The other organization: its rule grouped both stacks into one issue, and it was not flagged.
    other.refresh_from_db()
    assert other.rules_suspended_at is None
    assert set(Event.objects.filter(project=other).values_list("event_id", flat=True)) == set(other_ids)
    assert Issue.objects.filter(project=other).count() == 1


def test_the_settings_page_shows_the_suspension_until_the_rules_are_saved(
    client, two_tenants, drain, alarm, django_assert_max_num_queries
):
    (slow, slow_key), _ = two_tenants
    poisoned = _send(client, slow, slow_key, _slow_event())
    drain()
    owner = user_with_membership(slow, "owner")
    OrganizationMember.objects.filter(user=owner).update(role="owner")
    client.force_login(owner)
    url = "/organizations/acme/projects/web/settings/"
    with django_assert_max_num_queries(8):
        page = client.get(url).content.decode()
    assert "rules-suspended" in page and poisoned in page and "until you save the rules again" in page

    # The issue page explains grouping with the same budget (before a worker suspended the rules,
    # it ran them in the web process and froze it).
    Project.objects.filter(id=slow.id).update(rules_suspended_at=None)
    issue = Event.objects.get(event_id=poisoned).issue
    issue_page = client.get(f"/organizations/acme/projects/web/issues/{issue.id}/").content.decode()
    assert "rules-over-budget" in issue_page
    Project.objects.filter(id=slow.id).update(rules_suspended_at=timezone.now())

    # Events keep being grouped without the rules while they are suspended.
    _send(client, slow, slow_key, _slow_event())
    drain()
    assert Event.objects.filter(project=slow).count() == 2

    fields = {"grouping_config": "newstyle:2023-01-11", "fingerprint_rules": "message:*b -> b-messages"}
    fields.update(stacktrace_rules="", scrub_extra_fields="", scrub_safe_fields="")
    fields.update(retention_days=90, max_events_per_issue=10000)
    assert client.post(url, fields).status_code == 302
    slow.refresh_from_db()
    assert slow.rules_suspended_at is None and slow.rules_suspended_event_id == ""
    assert "rules-suspended" not in client.get(url).content.decode()
    clear_project_config_cache()  # as the workers do within 10 s
    _send(client, slow, slow_key, {"platform": "python", "message": "ab"})
    drain()
    assert Issue.objects.filter(project=slow, hashes__hash=hash_values(["b-messages"])).exists()
