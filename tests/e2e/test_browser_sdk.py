"""The real @sentry/browser in headless Chromium (Debian's) against a live LightTrace, from a page served by
another origin: the SDK's envelope POSTs are cross-origin, so this proves LightTrace's CORS handling."""

import shutil
import subprocess
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, serve_directory

pytestmark = pytest.mark.e2e
JS = Path(__file__).parent / "js"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Origin of a static site (index.html + the esbuild bundle of browser_entry.js) on its own port."""
    esbuild = JS / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists() or not (JS / "node_modules" / "@sentry" / "browser").is_dir():
        pytest.fail("needs tests/e2e/js/node_modules: run scripts/install-test-deps.sh")
    root = tmp_path_factory.mktemp("browser-site")
    built = subprocess.run(
        [str(esbuild), "browser_entry.js", "--bundle", "--format=iife", "--target=es2020", f"--outfile={root / 'bundle.js'}"],
        cwd=JS, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    shutil.copy(JS / "index.html", root / "index.html")
    with serve_directory(root) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@dataclass
class PageLog:
    """What the page and its network did, as seen by Playwright and the DevTools protocol."""

    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    posts: list[tuple[int, dict]] = field(default_factory=list)  # (status, headers) of envelope POSTs
    preflights: dict[str, dict] = field(default_factory=dict)  # CDP requestId -> {url, status, headers}

    def cors_errors(self) -> list[str]:
        return [line for line in self.console if "cors" in line.lower() or "access-control" in line.lower()]


def open_page(browser, site: str, server: str, dsn: str, **params: str):
    page = browser.new_page()
    log = PageLog()
    page.on("console", lambda m: log.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("requestfailed", lambda r: log.failed.append(f"{r.method} {r.url}: {r.failure}"))

    def on_response(response):
        if response.url.startswith(server) and response.request.method == "POST":
            log.posts.append((response.status, response.headers))

    page.on("response", on_response)
    cdp = page.context.new_cdp_session(page)

    def on_request(e):
        if e["request"]["method"] == "OPTIONS" and e["request"]["url"].startswith(server):
            log.preflights[e["requestId"]] = {"url": e["request"]["url"], "status": None}

    def on_cdp_response(e):
        if e["requestId"] in log.preflights:
            log.preflights[e["requestId"]].update(
                status=e["response"]["status"], headers=e["response"]["headers"]
            )

    cdp.on("Network.requestWillBeSent", on_request)
    cdp.on("Network.responseReceived", on_cdp_response)
    cdp.send("Network.enable")
    page.goto(f"{site}/index.html?" + urllib.parse.urlencode({"dsn": dsn, **params}))
    page.wait_for_function("() => window.Sentry && Sentry.getClient() !== undefined")
    return page, log


def wait_for_count(live_stack, slug: str, total: int, log: PageLog) -> list[dict]:
    try:
        return live_stack.wait_for_count(slug, total)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- page ---\n{log}") from None


def _exception(event: dict) -> dict:
    (exc,) = [e for e in event["entries"] if e["type"] == "exception"]
    return exc["data"]["values"][-1]


def _assert_cors_clean(live_stack, page, log: PageLog, origin: str) -> None:
    page.wait_for_timeout(100)  # let Playwright deliver the last network events
    assert not log.cors_errors(), log.console
    assert not [f for f in log.failed if f.split(" ", 2)[1].startswith(live_stack.url)], log.failed
    assert log.posts, f"no envelope POST to {live_stack.url} seen; console: {log.console}"
    for status, headers in log.posts:
        assert status == 200, (status, headers)
        assert headers.get("access-control-allow-origin") in (origin, "*"), headers


def test_uncaught_error_on_a_page_from_another_origin(live_stack, site, browser):
    dsn = live_stack.create_project("browser-click", "javascript")
    page, log = open_page(browser, site, live_stack.url, dsn)
    try:
        page.click("#pay")
        assert page.evaluate("() => Sentry.flush(10000)") is True
        assert any("payment of 120 exceeds the limit" in e for e in log.page_errors), log.page_errors
        (issue,) = wait_for_count(live_stack, "browser-click", 1, log)
        assert (
            issue["title"].startswith("RangeError") and "payment of 120 exceeds the limit" in issue["title"]
        )
        assert issue["count"] == "1"
        event = live_stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
        exc = _exception(event)
        assert exc["mechanism"]["handled"] is False
        frames = exc["stacktrace"]["frames"]
        functions = [f["function"] for f in frames]
        # V8 names the caller after its receiver: `shop.onPayClicked()` gives "Object.onPayClicked".
        assert functions[-1] == "submitPayment" and functions[-2].endswith("onPayClicked"), functions
        assert frames[-1]["function"] == "submitPayment" and frames[-1]["filename"].endswith("bundle.js"), (
            frames[-1]
        )
        _assert_cors_clean(live_stack, page, log, site)
    finally:
        page.close()


def test_preflighted_envelope_post_from_another_origin(live_stack, site, browser):
    """A Content-Type outside CORS's "simple" ones makes Chromium send an OPTIONS preflight first."""
    dsn = live_stack.create_project("browser-preflight", "javascript")
    page, log = open_page(browser, site, live_stack.url, dsn, contentType="application/x-sentry-envelope")
    try:
        with page.expect_event("pageerror"):
            page.evaluate("() => shop.payLater(250)")
        assert page.evaluate("() => Sentry.flush(10000)") is True
        (issue,) = wait_for_count(live_stack, "browser-preflight", 1, log)
        assert issue["title"].startswith("RangeError") and "payment of 250" in issue["title"]
        assert issue["count"] == "1"
        event = live_stack.api(f"/api/0/issues/{issue['id']}/events/latest/")
        functions = [f["function"] for f in _exception(event)["stacktrace"]["frames"]]
        assert functions[-1] == "submitPayment", functions
        _assert_cors_clean(live_stack, page, log, site)
        assert log.preflights, "Chromium sent no OPTIONS preflight"
        for preflight in log.preflights.values():
            assert preflight["status"] == 200, preflight
            headers = {k.lower(): v for k, v in preflight["headers"].items()}
            assert headers.get("access-control-allow-origin") in (site, "*"), headers
            assert "content-type" in headers.get("access-control-allow-headers", "").lower(), headers
    finally:
        page.close()


