"""The apprise action against a real HTTP receiver on 127.0.0.1 (apprise's json:// service): what
arrives, event content escaped for the service's format, and the safety rules kept around apprise
(self-hosted targets and private addresses refused unless allowed, no redirect followed)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.db import transaction

from alerts import rules
from alerts.delivery import deliver_due
from alerts.dispatch import record_batch
from alerts.models import AlertRule, Notification
from alerts.services import process_outbox
from issues.store import store_events
from tests.alert_servers import HttpReceiver
from tests.factories import prepared_event

pytestmark = pytest.mark.django_db
HOSTILE = "<b>bold</b> [link](https://evil.example) <a href='https://evil.example'>x</a> & @channel"


@pytest.fixture
def project(make_project, settings):
    project, _ = make_project()
    AlertRule.objects.filter(project=project).delete()
    settings.ALERTS = {**settings.ALERTS, "WEBHOOK_ALLOW_PRIVATE": True, "APPRISE_SELF_HOSTED": True}
    return project


def _alert_to(project, url: str) -> Notification:
    data = rules.validate_rule({"name": "tail", "conditions": [{"id": rules.FIRST_SEEN}],
                                "actions": [{"id": rules.APPRISE_ACTION, "url": url}]})  # fmt: skip
    AlertRule.objects.create(
        project=project, name="tail", conditions=data["conditions"], actions=data["actions"]
    )
    event = prepared_event(hashes=["a" * 32], title=f"ValueError: {HOSTILE}")
    with transaction.atomic():
        record_batch(project.id, store_events(project.id, [event]))
    process_outbox()
    deliver_due()
    return Notification.objects.get()


def test_apprise_json_reaches_a_local_receiver_with_the_alert(project):
    with HttpReceiver() as receiver:
        port = receiver.server.server_address[1]
        notification = _alert_to(project, f"json://127.0.0.1:{port}/alerts")
    assert (notification.status, notification.last_error) == ("sent", "")
    assert notification.target == "json://…"  # the history never shows the URL's tokens
    (request,) = receiver.requests
    assert request.path == "/alerts"
    body = request.json()
    assert body["title"] == "ERROR alert in acme/web"  # no event content outside the escaped body
    assert body["message"].startswith(f"ERROR: ValueError: {HOSTILE}\nA new issue was created")
    assert "/issues/" in body["message"]


def test_event_content_is_escaped_for_an_html_service(project):
    with HttpReceiver() as receiver:
        port = receiver.server.server_address[1]
        _alert_to(project, f"json://127.0.0.1:{port}/alerts?format=html")
    (request,) = receiver.requests
    message = request.json()["title"] + request.json()["message"]
    assert "<b>" not in message and "<a href" not in message
    assert "&lt;b&gt;bold&lt;/b&gt;" in message and "&lt;a&nbsp;href=" in message


def test_private_address_refused_unless_allowed(project, settings):
    settings.ALERTS = {**settings.ALERTS, "WEBHOOK_ALLOW_PRIVATE": False}
    with HttpReceiver() as receiver:
        port = receiver.server.server_address[1]
        notification = _alert_to(project, f"json://127.0.0.1:{port}/alerts")
    assert receiver.requests == []
    assert notification.status == "failed" and "non-public address (127.0.0.1)" in notification.last_error


def test_self_hosted_targets_refused_unless_allowed(project, settings):
    settings.ALERTS = {**settings.ALERTS, "APPRISE_SELF_HOSTED": False}
    with HttpReceiver() as receiver:
        port = receiver.server.server_address[1]
        notification = _alert_to(project, f"ntfy://127.0.0.1:{port}/topic")
    assert receiver.requests == []
    assert notification.status == "failed" and "ALERT_APPRISE_SELF_HOSTED" in notification.last_error


def test_a_redirect_is_not_followed(project):
    with HttpReceiver() as inner, HttpReceiver(status=302, location="") as outer:
        outer.location = inner.url("/metadata")
        port = outer.server.server_address[1]
        notification = _alert_to(project, f"json://127.0.0.1:{port}/alerts")
    assert len(outer.requests) == 1 and inner.requests == []
    assert notification.status != "sent"


def test_only_offered_services_validate():
    for url in ("tgram://123:abc/456", "pover://user@token", "ntfy://alerts", "pagerduty://i@k"):
        rules.validate_rule({"name": "r", "conditions": [{"id": rules.FIRST_SEEN}],
                             "actions": [{"id": rules.APPRISE_ACTION, "url": url}]})  # fmt: skip
    for url in ("mailto://u:p@example.com", "sns://x", "https://example.com", "xmpp://host"):
        with pytest.raises(rules.RuleError):
            rules.validate_rule({"name": "r", "conditions": [{"id": rules.FIRST_SEEN}],
                                 "actions": [{"id": rules.APPRISE_ACTION, "url": url}]})  # fmt: skip


def test_the_web_process_never_imports_apprise():
    code = (
        "import sys, django; django.setup(); from django.urls import resolve; import config.urls, "
        "alerts.delivery, alerts.views; print('apprise' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**__import__('os').environ, "DJANGO_SETTINGS_MODULE": "config.settings"})  # fmt: skip
    assert done.stdout.strip() == "False", done.stderr[-2000:]
