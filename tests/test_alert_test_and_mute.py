# ruff: noqa: F811  (the fixtures smtp and team_project are imported from tests/test_alerts.py)
"""The rule page's "send test notification" and per-user muting of a project's alert mail (the
rules page setting and the signed one-click link with List-Unsubscribe), with a real SMTP server
(aiosmtpd) and a real HTTP receiver."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client

from alerts import rules, unsubscribe
from alerts.models import AlertMute, AlertRule, Notification
from projects.services import add_member
from tests.alert_servers import HttpReceiver
from tests.test_alerts import _rule, run_alerts, send_error, smtp, team_project  # noqa: F401

pytestmark = pytest.mark.django_db
PAGES = "/organizations/acme/projects/web/alerts/"


@pytest.fixture
def owner(team_project):
    project, _ = team_project
    user = get_user_model().objects.create_user("olga", "olga@example.com", "pw")
    add_member(project.organization, user, "owner")
    return user


def test_a_test_of_an_email_action_mails_its_recipients_now_and_shows_the_result(
    client,
    team_project,
    owner,
    smtp,
):
    project, users = team_project
    rule = AlertRule.objects.get(project=project)
    client.force_login(owner)
    page = client.get(f"{PAGES}{rule.pk}/")
    assert b"Email the project&#x27;s team" in page.content and b"Send test notification" in page.content
    response = client.post(f"{PAGES}{rule.pk}/test/0/")
    assert response.status_code == 302 and response["Location"] == f"{PAGES}{rule.pk}/"
    assert sorted(str(m["To"]) for m in smtp.messages) == ["alice@example.com", "bob@example.com"]
    mail = smtp.to("alice@example.com")[0]
    assert mail["Subject"] == "[acme/web] [TEST] Test notification from LightTrace"
    assert (
        "A test of rule 'New issues and regressions', sent by olga" in mail.get_body(("plain",)).get_content()
    )
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert Notification.objects.filter(fire=None).count() == 2
    # A second click is a second test, not a duplicate swallowed by the unique key.
    client.post(f"{PAGES}{rule.pk}/test/0/")
    assert len(smtp.messages) == 4
    shown = client.get(f"{PAGES}{rule.pk}/").content.decode()
    assert shown.count("alice@example.com") == 2 and "status-sent" in shown
    assert "Test notifications" in client.get(PAGES).content.decode()


def test_a_failing_test_webhook_shows_its_error_at_once(client, team_project, owner, settings):
    project, _ = team_project
    with HttpReceiver() as receiver:
        action = {"id": rules.WEBHOOK_ACTION, "url": receiver.url(), "secret": "s", "format": "slack"}
        rule = _rule(project, [{"id": rules.FIRST_SEEN}], [action])
        client.force_login(owner)
        client.post(f"{PAGES}{rule.pk}/test/0/")
        assert receiver.requests == []
        settings.ALERTS = {**settings.ALERTS, "WEBHOOK_ALLOW_PRIVATE": True}
        client.post(f"{PAGES}{rule.pk}/test/0/")
    (request,) = receiver.requests
    assert request.json()["text"] == "[TEST] Test notification from LightTrace"
    failed, sent = Notification.objects.order_by("id")
    assert (failed.status, failed.attempts, sent.status) == ("failed", 1, "sent")
    assert "non-public address" in client.get(f"{PAGES}{rule.pk}/").content.decode()


def test_only_owners_and_managers_test_with_a_csrf_token(client, team_project, owner):
    project, users = team_project
    rule = AlertRule.objects.get(project=project)
    client.force_login(users["alice"])
    assert client.post(f"{PAGES}{rule.pk}/test/0/").status_code == 403
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(owner)
    assert checked.post(f"{PAGES}{rule.pk}/test/0/").status_code == 403
    client.force_login(owner)
    assert client.post(f"{PAGES}{rule.pk}/test/7/").status_code == 404
    assert client.get(f"{PAGES}{rule.pk}/test/0/").status_code == 405
    assert not Notification.objects.exists()


def test_a_test_that_reaches_nobody_says_so(client, team_project, owner, smtp):
    project, users = team_project
    rule = AlertRule.objects.get(project=project)
    for name in ("alice", "bob"):
        unsubscribe.set_muted(users[name].pk, project.pk, True)
    client.force_login(owner)
    response = client.post(f"{PAGES}{rule.pk}/test/0/", follow=True)
    assert response.redirect_chain == [(f"{PAGES}{rule.pk}/?tested=nobody", 302)]
    assert b"That action reaches nobody right now" in response.content
    assert smtp.messages == [] and not Notification.objects.exists()
    assert b"reaches nobody" not in client.get(f"{PAGES}{rule.pk}/").content


def test_a_member_mutes_the_project_on_the_rules_page(client, team_project, drain, smtp):
    project, users = team_project
    client.force_login(users["alice"])
    assert client.post(f"{PAGES}mute/", {"muted": "on"}).status_code == 302
    assert b'id="id_muted" checked' in client.get(PAGES).content
    send_error(client, project)
    drain()
    run_alerts()
    assert [str(m["To"]) for m in smtp.messages] == ["bob@example.com"]
    client.post(f"{PAGES}mute/", {})
    assert not AlertMute.objects.exists()


def test_the_one_click_link_in_each_mail_mutes_without_login(client, team_project, drain, smtp):
    project, users = team_project
    send_error(client, project)
    drain()
    run_alerts()
    mail = smtp.to("alice@example.com")[0]
    header = str(mail["List-Unsubscribe"]).strip()  # folded after the colon: long
    assert re.fullmatch(r"<[^<>\s]+>", header), header
    link = header[1:-1]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in mail.get_body(("plain",)).get_content() and link in mail.get_body(("html",)).get_content()
    path = urlsplit(link).path
    assert path.startswith("/alerts/unsubscribe/")
    anonymous = Client(enforce_csrf_checks=True)
    confirm = anonymous.get(path)
    assert confirm.status_code == 200 and b"Mute alert mail for this project" in confirm.content
    assert not AlertMute.objects.exists()  # a link scanner's GET mutes nobody
    assert (
        anonymous.post(
            path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 200
    )
    assert list(AlertMute.objects.values_list("user_id", "project_id")) == [(users["alice"].pk, project.pk)]
    send_error(client, project, group="g2")
    drain()
    run_alerts()
    assert [str(m["To"]) for m in smtp.messages[2:]] == ["bob@example.com"]


def test_an_altered_or_foreign_token_is_refused(client, team_project):
    project, users = team_project
    token = unsubscribe.token_for(users["alice"].pk, project.pk)
    forged = signing.dumps({"u": users["bob"].pk, "p": project.pk}, salt="another purpose")
    assert unsubscribe.read_token(token) == (users["alice"].pk, project.pk)
    assert unsubscribe.read_token(token[:-2] + "xx") is None
    assert client.post(f"/alerts/unsubscribe/{token[:-2]}xx/").status_code == 404
    assert client.post(f"/alerts/unsubscribe/{forged}/").status_code == 404
    assert client.post(f"/alerts/unsubscribe/{token}/").status_code == 200
    assert not AlertMute.objects.filter(user=users["bob"]).exists()
    gone = unsubscribe.token_for(users["carol"].pk, project.pk)
    users["carol"].delete()
    assert client.post(f"/alerts/unsubscribe/{gone}/").status_code == 404


def test_the_pages_queries_do_not_grow_with_the_tests_shown(client, team_project, owner, smtp):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    project, _ = team_project
    rule = AlertRule.objects.get(project=project)
    client.force_login(owner)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    client.post(f"{PAGES}{rule.pk}/test/0/")
    one = (queries(PAGES), queries(f"{PAGES}{rule.pk}/"))
    for _ in range(3):
        client.post(f"{PAGES}{rule.pk}/test/0/")
    assert Notification.objects.count() == 8
    assert (queries(PAGES), queries(f"{PAGES}{rule.pk}/")) == one
