"""Triage in a real browser (Debian's Chromium via Playwright) on a live LightTrace fed by the real
sentry-sdk: log in, follow links to an issue, ignore it until 2 more events and see it come back,
assign it to a teammate, comment, resolve, bookmark; no script from event content or comments runs."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.browser import chromium
from tests.e2e.stack import manage

pytestmark = pytest.mark.e2e
APP = Path(__file__).parent / "apps" / "py_app.py"
PAYLOAD = "<img src=x onerror=window.__xss=1>"


def _send(dsn: str) -> None:
    done = subprocess.run(
        [sys.executable, str(APP), dsn, "logged_message", PAYLOAD], capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _user(stack, name: str) -> None:
    manage({**stack.env, "DJANGO_SUPERUSER_PASSWORD": f"pw-{name}-123"}, "createsuperuser", "--noinput",
           "--username", name, "--email", f"{name}@example.com")  # fmt: skip
    manage(stack.env, "create_project", "e2e", "triage", "--owner", name)


@pytest.fixture(scope="module")
def page():
    with chromium() as browser:
        yield browser.new_page()


def test_triage_in_the_browser(live_stack, page):
    dsn = live_stack.create_project("triage")
    _user(live_stack, "lead")
    _user(live_stack, "mate")
    _send(dsn)
    (issue,) = live_stack.wait_for_count("triage", 1)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog {dialog.message}"))

    page.goto(live_stack.url + "/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", "pw-lead-123")
    page.click("button[type=submit]")
    page.click("text=triage")
    page.click(f"a[href$='/issues/{issue['id']}/']")
    assert "Unresolved · New" in page.inner_text(".status")

    page.click("summary:has-text('Ignore…')")
    page.fill("input[name=ignore_count]", "2")
    page.click("form:has(input[name=ignore_count]) button")
    assert "Ignored until a condition is met" in page.inner_text(".status")
    _send(dsn)
    _send(dsn)
    live_stack.wait_for(
        lambda: live_stack.api(f"/api/0/issues/{issue['id']}/")["substatus"] == "escalating",
        what="escalation",
    )
    page.reload()
    assert "Unresolved · Escalating" in page.inner_text(".status")

    page.select_option("select[name=assignee]", label="mate")
    page.click("form:has(select[name=assignee]) button")
    assert "assigned to mate" in page.inner_text(".triage + div")
    page.fill("textarea[name=text]", "**on it** <script>window.__xss=2</script>")
    page.click("form:has(textarea[name=text]) button:has-text('Comment')")
    assert page.inner_html(".note").startswith("<p><strong>on it</strong>")
    page.click("button:has-text('Bookmark')")
    page.click("button:has-text('Resolve')")
    assert "Resolved" in page.inner_text(".status")
    page.click("button:has-text('Unresolve')")
    assert "Unresolved · Ongoing" in page.inner_text(".status")
    page.click("summary:has-text('Resolve…')")
    page.click("button:has-text('In the next release')")
    assert "Resolved in the next release" in page.inner_text(".status")
    assert live_stack.api(f"/api/0/issues/{issue['id']}/")["statusDetails"]["inNextRelease"] is True
    page.click("button:has-text('Unresolve')")

    detail = live_stack.api(f"/api/0/issues/{issue['id']}/")
    assert detail["assignedTo"]["username"] == "mate" and detail["numComments"] == 1
    assert {p["username"] for p in detail["participants"]} == {"lead", "mate"}
    types = [a["type"] for a in detail["activity"]]
    assert types[:6] == [
        "set_unresolved", "set_resolved_in_release", "set_unresolved", "set_resolved", "note", "assigned",
    ]  # fmt: skip
    assert "set_escalating" in types and "set_ignored" in types
    assert PAYLOAD in page.inner_text("body")  # shown as text...
    assert page.evaluate("window.__xss") is None and errors == []  # ...never run
