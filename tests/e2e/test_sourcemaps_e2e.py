"""Source maps end to end, as a JavaScript team ships them: a TypeScript app bundled and minified by
esbuild (with the real @sentry/browser inside), `sentry-cli sourcemaps inject` and `upload` (the real
sentry-cli 3.8.2), then the app in Debian's Chromium throwing from the minified bundle. The API and
the issue page must show the original file, line and function; two builds group into one issue."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import zipfile
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, serve_directory
from tests.e2e.stack import LiveStack, base_env, free_port, manage, migrate

pytestmark = pytest.mark.e2e
JS = Path(__file__).parent / "js"
APP = JS / "sourcemap_app"
SENTRY_CLI = Path(sys.executable).parent / "sentry-cli"
ESBUILD = JS / "node_modules" / ".bin" / "esbuild"
# Two builds of the same code that minify differently (so their debug IDs differ too).
BUILDS = {
    "a": ["--minify", "--target=es2020"],
    "b": ["--minify-whitespace", "--minify-syntax", "--target=es2017"],
}


def build(root: Path, flags: list[str]) -> Path:
    """The site: index.html and static/js/app.min.js + .map, as a deploy would have them."""
    out = root / "static" / "js"
    done = subprocess.run(
        [str(ESBUILD), "src/main.ts", "--bundle", "--sourcemap", "--format=iife", *flags, f"--outfile={out / 'app.min.js'}"],
        cwd=APP, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shutil.copy(APP / "index.html", root / "index.html")
    return out


def sentry_cli(stack, token: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SENTRY_URL": stack.url, "SENTRY_AUTH_TOKEN": token, "SENTRY_LOG_LEVEL": "warn"}
    env.pop("SENTRY_DSN", None)
    done = subprocess.run([str(SENTRY_CLI), *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, (
        f"sentry-cli {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done


@pytest.fixture(scope="module")
def browser():
    if not ESBUILD.exists() or not (JS / "node_modules" / "@sentry" / "browser").is_dir():
        pytest.fail("needs tests/e2e/js/node_modules: run scripts/install-test-deps.sh")
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def ci_token(live_stack) -> str:
    """A token as a CI job holds it: upload rights (project:releases) and nothing else."""
    return manage(live_stack.env, "create_api_token", "sourcemaps-ci", "--scopes", "project:releases")


def throw_in_browser(browser, site: str, **params: str) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{site}/index.html?" + urllib.parse.urlencode(params))
        page.wait_for_function("() => window.Sentry && Sentry.getClient() !== undefined")
        with page.expect_event("pageerror"):
            page.evaluate("() => setTimeout(() => shopApp.onCheckoutClicked(), 0)")
        assert page.evaluate("() => Sentry.flush(10000)") is True
        assert any("order total 120 EUR exceeds the limit" in e for e in errors), errors
    finally:
        page.close()


def _frames(event: dict, key: str = "stacktrace") -> list[dict]:
    (entry,) = [e for e in event["entries"] if e["type"] == "exception"]
    return entry["data"]["values"][-1][key]["frames"]


def _assert_original(event: dict) -> None:
    frames = _frames(event)
    thrower = frames[-1]
    assert thrower["filename"].endswith("/sourcemap_app/src/checkout.ts"), thrower
    assert (thrower["function"], thrower["lineNo"]) == ("submitOrder", 13), thrower
    assert "throw new RangeError" in dict(thrower["context"])[13]
    caller = frames[-2]
    assert (caller["function"], caller["lineNo"]) == ("onCheckoutClicked", 6), caller
    assert caller["filename"].endswith("/sourcemap_app/src/main.ts")
    raw = _frames(event, "rawStacktrace")[-1]  # as the browser sent it: far into a minified line
    assert raw["filename"].endswith("/static/js/app.min.js") and raw["colNo"] > 1000, raw


def test_debug_id_upload_maps_browser_frames_and_builds_group_together(
    live_stack, browser, ci_token, tmp_path
):
    dsn = live_stack.create_project("sourcemaps-web", "javascript")
    debug_ids = []
    for name, flags in BUILDS.items():
        out = build(tmp_path / name, flags)
        injected = sentry_cli(live_stack, ci_token, "sourcemaps", "inject", str(out))
        debug_ids += re.findall(r"([0-9a-f-]{36}) - ", injected.stdout)[:1]
        uploaded = sentry_cli(
            live_stack,
            ci_token,
            "sourcemaps",
            "upload",
            "--org",
            "e2e",
            "--project",
            "sourcemaps-web",
            str(out),
        )
        assert "Upload type: artifact bundle" in uploaded.stdout + uploaded.stderr, uploaded
    assert len(set(debug_ids)) == 2, debug_ids  # two different minified bundles

    for name in BUILDS:
        with serve_directory(tmp_path / name) as site:
            throw_in_browser(browser, site, dsn=dsn)
    issues = live_stack.wait_for_count("sourcemaps-web", 2)
    assert len(issues) == 1, [(i["culprit"], i["count"]) for i in issues]  # grouped on the original code
    (issue,) = issues
    assert issue["count"] == "2" and "submitOrder" in issue["culprit"], issue
    events = live_stack.api(f"/api/0/issues/{issue['id']}/events/?full=true")
    assert len(events) == 2
    for event in events:
        _assert_original(event)
        assert _frames(event)[-1]["data"]["resolved_with"] == "debug-id"
    _assert_issue_page(live_stack, browser, issue)


def _assert_issue_page(live_stack, browser, issue: dict) -> None:
    env = {**live_stack.env, "DJANGO_SUPERUSER_PASSWORD": "e2e-sourcemaps-pw"}
    if not live_stack.sql("SELECT 1 FROM auth_user WHERE username = 'sm-viewer'"):
        manage(env, "createsuperuser", "--noinput", "--username", "sm-viewer", "--email", "sm@example.com")
    page = browser.new_page()
    try:
        page.goto(f"{live_stack.url}/login/")
        page.fill("input[name=username]", "sm-viewer")
        page.fill("input[name=password]", "e2e-sourcemaps-pw")
        page.click("button[type=submit], input[type=submit]")
        page.goto(issue["permalink"])
        text = page.inner_text("body")
        assert "checkout.ts" in text and "submitOrder" in text and "at line 13" in text, text[:3000]
        page.click("text=minified, as sent")
        minified = page.inner_text("body")
        assert "/static/js/app.min.js" in minified and "at line 13" not in minified.split("Stack frames:")[1]
    finally:
        page.close()


def test_release_bound_upload_with_dist_and_url_prefix(live_stack, browser, ci_token, tmp_path):
    dsn = live_stack.create_project("sourcemaps-release", "javascript")
    out = build(tmp_path / "site", BUILDS["a"])  # not injected: found by release + dist + URL
    uploaded = sentry_cli(
        live_stack, ci_token, "sourcemaps", "upload", "--org", "e2e", "--project", "sourcemaps-release",
        "--release", "shop-web@3.1.0", "--dist", "eu", "--url-prefix", "~/static/js", str(out),
    )  # fmt: skip
    assert "Release: shop-web@3.1.0" in uploaded.stdout + uploaded.stderr, uploaded
    with serve_directory(tmp_path / "site") as site:
        throw_in_browser(browser, site, dsn=dsn, release="shop-web@3.1.0", dist="eu")
        throw_in_browser(browser, site, dsn=dsn, release="shop-web@3.1.0", dist="us")
    issues = live_stack.wait_for_count("sourcemaps-release", 2)
    events = [e for i in issues for e in live_stack.api(f"/api/0/issues/{i['id']}/events/?full=true")]
    by_dist = {e["dist"]: e for e in events}
    _assert_original(by_dist["eu"])
    assert _frames(by_dist["eu"])[-1]["data"]["resolved_with"] == "release"
    # No upload for dist "us": minified frames, and the event says why.
    us = _frames(by_dist["us"])[-1]
    assert us["filename"].endswith("/static/js/app.min.js") and us["data"]["symbolicated"] is False
    assert any(e["type"] == "js_no_source" for e in by_dist["us"]["errors"])


def test_embedded_default_assembles_and_maps(browser, tmp_path):
    """No Redis, no PostgreSQL: the web process wakes the runner for the assembly (core/dispatch.py),
    the bundle is a file under DATA_DIR, and the runner's worker maps the event."""
    port = free_port()
    env = base_env(tmp_path / "data", port)
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    migrate(env)
    stack = LiveStack(
        url=f"http://127.0.0.1:{port}", env=env, token=manage(env, "create_api_token", "embedded")
    )
    dsn = stack.create_project("web", "javascript")
    token = manage(env, "create_api_token", "embedded-ci", "--scopes", "org:ci")
    out = build(tmp_path / "site", BUILDS["a"])
    stack.start()
    try:
        sentry_cli(stack, token, "sourcemaps", "inject", str(out))
        started = time.monotonic()
        sentry_cli(stack, token, "sourcemaps", "upload", "--org", "e2e", "--project", "web", str(out))
        assert time.monotonic() - started < 30
        stored = [p for p in (tmp_path / "data" / "artifacts").rglob("*") if p.is_file()]
        assert len(stored) == 1 and zipfile.is_zipfile(stored[0]), stored
        with serve_directory(tmp_path / "site") as site:
            throw_in_browser(browser, site, dsn=dsn)
        (issue,) = stack.wait_for_count("web", 1, timeout=60)
        _assert_original(stack.api(f"/api/0/issues/{issue['id']}/events/latest/"))
    finally:
        stack.stop()
    assert "Traceback" not in stack.log_path.read_text(errors="replace")
