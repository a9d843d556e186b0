"""The issue list in a real browser (Debian's Chromium via Playwright) on the shared live stack, fed
by the real sentry-sdk: a bad search shows its error under the bar, a tag search and a sort, the
keyboard (j/k move, x selects, r resolves), a bulk resolve of every issue matching a search, and
the review inbox: `is:for_review` with its reason badges, and "Mark reviewed" on a selected issue."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.browser import chromium
from tests.e2e.stack import manage

pytestmark = pytest.mark.e2e
APP = Path(__file__).parent / "apps" / "py_app.py"


@pytest.fixture(scope="module")
def page():
    with chromium() as browser:
        yield browser.new_page()


def _titles(page) -> list[str]:
    return [t.strip() for t in page.locator("tr.issue-row .issue-link").all_inner_texts()]


def _search(page, query: str, sort: str = "date") -> None:
    if page.input_value("select[name=sort]") != sort:
        with page.expect_navigation():  # the pickers apply on change
            page.select_option("select[name=sort]", sort)
        assert f"sort={sort}" in page.url
    page.fill("#search", query)
    page.click("#search-form button[type=submit]")
    page.wait_for_load_state()


def test_issue_stream_in_the_browser(live_stack, page):
    dsn = live_stack.create_project("stream")
    manage({**live_stack.env, "DJANGO_SUPERUSER_PASSWORD": "pw-streamer-123"}, "createsuperuser",
           "--noinput", "--username", "streamer", "--email", "streamer@example.com")  # fmt: skip
    done = subprocess.run([sys.executable, str(APP), dsn, "tiers", "6"], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    live_stack.wait_for(lambda: len(live_stack.issues("stream")) == 6, what="6 issues")
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)

    page.goto(live_stack.url + "/login/")
    page.fill("#id_username", "streamer")
    page.fill("#id_password", "pw-streamer-123")
    page.click("button[type=submit]")
    page.goto(live_stack.url + "/organizations/e2e/projects/stream/")
    assert len(_titles(page)) == 6 and "6 issues match" in page.inner_text("#total")

    _search(page, "is:unresolved level:[error timesSeen:lots")
    assert "closing ]" in page.inner_text(".search-error")
    assert _titles(page) == []

    _search(page, "is:unresolved tier:gold", sort="new")
    assert _titles(page) == ["stream message echo", "stream message charlie", "stream message alpha"]
    assert page.locator("tr.issue-row svg.spark").count() == 3

    page.locator("body").click(position={"x": 5, "y": 5})  # keys go to the page, not the search
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.get_attribute("tr.issue-row.current", "data-issue") is not None
    assert "stream message echo" in page.inner_text("tr.issue-row.current")
    page.keyboard.press("x")
    assert page.is_checked("tr.issue-row.current input[name=issue]")
    with page.expect_navigation():
        page.keyboard.press("r")
    assert _titles(page) == ["stream message charlie", "stream message alpha"]
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"

    _search(page, "is:unresolved tier:silver")
    assert len(_titles(page)) == 3
    page.check("#select-all-matching")
    with page.expect_navigation():
        page.click("#bulk-form button[value=resolved]")
    assert _titles(page) == [] and "0 issues match" in page.inner_text("#total")

    _search(page, "is:for_review")  # the resolved ones left the inbox; the two others are new
    assert sorted(_titles(page)) == ["stream message alpha", "stream message charlie"]
    assert page.locator("tr.issue-row .badge.inbox").all_inner_texts() == ["For review · New issue"] * 2
    page.locator("tr.issue-row", has_text="stream message charlie").locator("input[name=issue]").check()
    with page.expect_navigation():
        page.click("#bulk-form button[value=reviewed]")
    assert _titles(page) == ["stream message alpha"]
    unresolved = {i["title"] for i in live_stack.issues("stream", "is:unresolved")}
    assert unresolved == {"stream message charlie", "stream message alpha"}
    assert problems == []
