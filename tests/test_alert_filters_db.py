"""The project spike trigger, the issue-category and latest-release filters, on the database: outbox
rows written by real batches, evaluated by process_outbox, counts from the time buckets."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from alerts import rules
from alerts.dispatch import record_batch
from alerts.models import AlertFire, AlertRule, Notification
from alerts.services import process_outbox
from issues.buckets import hour_of
from issues.models import Issue, IssueHourBucket
from issues.store import store_events
from projects.services import add_member
from releases.models import Release
from tests.factories import prepared_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(make_project):
    project, _ = make_project()
    AlertRule.objects.filter(project=project).delete()  # only the rule under test
    return project


def _rule(project, conditions, filters=()):
    user = get_user_model().objects.create_user(f"u{AlertRule.objects.count()}", "dev@example.com", "pw")
    add_member(project.organization, user)
    action = {"id": rules.EMAIL_ACTION, "targetType": "Member", "targetIdentifier": str(user.pk)}
    data = rules.validate_rule(
        {"name": "r", "conditions": conditions, "filters": list(filters), "actions": [action]}
    )
    return AlertRule.objects.create(
        project=project, name="r", conditions=data["conditions"], filters=data["filters"],
        actions=data["actions"],
    )  # fmt: skip


def _store(project, group: str, count: int, when=None, **fields):
    now = when or timezone.now()
    events = [
        dataclasses.replace(prepared_event(hashes=[group * 32], **fields), received=now, timestamp=now)
        for _ in range(count)
    ]
    with transaction.atomic():
        record_batch(project.id, store_events(project.id, events))


def _usual_hours(project, per_hour: int) -> None:
    """`per_hour` events at this time of day on each of the previous 7 days, on an old issue."""
    _store(project, "0", 1)
    old = Issue.objects.get(project=project)
    now = timezone.now()
    IssueHourBucket.objects.bulk_create(
        IssueHourBucket(
            issue=old, project_id=old.project_id, hour=hour_of(now) - timedelta(days=d), times_seen=per_hour
        )
        for d in range(1, 8)
    )


def test_project_spike_fires_once_on_the_top_issue_above_the_project_baseline(project, make_project):
    _usual_hours(project, per_hour=40)  # 10 per quarter hour usually
    _rule(project, [{"id": rules.PROJECT_SPIKE, "value": 3, "interval": "15m", "floor": 40}])
    other, _ = make_project(org="acme", slug="api")  # another project's traffic is not this one's rate
    _store(other, "f", 200)
    _store(project, "a", 12)
    _store(project, "b", 8)
    process_outbox()
    assert not AlertFire.objects.filter(
        project=project
    ).exists()  # 21 events: under the floor and under 3 x 10
    _store(project, "a", 14)
    _store(project, "b", 6)
    process_outbox()
    (fire,) = AlertFire.objects.filter(project=project)
    assert fire.trigger == "project_spike"
    assert fire.issue.times_seen == 26  # the issue with the most events in the window
    assert "41 events in 15m for the project" in fire.reason
    assert Notification.objects.filter(fire=fire).count() == 1
    # More of the spike within the action interval: no second alert, from any issue.
    _store(project, "c", 30)
    process_outbox()
    assert AlertFire.objects.filter(project=project).count() == 1
    later = timezone.now() + timedelta(minutes=31)
    _store(project, "c", 45, when=later)  # a new spike once the interval is over
    process_outbox(now=later)
    assert AlertFire.objects.filter(project=project).count() == 2


def test_project_spike_needs_more_than_k_times_the_baseline(project):
    _usual_hours(project, per_hour=400)  # 100 per quarter hour usually
    _rule(project, [{"id": rules.PROJECT_SPIKE, "value": 2, "interval": "15m", "floor": 10}])
    _store(project, "a", 150)
    process_outbox()
    assert not AlertFire.objects.exists()


def test_issue_category_filter(project):
    _rule(project, [{"id": rules.FIRST_SEEN}], [{"id": rules.CATEGORY_FILTER, "value": "6"}])
    _store(project, "a", 1)
    feedback = dataclasses.replace(prepared_event(hashes=["b" * 32]), type="feedback", title="User Feedback")
    with transaction.atomic():
        record_batch(project.id, store_events(project.id, [feedback]))
    process_outbox()
    (fire,) = AlertFire.objects.all()
    assert fire.issue.type == "feedback"


def test_latest_release_filter_uses_the_project_newest_release(project):
    _rule(project, [{"id": rules.FIRST_SEEN}], [{"id": rules.LATEST_RELEASE_FILTER}])
    _store(project, "a", 1, release="1.0")
    _store(project, "b", 1, release="2.0")
    now = timezone.now()
    Release.objects.filter(version="1.0").update(date_added=now - timedelta(days=1))
    Release.objects.filter(version="2.0").update(date_added=now)
    process_outbox()
    (fire,) = AlertFire.objects.all()
    assert fire.issue.first_release == "2.0"