def test_structured_logs_from_the_browser(live_stack, site, browser):
    """`enableLogs` + `Sentry.logger` (and `logger.fmt`) of the real @sentry/browser, cross-origin."""
    dsn = live_stack.create_project("browser-logs", "javascript")
    page, log = open_page(browser, site, live_stack.url, dsn, logs="1")
    try:
        page.evaluate(
            """() => {
                Sentry.setUser({ id: "b-1", email: "erin@example.com" });
                Sentry.logger.info(Sentry.logger.fmt`Cart ${3} checked out by ${"erin"}`, { "cart.total": 42.5 });
                Sentry.logger.warn("Coupon rejected", { coupon: "X10", expired: true, attempts: 2 });
            }"""
        )
        assert page.evaluate("() => Sentry.flush(10000)") is True
        params = urllib.parse.urlencode({"statsPeriod": "1h"})
        records = live_stack.wait_for(
            lambda: (
                (found := live_stack.api(f"/api/0/projects/e2e/browser-logs/logs/?{params}"))
                and len(found) >= 2
                and found
            ),
            timeout=60,
            what=f"2 log records from the browser\n--- page ---\n{log}",
        )
        by_body = {r["body"]: r for r in records}
        cart = by_body["Cart 3 checked out by erin"]
        assert cart["level"] == "info" and cart["template"] == "Cart %s checked out by %s"
        attributes = cart["attributes"]
        assert attributes["sentry.message.parameter.0"] == {"value": 3, "type": "integer"}
        assert attributes["sentry.message.parameter.1"] == {"value": "erin", "type": "string"}
        assert attributes["cart.total"] == {"value": 42.5, "type": "double"}
        assert attributes["sentry.release"]["value"] == "shop-web@1.0.0"
        assert attributes["sentry.sdk.name"]["value"] == "sentry.javascript.browser"
        assert attributes["user.id"]["value"] == "b-1"
        coupon = by_body["Coupon rejected"]["attributes"]
        assert coupon["expired"] == {"value": True, "type": "boolean"}
        assert coupon["attempts"] == {"value": 2, "type": "integer"}
        search = urllib.parse.urlencode({"statsPeriod": "1h", "query": "level:warn coupon:X10 user.id:b-1"})
        found = live_stack.api(f"/api/0/projects/e2e/browser-logs/logs/?{search}")
        assert [r["body"] for r in found] == ["Coupon rejected"]
        _assert_cors_clean(live_stack, page, log, site)
    finally:
        page.close()
