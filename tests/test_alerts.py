"""The alert chain end to end inside the process: SDK envelope -> ingest -> batch transaction with
outbox rows -> rules -> notifications -> a real SMTP server (aiosmtpd) and a real HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from alerts import rules
from alerts.defaults import DEFAULT_RULE_NAME
from alerts.delivery import deliver_due
from alerts.dispatch import record_batch
from alerts.models import AlertFire, AlertOutbox, AlertRule, Notification
from alerts.services import process_outbox
from issues import lifecycle
from issues.models import Issue
from issues.store import store_events
from tests.alert_servers import HttpReceiver, SmtpServer
from tests.conftest import make_event_envelope, post_envelope
from tests.factories import prepared_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.DEFAULT_FROM_EMAIL = "alerts@lighttrace.test"
        yield server.sink


@pytest.fixture
def team_project(fixture_project):
    from django.contrib.auth import get_user_model

    from projects.services import add_member

    project, _ = fixture_project
    users = {}
    for name in ("alice", "bob", "carol"):
        users[name] = get_user_model().objects.create_user(name, f"{name}@example.com", "pw")
        add_member(project.organization, users[name])
    project.team.members.add(users["alice"], users["bob"])  # carol is in the organization only
    return project, users


def send_error(client, project, value="boom", group="g1", environment="production", user="u1"):
    event = {
        "platform": "python",
        "level": "error",
        "environment": environment,
        "release": "shop@1.0",
        "fingerprint": [group],
        "user": {"id": user},
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": value,
                    "stacktrace": {
                        "frames": [
                            {"filename": "lib/x.py", "function": "outer", "lineno": 1, "in_app": False},
                            {"filename": "shop/cart.py", "module": "shop.cart", "function": "total",
                             "lineno": 42, "context_line": "return a / b", "in_app": True},
                        ]
                    },
                }
            ]
        },
    }  # fmt: skip
    body = make_event_envelope(event, uuid.uuid4().hex)
    assert post_envelope(client, project.id, body).status_code == 200


def run_alerts(now=None):
    process_outbox(now=now)
    return deliver_due(now=now)


def test_a_new_project_starts_with_the_default_rule(team_project):
    project, _ = team_project
    (rule,) = AlertRule.objects.filter(project=project)
    assert (rule.name, rule.is_default, rule.enabled) == (DEFAULT_RULE_NAME, True, True)
    assert rules.validate_rule(
        {"name": rule.name, **{"conditions": rule.conditions, "actions": rule.actions}}
    )


def test_new_issue_mails_each_team_member_exactly_once(client, team_project, drain, smtp):
    project, _ = team_project
    send_error(client, project, value="<script>alert(1)</script> & more")
    drain()
    assert AlertOutbox.objects.count() == 1
    assert run_alerts() == (2, False)
    assert sorted(str(m["To"]) for m in smtp.messages) == ["alice@example.com", "bob@example.com"]
    mail = smtp.to("alice@example.com")[0]
    assert mail["Subject"] == "[acme/web] ERROR: ValueError: <script>alert(1)</script> & more"
    assert mail["From"] == "alerts@lighttrace.test"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    issue = Issue.objects.get()
    permalink = f"/organizations/acme/projects/web/issues/{issue.pk}/"
    assert permalink in text and permalink in html
    assert "shop.cart in total line 42" in text and "Environment: production" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    # More events of the open issue (and processing the outbox again) send nothing more.
    send_error(client, project)
    drain()
    assert run_alerts() == (0, False)
    assert len(smtp.messages) == 2


def test_a_redelivered_batch_and_a_reprocessed_outbox_double_nothing(team_project, smtp):
    project, _ = team_project
    events = [prepared_event(hashes=["e" * 32])]
    for _ in range(2):  # the second pass is a redelivery: nothing new stored, no outbox row
        with transaction.atomic():
            record_batch(project.id, store_events(project.id, events))
    assert AlertOutbox.objects.count() == 1
    process_outbox()
    AlertOutbox.objects.update(processed_at=None)  # a worker that died before its commit
    process_outbox()
    assert AlertFire.objects.count() == 1 and Notification.objects.count() == 2
    assert deliver_due() == (2, False) and deliver_due() == (0, False)
    assert len(smtp.messages) == 2


def test_facts_roll_back_with_their_batch(team_project):
    project, _ = team_project
    with pytest.raises(RuntimeError), transaction.atomic():
        record_batch(project.id, store_events(project.id, [prepared_event()]))
        raise RuntimeError("worker died before the commit")
    assert AlertOutbox.objects.count() == 0 and Issue.objects.count() == 0


def test_every_regression_alerts_even_within_the_interval(client, team_project, drain, smtp):
    project, _ = team_project
    send_error(client, project)
    drain()
    run_alerts()
    issue = Issue.objects.get()
    for _ in range(2):
        lifecycle.set_status([issue.pk], None, Issue.Status.RESOLVED)
        send_error(client, project)
        drain()
        run_alerts()
    subjects = [m["Subject"] for m in smtp.to("bob@example.com")]
    assert subjects == [
        "[acme/web] ERROR: ValueError: boom",
        "[acme/web] Regression: ERROR: ValueError: boom",
        "[acme/web] Regression: ERROR: ValueError: boom",
    ]
    assert "Regression in acme/web" in smtp.to("bob@example.com")[1].get_body(("plain",)).get_content()


def _rule(project, conditions, actions=None, filters=(), frequency=30):
    data = rules.validate_rule(
        {
            "name": "custom",
            "conditions": conditions,
            "filters": list(filters),
            "actions": actions
            or [{"id": rules.EMAIL_ACTION, "targetType": "Member", "targetIdentifier": "0"}],
            "frequency": frequency,
        }
    )
    AlertRule.objects.filter(project=project).update(enabled=False)
    return AlertRule.objects.create(
        project=project,
        name=data["name"],
        conditions=data["conditions"],
        filters=data["filters"],
        filter_match=data["filterMatch"],
        actions=data["actions"],
        frequency=data["frequency"],
    )


def test_frequency_fires_once_per_interval_for_a_named_member(client, team_project, drain, smtp):
    project, users = team_project
    action = {"id": rules.EMAIL_ACTION, "targetType": "Member", "targetIdentifier": str(users["carol"].pk)}
    _rule(project, [{"id": rules.FREQUENCY, "value": 3, "interval": "1h"}], [action])
    for _ in range(3):
        send_error(client, project)
    drain()
    run_alerts()
    assert smtp.messages == []  # 3 is not more than 3
    send_error(client, project)
    drain()
    run_alerts()
    send_error(client, project)
    drain()
    run_alerts()
    assert [str(m["To"]) for m in smtp.messages] == ["carol@example.com"]
    assert "Frequent issue" in smtp.messages[0].get_body(("plain",)).get_content()
    later = timezone.now() + timedelta(minutes=31)
    send_error(client, project)
    drain()
    AlertOutbox.objects.filter(processed_at__isnull=True).update(created=later)
    run_alerts(now=later)
    assert len(smtp.messages) == 2


def test_filters_environment_and_level(client, team_project, drain, smtp):
    project, _ = team_project
    _rule(
        project,
        [{"id": rules.FIRST_SEEN}],
        [{"id": rules.EMAIL_ACTION, "targetType": "Team"}],
        filters=[
            {"id": rules.ENVIRONMENT_FILTER, "environments": ["production"]},
            {"id": rules.LEVEL_FILTER, "match": "gte", "level": "40"},
        ],
    )
    send_error(client, project, group="staging-only", environment="staging")
    send_error(client, project, group="prod", environment="production")
    drain()
    run_alerts()
    assert len(smtp.messages) == 2 and {m["To"] for m in smtp.messages} == {
        "alice@example.com",
        "bob@example.com",
    }


def test_failing_smtp_is_retried_with_backoff_then_delivered(client, team_project, drain, smtp):
    project, _ = team_project
    smtp.refuse = 2
    send_error(client, project)
    drain()
    now = timezone.now()
    assert run_alerts(now) == (0, False)
    failed = Notification.objects.filter(status="pending", attempts=1)
    assert failed.count() == 2 and "451" in failed.first().last_error
    assert deliver_due(now=now + timedelta(seconds=5)) == (0, False)  # backoff: not yet
    assert deliver_due(now=now + timedelta(seconds=11)) == (2, False)
    assert Notification.objects.filter(status="sent").count() == 2
    assert len(smtp.messages) == 2 and smtp.refused == 2


def test_signed_webhook_reaches_the_receiver(client, team_project, drain, settings):
    project, _ = team_project
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE = True
    settings.ALERTS = {**settings.ALERTS, "WEBHOOK_ALLOW_PRIVATE": True}
    with HttpReceiver() as receiver:
        action = {"id": rules.WEBHOOK_ACTION, "url": receiver.url(), "secret": "s3cret", "format": "sentry"}
        _rule(project, [{"id": rules.FIRST_SEEN}], [action])
        send_error(client, project, value="@channel <https://evil|click>")
        drain()
        assert run_alerts() == (1, False)
    (request,) = receiver.requests
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["Sentry-Hook-Signature"] == expected
    assert request.headers["Sentry-Hook-Resource"] == "event_alert"
    body = request.json()
    assert body["action"] == "triggered" and body["data"]["triggered_rule"] == "custom"
    assert abs(body["timestamp"] - timezone.now().timestamp()) < 60
    assert body["data"]["event"]["web_url"].endswith(f"/issues/{Issue.objects.get().pk}/")


def test_private_address_webhook_is_refused_and_the_refusal_shown(client, team_project, drain):
    project, _ = team_project
    with HttpReceiver() as receiver:
        action = {"id": rules.WEBHOOK_ACTION, "url": receiver.url(), "secret": "x", "format": "slack"}
        _rule(project, [{"id": rules.FIRST_SEEN}], [action])
        send_error(client, project)
        drain()
        run_alerts()
    assert receiver.requests == []
    notification = Notification.objects.get()
    assert notification.status == "failed" and "non-public address (127.0.0.1)" in notification.last_error


def test_flood_guard_holds_alerts_past_the_cap_and_sends_one_summary(
    client, team_project, drain, smtp, settings
):
    project, _ = team_project
    settings.ALERTS = {**settings.ALERTS, "MAX_PER_PROJECT_PER_HOUR": 2}
    for n in range(5):
        send_error(client, project, group=f"g{n}")
    drain()
    now = timezone.now()
    run_alerts(now)
    assert len(smtp.messages) == 4  # two alerts, two recipients each
    assert AlertFire.objects.filter(held=True).count() == 3
    end_of_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1, seconds=1)
    assert deliver_due(now=end_of_hour) == (2, False)
    summaries = smtp.messages[4:]
    assert [m["Subject"] for m in summaries] == ["[acme/web] 3 alerts held back this hour"] * 2
    assert all("/alerts/unsubscribe/" in str(m["List-Unsubscribe"]) for m in summaries)


def test_a_send_cut_off_by_a_killed_worker_is_sent_once_its_lease_expires(client, team_project, drain, smtp):
    from alerts.delivery import claim, lease

    project, _ = team_project
    send_error(client, project)
    drain()
    process_outbox()
    now = timezone.now()
    first, second = Notification.objects.order_by("id")
    assert claim(first.pk, now) and not claim(first.pk, now)  # one lease at a time
    # The worker holding `first` dies here. Others deliver everything else, not `first`...
    assert deliver_due(now=now) == (1, False)
    assert [str(m["To"]) for m in smtp.messages] == [second.target]
    # ...until its lease has expired.
    assert deliver_due(now=now + lease() + timedelta(seconds=1)) == (1, False)
    assert sorted(str(m["To"]) for m in smtp.messages) == sorted([first.target, second.target])
    assert Notification.objects.get(pk=first.pk).attempts == 2


def test_the_alert_task_evaluates_and_delivers(client, team_project, drain, smtp):
    from alerts.tasks import process_alert_outbox

    project, _ = team_project
    send_error(client, project)
    drain()
    assert process_alert_outbox.run() == 2
    assert len(smtp.messages) == 2 and AlertOutbox.objects.filter(processed_at__isnull=True).count() == 0


def test_an_ignored_issue_that_comes_back_alerts_rules_that_ask_for_it(team_project, smtp):
    project, _ = team_project
    _rule(project, [{"id": rules.REAPPEARED}], [{"id": rules.EMAIL_ACTION, "targetType": "IssueOwners"}])
    store_events(project.id, [prepared_event(hashes=["r" * 32])])
    issue = Issue.objects.get()
    # The issue lifecycle reports ignores that ended in the batch as `unignored_issue_ids`.
    result = store_events(project.id, [prepared_event(hashes=["r" * 32])])
    result.unignored_issue_ids = [issue.pk]  # type: ignore[attr-defined]
    with transaction.atomic():
        record_batch(project.id, result)
    run_alerts()
    assert sorted(m["To"] for m in smtp.messages) == ["alice@example.com", "bob@example.com"]
    assert AlertFire.objects.get().trigger == "reappeared"
    assert "Unresolved again in acme/web" in smtp.messages[0].get_body(("plain",)).get_content()
