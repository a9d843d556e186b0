"""Structured logs end to end: the real sentry-sdk (`enable_logs`, `sentry_sdk.logger`, stdlib logging,
WSGI integration) and the real @sentry/node (`enableLogs`, `logger.fmt`) against a live LightTrace
on PostgreSQL and Redis with its real worker."""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.stack import manage
from tests.e2e.test_python_sdk import run_app

pytestmark = pytest.mark.e2e
APP = Path(__file__).parent / "apps" / "py_logs.py"
JS = Path(__file__).parent / "js"
SECRETS = re.compile(rb"SECRET-[A-Z]+-\d\d|4111[ -]?1111[ -]?1111[ -]?1111")


def run_logs_app(dsn: str, *args: str) -> None:
    done = subprocess.run([sys.executable, str(APP), dsn, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def logs(live_stack, slug: str, query: str = "", org: str = "e2e") -> list[dict]:
    params = urllib.parse.urlencode({"query": query, "statsPeriod": "1h"})
    return live_stack.api(f"/api/0/projects/{org}/{slug}/logs/?{params}")


def wait_for_logs(live_stack, slug: str, total: int, org: str = "e2e") -> list[dict]:
    return live_stack.wait_for(
        lambda: (found := logs(live_stack, slug, org=org)) and len(found) >= total and found,
        timeout=90,
        what=f"{total} log records in {slug}",
    )


def bodies(records: list[dict]) -> set[str]:
    return {r["body"] for r in records}


def test_python_records_are_stored_with_typed_attributes_and_every_search_form(live_stack):
    dsn = live_stack.create_project("py-logs-typed")
    run_logs_app(dsn, "typed")
    records = {r["body"]: r for r in wait_for_logs(live_stack, "py-logs-typed", 3)}
    order = records["Order 42 total 9.5 paid True by bob"]
    assert order["level"] == "warn" and order["severityNumber"] == 13
    assert order["template"] == "Order {order_id} total {amount} paid {paid} by {customer}"
    attrs = order["attributes"]
    assert attrs["sentry.message.parameter.order_id"] == {"value": 42, "type": "integer"}
    assert attrs["sentry.message.parameter.amount"] == {"value": 9.5, "type": "double"}
    assert attrs["sentry.message.parameter.paid"] == {"value": True, "type": "boolean"}
    assert attrs["warehouse"] == {"value": "ber-1", "type": "string"}
    assert attrs["weight"] == {"value": 1.25, "type": "double"}
    assert attrs["sentry.release"]["value"] == "shop@2.0.0" and len(order["traceId"]) == 32
    trace = order["traceId"]
    searches = {
        f"trace:{trace} level:error": {"Payment declined"},
        f"trace_id:{trace} !level:error !level:warn": {"Cache warmed"},
        f"trace.id:{trace} items:3": {order["body"]},
        "severity:warn,debug": {order["body"], "Cache warmed"},
        "release:shop@2.0.0 retry:>1": {"Payment declined"},
        "environment:e2e retry:0": {"Cache warmed"},
        "sentry.message.parameter.order_id:42": {order["body"]},
        'sentry.message.parameter.order_id:"42"': set(),  # quoted: the string "42", which nobody sent
        "express:false weight:>=1.25": {order["body"]},
        "!provider:stripe": {order["body"], "Cache warmed"},
        '"paid True by"': {order["body"]},
        "declined": {"Payment declined"},
        "warehouse:ber-*": {order["body"]},
    }
    for query, expected in searches.items():
        assert bodies(logs(live_stack, "py-logs-typed", query)) == expected, query


def _login(live_stack) -> urllib.request.OpenerDirector:
    env = {**live_stack.env, "DJANGO_SUPERUSER_PASSWORD": "e2e-pass-123"}
    try:
        manage(env, "createsuperuser", "--noinput", "--username", "e2e-viewer", "--email", "v@example.com")
    except Exception:  # noqa: BLE001 - created by an earlier test of this session
        pass
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(live_stack.url + "/login/", timeout=10).read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, "no CSRF token on the login page"
    token = match.group(1)
    form = urllib.parse.urlencode(
        {"username": "e2e-viewer", "password": "e2e-pass-123", "csrfmiddlewaretoken": token}
    )
    request = urllib.request.Request(
        live_stack.url + "/login/", data=form.encode(), headers={"Referer": live_stack.url + "/login/"}
    )
    opener.open(request, timeout=10).read()
    return opener


def test_issue_page_shows_its_trace_logs_and_not_another_request_of_the_same_user(live_stack):
    dsn = live_stack.create_project("py-logs-wsgi")
    run_logs_app(dsn, "requests")
    (issue,) = live_stack.wait_for(
        lambda: live_stack.issues("py-logs-wsgi") or None, timeout=90, what="the issue"
    )
    records = wait_for_logs(live_stack, "py-logs-wsgi", 3)
    assert bodies(records) == {
        "Checkout started for cart 1001",
        "Stock low for SKU-7",
        "Browsing catalog page 3",
    }
    by_body = {r["body"]: r for r in records}
    stdlib = by_body["Stock low for SKU-7"]["attributes"]
    assert (
        stdlib["logger.name"]["value"] == "shop"
        and stdlib["sentry.message.template"]["value"] == "Stock low for %s"
    )
    assert by_body["Checkout started for cart 1001"]["attributes"]["user.id"]["value"] == "42"
    assert (
        by_body["Checkout started for cart 1001"]["traceId"] != by_body["Browsing catalog page 3"]["traceId"]
    )
    assert bodies(
        logs(live_stack, "py-logs-wsgi", "user.email:alice@example.com user.username:alice")
    ) == bodies(records)
    page = _login(live_stack).open(issue["permalink"], timeout=10).read().decode()
    around = html.unescape(page[page.index("Logs around this error") :])
    assert "Checkout started for cart 1001" in around and "Stock low for SKU-7" in around
    assert "Browsing catalog page 3" not in around


def test_node_records_with_fmt_templates(live_stack):
    node = shutil.which("node")
    assert node and (JS / "node_modules" / "@sentry" / "node").is_dir(), "run scripts/install-test-deps.sh"
    dsn = live_stack.create_project("node-logs", platform="node")
    done = subprocess.run(
        [node, "node_logs.js", dsn], cwd=JS, capture_output=True, text=True, timeout=120, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    records = {r["body"]: r for r in wait_for_logs(live_stack, "node-logs", 3)}
    order = records["Order 1234 placed by dora"]
    assert order["template"] == "Order %s placed by %s"
    assert order["attributes"]["sentry.message.parameter.0"] == {"value": 1234, "type": "integer"}
    assert order["attributes"]["sentry.message.parameter.1"] == {"value": "dora", "type": "string"}
    assert order["attributes"]["order.total"] == {"value": 19.99, "type": "double"}
    assert order["attributes"]["express"] == {"value": True, "type": "boolean"}
    assert bodies(logs(live_stack, "node-logs", "remaining:<3 sku:N-1")) == {"Inventory low"}
    assert bodies(logs(live_stack, "node-logs", "level:error provider:adyen")) == {"Payment declined by node"}
    organization = live_stack.api("/api/0/organizations/e2e/logs/?statsPeriod=1h&query=user.id:node-7")
    assert {r["project"] for r in organization} == {"node-logs"} and len(organization) == 3


def test_scrubbed_secrets_are_absent_from_a_pg_dump(live_stack):
    dsn = live_stack.create_project("py-logs-secrets")
    run_logs_app(dsn, "secrets")
    (record,) = wait_for_logs(live_stack, "py-logs-secrets", 1)
    assert (
        "Authorization: Bearer" in record["body"] and record["attributes"]["api_key"]["value"] == "[Filtered]"
    )
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--table=logs_record*", live_stack.env["DATABASE_URL"]],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert b"Login for carol" in dump  # the records are in this dump
    assert [line[:300] for line in dump.splitlines() if SECRETS.search(line)] == []


def test_a_flood_of_logs_is_limited_as_log_item_and_errors_still_pass(live_stack):
    dsn = live_stack.create_project("py-logs-quota", org="e2e-logs-quota")
    live_stack.sql(
        "UPDATE projects_projectkey SET rate_limit_per_minute = 50 WHERE project_id = "
        "(SELECT p.id FROM projects_project p JOIN projects_organization o ON o.id = p.organization_id "
        "WHERE o.slug = 'e2e-logs-quota')"
    )
    run_logs_app(dsn, "flood", "300")  # the SDK sends batches of 100 records: over the limit of 50

    def outcome(category: str, kind: str) -> int:
        rows = live_stack.sql(
            "SELECT COALESCE(SUM(quantity), 0) FROM usage_outcome o JOIN projects_organization g "
            "ON g.id = o.organization_id WHERE g.slug = 'e2e-logs-quota' AND category = %s AND outcome = %s",
            (category, kind),
        )
        return int(rows[0][0])

    live_stack.wait_for(
        lambda: outcome("log_item", "rate_limited") >= 100, timeout=60, what="log_item rate limited"
    )
    run_app(dsn, "unhandled", "u-9", expect_failure=True)  # errors are counted apart: not blocked
    live_stack.wait_for(
        lambda: live_stack.issues("py-logs-quota", org="e2e-logs-quota") or None, timeout=60, what="the error"
    )
    stored = len(logs(live_stack, "py-logs-quota", org="e2e-logs-quota"))
    assert stored == outcome("log_item", "accepted") and stored <= 50
    assert outcome("log_item", "rate_limited") + stored <= 300


def test_opentelemetry_sdk_exports_over_otlp_http(live_stack):
    dsn = live_stack.create_project("otel-logs")
    key, project_id = dsn.split("//")[1].split("@")[0], dsn.rsplit("/", 1)[1]
    app = Path(__file__).parent / "apps" / "otel_logs.py"
    done = subprocess.run(
        [sys.executable, str(app), live_stack.url, project_id, key],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    records = {r["body"]: r for r in wait_for_logs(live_stack, "otel-logs", 2)}
    low = records["OTel stock low for SKU-9"]
    assert low["level"] == "warn" and low["severityNumber"] == 13
    assert low["attributes"]["remaining"] == {"value": 2, "type": "integer"}
    assert low["attributes"]["ratio"] == {"value": 0.5, "type": "double"}
    assert low["attributes"]["urgent"] == {"value": True, "type": "boolean"}
    assert low["attributes"]["service.name"]["value"] == "otel-stock"
    assert low["traceId"] and low["traceId"] == records["OTel restock failed"]["traceId"]
    assert bodies(logs(live_stack, "otel-logs", f"trace:{low['traceId']} level:error")) == {
        "OTel restock failed"
    }


def _send_log_records(dsn: str, bodies_sent: list[str]) -> None:
    """One `log` envelope, as the SDKs send them, straight to the envelope endpoint."""
    key, project_id = dsn.split("//")[1].split("@")[0], dsn.rsplit("/", 1)[1]
    base = dsn.split("//")[0] + "//" + dsn.split("@")[1].rsplit("/", 1)[0]
    now = time.time()
    items = [
        {"timestamp": now + n / 1000, "level": "info", "body": body} for n, body in enumerate(bodies_sent)
    ]
    body = b"{}\n" + json.dumps({"type": "log", "item_count": len(items)}).encode() + b"\n"
    body += json.dumps({"items": items}).encode() + b"\n"
    request = urllib.request.Request(
        f"{base}/api/{project_id}/envelope/",
        data=body,
        headers={"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def test_live_tail_follows_pauses_and_keeps_a_bounded_page(live_stack):
    from playwright.sync_api import expect

    from tests.e2e.browser import chromium

    dsn = live_stack.create_project("logs-tail")
    _login(live_stack)  # creates the e2e-viewer superuser
    _send_log_records(dsn, ["before the page was opened"])
    wait_for_logs(live_stack, "logs-tail", 1)
    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda dialog: errors.append(f"dialog {dialog.message}"))
        page.goto(live_stack.url + "/login/")
        page.fill("#id_username", "e2e-viewer")
        page.fill("#id_password", "e2e-pass-123")
        page.click("button[type=submit]")
        page.goto(live_stack.url + "/organizations/e2e/projects/logs-tail/logs/?statsPeriod=1h")
        rows = page.locator("tr.log-record .log-body")
        assert rows.all_inner_texts() == ["before the page was opened"]

        page.click("#tail-toggle")
        _send_log_records(dsn, ["<img src=x onerror=window.__xss=1> followed", "second followed"])
        expect(rows).to_have_count(3, timeout=30000)  # the page's CSP forbids a string-eval wait
        assert rows.all_inner_texts() == [
            "second followed", "<img src=x onerror=window.__xss=1> followed", "before the page was opened"
        ]  # fmt: skip

        page.click("#tail-toggle")  # pause: nothing new shows
        assert page.inner_text("#tail-status") == "paused"
        _send_log_records(dsn, ["while paused"])
        wait_for_logs(live_stack, "logs-tail", 4)
        page.wait_for_timeout(3000)  # longer than a poll
        assert rows.count() == 3

        page.click("#tail-toggle")  # resume: from where it paused, so nothing is skipped
        page.wait_for_selector("text=while paused", timeout=30000)
        for batch in range(6):  # 600 more: the page keeps its newest 500
            _send_log_records(dsn, [f"flood {batch}-{n}" for n in range(100)])
        expect(rows.first).to_have_text("flood 5-99", timeout=60000)
        expect(rows).to_have_count(500)
        assert page.evaluate("window.__xss") is None and errors == []
