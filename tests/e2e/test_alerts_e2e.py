"""Alerts on a live stack, both modes: the real Python SDK sends errors; mails arrive at a real SMTP
server (aiosmtpd), webhooks at a real HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request

import pytest

from tests.alert_servers import HttpReceiver, SmtpServer
from tests.e2e.alert_stack import ORG, PROJECT, alert_stack
from tests.e2e.test_python_sdk import run_app

pytestmark = pytest.mark.e2e


def call(stack, method: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        stack.url + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {stack.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def nothing_on_its_way(stack) -> bool:
    """Every outbox row evaluated and every notification sent or given up: what has not arrived by
    now never will (a fixed sleep proved no more)."""
    ((waiting,),) = stack.sql(
        "SELECT (SELECT count(*) FROM alerts_alertoutbox WHERE processed_at IS NULL)"
        " + (SELECT count(*) FROM alerts_notification WHERE status IN ('pending', 'sending'))"
    )
    return waiting == 0


def mails_to(smtp, address: str) -> list:
    return smtp.sink.to(address)


@pytest.mark.parametrize("mode", ["postgres", "embedded"])
def test_alerts_on_a_live_stack(mode, tmp_path):
    with (
        SmtpServer() as smtp,
        HttpReceiver() as receiver,
        alert_stack(mode, tmp_path / "data", smtp.port) as (stack, dsn),
    ):
        rule = call(stack, "POST", f"/api/0/projects/{ORG}/{PROJECT}/rules/", {
            "name": "hook", "frequency": 30,
            "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"},
                           {"id": "sentry.rules.conditions.regression_event.RegressionEventCondition"}],
            "actions": [{"id": "lighttrace.rules.actions.webhook.WebhookAction", "url": receiver.url(), "format": "sentry"}],
        })  # fmt: skip
        secret = rule["actions"][0]["secret"]

        run_app(dsn, "unhandled", "u-1", expect_failure=True)
        stack.wait_for(lambda: len(smtp.sink.messages) >= 2 and receiver.requests, 60, "the new-issue alerts")
        (issue,) = stack.issues(PROJECT, org=ORG)
        for address in ("alice@example.com", "bob@example.com"):
            (mail,) = mails_to(smtp, address)
            assert mail["Subject"] == f"[{ORG}/{PROJECT}] ERROR: KeyError: 'cart 17 not found'"
            assert f"/issues/{issue['id']}/" in mail.get_body(("plain",)).get_content()
        (hook,) = receiver.requests
        assert (
            hook.headers["Sentry-Hook-Signature"]
            == hmac.new(secret.encode(), hook.body, hashlib.sha256).hexdigest()
        )
        assert hook.json()["data"]["event"]["issue_id"] == issue["id"]

        # A repeat of the open issue sends nothing more.
        run_app(dsn, "unhandled", "u-2", expect_failure=True)
        stack.wait_for_count(PROJECT, 2)  # its outbox rows, if any, were committed with it
        stack.wait_for(lambda: nothing_on_its_way(stack), 30, "the outbox processed and notifications sent")
        assert len(smtp.sink.messages) == 2 and len(receiver.requests) == 1

        # Resolve through the API; the next event regresses it. The SMTP server refuses twice first:
        # the mails are retried with backoff and still delivered once each.
        smtp.sink.refuse = 2
        call(
            stack, "PUT", f"/api/0/projects/{ORG}/{PROJECT}/issues/?id={issue['id']}", {"status": "resolved"}
        )
        run_app(dsn, "unhandled", "u-3", expect_failure=True)
        stack.wait_for(lambda: len(smtp.sink.messages) >= 4, 90, "the regression mails after retries")
        for address in ("alice@example.com", "bob@example.com"):
            subjects = [m["Subject"] for m in mails_to(smtp, address)]
            assert subjects[1] == f"[{ORG}/{PROJECT}] Regression: ERROR: KeyError: 'cart 17 not found'"
            assert len(subjects) == 2
        assert smtp.sink.refused == 2
        stack.wait_for(lambda: len(receiver.requests) >= 2, 30, "the regression webhook")
        stack.wait_for(lambda: nothing_on_its_way(stack), 30, "the outbox processed and notifications sent")
        assert len(smtp.sink.messages) == 4 and len(receiver.requests) == 2
