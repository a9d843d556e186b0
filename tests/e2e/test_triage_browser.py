"""Triage in a real browser (Debian's Chromium via Playwright) on a live LightTrace fed by the real
sentry-sdk: log in, follow links to an issue, ignore it until 2 more events and see it come back,
assign it to a teammate, comment, resolve, bookmark, ignore for a while and un-ignore; no script from
event content or comments runs.
The issue page: its chart, older/newer/oldest navigation, and a tag value's link to the filtered list."""

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
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser):
    """A page of its own per test (its own cookies), in the module's one browser."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


def _log_in(page, url: str, name: str) -> None:
    page.goto(url + "/login/")
    page.fill("#id_username", name)
    page.fill("#id_password", f"pw-{name}-123")
    page.click("button[type=submit]")


def test_triage_in_the_browser(live_stack, page):
    dsn = live_stack.create_project("triage")
    _user(live_stack, "lead")
    _user(live_stack, "mate")
    _send(dsn)
    (issue,) = live_stack.wait_for_count("triage", 1)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: errors.append(f"dialog {dialog.message}"))

    _log_in(page, live_stack.url, "lead")
    page.click("main a:text-is('triage')")  # the home page's link, not the header's menu
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

    # Ignore it for two hours, then un-ignore it by hand.
    page.click("summary:has-text('Ignore…')")
    page.select_option("select[name=ignore_minutes]", "120")
    page.click("form:has(select[name=ignore_minutes]) button")
    assert "Ignored" in page.inner_text(".status") and "for 2 hours" in page.inner_text("body")
    assert live_stack.api(f"/api/0/issues/{issue['id']}/")["status"] == "ignored"
    page.click("button:has-text('Un-ignore')")
    assert "Unresolved" in page.inner_text(".status")
    assert live_stack.api(f"/api/0/issues/{issue['id']}/")["status"] == "unresolved"
    assert errors == []


def test_issue_page_chart_navigation_and_tag_links(live_stack, page):
    dsn = live_stack.create_project("issuepage")
    _user(live_stack, "reader")
    for _ in range(3):
        done = subprocess.run([sys.executable, str(APP), dsn, "chained"], capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    (issue,) = live_stack.wait_for_count("issuepage", 3)
    events = live_stack.api(f"/api/0/issues/{issue['id']}/events/")
    newest, middle = events[0]["eventID"], events[1]["eventID"]
    _log_in(page, live_stack.url, "reader")
    page.goto(f"{live_stack.url}/organizations/e2e/projects/issuepage/issues/{issue['id']}/?period=24h")

    assert page.locator("svg.chart rect").count() == 24
    assert "3 in total" in (page.text_content("svg.chart title#chart-title") or "")
    assert page.inner_text(".events-in-range") == "3" and page.inner_text(".events-total") == "3"
    assert "Caused by" in page.inner_text("body")
    assert newest in page.inner_text("h2.event-heading")
    page.click("text=← Older event")
    assert middle in page.inner_text("h2.event-heading")
    page.click("text=Newer event →")
    assert newest in page.inner_text("h2.event-heading")
    page.click(".event-nav >> text=Oldest")
    assert events[2]["eventID"] in page.inner_text("h2.event-heading")

    page.click(".tag-sidebar .tag-value a:has-text('e2e')")
    assert page.url.split("?")[0].endswith("/organizations/e2e/projects/issuepage/")
    assert page.locator("input[name=query]").first.input_value() == 'environment:"e2e"'
    assert page.locator(f"a[href$='/issues/{issue['id']}/']").count() >= 1
