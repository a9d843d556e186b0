"""The organization pages in Debian's headless Chromium against a live LightTrace: log in, create an
organization, a project (its DSN is on screen at once), a team and an invite, through the header's
links, with the Content-Security-Policy in force; then the invite link creates a second account."""

import re
import uuid

import pytest

from tests.e2e.browser import chromium as launch_chromium
from tests.e2e.stack import manage

pytestmark = pytest.mark.e2e
PASSWORD = "browser-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def chromium():
    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def user(live_stack) -> str:
    username = "web-" + uuid.uuid4().hex[:8]
    code = (
        "from django.contrib.auth import get_user_model; "
        f"get_user_model().objects.create_user({username!r}, password={PASSWORD!r}); print('ok')"
    )
    assert manage(live_stack.env, "shell", "-c", code) == "ok"
    return username


def test_a_new_user_sets_up_an_organization_in_the_browser(live_stack, chromium, user):
    page = chromium.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(f"{live_stack.url}/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_stack.url}/")

    page.click("header summary:has-text('Organizations')")
    page.click("header a:has-text('New organization')")
    org = "Browser " + user
    page.fill("#id_name", org)
    page.click("main button[type=submit]")
    slug = org.lower().replace(" ", "-")
    page.wait_for_url(f"{live_stack.url}/organizations/{slug}/")
    assert "you are owner" in page.inner_text("main")

    page.click("main a:has-text('New project')")
    page.fill("#id_name", "Frontend")
    page.select_option("#id_platform", "javascript")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r".*/projects/frontend/keys/\?created=1$"))
    dsn = page.inner_text("code.dsn")
    assert re.fullmatch(r"http://[0-9a-f]{32}@127\.0\.0\.1:\d+/\d+", dsn), dsn
    assert dsn in page.inner_text("pre.snippet-browser") and dsn in page.inner_text("pre.snippet-python")

    page.click(f"header summary:has-text('{slug}')")
    page.click(f"header a[href='/organizations/{slug}/']")
    page.click("header a:has-text('Teams')")
    page.fill("#id_name", "Platform")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_stack.url}/organizations/{slug}/teams/platform/")
    page.select_option("#id_project", label="frontend")
    page.click("form:has(#id_project) button")
    assert "frontend" in page.inner_text("main")

    page.click("header a:has-text('Members')")
    page.fill("#id_email", "")
    page.select_option("#id_role", "member")
    page.click("main button:has-text('Create invite link')")
    link = page.inner_text("pre.invite-link")
    assert link.startswith(f"{live_stack.url}/invite/")
    assert problems == []  # no CSP violation nor script error on any page

    guest = chromium.new_context().new_page()
    guest.goto(link)
    guest.fill("#id_username", "guest-" + user)
    guest.fill("#id_password1", PASSWORD)
    guest.fill("#id_password2", PASSWORD)
    guest.click("main button[type=submit]")
    guest.wait_for_url(f"{live_stack.url}/organizations/{slug}/")
    assert "you are member" in guest.inner_text("main") and "frontend" in guest.inner_text("main")
